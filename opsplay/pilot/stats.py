"""Pilot statistics: two-arm tests, difference in differences, corrections, SRM (pure functions).

The default engine reproduces GrowthBook's frequentist engine (gbstats 0.8.0,
`TwoSidedTTest`): per-unit variances as its Proportion/SampleMean/Ratio statistics, Welch
degrees of freedom on both scales, and the delta method for the relative lift. Values that
cannot be computed are None, never NaN; `issues` holds machine codes the caller words. The
t, normal and chi-square tails and quantiles come from `opsplay.pilot.distributions` (plain
Python: no scipy on the path of `pilot compare`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from opsplay.pilot.distributions import chi2_1_sf, normal_ppf, normal_sf, t_isf, t_sf
from opsplay.query.sufficient import ArmStats

Kind = Literal["proportion", "mean", "ratio"]
TestName = Literal["welch", "z"]
VarianceName = Literal["unpooled", "pooled"]
Correction = Literal["none", "holm", "bh"]

# A variance this small relative to the mean square is rounding left over from
# Σy² − (Σy)²/n (constant data gives ±1e-16 relative), not spread in the data.
_ZERO_VARIANCE_RTOL = 1e-12

# Issue codes (the caller words them in zh/en).
NO_UNITS = "no_units"  # an arm has no units at all
TOO_FEW_UNITS = "too_few_units"  # n < max(min_n, 2) in an arm
ZERO_VARIANCE = "zero_variance"  # all units of an arm have the same value (0% or 100% rates)
ZERO_DENOMINATOR = "zero_denominator"  # ratio metric whose Σden is 0 in an arm
ZERO_BASELINE = "zero_baseline"  # baseline mean 0: no relative scale, p falls back to absolute
NONPOSITIVE_MEAN = "nonpositive_mean"  # DiD: relative DiD needs positive means
POOLED_NOT_APPLICABLE = "pooled_not_applicable"  # pooled variance asked for a non-proportion
POOLED_NOT_ADJUSTED = "pooled_not_adjusted"  # pooled variance asked for a CUPED-adjusted metric
NO_ADJUSTMENT = "no_adjustment"  # pre_column without spread (or the metric without): unadjusted
# the delta method's relative test disagreed with the test of the difference: the relative
# scale's p is the difference's, its interval Fieller's (which agrees with it)
RELATIVE_BY_FIELLER = "relative_by_fieller"
RELATIVE_UNBOUNDED = "relative_unbounded"  # the same, and Fieller's interval has no ends
FIELLER = "fieller"  # the JSON's interval_method then (the deviation rate's interval)


class NumericRangeError(ValueError):
    """Sufficient statistics beyond the range of floating-point numbers (sums near 1e308)."""


@dataclass(frozen=True)
class Before:
    """The comparison and pilot groups before the change (difference in differences)."""

    baseline_n: int
    baseline_value: float | None
    pilot_n: int
    pilot_value: float | None


@dataclass(frozen=True)
class Comparison:
    """Pilot against baseline for one metric in one segment; None where not computable."""

    kind: Kind
    method: str  # "welch-t", "z", "z-pooled" or "did-normal"
    alpha: float
    baseline_n: int
    baseline_value: float | None
    baseline_variance: float | None  # per-unit variance, as gbstats
    pilot_n: int
    pilot_value: float | None
    pilot_variance: float | None
    abs_diff: float | None = None
    se_abs: float | None = None
    ci_abs: tuple[float, float] | None = None
    p_value_abs: float | None = None
    rel_diff: float | None = None  # Δ / |baseline|
    se_rel: float | None = None
    ci_rel: tuple[float, float] | None = None
    p_value: float | None = None  # relative scale; the absolute one when the baseline is 0
    dof: float | None = None  # Welch–Satterthwaite; None for normal-distribution methods
    issues: tuple[str, ...] = ()
    before: Before | None = None  # difference in differences only
    unit: str = "unit"  # what was counted as independent: "unit", or "cluster" (pilot.cluster)
    clusters: tuple[int, int] | None = None  # clusters in the baseline and pilot arms
    min_p: float | None = None  # the smallest p-value the design can give (randomisation)
    # CUPED (pre_column): θ pooled over both arms, and 1 − adjusted/unadjusted variance of the
    # absolute difference; None without a pre_column. baseline/pilot values stay unadjusted.
    theta: float | None = None
    variance_reduction: float | None = None
    sequential: bool = False  # always-valid intervals and p-values (repeated looks)
    # how the interval was found when not by the method's own formula: "randomisation_inversion"
    # (clustered pilots below 30 clusters an arm: the effects the randomisation test keeps)
    interval_method: str | None = None

    @property
    def tested(self) -> bool:
        """Whether a test could be run (enough units and variance)."""
        return self.p_value is not None


def mean_and_variance(stats: ArmStats, kind: Kind) -> tuple[float, float]:
    """Mean and per-unit variance of one arm, as gbstats' statistics compute them."""
    n = stats.n
    if n <= 0:
        raise ValueError("no units: mean and variance are undefined")
    if kind == "proportion":
        mean = stats.sum / n
        return mean, mean * (1 - mean)
    if kind == "mean":
        return stats.sum / n, _sample_variance(n, stats.sum, stats.sum_sq)
    if kind == "ratio":
        if stats.sum_den == 0:
            raise ValueError("ratio metric with a zero denominator sum")
        if n <= 1:
            return stats.sum / stats.sum_den, 0.0
        num_mean, den_mean = stats.sum / n, stats.sum_den / n
        num_var = _sample_variance(n, stats.sum, stats.sum_sq)
        den_var = _sample_variance(n, stats.sum_den, stats.sum_den_sq)
        cov = (stats.sum_prod - stats.sum * stats.sum_den / n) / (n - 1)
        variance = (
            num_var / den_mean**2
            - 2 * cov * num_mean / den_mean**3
            + num_mean**2 * den_var / den_mean**4
        )
        return stats.sum / stats.sum_den, variance
    raise ValueError(f"unknown metric kind {kind!r}")


def compare_arms(
    baseline: ArmStats,
    pilot: ArmStats,
    kind: Kind,
    *,
    alpha: float = 0.05,
    test: TestName = "welch",
    variance: VarianceName = "unpooled",
    min_n: int = 0,
    adjusted: bool = False,
    sequential_tuning: float | None = None,
    scale_alpha: float | None = None,
) -> Comparison:
    """Compare pilot with baseline: difference, relative lift, intervals and p-values.

    `adjusted`: CUPED (gbstats' RegressionAdjustedStatistic); the arms' `sum_den`,
    `sum_den_sq` and `sum_prod` hold Σx, Σx² and Σxy of the before-period value x (the
    metric's `pre_column`, read as the metric is). `sequential_tuning`: always-valid intervals
    and p-values, as gbstats' SequentialTwoSidedTTest with that tuning parameter.
    `scale_alpha`: the level at which the relative scale's two tests are compared (default
    alpha; an interval at a corrected level keeps the test its verdict was decided with).
    """
    _check_options(kind, alpha)
    if adjusted and kind == "ratio":
        raise ValueError("regression adjustment applies to proportion and mean metrics only")
    if sequential_tuning is not None and not sequential_tuning > 0:
        raise ValueError(f"sequential tuning {sequential_tuning!r} must be above 0")
    if test not in ("welch", "z") or variance not in ("unpooled", "pooled"):
        raise ValueError(f"unknown test {test!r} or variance {variance!r}")
    issues: list[str] = []
    base = _arm(baseline, kind, min_n, issues)
    pil = _arm(pilot, kind, min_n, issues)
    pooled = variance == "pooled"
    if pooled and kind != "proportion":
        issues.append(POOLED_NOT_APPLICABLE)
        pooled = False
    if pooled and adjusted:
        issues.append(POOLED_NOT_ADJUSTED)
        pooled = False
    if pooled and sequential_tuning is not None:
        raise ValueError("the sequential test has no pooled-variance form")
    method = "z-pooled" if pooled else ("z" if test == "z" else "welch-t")
    if sequential_tuning is not None:
        method = "sequential"
    described = Comparison(
        kind=kind,
        method=method,
        alpha=alpha,
        baseline_n=base.n,
        baseline_value=base.mean,
        baseline_variance=base.variance,
        pilot_n=pil.n,
        pilot_value=pil.mean,
        pilot_variance=pil.variance,
        sequential=sequential_tuning is not None,
    )
    if base.mean is None or pil.mean is None:
        return replace(described, issues=tuple(issues))
    m_a, m_b = base.mean, pil.mean
    delta = m_b - m_a
    if m_a == 0:
        issues.append(ZERO_BASELINE)
    lift = None if m_a == 0 else delta / abs(m_a)
    pointwise = replace(described, abs_diff=delta, rel_diff=lift, issues=tuple(issues))
    if not (base.testable and pil.testable):
        return pointwise

    n_a, _, v_a = _moments(base)
    n_b, _, v_b = _moments(pil)
    if adjusted:
        cuped = _regression_adjusted(baseline, pilot, kind, v_a, v_b)
        if cuped is None:
            issues.append(NO_ADJUSTMENT)
            pointwise = replace(pointwise, issues=tuple(issues), theta=0.0, variance_reduction=0.0)
        else:
            theta, adj_a, adj_b, v_a, v_b = cuped
            unadjusted = (base.variance or 0.0) / n_a + (pil.variance or 0.0) / n_b
            delta = adj_b - adj_a
            lift = None if m_a == 0 else delta / abs(m_a)
            if v_a <= 0 or v_b <= 0:  # as gbstats: no test on a zero adjusted variance
                _note(issues, ZERO_VARIANCE)
                return replace(
                    pointwise, abs_diff=delta, rel_diff=lift, theta=theta, issues=tuple(issues)
                )
            pointwise = replace(
                pointwise,
                abs_diff=delta,
                rel_diff=lift,
                theta=theta,
                variance_reduction=1 - (v_a / n_a + v_b / n_b) / unadjusted,
            )
    term_a, term_b = v_a / n_a, v_b / n_b
    se_abs = math.sqrt(term_a + term_b)
    dof = None
    if test == "welch" and not pooled and sequential_tuning is None:
        dof = (term_a + term_b) ** 2 / (term_a**2 / (n_a - 1) + term_b**2 / (n_b - 1))
    if sequential_tuning is not None:
        always = functools.partial(
            _always_valid, alpha=alpha, units=n_a + n_b, tuning=sequential_tuning
        )
        ci_abs, p_abs = always(delta, se_abs)
        tested = replace(pointwise, se_abs=se_abs, ci_abs=ci_abs, p_value_abs=p_abs, p_value=p_abs)
        if lift is None:
            return tested
        se_rel = math.sqrt(v_b / (n_b * m_a**2) + v_a * m_b**2 / (n_a * m_a**4))
        ci_rel, p_rel = always(lift, se_rel)
        if _disagree(p_rel, p_abs, scale_alpha or alpha):
            reach = (ci_abs[1] - ci_abs[0]) / (2 * se_abs)  # the always-valid width in s.e.
            return _relative_by_fieller(tested, delta, m_a, term_a, se_abs, reach, se_rel)
        return replace(tested, se_rel=se_rel, ci_rel=ci_rel, p_value=p_rel)
    if pooled:
        pooled_mean = (baseline.sum + pilot.sum) / (n_a + n_b)
        se_null = math.sqrt(pooled_mean * (1 - pooled_mean) * (1 / n_a + 1 / n_b))
        p_abs = two_sided_p(delta / se_null, None)
    else:
        p_abs = two_sided_p(delta / se_abs, dof)
    tested = replace(
        pointwise,
        se_abs=se_abs,
        ci_abs=interval(delta, se_abs, alpha, dof),
        p_value_abs=p_abs,
        p_value=p_abs,
        dof=dof,
    )
    if lift is None:
        return tested
    se_rel = math.sqrt(v_b / (n_b * m_a**2) + v_a * m_b**2 / (n_a * m_a**4))
    # The pooled test is a test of m_B = m_A: the same null on both scales.
    p_rel = p_abs if pooled else two_sided_p(lift / se_rel, dof)
    if _disagree(p_rel, p_abs, scale_alpha or alpha):
        reach = _quantile(alpha, dof)
        return _relative_by_fieller(tested, delta, m_a, term_a, se_abs, reach, se_rel)
    return replace(tested, se_rel=se_rel, ci_rel=interval(lift, se_rel, alpha, dof), p_value=p_rel)


def _disagree(p_relative: float, p_absolute: float, alpha: float) -> bool:
    """Whether the delta method's relative test and the test of the difference fall on
    different sides of alpha (see _relative_by_fieller)."""
    return (p_relative < alpha) != (p_absolute < alpha)


def _relative_by_fieller(
    tested: Comparison,
    delta: float,
    baseline: float,
    baseline_term: float,
    se_abs: float,
    reach: float,
    se_rel: float,
) -> Comparison:
    """The relative scale when the delta method's test of Δ/|m_A| disagrees with the test of
    Δ itself at alpha. Both test "no change", but the delta method takes its variance at the
    observed ratio, not at the null, so it calls decreases too often and increases too
    rarely (A/A, 10 % conversion, 1,000 units a group: 4.3 % and 1.1 % where each should be
    2.5 %); the test of Δ is right on both sides. So p is the test of Δ's, and the interval
    of the deviation rate is Fieller's: the rates L whose null Δ = L·|m_A| that test keeps
    (its variance at L), which holds 0 exactly when p ≥ alpha. `reach` is the test's
    critical value in standard errors; an interval without an upper or lower end is None.
    """
    var_abs, var_base, sign = se_abs**2, baseline_term, math.copysign(1.0, baseline)
    # (Δ − L·D)² ≤ r²·Var(Δ − L·D), D = |m_A|: Var = V_Δ + 2L·s·V_A + L²·V_A, for Δ = m_B − m_A
    # and D share m_A's noise (s its sign)
    a = baseline**2 - reach**2 * var_base
    b = delta * abs(baseline) + reach**2 * sign * var_base
    c = delta**2 - reach**2 * var_abs
    ci_rel = None
    if a > 0 and b * b - a * c >= 0:
        root = math.sqrt(b * b - a * c)
        ci_rel = ((b - root) / a, (b + root) / a)
    return replace(
        tested,
        se_rel=se_rel,
        ci_rel=ci_rel,
        p_value=tested.p_value_abs,
        issues=(*tested.issues, RELATIVE_BY_FIELLER if ci_rel else RELATIVE_UNBOUNDED),
        interval_method=FIELLER,
    )


def _regression_adjusted(
    baseline: ArmStats, pilot: ArmStats, kind: Kind, v_a: float, v_b: float
) -> tuple[float, float, float, float, float] | None:
    """CUPED as gbstats' RegressionAdjustedStatistic: (θ, adjusted means, adjusted variances).

    θ is the covariance of post and pre over the variance of pre, both arms pooled (gbstats'
    `compute_theta`); the pre value is read as the metric is (a 0/1 rate, or a number). None
    when either pooled variance is 0: gbstats then compares the arms unadjusted.
    """
    n = baseline.n + pilot.n
    post_sum, pre_sum = baseline.sum + pilot.sum, baseline.sum_den + pilot.sum_den
    joint_post = _spread(kind, n, post_sum, baseline.sum_sq + pilot.sum_sq)
    joint_pre = _spread(kind, n, pre_sum, baseline.sum_den_sq + pilot.sum_den_sq)
    # gbstats tests for exactly 0; a constant column can leave rounding residue (1e-18) that
    # would make θ enormous: below the same relative size as `_arm`'s, it counts as none.
    pre_scale = (baseline.sum_den_sq + pilot.sum_den_sq) / n
    post_scale = (baseline.sum_sq + pilot.sum_sq) / n
    if (
        joint_pre <= _ZERO_VARIANCE_RTOL * pre_scale
        or joint_post <= _ZERO_VARIANCE_RTOL * post_scale
    ):
        return None
    joint_cov = (baseline.sum_prod + pilot.sum_prod - post_sum * pre_sum / n) / (n - 1)
    theta = joint_cov / joint_pre
    out: list[float] = [theta]
    for arm in (baseline, pilot):
        out.append(arm.sum / arm.n - theta * arm.sum_den / arm.n)
    for arm, post_variance in ((baseline, v_a), (pilot, v_b)):
        pre_variance = _spread(kind, arm.n, arm.sum_den, arm.sum_den_sq)
        cov = (arm.sum_prod - arm.sum * arm.sum_den / arm.n) / (arm.n - 1)
        out.append(post_variance + theta**2 * pre_variance - 2 * theta * cov)
    return out[0], out[1], out[2], out[3], out[4]


def _spread(kind: Kind, n: int, total: float, total_sq: float) -> float:
    """Per-unit variance as gbstats' Proportion/SampleMean statistics give it."""
    if n <= 0:
        return 0.0
    if kind == "proportion":
        mean = total / n
        return mean * (1 - mean)
    return _sample_variance(n, total, total_sq)


def _always_valid(
    estimate: float, se: float, *, alpha: float, units: int, tuning: float
) -> tuple[tuple[float, float], float]:
    """Interval and p-value that stay valid however often one looks: gbstats 0.8.0's
    SequentialTwoSidedTTest (Waudby-Smith et al. 2023, eqs. 9, 155 and 161)."""
    rho_sq = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    spread = units * rho_sq + 1  # N·ρ² + 1
    width = (
        se
        * math.sqrt(units)
        * math.sqrt(2 * spread * math.log(math.sqrt(spread) / alpha) / (units**2 * rho_sq))
    )
    # p = 1 / e-value, the e-value's logarithm taken so that large statistics do not overflow
    log_evalue = rho_sq * units * (estimate / se) ** 2 / (2 * spread) - 0.5 * math.log(spread)
    return (estimate - width, estimate + width), min(1.0, math.exp(-log_evalue))


def difference_in_differences(
    base_before: ArmStats,
    base_after: ArmStats,
    pilot_before: ArmStats,
    pilot_after: ArmStats,
    kind: Kind,
    *,
    alpha: float = 0.05,
    min_n: int = 0,
) -> Comparison:
    """DiD of pilot against comparison group, absolute and relative (log scale), normal."""
    _check_options(kind, alpha)
    issues: list[str] = []
    groups = [
        _arm(s, kind, min_n, issues) for s in (base_before, base_after, pilot_before, pilot_after)
    ]
    c_before, c_after, p_before, p_after = groups
    described = Comparison(
        kind=kind,
        method="did-normal",
        alpha=alpha,
        baseline_n=c_after.n,
        baseline_value=c_after.mean,
        baseline_variance=c_after.variance,
        pilot_n=p_after.n,
        pilot_value=p_after.mean,
        pilot_variance=p_after.variance,
        before=Before(c_before.n, c_before.mean, p_before.n, p_before.mean),
    )
    if (
        c_before.mean is None
        or c_after.mean is None
        or p_before.mean is None
        or p_after.mean is None
    ):
        return replace(described, issues=tuple(issues))
    cb, ca, pb, pa = c_before.mean, c_after.mean, p_before.mean, p_after.mean
    did = (pa - pb) - (ca - cb)
    log_ratio = None
    if cb == 0 or ca == 0 or pb == 0:
        issues.append(ZERO_BASELINE)
    elif min(cb, ca, pb, pa) <= 0:
        issues.append(NONPOSITIVE_MEAN)
    else:
        log_ratio = math.log(pa) - math.log(pb) - math.log(ca) + math.log(cb)
    pointwise = replace(
        described,
        abs_diff=did,
        rel_diff=None if log_ratio is None else math.expm1(log_ratio),
        issues=tuple(issues),
    )
    if not all(g.testable for g in groups):
        return pointwise

    moments = [_moments(g) for g in groups]
    se_abs = math.sqrt(sum(v / n for n, _, v in moments))
    p_abs = two_sided_p(did / se_abs, None)
    tested = replace(
        pointwise,
        se_abs=se_abs,
        ci_abs=interval(did, se_abs, alpha, None),
        p_value_abs=p_abs,
        p_value=p_abs,
    )
    if log_ratio is None:
        return tested
    se_log = math.sqrt(sum(v / (n * m**2) for n, m, v in moments))
    low, high = interval(log_ratio, se_log, alpha, None)
    return replace(
        tested,
        se_rel=math.exp(log_ratio) * se_log,  # delta method: se of exp(log ratio) − 1
        ci_rel=(math.expm1(low), math.expm1(high)),
        p_value=two_sided_p(log_ratio / se_log, None),
    )


def adjust_p_values(p_values: Sequence[float | None], method: Correction) -> list[float | None]:
    """Holm or Benjamini–Hochberg adjusted p-values; None is kept and left out of the family."""
    if method not in ("none", "holm", "bh"):
        raise ValueError(f"unknown correction {method!r}")
    present = [(i, p) for i, p in enumerate(p_values) if p is not None]
    for _, p in present:
        if not 0 <= p <= 1:
            raise ValueError(f"p-value {p!r} outside [0, 1]")
    adjusted: list[float | None] = list(p_values)
    if method == "none" or not present:
        return adjusted
    m = len(present)
    ordered = sorted(present, key=lambda item: item[1])
    if method == "holm":
        running = 0.0
        for rank, (index, p) in enumerate(ordered):
            running = max(running, min(1.0, (m - rank) * p))
            adjusted[index] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            index, p = ordered[rank]
            running = min(running, m * p / (rank + 1))
            adjusted[index] = running
    return adjusted


def differential_missingness(
    missing_baseline: int, met_baseline: int, missing_pilot: int, met_pilot: int
) -> float | None:
    """Pearson chi-square (1 dof) p-value that the share of missing values is the same in both
    arms (`met`: the units whose value was looked for); None when no value is missing."""
    total_missing = missing_baseline + missing_pilot
    total = met_baseline + met_pilot
    if total_missing == 0 or total_missing == total or min(met_baseline, met_pilot) == 0:
        return None
    statistic = 0.0
    for missing, met in ((missing_baseline, met_baseline), (missing_pilot, met_pilot)):
        for observed, share in (
            (missing, total_missing / total),
            (met - missing, 1 - total_missing / total),
        ):
            expected = met * share
            statistic += (observed - expected) ** 2 / expected
    return chi2_1_sf(statistic)


def sample_ratio_mismatch(n_baseline: int, n_pilot: int, pilot_share: float) -> float | None:
    """Pearson chi-square (1 dof) p-value of the arm sizes against the planned pilot share."""
    if not 0 < pilot_share < 1:
        raise ValueError(f"pilot share {pilot_share!r} must lie strictly between 0 and 1")
    total = n_baseline + n_pilot
    if total <= 0:
        return None
    expected_pilot = total * pilot_share
    expected_baseline = total - expected_pilot
    statistic = (n_pilot - expected_pilot) ** 2 / expected_pilot + (
        n_baseline - expected_baseline
    ) ** 2 / expected_baseline
    return chi2_1_sf(statistic)


@dataclass(frozen=True)
class _Arm:
    n: int
    mean: float | None
    variance: float | None
    testable: bool


def _arm(stats: ArmStats, kind: Kind, min_n: int, issues: list[str]) -> _Arm:
    """Mean and variance of one arm, noting in `issues` why it cannot be tested."""
    sums = (stats.sum, stats.sum_sq, stats.sum_den, stats.sum_den_sq, stats.sum_prod)
    if not all(math.isfinite(value) for value in sums):
        raise NumericRangeError(f"sufficient statistics must be finite numbers, got {stats}")
    if stats.n <= 0:
        _note(issues, NO_UNITS)
        return _Arm(stats.n, None, None, False)
    if kind == "ratio" and stats.sum_den == 0:
        _note(issues, ZERO_DENOMINATOR)
        return _Arm(stats.n, None, None, False)
    mean, variance = mean_and_variance(stats, kind)
    testable = True
    if stats.n < max(min_n, 2):
        _note(issues, TOO_FEW_UNITS)
        testable = False
    if variance <= _ZERO_VARIANCE_RTOL * _variance_scale(stats, kind):
        _note(issues, ZERO_VARIANCE)
        testable = False
    return _Arm(stats.n, mean, variance, testable)


def _moments(arm: _Arm) -> tuple[int, float, float]:
    """n, mean and variance of an arm known to be testable."""
    assert arm.mean is not None and arm.variance is not None
    return arm.n, arm.mean, arm.variance


def _variance_scale(stats: ArmStats, kind: Kind) -> float:
    """Size of the terms whose rounding can leave a spurious variance behind."""
    n = stats.n
    if kind == "proportion":
        return 0.0  # m(1 − m) is exactly 0 at 0% and 100%
    if kind == "mean":
        return stats.sum_sq / n
    den_mean = stats.sum_den / n
    return (stats.sum_sq / n) / den_mean**2 + (stats.sum / n) ** 2 * (
        stats.sum_den_sq / n
    ) / den_mean**4


def _note(issues: list[str], code: str) -> None:
    if code not in issues:
        issues.append(code)


def _sample_variance(n: int, total: float, total_sq: float) -> float:
    if n <= 1:
        return 0.0
    return (total_sq - total**2 / n) / (n - 1)


def _quantile(alpha: float, dof: float | None) -> float:
    if dof is None:
        return normal_ppf(1 - alpha / 2)
    return t_isf(alpha / 2, dof)


def interval(estimate: float, se: float, alpha: float, dof: float | None) -> tuple[float, float]:
    """estimate ± the two-sided quantile (t with `dof`, normal without) × se."""
    width = _quantile(alpha, dof) * se
    return (estimate - width, estimate + width)


def two_sided_p(statistic: float, dof: float | None) -> float:
    """Two-sided p-value of a t (with `dof`) or normal statistic."""
    # sf, not 1 − cdf, so that p-values far below 1e-16 keep their size.
    if dof is None:
        return 2 * normal_sf(abs(statistic))
    return 2 * t_sf(abs(statistic), dof)


def _check_options(kind: Kind, alpha: float) -> None:
    if kind not in ("proportion", "mean", "ratio"):
        raise ValueError(f"unknown metric kind {kind!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha {alpha!r} must lie strictly between 0 and 1")
