"""Pilots assigned per cluster (区域, 城市, 门店…): clusters, not users, are the units (SPEC 11).

Users of one region share its weather, its staff and its week; treating them as independent
calls most region pilots significant when nothing changed. Every figure here takes clusters as
the units:
- the metric is Σy/Σn across clusters, its variance the delta method of a ratio of cluster
  totals (gbstats' ratio statistic on cluster totals; Deng et al. 2018), with Welch degrees of
  freedom from the cluster counts;
- with fewer than `RANDOMISATION_BELOW` clusters in an arm, the headline p-value is randomisation
  inference: the share of re-assignments of clusters to arms (exact up to `EXACT_LIMIT`, else
  `DRAWS` seeded draws) whose |statistic| reaches the observed one, and the interval is the
  inversion of that same test (every effect δ it does not reject at α once the pilot clusters
  are shifted by δ: y − δ·n, or y / (1 + r) on the relative scale; bounds by bisection), so
  the interval excludes 0 exactly when p < α — a Welch interval on 5 clusters would not agree;
- one cluster in the pilot arm: with comparison clusters and a before period, the
  placebo-in-space p-value (Abadie et al. 2010; Conley & Taber 2011), else no test.

Pure functions over `ArmStats` (one per cluster); the caller words the issue codes. May import
`stats` and `sufficient` only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from opsplay.pilot import stats
from opsplay.query.sufficient import ArmStats

RANDOMISATION_BELOW = 30  # fewer clusters than this in an arm: randomisation inference
EXACT_LIMIT = 100_000  # at most this many re-assignments: all of them, else seeded draws
DRAWS = 10_000
SEED = 20_240_801

# Issue codes (worded by the caller).
ONE_CLUSTER = "one_cluster"  # an arm has a single cluster and no placebo test is possible
FLOOR_ABOVE_ALPHA = "floor_above_alpha"  # too few clusters: no p-value can fall below alpha

# How an interval was found (the JSON's interval_method).
RANDOMISATION_INVERSION = "randomisation_inversion"  # the effects the randomisation test keeps


@dataclass(frozen=True)
class ClusterTotals:
    """One cluster's totals of a metric: numerator Σy (or Σnum) and denominator n (or Σden)."""

    numerator: float
    denominator: float
    units: int


def totals_of(cluster: ArmStats, kind: stats.Kind) -> ClusterTotals:
    """The cluster's numerator and denominator totals for a metric of this kind."""
    if kind == "ratio":
        return ClusterTotals(cluster.sum, cluster.sum_den, cluster.n)
    return ClusterTotals(cluster.sum, float(cluster.n), cluster.n)


def as_units(clusters: Sequence[ClusterTotals]) -> ArmStats:
    """Sufficient statistics with each cluster as one unit of a ratio metric."""
    return ArmStats(
        n=len(clusters),
        sum=sum(c.numerator for c in clusters),
        sum_sq=sum(c.numerator**2 for c in clusters),
        sum_den=sum(c.denominator for c in clusters),
        sum_den_sq=sum(c.denominator**2 for c in clusters),
        sum_prod=sum(c.numerator * c.denominator for c in clusters),
    )


def compare_clustered(
    baseline: Sequence[ArmStats],
    pilot: Sequence[ArmStats],
    kind: stats.Kind,
    *,
    alpha: float = 0.05,
    min_n: int = 0,
    scale_alpha: float | None = None,
) -> stats.Comparison:
    """Pilot clusters against baseline clusters (ab): ratio of cluster totals, Welch on clusters,
    randomisation inference for the headline p when an arm has fewer than 30 clusters.
    `scale_alpha` as stats.compare_arms'."""
    base = [totals_of(c, kind) for c in baseline if c.n > 0]
    test = [totals_of(c, kind) for c in pilot if c.n > 0]
    comparison = stats.compare_arms(
        as_units(base), as_units(test), "ratio", alpha=alpha, min_n=2, scale_alpha=scale_alpha
    )
    comparison = _per_unit_view(comparison, kind, baseline, pilot, min_n)
    comparison = replace(comparison, clusters=(len(base), len(test)))
    if comparison.abs_diff is None or stats.TOO_FEW_UNITS in comparison.issues:
        return comparison  # no units, a zero denominator, or fewer units than min_n
    if len(base) < 2 or len(test) < 2:
        return _untestable(comparison)
    if min(len(base), len(test)) >= RANDOMISATION_BELOW:
        return replace(comparison, method="cluster-welch-t")
    import numpy as np

    # the randomisation test gives the p and the interval: the two t tests' choice is moot
    moot = (stats.RELATIVE_BY_FIELLER, stats.RELATIVE_UNBOUNDED)
    issues = tuple(i for i in comparison.issues if i not in moot)
    values = np.array([[c.numerator, c.denominator] for c in [*base, *test]]).T
    return _randomised(
        replace(comparison, issues=issues), values, len(test), _ab_statistics, 0, alpha
    )


def did_clustered(
    baseline: Sequence[tuple[ArmStats, ArmStats]],
    pilot: Sequence[tuple[ArmStats, ArmStats]],
    kind: stats.Kind,
    *,
    alpha: float = 0.05,
    min_n: int = 0,
) -> stats.Comparison:
    """Difference in differences with clusters as units; each cluster is (before, after).

    Interval: the delta method on cluster totals (each arm's after − before, linearised per
    cluster), Welch degrees of freedom from the cluster counts. Headline p: randomisation
    inference below 30 clusters in an arm; one pilot cluster: placebo in space."""
    base = [(totals_of(b, kind), totals_of(a, kind)) for b, a in baseline if b.n + a.n > 0]
    test = [(totals_of(b, kind), totals_of(a, kind)) for b, a in pilot if b.n + a.n > 0]
    groups = [
        _merge([c[0] for c in base]),
        _merge([c[1] for c in base]),
        _merge([c[0] for c in test]),
        _merge([c[1] for c in test]),
    ]
    rates = [g.numerator / g.denominator if g.denominator else None for g in groups]
    cb, ca, pb, pa = rates
    comparison = stats.Comparison(
        kind=kind,
        method="cluster-did",
        alpha=alpha,
        baseline_n=groups[1].units,
        baseline_value=ca,
        baseline_variance=None,
        pilot_n=groups[3].units,
        pilot_value=pa,
        pilot_variance=None,
        before=stats.Before(groups[0].units, cb, groups[2].units, pb),
        unit="cluster",
        clusters=(len(base), len(test)),
    )
    if cb is None or ca is None or pb is None or pa is None:
        return replace(comparison, issues=(stats.ZERO_DENOMINATOR,))
    estimate = _did_statistics(base, test)
    assert estimate is not None
    did, log_ratio = estimate
    issues: list[str] = []
    if log_ratio is None:
        issues.append(stats.ZERO_BASELINE if 0 in (cb, ca, pb) else stats.NONPOSITIVE_MEAN)
    comparison = replace(
        comparison,
        abs_diff=did,
        rel_diff=None if log_ratio is None else math.expm1(log_ratio),
        issues=tuple(issues),
    )
    if min(groups[i].units for i in range(4)) < max(min_n, 2):
        return replace(comparison, issues=(*comparison.issues, stats.TOO_FEW_UNITS))
    if len(test) == 1 or len(base) == 1:
        if len(test) == 1 and len(base) >= 2:
            return _placebo(comparison, base, test[0], alpha)
        return _untestable(comparison)
    comparison = _did_interval(comparison, base, test, log_ratio, alpha)
    if comparison.se_abs is None:
        return comparison
    if min(len(base), len(test)) >= RANDOMISATION_BELOW:
        return comparison
    import numpy as np

    rows = [[b.numerator, b.denominator, a.numerator, a.denominator] for b, a in [*base, *test]]
    values = np.array(rows).T
    return _randomised(comparison, values, len(test), _did_array_statistics, 2, alpha)


def assignments(clusters: int, treated: int) -> int:
    """How many ways `treated` of `clusters` clusters can be the pilot arm."""
    return math.comb(clusters, treated)


# --- internals -----------------------------------------------------------------------------


def _merge(clusters: Sequence[ClusterTotals]) -> ClusterTotals:
    return ClusterTotals(
        sum(c.numerator for c in clusters),
        sum(c.denominator for c in clusters),
        sum(c.units for c in clusters),
    )


def _per_unit_view(
    comparison: stats.Comparison,
    kind: stats.Kind,
    baseline: Sequence[ArmStats],
    pilot: Sequence[ArmStats],
    min_n: int,
) -> stats.Comparison:
    """Report units (not clusters) as n, the metric's kind, and min_n on units."""
    n_base = sum(c.n for c in baseline)
    n_pilot = sum(c.n for c in pilot)
    # compare_arms counted clusters; the unit count decides "too few" (one cluster is worded
    # apart, by the caller of `_untestable`)
    issues = [i for i in comparison.issues if i != stats.TOO_FEW_UNITS]
    if min(n_base, n_pilot) < max(min_n, 2):
        issues.append(stats.TOO_FEW_UNITS)
    tested = comparison.p_value is not None and stats.TOO_FEW_UNITS not in issues
    return replace(
        comparison,
        kind=kind,
        baseline_n=n_base,
        pilot_n=n_pilot,
        issues=tuple(issues),
        unit="cluster",
        **({} if tested else _NO_TEST),
    )


_NO_TEST = {
    "se_abs": None,
    "ci_abs": None,
    "p_value_abs": None,
    "se_rel": None,
    "ci_rel": None,
    "p_value": None,
    "dof": None,
}


def _untestable(comparison: stats.Comparison) -> stats.Comparison:
    """One cluster in an arm: no variance between clusters to test against."""
    issues = [i for i in comparison.issues if i != stats.TOO_FEW_UNITS]
    return replace(comparison, method="not-testable", issues=(*issues, ONE_CLUSTER), **_NO_TEST)


def _with_randomisation(
    comparison: stats.Comparison, p_rel: float | None, p_abs: float, floor: float, alpha: float
) -> stats.Comparison:
    issues = list(comparison.issues)
    if floor >= alpha:
        issues.append(FLOOR_ABOVE_ALPHA)
    return replace(
        comparison,
        method="randomisation",
        p_value=p_rel if p_rel is not None else p_abs,
        p_value_abs=p_abs,
        min_p=floor,
        issues=tuple(issues),
    )


def _randomised(comparison, values, treated_count, statistic, shifted, alpha):  # type: ignore[no-untyped-def]
    """The randomisation p-values and, on both scales, the interval that inverts the same test
    (every effect it does not reject at alpha), so the interval excludes 0 exactly when p < alpha."""
    test = _Randomisation(values, treated_count, statistic, shifted)
    p_rel, p_abs = test.p_values()
    comparison = _with_randomisation(comparison, p_rel, p_abs, test.floor, alpha)
    assert comparison.abs_diff is not None
    ci_abs = _inverted(
        lambda d: test.p_values(delta=d, scale=1)[1],
        alpha,
        estimate=comparison.abs_diff,
        spread=comparison.se_abs,
    )
    ci_rel = None
    if p_rel is not None and comparison.rel_diff is not None and comparison.rel_diff > -1:
        # relative scale: pilot numerators / (1 + r0), searched as log(1 + r0)
        def p_at(theta: float) -> float:
            if abs(theta) > 700:  # e^θ beyond floating point: no rejection found before it
                return 1.0
            p = test.p_values(theta=theta, scale=0)[0]
            return 1.0 if p is None else p  # an undefined statistic rejects nothing

        spread = None  # the Welch standard error on the log scale sets the search's steps
        if comparison.se_rel is not None:
            spread = comparison.se_rel / (1 + comparison.rel_diff)
        log_interval = _inverted(
            p_at, alpha, estimate=math.log1p(comparison.rel_diff), spread=spread
        )
        ci_rel = (_expm1(log_interval[0]), _expm1(log_interval[1]))
    return replace(
        comparison,
        ci_abs=ci_abs,
        ci_rel=ci_rel,
        dof=None,
        interval_method=RANDOMISATION_INVERSION,
    )


def _expm1(value: float) -> float:
    return math.expm1(value) if math.isfinite(value) else (math.inf if value > 0 else -1.0)


def _inverted(p_at, alpha, *, estimate, spread=None):  # type: ignore[no-untyped-def]
    """The set {δ: p(δ) ≥ alpha} around the estimate, as (low, high) found by bisection on
    p(δ) − alpha; ±inf where no effect however large is rejected. 0 is tried first on its side,
    so 0 lies inside exactly when p(0) ≥ alpha (p is a step function, not always monotone).
    `spread` (a standard error) sets the first step and the precision (1e-4 of it, far finer
    than any figure shown); without it, the estimate's size does."""
    scale = spread if spread and math.isfinite(spread) and spread > 0 else None
    p_zero = p_at(0.0)
    bounds = []
    for direction in (-1.0, 1.0):
        inside, outside = estimate, None
        if direction * (0.0 - estimate) > 0:  # 0 lies on this side of the estimate
            if p_zero < alpha:
                outside = 0.0
            else:
                inside = 0.0
        if outside is None:
            step = 2 * scale if scale else max(abs(estimate), abs(inside), 1e-9)
            for _ in range(60):
                candidate = inside + direction * step
                if p_at(candidate) < alpha:
                    outside = candidate
                    break
                inside, step = candidate, step * 2
            if outside is None:
                bounds.append(direction * math.inf)
                continue
        for _ in range(60):
            middle = (inside + outside) / 2
            width = abs(outside - inside)
            precision = 1e-4 * scale if scale else 1e-6 * max(abs(middle), abs(estimate), 1e-12)
            if width <= precision or middle in (
                inside,
                outside,
            ):
                break
            if p_at(middle) < alpha:
                outside = middle
            else:
                inside = middle
        bounds.append(inside)
    return bounds[0], bounds[1]


def _ab_statistics(sums, totals, cache=None, scale=None):  # type: ignore[no-untyped-def]
    """Relative and absolute differences of Σnum/Σden for a batch of assignments, from the
    pilot arm's sums (one array per row of values: num, den) and the rows' totals."""
    import numpy as np

    p_num, p_den = sums
    if cache is None or not cache:  # the denominators: no shift touches them (see the DiD's)
        fixed = {"p_den": p_den, "b_den": totals[1] - p_den}
        if cache is not None:
            cache.update(fixed)
    else:
        fixed = cache
    with np.errstate(divide="ignore", invalid="ignore"):
        base = (totals[0] - p_num) / fixed["b_den"]
        diff = p_num / fixed["p_den"] - base
        return (None if scale == 1 else diff / np.abs(base)), diff


def _did_array_statistics(sums, totals, cache=None, scale=None):  # type: ignore[no-untyped-def]
    """Relative (ratio of ratios − 1) and absolute difference in differences, batched, from the
    pilot arm's sums of (num before, den before, num after, den after) and their totals.

    `cache`: a dict kept by the caller while only the after numerators (row 2) change — the
    shifts of an interval search — so the other rows' ratios are computed once."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        if cache is None or not cache:
            fixed = {
                "p_before": sums[0] / sums[1],
                "c_before": (totals[0] - sums[0]) / (totals[1] - sums[1]),
                "p_den": sums[3],
                "c_den": totals[3] - sums[3],
            }
            if cache is not None:
                cache.update(fixed)
        else:
            fixed = cache
        p_after = sums[2] / fixed["p_den"]
        c_after = (totals[2] - sums[2]) / fixed["c_den"]
        absolute = relative = None
        if scale != 0:
            absolute = (p_after - fixed["p_before"]) - (c_after - fixed["c_before"])
        if scale != 1:
            relative = (p_after / fixed["p_before"]) / (c_after / fixed["c_before"]) - 1
        return relative, absolute


class _Randomisation:
    """The assignments of one design (all of them, or seeded draws) and its p-values: the share
    of assignments (the observed one included) whose |statistic| is at least the observed one.

    The same assignments serve the p-value and every shifted p-value of the interval. A shift
    touches only the pilot clusters' numerator row `shifted` (y → (y − δ·n)·e^−θ, n its
    denominator row), so each assignment's sums are kept apart for the baseline and the pilot
    clusters, and a shifted p-value costs a few vector operations, not a matrix product."""

    def __init__(self, values, treated_count: int, statistic, shifted: int = 0) -> None:  # type: ignore[no-untyped-def]
        import numpy as np

        rows, clusters = values.shape
        self.statistic = statistic
        self.shifted = shifted
        pilot = np.zeros(clusters)
        pilot[clusters - treated_count :] = 1
        count = assignments(clusters, treated_count)
        self.exact = count <= EXACT_LIMIT
        if self.exact:
            masks = _all_assignments(clusters, treated_count)
            self.count = count
        else:
            rng = np.random.default_rng(SEED)
            order = rng.random((DRAWS, clusters)).argsort(axis=1)[:, :treated_count]
            masks = np.zeros((DRAWS, clusters))
            np.put_along_axis(masks, order, 1, axis=1)
            self.count = DRAWS
        self.floor = 1 / count if self.exact else 1 / (DRAWS + 1)
        # per row: each assignment's sum over its baseline-origin and pilot-origin clusters
        self.from_base = masks @ (values * (1 - pilot)).T  # (assignments, rows)
        self.from_pilot = masks @ (values * pilot).T
        self.base_totals = (values * (1 - pilot)).sum(axis=1)
        self.pilot_totals = (values * pilot).sum(axis=1)
        self.sums = list((self.from_base + self.from_pilot).T)
        self.cache: dict = {}  # the statistic's figures of the rows no shift touches

    def p_values(
        self, delta: float = 0.0, theta: float = 0.0, scale: int | None = None
    ) -> tuple[float | None, float]:
        """p-values (relative, absolute) with the pilot clusters' effect δ (absolute) and
        e^θ − 1 (relative) taken away; (0, 0) is the observed data. `scale` 0 or 1: only that
        p-value is computed (the other is returned as 1.0)."""
        import numpy as np

        row, den = self.shifted, self.shifted + 1
        factor = math.exp(-theta)
        sums = list(self.sums)
        sums[row] = self.from_base[:, row] + factor * (
            self.from_pilot[:, row] - delta * self.from_pilot[:, den]
        )
        totals = self.base_totals + self.pilot_totals
        totals[row] = self.base_totals[row] + factor * (
            self.pilot_totals[row] - delta * self.pilot_totals[den]
        )
        observed_sums = [np.array([t]) for t in self.pilot_totals]
        observed_sums[row] = np.array(
            [factor * (self.pilot_totals[row] - delta * self.pilot_totals[den])]
        )
        observed = [float(s[0]) for s in self.statistic(observed_sums, totals)]
        results = self.statistic(sums, totals, self.cache, scale)
        p_values: list[float | None] = []
        for index, (observed_value, null) in enumerate(zip(observed, results, strict=True)):
            if scale is not None and index != scale:
                p_values.append(1.0)
                continue
            if not math.isfinite(observed_value):
                p_values.append(None)
                continue
            # ties within rounding count as reaching the observed value (as scipy's
            # permutation_test)
            tolerance = 1e-12 * max(abs(observed_value), 1e-300)
            reached = int(np.count_nonzero(np.abs(null) >= abs(observed_value) - tolerance))
            if self.exact:
                p_values.append(reached / self.count)
            else:
                p_values.append((reached + 1) / (DRAWS + 1))
        p_abs = p_values[1]
        assert p_abs is not None
        return p_values[0], p_abs


@functools.lru_cache(maxsize=8)
def _all_assignments(clusters: int, treated: int):  # type: ignore[no-untyped-def]
    """Every assignment of `treated` of `clusters` clusters to the pilot arm, as 0/1 rows
    (kept: a simulation or --by segments ask for the same few shapes again and again)."""
    import itertools

    import numpy as np

    masks = np.zeros((assignments(clusters, treated), clusters))
    for row, chosen in enumerate(itertools.combinations(range(clusters), treated)):
        masks[row, list(chosen)] = 1
    masks.setflags(write=False)
    return masks


def _did_statistics(
    base: Sequence[tuple[ClusterTotals, ClusterTotals]],
    test: Sequence[tuple[ClusterTotals, ClusterTotals]],
) -> tuple[float, float | None] | None:
    """(absolute DiD, log ratio of ratios or None) of the arms' totals."""
    cb, ca = _merge([c[0] for c in base]), _merge([c[1] for c in base])
    pb, pa = _merge([c[0] for c in test]), _merge([c[1] for c in test])
    if not all(g.denominator for g in (cb, ca, pb, pa)):
        return None
    rates = [g.numerator / g.denominator for g in (cb, ca, pb, pa)]
    did = (rates[3] - rates[2]) - (rates[1] - rates[0])
    if min(rates) <= 0:
        return did, None
    log_ratio = math.log(rates[3]) - math.log(rates[2]) - math.log(rates[1]) + math.log(rates[0])
    return did, log_ratio


def _change_variance(
    clusters: Sequence[tuple[ClusterTotals, ClusterTotals]], log_scale: bool
) -> float:
    """Delta-method variance of one arm's after − before (or log after − log before), with
    clusters as units: each cluster's linearised contribution, its sample variance / k."""
    k = len(clusters)
    before, after = _merge([c[0] for c in clusters]), _merge([c[1] for c in clusters])
    r_before = before.numerator / before.denominator
    r_after = after.numerator / after.denominator
    mean_before, mean_after = before.denominator / k, after.denominator / k
    contributions = []
    for b, a in clusters:
        psi_after = (a.numerator - r_after * a.denominator) / mean_after
        psi_before = (b.numerator - r_before * b.denominator) / mean_before
        if log_scale:
            psi_after, psi_before = psi_after / r_after, psi_before / r_before
        contributions.append(psi_after - psi_before)
    return sum(c * c for c in contributions) / (k * (k - 1))


def _did_interval(
    comparison: stats.Comparison,
    base: Sequence[tuple[ClusterTotals, ClusterTotals]],
    test: Sequence[tuple[ClusterTotals, ClusterTotals]],
    log_ratio: float | None,
    alpha: float,
) -> stats.Comparison:
    """Intervals and Welch-t p-values of the clustered DiD on both scales."""
    assert comparison.abs_diff is not None
    var_c, var_p = _change_variance(base, False), _change_variance(test, False)
    if var_c + var_p <= 0:
        return replace(comparison, issues=(*comparison.issues, stats.ZERO_VARIANCE))
    dof = _welch_dof(var_c, var_p, len(base), len(test))
    se_abs = math.sqrt(var_c + var_p)
    p_abs = stats.two_sided_p(comparison.abs_diff / se_abs, dof)
    comparison = replace(
        comparison,
        method="cluster-welch-t",
        se_abs=se_abs,
        ci_abs=stats.interval(comparison.abs_diff, se_abs, alpha, dof),
        p_value_abs=p_abs,
        p_value=p_abs,
        dof=dof,
    )
    if log_ratio is None:
        return comparison
    log_c, log_p = _change_variance(base, True), _change_variance(test, True)
    se_log = math.sqrt(log_c + log_p)
    if se_log <= 0:
        return comparison
    log_dof = _welch_dof(log_c, log_p, len(base), len(test))
    low, high = stats.interval(log_ratio, se_log, alpha, log_dof)
    return replace(
        comparison,
        se_rel=math.exp(log_ratio) * se_log,
        ci_rel=(math.expm1(low), math.expm1(high)),
        p_value=stats.two_sided_p(log_ratio / se_log, log_dof),
    )


def _welch_dof(var_a: float, var_b: float, k_a: int, k_b: int) -> float:
    return (var_a + var_b) ** 2 / (var_a**2 / (k_a - 1) + var_b**2 / (k_b - 1))


def _placebo(
    comparison: stats.Comparison,
    base: Sequence[tuple[ClusterTotals, ClusterTotals]],
    treated: tuple[ClusterTotals, ClusterTotals],
    alpha: float,
) -> stats.Comparison:
    """Placebo in space: the pilot cluster's DiD ranked among each cluster's DiD against the
    comparison clusters (a placebo cluster is compared with the other comparison clusters)."""
    observed = _did_statistics(base, [treated])
    assert observed is not None
    placebos = []
    for index, cluster in enumerate(base):
        others = [c for i, c in enumerate(base) if i != index]
        placebos.append(_did_statistics(others, [cluster]))
    everyone = [observed, *placebos]
    use_log = all(s is not None and s[1] is not None for s in everyone)
    values = [abs(s[1] if use_log else s[0]) for s in everyone if s is not None]  # type: ignore[index, arg-type]
    target = values[0]
    reached = sum(1 for v in values if v >= target - 1e-12 * max(target, 1e-300))
    p = reached / len(values)
    floor = 1 / len(values)
    issues = [i for i in comparison.issues if i not in (stats.ZERO_BASELINE,)]
    if floor >= alpha:
        issues.append(FLOOR_ABOVE_ALPHA)
    return replace(
        comparison,
        method="placebo-in-space",
        p_value=p,
        p_value_abs=p,
        min_p=floor,
        issues=tuple(issues),
    )
