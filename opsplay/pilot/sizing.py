"""Pilot planning: units per arm and days needed to detect a lift (pure functions).

Proportions use the normal test on Cohen's h, 2·asin√p_target − 2·asin√p_baseline, as
statsmodels' `NormalIndPower` with `proportion_effectsize`; means use the two-sample t-test
on Cohen's d = (target − baseline) / sd with the noncentral t, as `TTestIndPower`. Both count
the power of both tails of the two-sided test and solve for the baseline arm's size exactly;
sizes are then rounded up. Clustered pilots: clusters per arm by the design effect, their
power, and the ICC of a before-period export's clusters (one-way ANOVA).

Floor: statistics (pure). May import `opsplay.errors`, `opsplay.i18n` and scipy; never the
playbook, the readers or presentation. `opsplay.pilot.playbook_plan` is its playbook-facing
side (two modules, not one: together they are over 800 lines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import optimize, special

from opsplay.errors import UsageError
from opsplay.i18n import _

PlanKind = Literal["proportion", "mean"]

_MIN_PER_ARM = 2  # the Welch test needs two units in each arm


@dataclass(frozen=True)
class SamplePlan:
    """Units per arm (and days, given a daily inflow) to detect baseline → target."""

    kind: PlanKind
    method: str  # "normal-cohen-h" or "t-noncentral"
    baseline: float
    target: float
    sd: float | None  # per-unit standard deviation (means only)
    effect_size: float  # Cohen's h (proportions) or d (means), target against baseline
    alpha: float  # two-sided
    power: float
    split: float  # planned pilot share of the units
    n_baseline_exact: float  # solution of the power equation before rounding up
    n_baseline: int
    n_pilot: int
    n_total: int
    daily: float | None  # units entering the pilot per day, both arms together
    days: int | None
    metric: str | None = None  # the goal metric's name, as the team calls it (次日留存率)
    unit: str | None = None  # the metric's unit (分, 元), for a mean's values
    # metrics `pilot compare` corrects together with the goal metric (Holm, BH): `alpha` is
    # the pilot's level over this many, the level the first of them is held to
    family: int = 1


def target_from_mde(baseline: float, mde: float, *, relative: bool = False) -> float:
    """The target a minimum detectable effect implies: baseline + mde, or baseline·(1 + mde)."""
    return baseline * (1 + mde) if relative else baseline + mde


def sample_size(
    kind: PlanKind,
    baseline: float,
    target: float,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    split: float = 0.5,
    daily: float | None = None,
) -> SamplePlan:
    """Plan the pilot: units per arm to detect baseline → target, and days at `daily` units/day."""
    _check_inputs(kind, baseline, target, sd, alpha, power, split, daily)
    ratio = split / (1 - split)  # pilot units per baseline unit
    try:
        if kind == "proportion":
            effect = 2 * (math.asin(math.sqrt(target)) - math.asin(math.sqrt(baseline)))
            n_exact = _solve_normal(abs(effect), alpha, power, ratio)
            method = "normal-cohen-h"
        else:
            assert sd is not None
            effect = (target - baseline) / sd
            n_exact = _solve_t(abs(effect), alpha, power, ratio)
            method = "t-noncentral"
    except (ArithmeticError, ValueError):  # the solver met numbers beyond float range
        raise UsageError(
            _(
                "cannot plan for a change from {baseline} to {target}; check the goal's baseline "
                "and target (and --sd)"
            ).format(baseline=f"{baseline:g}", target=f"{target:g}")
        ) from None
    if not math.isfinite(n_exact):
        raise UsageError(
            _(
                "cannot plan for a change from {baseline} to {target}; check the goal's baseline "
                "and target (and --sd)"
            ).format(baseline=f"{baseline:g}", target=f"{target:g}")
        )
    n_baseline = max(_MIN_PER_ARM, math.ceil(n_exact))
    n_pilot = max(_MIN_PER_ARM, math.ceil(n_exact * ratio))
    days = None
    if daily is not None:
        # Traffic splits by `split`, so the slower-filling arm decides how long to wait.
        needed = max(n_baseline / (1 - split), n_pilot / split)
        days = max(1, math.ceil(needed / daily * (1 - 1e-12)))
    return SamplePlan(
        kind=kind,
        method=method,
        baseline=baseline,
        target=target,
        sd=sd if kind == "mean" else None,
        effect_size=effect,
        alpha=alpha,
        power=power,
        split=split,
        n_baseline_exact=n_exact,
        n_baseline=n_baseline,
        n_pilot=n_pilot,
        n_total=n_baseline + n_pilot,
        daily=daily,
        days=days,
    )


def normal_power(effect: float, n_baseline: float, alpha: float, ratio: float) -> float:
    """Power of the two-sided two-sample z-test (both tails), as `NormalIndPower.power`."""
    nobs = n_baseline * ratio / (1 + ratio)
    shift = effect * math.sqrt(nobs)
    crit = float(-special.ndtri(alpha / 2))
    return float(special.ndtr(shift - crit) + special.ndtr(-crit - shift))


def t_power(effect: float, n_baseline: float, alpha: float, ratio: float) -> float:
    """Power of the two-sided two-sample t-test (both tails), as `TTestIndPower.power`."""
    nobs = n_baseline * ratio / (1 + ratio)
    dof = n_baseline * (1 + ratio) - 2
    shift = effect * math.sqrt(nobs)
    crit = float(-special.stdtrit(dof, alpha / 2))
    return float(1 - special.nctdtr(dof, shift, crit) + special.nctdtr(dof, shift, -crit))


def _solve_normal(effect: float, alpha: float, power: float, ratio: float) -> float:
    # The one-tail closed form is a lower bound; the far tail only adds power.
    z_sum = float(-special.ndtri(alpha / 2) + special.ndtri(power))
    upper = (z_sum / effect) ** 2 * (1 + ratio) / ratio * (1 + 1e-9)
    if upper < 1e-6:  # an effect this large is seen with any number of units
        return upper
    lower = upper * 1e-9  # power tends to alpha < power as n → 0
    return float(
        optimize.brentq(
            lambda n: normal_power(effect, n, alpha, ratio) - power,
            lower,
            upper,
            xtol=1e-12,
            rtol=1e-15,
        )
    )


def _solve_t(effect: float, alpha: float, power: float, ratio: float) -> float:
    lower = max(_solve_normal(effect, alpha, power, ratio), _MIN_PER_ARM)
    if t_power(effect, lower, alpha, ratio) >= power:
        return lower
    upper = lower * 2
    while t_power(effect, upper, alpha, ratio) < power:
        upper *= 2
    return float(
        optimize.brentq(
            lambda n: t_power(effect, n, alpha, ratio) - power,
            lower,
            upper,
            xtol=1e-12,
            rtol=1e-15,
        )
    )


def _check_inputs(
    kind: PlanKind,
    baseline: float,
    target: float,
    sd: float | None,
    alpha: float,
    power: float,
    split: float,
    daily: float | None,
) -> None:
    if kind not in ("proportion", "mean"):
        raise UsageError(
            _("sample size is planned for proportion and mean metrics, not {kind}").format(
                kind=kind
            )
        )
    for name, value in (("alpha", alpha), ("power", power), ("split", split)):
        if not 0 < value < 1:
            raise UsageError(
                _("{name} must lie strictly between 0 and 1, got {value}").format(
                    name=name, value=value
                )
            )
    if power <= alpha:
        raise UsageError(
            _("power {power} must exceed alpha ({alpha})").format(power=power, alpha=alpha)
        )
    if daily is not None and not daily > 0:
        raise UsageError(_("the daily inflow must be positive, got {daily}").format(daily=daily))
    if not (math.isfinite(baseline) and math.isfinite(target)):
        raise UsageError(_("the goal's baseline and target must be finite numbers"))
    if kind == "proportion":
        for name, value in ((_("baseline"), baseline), (_("target"), target)):
            if not 0 <= value <= 1:
                raise UsageError(
                    _("the {name} rate must lie in [0, 1], got {value}").format(
                        name=name, value=f"{value:g}"
                    )
                )
    elif sd is None or not (math.isfinite(sd) and sd > 0):
        raise UsageError(
            _("a mean metric needs a positive standard deviation (--sd), got {sd}").format(sd=sd)
        )
    if target == baseline:
        raise UsageError(
            _("the target equals the baseline ({baseline}): no change to detect").format(
                baseline=f"{baseline:g}"
            )
        )
    if kind == "mean":
        # Baseline and target near ±1e308: their difference, or the effect size, is beyond
        # the range of numbers, and no pilot could be planned around it anyway.
        assert sd is not None
        effect = (target - baseline) / sd
        if not math.isfinite(effect) or not math.isfinite(target - baseline):
            raise UsageError(
                _(
                    "the goal's baseline {baseline} and target {target} are too large to plan "
                    "with; write them in a larger unit (thousands, millions)"
                ).format(baseline=f"{baseline:g}", target=f"{target:g}")
            )
        if abs(effect) < 1e-150:
            raise UsageError(
                _(
                    "the change from {baseline} to {target} is too small against the standard "
                    "deviation {sd} to plan a pilot for"
                ).format(baseline=f"{baseline:g}", target=f"{target:g}", sd=f"{sd:g}")
            )


# --- pilots assigned per cluster (SPEC 11) ----------------------------------------------------

# A t test on k clusters per arm needs more clusters than the normal formula gives (Hemming et
# al. 2011): at least this many more per arm.
SMALL_SAMPLE_CLUSTERS = 2


@dataclass(frozen=True)
class ClusterPlan:
    """Clusters per arm when whole clusters (区域, 门店) are assigned to the arms."""

    icc: float  # intra-cluster correlation
    icc_source: str  # "given" (--icc) or "estimated" (--from)
    cluster_size: float | None  # units per cluster over the pilot
    design_effect: float | None  # 1 + (M − 1)·ICC
    clusters_baseline: int | None  # with the small-sample correction
    clusters_pilot: int | None
    clusters_baseline_design_effect: int | None  # the design-effect figure, before it
    clusters_pilot_design_effect: int | None
    clusters_available: int | None  # --clusters: per arm
    cluster_size_needed: float | None  # with --clusters: units per cluster to reach the power
    reachable: bool  # False: no number of units or days per cluster reaches the power
    power_available: float | None  # power with --clusters and --cluster-size as given
    days: int | None  # at --daily units per day, all clusters together
    clusters_in_export: int | None = None  # --from: clusters the before period had
    # with --clusters: the smallest target the clusters at hand can detect at the power (at
    # the cluster size given, else with unlimited units per cluster)
    detectable_target: float | None = None


def cluster_plan(
    plan: SamplePlan,
    icc: float,
    *,
    cluster_size: float | None = None,
    clusters: int | None = None,
    icc_source: str = "given",
    clusters_in_export: int | None = None,
) -> ClusterPlan:
    """Clusters per arm for the plan's change: the units a plan of independent units needs,
    inflated by the design effect 1 + (M − 1)·ICC, divided by the cluster size M, plus the
    small-sample correction; or, given the clusters per arm, the cluster size that reaches the
    power — and whether any does (more days make clusters larger, never more numerous)."""
    if not 0 <= icc < 1:
        raise UsageError(
            _("the intra-cluster correlation must lie in [0, 1), got {icc}").format(icc=f"{icc:g}")
        )
    if cluster_size is not None and not (math.isfinite(cluster_size) and cluster_size >= 1):
        raise UsageError(
            _("the cluster size must be at least 1 unit, got {size}").format(
                size=f"{cluster_size:g}"
            )
        )
    if clusters is not None and clusters < 2:
        raise UsageError(
            _(
                "{clusters} cluster per group cannot be tested: a group of one cluster has "
                "nothing to tell the change from that cluster's own ups and downs. Plan at "
                "least 2 per group (many more for a useful power), or a did pilot with a "
                "before period and at least 19 comparison clusters"
            ).format(clusters=clusters)
        )
    n_arms = (plan.n_baseline_exact, plan.n_baseline_exact * plan.split / (1 - plan.split))
    size, needed, reachable, power_available = cluster_size, None, True, None
    if clusters is not None:
        usable = clusters - SMALL_SAMPLE_CLUSTERS
        largest = max(n_arms)
        # n·(1 + (M − 1)ρ)/M ≤ usable  ⇔  M ≥ n(1 − ρ)/(usable − nρ)
        if usable <= largest * icc:
            reachable = False
        else:
            needed = largest * (1 - icc) / (usable - largest * icc)
            needed = max(1.0, needed)
        if cluster_size is not None:
            power_available = clustered_power(plan, icc, cluster_size, clusters)
        if size is None:
            size = needed
    design_effect = None if size is None else 1 + (size - 1) * icc
    per_arm_de: list[int | None] = [None, None]
    per_arm: list[int | None] = [None, None]
    if size is not None and design_effect is not None:
        for i, n in enumerate(n_arms):
            exact = n * design_effect / size
            per_arm_de[i] = max(1, math.ceil(exact * (1 - 1e-12)))
            per_arm[i] = per_arm_de[i] + SMALL_SAMPLE_CLUSTERS  # type: ignore[operator]
    days = None
    if plan.daily is not None and size is not None and reachable:
        groups = (clusters, clusters) if clusters is not None else tuple(per_arm)
        units = size * sum(g for g in groups if g is not None)
        days = max(1, math.ceil(units / plan.daily * (1 - 1e-12)))
    detectable = None
    if clusters is not None:
        detectable = _detectable_target(plan, icc, cluster_size or _UNLIMITED, clusters)
    return ClusterPlan(
        detectable_target=detectable,
        icc=icc,
        icc_source=icc_source,
        cluster_size=cluster_size if cluster_size is not None else needed,
        design_effect=design_effect,
        clusters_baseline=per_arm[0],
        clusters_pilot=per_arm[1],
        clusters_baseline_design_effect=per_arm_de[0],
        clusters_pilot_design_effect=per_arm_de[1],
        clusters_available=clusters,
        cluster_size_needed=needed,
        reachable=reachable,
        power_available=power_available,
        days=days,
        clusters_in_export=clusters_in_export,
    )


def clustered_power(plan: SamplePlan, icc: float, cluster_size: float, clusters: int) -> float:
    """Power of the t test on `clusters` clusters per arm of `cluster_size` units each: the
    effective units per arm K·M / (1 + (M − 1)·ICC), and 2K − 2 degrees of freedom."""
    effective = clusters * cluster_size / (1 + (cluster_size - 1) * icc)
    dof = 2 * clusters - 2
    shift = abs(plan.effect_size) * math.sqrt(effective / 2)
    crit = float(-special.stdtrit(dof, plan.alpha / 2))
    power = float(1 - special.nctdtr(dof, shift, crit) + special.nctdtr(dof, shift, -crit))
    if not math.isfinite(power):  # the noncentral t gives up far out: the normal tail then
        power = float(special.ndtr(shift - crit))
    return min(max(power, 0.0), 1.0)


_UNLIMITED = 1e9  # units per cluster standing for "as many as you like"


def _detectable_target(
    plan: SamplePlan, icc: float, cluster_size: float, clusters: int
) -> float | None:
    """The target nearest the baseline (in the plan's direction) that `clusters` clusters per
    arm of `cluster_size` units detect with the plan's power; None if no change can be."""
    from dataclasses import replace

    def power(effect: float) -> float:
        return clustered_power(replace(plan, effect_size=effect), icc, cluster_size, clusters)

    sign = 1.0 if plan.target >= plan.baseline else -1.0
    if plan.kind == "proportion":
        start = math.asin(math.sqrt(plan.baseline))
        room = (math.pi / 2 - start) if sign > 0 else start  # h up to the edge of [0, 1]
        largest = 2 * room
    else:
        largest = 100.0  # Cohen's d: a change of 100 standard deviations
    if largest <= 0 or power(largest) < plan.power:
        return None
    effect = optimize.brentq(lambda h: power(h) - plan.power, 1e-9, largest, xtol=1e-12)
    if plan.kind == "proportion":
        return math.sin(start + sign * effect / 2) ** 2
    assert plan.sd is not None
    return plan.baseline + sign * effect * plan.sd


def estimate_icc(clusters: list[tuple[int, float, float]]) -> tuple[float, float]:
    """One-way ANOVA estimate of the intra-cluster correlation from each cluster's (n, Σy, Σy²),
    and the clusters' size n0 that goes with it (the mean size, corrected for unequal sizes);
    a negative estimate is 0."""
    sizes = [n for n, _s, _q in clusters if n > 0]
    groups = len(sizes)
    total = sum(sizes)
    if groups < 2 or total <= groups:
        raise UsageError(
            _(
                "the before-period export needs at least two clusters with two or more units "
                "each to estimate the intra-cluster correlation"
            )
        )
    grand = sum(s for _n, s, _q in clusters) / total
    between = sum(n * (s / n - grand) ** 2 for n, s, _q in clusters if n > 0) / (groups - 1)
    within = sum(q - s * s / n for n, s, q in clusters if n > 0) / (total - groups)
    n0 = (total - sum(n * n for n in sizes) / total) / (groups - 1)
    denominator = between + (n0 - 1) * within
    icc = 0.0 if denominator <= 0 else max(0.0, (between - within) / denominator)
    return icc, n0
