"""The statistics engine against independent implementations: gbstats, statsmodels, scipy."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.messages import BASELINE_VARIATION_ZERO_MESSAGE, ZERO_NEGATIVE_VARIANCE_MESSAGE
from gbstats.models.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic
from scipy import stats as sps
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from opsplay.pilot.stats import (
    Comparison,
    adjust_p_values,
    compare_arms,
    difference_in_differences,
    mean_and_variance,
    sample_ratio_mismatch,
)
from opsplay.query.sufficient import ArmStats

RTOL = 1e-9
ATOL = 1e-12


def close(ours: float | None, reference: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Equal to 1e-9 relative, or 1e-12 absolute for values near zero."""
    return ours is not None and math.isclose(ours, float(reference), rel_tol=rtol, abs_tol=atol)


# --- realistic data ---------------------------------------------------------------------------

rng = np.random.default_rng(20240801)


def units(
    values: np.ndarray | list[float], den: np.ndarray | list[float] | None = None
) -> ArmStats:
    """Sufficient statistics of unit rows, as the readers build them."""
    y = np.asarray(values, dtype=float)
    if den is None:
        return ArmStats(n=len(y), sum=float(y.sum()), sum_sq=float((y * y).sum()))
    d = np.asarray(den, dtype=float)
    return ArmStats(
        n=len(y),
        sum=float(y.sum()),
        sum_sq=float((y * y).sum()),
        sum_den=float(d.sum()),
        sum_den_sq=float((d * d).sum()),
        sum_prod=float((y * d).sum()),
    )


def rate(n: int, successes: int) -> ArmStats:
    """A 0/1 metric: Σy = Σy² = successes."""
    return ArmStats(n=n, sum=successes, sum_sq=successes)


def scaled(arm: ArmStats, factor: int) -> ArmStats:
    """The same per-unit moments over `factor` times as many units (a warehouse-sized arm)."""
    return ArmStats(
        n=arm.n * factor,
        sum=arm.sum * factor,
        sum_sq=arm.sum_sq * factor,
        sum_den=arm.sum_den * factor,
        sum_den_sq=arm.sum_den_sq * factor,
        sum_prod=arm.sum_prod * factor,
    )


def lifted(arm: ArmStats, lift: float) -> ArmStats:
    """The same units with every numerator value raised by `lift` (a true relative effect)."""
    c = 1 + lift
    return ArmStats(
        n=arm.n,
        sum=arm.sum * c,
        sum_sq=arm.sum_sq * c * c,
        sum_den=arm.sum_den,
        sum_den_sq=arm.sum_den_sq,
        sum_prod=arm.sum_prod * c,
    )


def revenue(n: int, scale: float) -> np.ndarray:
    """Per-user revenue: most users spend nothing, spenders are log-normal."""
    spend = rng.lognormal(mean=math.log(scale), sigma=0.9, size=n)
    return np.where(rng.random(n) < 0.3, spend, 0.0)


def orders_and_revenue(n: int, basket: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-user orders (≥ 1) and their revenue, for revenue per order (AOV)."""
    orders = 1 + rng.poisson(0.7, size=n)
    return orders * rng.gamma(4.0, basket / 4.0, size=n), orders


aov_base, aov_pilot = orders_and_revenue(5000, 86.0), orders_and_revenue(5000, 91.0)
rev_units, aov_units = units(revenue(5000, 60.0)), units(*orders_and_revenue(5000, 86.0))

CASES = [
    # proportions
    ("proportion", "retention_5000", rate(5000, 1750), rate(5000, 1900)),
    ("proportion", "tiny_3_vs_4", rate(3, 1), rate(4, 3)),
    ("proportion", "unequal_arms", rate(812, 97), rate(20311, 2904)),
    ("proportion", "worse", rate(4000, 1560), rate(3900, 1402)),
    ("proportion", "huge_1e7", rate(10**7, 3_500_000), rate(10**7, 3_502_100)),
    ("proportion", "p_below_1e-16", rate(10**6, 350_000), rate(10**6, 362_000)),
    # means
    ("mean", "revenue_2000", units(revenue(2000, 60.0)), units(revenue(2100, 66.0))),
    ("mean", "tiny_2_vs_3", units([12.5, 30.0]), units([8.0, 45.5, 19.9])),
    ("mean", "handle_time", units(rng.gamma(2.0, 210.0, 340)), units(rng.gamma(2.0, 190.0, 95))),
    ("mean", "huge_1e7", scaled(rev_units, 2000), lifted(scaled(rev_units, 1998), 0.003)),
    ("mean", "p_below_1e-16", scaled(rev_units, 200), lifted(scaled(rev_units, 201), 0.03)),
    # ratios (revenue per order)
    ("ratio", "aov_5000", units(*aov_base), units(*aov_pilot)),
    (
        "ratio",
        "tiny_3_vs_3",
        units([120.0, 80.0, 45.0], [2, 1, 1]),
        units([60.0, 99.0, 230.0], [1, 1, 3]),
    ),
    ("ratio", "huge_1e7", scaled(aov_units, 2000), lifted(scaled(aov_units, 2003), 0.001)),
    ("ratio", "p_below_1e-16", scaled(aov_units, 100), lifted(scaled(aov_units, 100), 0.012)),
]


def gb_statistic(arm: ArmStats, kind: str) -> object:
    """The same arm as a gbstats statistic."""
    if kind == "proportion":
        return ProportionStatistic(n=arm.n, sum=arm.sum)
    if kind == "mean":
        return SampleMeanStatistic(n=arm.n, sum=arm.sum, sum_squares=arm.sum_sq)
    return RatioStatistic(
        n=arm.n,
        m_statistic=SampleMeanStatistic(n=arm.n, sum=arm.sum, sum_squares=arm.sum_sq),
        d_statistic=SampleMeanStatistic(n=arm.n, sum=arm.sum_den, sum_squares=arm.sum_den_sq),
        m_d_sum_of_products=arm.sum_prod,
    )


def gb_test(
    baseline: ArmStats, pilot: ArmStats, kind: str, scale: str, alpha: float
) -> TwoSidedTTest:
    config = FrequentistConfig(alpha=alpha, difference_type=scale)
    return TwoSidedTTest(gb_statistic(baseline, kind), gb_statistic(pilot, kind), config)


def assert_no_nan(comparison: Comparison) -> None:
    for field in fields(comparison):
        value = getattr(comparison, field.name)
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if isinstance(item, float):
                assert math.isfinite(item), field.name


# --- the default engine agrees with gbstats ---------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.1])
@pytest.mark.parametrize(
    ("kind", "name", "baseline", "pilot"), CASES, ids=[c[1] + "-" + c[0] for c in CASES]
)
def test_welch_matches_gbstats_on_both_scales(kind, name, baseline, pilot, alpha):
    """gbstats on both scales; where its relative p and its absolute p fall on different sides
    of alpha (812 vs 20,311 units, 11.9 % vs 14.3 %: relative p 0.052, absolute 0.038), the
    relative scale takes the absolute test's p and Fieller's interval (checked below)."""
    ours = compare_arms(baseline, pilot, kind, alpha=alpha)
    absolute = gb_test(baseline, pilot, kind, "absolute", alpha).compute_result()
    relative = gb_test(baseline, pilot, kind, "relative", alpha).compute_result()
    disagree = (relative.p_value < alpha) != (absolute.p_value < alpha)
    assert ours.method == "welch-t" and ours.issues == (
        ("relative_by_fieller",) if disagree else ()
    )
    assert_no_nan(ours)
    scales = {
        "absolute": (ours.abs_diff, ours.ci_abs, ours.p_value_abs),
        "relative": (ours.rel_diff, ours.ci_rel, ours.p_value),
    }
    for scale, (estimate, interval, p_value) in scales.items():
        gb = gb_test(baseline, pilot, kind, scale, alpha)
        result = gb.compute_result()
        assert result.error_message is None
        assert close(estimate, result.expected)
        assert interval is not None
        assert close(ours.dof, gb.dof)
        if scale == "relative" and disagree:
            assert_fieller(ours, baseline, pilot, kind, alpha)
            continue
        assert close(interval[0], result.ci[0]) and close(interval[1], result.ci[1])
        # gbstats computes 1 − cdf, exact to ~1e-16 absolute; the sf form keeps tiny p exact.
        assert close(p_value, result.p_value, atol=1e-9)
        reference = 2 * sps.t.sf(abs(gb.point_estimate) / math.sqrt(gb.variance), gb.dof)
        assert close(p_value, reference) and p_value > 0
    assert close(ours.baseline_variance, gb_statistic(baseline, kind).variance)
    assert close(ours.pilot_variance, gb_statistic(pilot, kind).variance)
    assert disagree == (name == "unequal_arms" and alpha == 0.05)  # the case occurs


def assert_fieller(ours: Comparison, baseline: ArmStats, pilot: ArmStats, kind: str, alpha: float):
    """The relative scale by the test of the difference: its p (gbstats' absolute p), and an
    interval whose ends are the rates L where that test, of Δ = L·|m_A| with its variance at
    L, is exactly at scipy's critical value — found here by bisection, not by the quadratic."""
    absolute = gb_test(baseline, pilot, kind, "absolute", alpha)
    assert close(ours.p_value, absolute.compute_result().p_value, atol=1e-9)
    a, b = gb_statistic(baseline, kind), gb_statistic(pilot, kind)
    m_a, var_a, var_b = a.mean, a.variance / a.n, b.variance / b.n
    critical = sps.t.ppf(1 - alpha / 2, absolute.dof)

    def excess(rate: float) -> float:
        gap = b.mean - m_a - rate * abs(m_a)
        return gap**2 / (var_b + var_a * (1 + rate) ** 2) - critical**2

    estimate = ours.rel_diff
    for end, outside in zip(ours.ci_rel, (estimate - 10, estimate + 10), strict=True):
        inside = estimate
        for _ in range(200):
            middle = (inside + outside) / 2
            inside, outside = (inside, middle) if excess(middle) > 0 else (middle, outside)
        assert close(end, inside, rtol=1e-9)
    holds_zero = ours.ci_rel[0] <= 0 <= ours.ci_rel[1]
    assert holds_zero == (ours.p_value >= alpha)


@pytest.mark.parametrize("kind", ["proportion", "mean", "ratio"])
def test_p_below_1e16_keeps_its_size(kind):
    _, _, baseline, pilot = next(c for c in CASES if c[0] == kind and c[1] == "p_below_1e-16")
    ours = compare_arms(baseline, pilot, kind)
    assert 0 < ours.p_value < 1e-16 and 0 < ours.p_value_abs < 1e-16
    assert gb_test(baseline, pilot, kind, "relative", 0.05).compute_result().p_value < 1e-15


def test_welch_matches_statsmodels_on_unit_rows():
    base_y, pilot_y = revenue(1500, 58.0), revenue(1300, 64.0)
    ours = compare_arms(units(base_y), units(pilot_y), "mean", alpha=0.1)
    cm = CompareMeans(DescrStatsW(pilot_y), DescrStatsW(base_y))
    statistic, p_value, dof = cm.ttest_ind(usevar="unequal")
    low, high = cm.tconfint_diff(alpha=0.1, usevar="unequal")
    assert close(ours.p_value_abs, p_value) and close(ours.dof, dof)
    assert close(ours.ci_abs[0], low) and close(ours.ci_abs[1], high)
    assert close(ours.abs_diff / ours.se_abs, statistic)


def test_negative_baseline_divides_by_its_magnitude():
    """Profit per user below zero: the lift keeps the sign of the difference (SPEC Δ/|m_A|)."""
    baseline, pilot = units(rng.normal(-3.2, 9.0, 3000)), units(rng.normal(-2.1, 9.0, 3000))
    ours = compare_arms(baseline, pilot, "mean")
    result = gb_test(baseline, pilot, "mean", "relative", 0.05).compute_result()
    assert ours.abs_diff > 0 and ours.rel_diff > 0
    assert close(ours.rel_diff, -result.expected)  # gbstats divides by the signed mean
    assert close(ours.ci_rel[0], -result.ci[1]) and close(ours.ci_rel[1], -result.ci[0])
    assert close(ours.p_value, result.p_value, atol=1e-9)


# --- no test: zero variance, too few units, zero baseline -------------------------------------

NO_TEST_CASES = [
    (
        "proportion",
        "zero_rate_baseline",
        rate(800, 0),
        rate(800, 12),
        BASELINE_VARIATION_ZERO_MESSAGE,
    ),
    (
        "proportion",
        "full_rate_pilot",
        rate(500, 480),
        rate(500, 500),
        ZERO_NEGATIVE_VARIANCE_MESSAGE,
    ),
    ("proportion", "both_zero", rate(600, 0), rate(640, 0), BASELINE_VARIATION_ZERO_MESSAGE),
    (
        "mean",
        "constant_9.9",
        units(np.full(1000, 9.9)),
        units(rng.normal(10, 2, 1000)),
        ZERO_NEGATIVE_VARIANCE_MESSAGE,
    ),
    (
        "ratio",
        "constant_price",
        units(np.full(300, 25.0) * (k := 1 + rng.poisson(1, 300)), k),
        units(*aov_pilot),
        None,
    ),
    (
        "mean",
        "single_unit",
        units([42.0]),
        units(rng.normal(40, 5, 50)),
        ZERO_NEGATIVE_VARIANCE_MESSAGE,
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "baseline", "pilot", "gb_message"),
    NO_TEST_CASES,
    ids=[c[1] for c in NO_TEST_CASES],
)
def test_zero_variance_runs_no_test(kind, name, baseline, pilot, gb_message):
    ours = compare_arms(baseline, pilot, kind)
    assert "zero_variance" in ours.issues
    assert ours.ci_abs is ours.ci_rel is ours.p_value is ours.p_value_abs is ours.dof is None
    assert not ours.tested
    assert close(ours.abs_diff, pilot.sum / _den(pilot, kind) - baseline.sum / _den(baseline, kind))
    assert_no_nan(ours)
    if gb_message is not None:
        assert (
            gb_test(baseline, pilot, kind, "relative", 0.05).compute_result().error_message
            == gb_message
        )


def _den(arm: ArmStats, kind: str) -> float:
    return arm.sum_den if kind == "ratio" else arm.n


def test_rounding_residue_counts_as_zero_variance():
    """Σy² − (Σy)²/n of a constant 0.1 column rounds to +2e-18; gbstats would test on it."""
    constant = units(np.full(1000, 0.1))
    assert mean_and_variance(constant, "mean")[1] != 0
    ours = compare_arms(constant, units(rng.normal(0.1, 0.02, 1000)), "mean")
    assert ours.issues == ("zero_variance",) and ours.p_value is None


def test_single_unit_is_too_few():
    ours = compare_arms(rate(1, 1), rate(900, 300), "proportion")
    assert ours.issues == ("too_few_units", "zero_variance") and ours.p_value is None


@pytest.mark.parametrize(("min_n", "tested"), [(0, True), (150, True), (151, False)])
def test_min_n(min_n, tested):
    ours = compare_arms(rate(150, 40), rate(180, 66), "proportion", min_n=min_n)
    assert ours.tested is tested
    assert ("too_few_units" in ours.issues) is not tested
    assert ours.abs_diff is not None and ours.rel_diff is not None


def test_empty_arm_and_zero_denominator():
    empty = compare_arms(ArmStats(0, 0.0, 0.0), rate(100, 30), "proportion")
    assert empty.issues == ("no_units",) and empty.baseline_value is None and empty.abs_diff is None
    no_orders = units([0.0, 0.0], [0, 0])
    ratio = compare_arms(no_orders, units(*aov_pilot), "ratio")
    assert ratio.issues == ("zero_denominator",) and ratio.abs_diff is None
    with pytest.raises(ValueError):
        mean_and_variance(no_orders, "ratio")
    assert_no_nan(empty)
    assert_no_nan(ratio)


def test_zero_baseline_falls_back_to_absolute():
    """Net balance change per user, mean exactly 0 in the baseline: absolute scale only."""
    base_y = np.tile([-5.0, 5.0, -2.5, 2.5], 250)
    pilot_y = rng.normal(0.6, 4.0, 900)
    ours = compare_arms(units(base_y), units(pilot_y), "mean")
    assert ours.issues == ("zero_baseline",)
    assert ours.rel_diff is ours.ci_rel is ours.se_rel is None
    assert ours.p_value == ours.p_value_abs
    statistic, p_value, dof = CompareMeans(DescrStatsW(pilot_y), DescrStatsW(base_y)).ttest_ind(
        usevar="unequal"
    )
    assert close(ours.p_value_abs, p_value) and close(ours.dof, dof)
    assert (
        gb_test(units(base_y), units(pilot_y), "mean", "absolute", 0.05)
        .compute_result()
        .error_message
        == BASELINE_VARIATION_ZERO_MESSAGE
    )


# --- options: --test z, --variance pooled -----------------------------------------------------


@pytest.mark.parametrize(
    ("base", "pilot"),
    [
        ((5000, 1750), (5000, 1900)),
        ((812, 97), (20311, 2904)),
        ((10**6, 350_000), (10**6, 351_500)),
    ],
)
def test_z_unpooled_proportions_match_statsmodels(base, pilot):
    ours = compare_arms(rate(*base), rate(*pilot), "proportion", test="z", alpha=0.05)
    assert ours.method == "z" and ours.dof is None
    reference = sm_proportion.test_proportions_2indep(
        pilot[1], pilot[0], base[1], base[0], method="wald", compare="diff"
    )
    low, high = sm_proportion.confint_proportions_2indep(
        pilot[1], pilot[0], base[1], base[0], method="wald", compare="diff"
    )
    assert close(ours.p_value_abs, reference.pvalue)
    assert close(ours.ci_abs[0], low) and close(ours.ci_abs[1], high)
    gb = gb_test(rate(*base), rate(*pilot), "proportion", "relative", 0.05)
    delta_p = 2 * sps.norm.sf(abs(gb.point_estimate) / math.sqrt(gb.variance))
    if (delta_p < 0.05) != (reference.pvalue < 0.05):  # 812 vs 20,311: 0.052 against 0.036
        assert base == (812, 97) and ours.issues == ("relative_by_fieller",)
        assert close(ours.p_value, reference.pvalue)
        assert (ours.ci_rel[0] <= 0 <= ours.ci_rel[1]) == (ours.p_value >= 0.05)
        return
    assert close(ours.p_value, delta_p)
    width = sps.norm.ppf(0.975) * math.sqrt(gb.variance)
    assert close(ours.ci_rel[0], gb.point_estimate - width) and close(
        ours.ci_rel[1], gb.point_estimate + width
    )


def test_z_unpooled_means_match_statsmodels():
    base_y, pilot_y = revenue(2500, 60.0), revenue(2400, 63.0)
    ours = compare_arms(units(base_y), units(pilot_y), "mean", test="z", alpha=0.1)
    cm = CompareMeans(DescrStatsW(pilot_y), DescrStatsW(base_y))
    statistic, p_value = cm.ztest_ind(usevar="unequal")
    low, high = cm.zconfint_diff(alpha=0.1, usevar="unequal")
    assert close(ours.p_value_abs, p_value) and close(ours.abs_diff / ours.se_abs, statistic)
    assert close(ours.ci_abs[0], low) and close(ours.ci_abs[1], high)


@pytest.mark.parametrize(
    ("base", "pilot"),
    [((5000, 1750), (5000, 1900)), ((45, 3), (52, 9)), ((812, 97), (20311, 2904))],
)
def test_pooled_proportions_match_proportions_ztest(base, pilot):
    ours = compare_arms(rate(*base), rate(*pilot), "proportion", variance="pooled")
    _, p_value = sm_proportion.proportions_ztest([pilot[1], base[1]], [pilot[0], base[0]])
    assert ours.method == "z-pooled" and ours.dof is None
    assert close(ours.p_value_abs, p_value) and ours.p_value == ours.p_value_abs
    low, high = sm_proportion.confint_proportions_2indep(
        pilot[1], pilot[0], base[1], base[0], method="wald", compare="diff"
    )
    assert close(ours.ci_abs[0], low) and close(ours.ci_abs[1], high)  # intervals stay unpooled


def test_pooled_does_not_apply_to_means():
    ours = compare_arms(
        units(revenue(300, 50.0)), units(revenue(300, 55.0)), "mean", variance="pooled"
    )
    assert ours.method == "welch-t" and ours.issues == ("pooled_not_applicable",) and ours.tested


@pytest.mark.parametrize(
    ("baseline", "options"),
    [
        (rate(10, 3), {"alpha": 5}),
        (rate(10, 3), {"test": "t"}),
        (rate(10, 3), {"variance": "equal"}),
        (rate(10, 3), {"kind": "median"}),
        (ArmStats(10, float("nan"), 3.0), {}),
    ],
)
def test_programming_errors_raise(baseline, options):
    """The caller validates user input; anything else reaching the engine is a bug."""
    arguments = {"kind": "proportion", **options}
    with pytest.raises(ValueError):
        compare_arms(baseline, rate(10, 4), **arguments)


# --- mean_and_variance ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "arm", "_"), CASES[::2], ids=[c[1] + "-" + c[0] for c in CASES[::2]]
)
def test_mean_and_variance_match_gbstats(kind, name, arm, _):
    mean, variance = mean_and_variance(arm, kind)
    statistic = gb_statistic(arm, kind)
    assert close(mean, statistic.mean) and close(variance, statistic.variance)


def test_mean_and_variance_match_numpy_on_unit_rows():
    y = revenue(700, 40.0)
    mean, variance = mean_and_variance(units(y), "mean")
    assert close(mean, y.mean()) and close(variance, y.var(ddof=1))
    num, den = orders_and_revenue(700, 80.0)
    ratio, ratio_variance = mean_and_variance(units(num, den), "ratio")
    # delta method from the sample covariance matrix
    cov = np.cov(num, den, ddof=1)
    mn, md = num.mean(), den.mean()
    delta = cov[0, 0] / md**2 - 2 * mn * cov[0, 1] / md**3 + mn**2 * cov[1, 1] / md**4
    assert close(ratio, num.sum() / den.sum()) and close(ratio_variance, delta)


# --- difference in differences ----------------------------------------------------------------


def did_reference(groups: list[tuple[float, float, int]], alpha: float) -> dict[str, float]:
    """Independent DiD from (mean, per-unit variance, n) of C_before, C_after, P_before, P_after."""
    m = np.array([g[0] for g in groups])
    v = np.array([g[1] for g in groups])
    n = np.array([g[2] for g in groups], dtype=float)
    sign = np.array([1.0, -1.0, -1.0, 1.0])
    z = sps.norm.ppf(1 - alpha / 2)
    did = float(sign @ m)
    se = float(np.sqrt(np.sum(v / n)))
    log_ratio = float(sign @ np.log(m))
    se_log = float(np.sqrt(np.sum(v / (n * m**2))))
    return {
        "did": did,
        "lo": did - z * se,
        "hi": did + z * se,
        "p_abs": 2 * sps.norm.sf(abs(did) / se),
        "rel": np.exp(log_ratio) - 1,
        "rel_lo": np.exp(log_ratio - z * se_log) - 1,
        "rel_hi": np.exp(log_ratio + z * se_log) - 1,
        "p_rel": 2 * sps.norm.sf(abs(log_ratio) / se_log),
    }


def _rate_groups():
    arms = [rate(4000, 1380), rate(4100, 1420), rate(3900, 1350), rate(3950, 1560)]
    return arms, [(a.sum / a.n, a.sum / a.n * (1 - a.sum / a.n), a.n) for a in arms]


def _mean_groups():
    ys = [revenue(1200, 55.0), revenue(1300, 56.0), revenue(1100, 54.0), revenue(1250, 63.0)]
    return [units(y) for y in ys], [(y.mean(), y.var(ddof=1), len(y)) for y in ys]


def _ratio_groups():
    rows = [orders_and_revenue(900, b) for b in (80.0, 81.0, 79.0, 88.0)]
    arms = [units(num, den) for num, den in rows]
    stats = [gb_statistic(a, "ratio") for a in arms]
    return arms, [(s.mean, s.variance, s.n) for s in stats]


@pytest.mark.parametrize("alpha", [0.05, 0.01])
@pytest.mark.parametrize(
    ("kind", "build"),
    [("proportion", _rate_groups), ("mean", _mean_groups), ("ratio", _ratio_groups)],
)
def test_did_matches_independent_formulas(kind, build, alpha):
    arms, moments = build()
    ours = difference_in_differences(*arms, kind, alpha=alpha)
    ref = did_reference(moments, alpha)
    assert ours.method == "did-normal" and ours.issues == () and ours.dof is None
    assert close(ours.abs_diff, ref["did"]) and close(ours.p_value_abs, ref["p_abs"])
    assert close(ours.ci_abs[0], ref["lo"]) and close(ours.ci_abs[1], ref["hi"])
    assert close(ours.rel_diff, ref["rel"]) and close(ours.p_value, ref["p_rel"])
    assert close(ours.ci_rel[0], ref["rel_lo"]) and close(ours.ci_rel[1], ref["rel_hi"])
    assert (ours.baseline_n, ours.pilot_n) == (arms[1].n, arms[3].n)
    assert close(ours.baseline_value, moments[1][0]) and close(ours.pilot_value, moments[3][0])
    assert ours.before.baseline_n == arms[0].n and close(ours.before.pilot_value, moments[2][0])
    assert_no_nan(ours)


def test_did_zero_before_mean_falls_back_to_absolute():
    balance = [
        np.tile([-4.0, 4.0], 300),
        rng.normal(0.2, 4, 600),
        rng.normal(0.5, 4, 600),
        rng.normal(1.4, 4, 600),
    ]
    ours = difference_in_differences(*[units(y) for y in balance], "mean")
    assert ours.issues == ("zero_baseline",) and ours.rel_diff is None and ours.ci_rel is None
    assert ours.p_value == ours.p_value_abs is not None


def test_did_zero_variance_group_runs_no_test():
    ours = difference_in_differences(
        rate(500, 0), rate(500, 20), rate(500, 18), rate(500, 30), "proportion"
    )
    assert "zero_variance" in ours.issues and "zero_baseline" in ours.issues
    assert (
        ours.p_value is None and ours.ci_abs is None and close(ours.abs_diff, (0.06 - 0.036) - 0.04)
    )


# --- multiple comparisons and sample ratio ----------------------------------------------------

FAMILIES = [
    [0.01, 0.04, 0.03, 0.005],
    [0.2, None, 0.01, 0.01, None, 0.049, 0.8],  # ties and untested rows
    list(rng.uniform(0, 0.2, 25)),
    [1e-20, 0.5, 1.0],
    [0.03],
    [0.0, 0.02, 0.3],  # a huge effect's p-value underflows to exactly 0: still in [0, 1]
]


@pytest.mark.parametrize("method", ["holm", "bh"])
@pytest.mark.parametrize("family", FAMILIES)
def test_adjust_p_values_match_multipletests(family, method):
    ours = adjust_p_values(family, method)
    present = [p for p in family if p is not None]
    expected = iter(multipletests(present, method={"holm": "holm", "bh": "fdr_bh"}[method])[1])
    for p, adjusted in zip(family, ours, strict=True):
        assert adjusted is None if p is None else close(adjusted, next(expected))


def test_adjust_p_values_none_and_empty():
    assert adjust_p_values([0.2, None, 0.01], "none") == [0.2, None, 0.01]
    assert adjust_p_values([], "holm") == [] and adjust_p_values([None], "bh") == [None]
    with pytest.raises(ValueError):
        adjust_p_values([float("nan")], "holm")


@pytest.mark.parametrize(
    ("n_baseline", "n_pilot", "share"),
    [
        (5000, 5000, 0.5),
        (5210, 4790, 0.5),
        (9000, 1040, 0.1),
        (50231, 49102, 0.5),
        (1, 0, 0.5),
        (700, 300, 0.3),
    ],
)
def test_sample_ratio_mismatch_matches_scipy(n_baseline, n_pilot, share):
    total = n_baseline + n_pilot
    expected = sps.chisquare(
        [n_baseline, n_pilot], f_exp=[total * (1 - share), total * share]
    ).pvalue
    assert close(sample_ratio_mismatch(n_baseline, n_pilot, share), expected)


def test_sample_ratio_mismatch_edges():
    assert sample_ratio_mismatch(0, 0, 0.5) is None
    assert 0 < sample_ratio_mismatch(51_500, 48_500, 0.5) < 1e-16
    with pytest.raises(ValueError):
        sample_ratio_mismatch(10, 10, 1.0)


# --- Seeded A/A: the unit-level tests hold α with the t and normal tails of distributions.py ---

AA_REPLICATIONS = 1000


def _aa_interval(alpha: float = 0.05) -> tuple[float, float]:
    """Where a false-positive rate of exactly alpha lands 99.9 % of the time."""
    low, high = sps.binom.interval(0.999, AA_REPLICATIONS, alpha)
    return low / AA_REPLICATIONS, high / AA_REPLICATIONS


def _units(rng: np.random.Generator, kind: str, n: int) -> ArmStats:
    """One arm's unit rows summed: 0/1 conversions, skewed revenue, or revenue per order."""
    if kind == "proportion":
        y = rng.binomial(1, 0.3, n).astype(float)
        return ArmStats(n, float(y.sum()), float(y.sum()))
    if kind == "mean":
        y = rng.gamma(2.0, 40.0, n)
        return ArmStats(n, float(y.sum()), float((y * y).sum()))
    orders = rng.integers(1, 4, n).astype(float)
    revenue = orders * rng.gamma(2.0, 40.0, n)
    return ArmStats(
        n,
        float(revenue.sum()),
        float((revenue * revenue).sum()),
        float(orders.sum()),
        float((orders * orders).sum()),
        float((revenue * orders).sum()),
    )


@pytest.mark.parametrize("kind", ["proportion", "mean", "ratio"])
@pytest.mark.parametrize("n", [12, 400])  # a few units (small Welch df) and many
def test_welch_aa_false_positive_rate_is_alpha(kind: str, n: int) -> None:
    """Nothing changed, one look: significant in α of pilots on both scales (the p-values
    come from opsplay's own t tails since scipy left the compare path)."""
    rng = np.random.default_rng(20261207 + n + len(kind))
    fired = {"relative": 0, "absolute": 0}
    for _ in range(AA_REPLICATIONS):
        result = compare_arms(_units(rng, kind, n), _units(rng, kind, n), kind)  # type: ignore[arg-type]
        fired["relative"] += result.p_value is not None and result.p_value < 0.05
        fired["absolute"] += result.p_value_abs is not None and result.p_value_abs < 0.05
    low, high = _aa_interval()
    assert low <= fired["absolute"] / AA_REPLICATIONS <= high, fired
    # with a dozen units the delta method alone ran warm here (6.6–7.4 %)
    assert low <= fired["relative"] / AA_REPLICATIONS <= high, fired


@pytest.mark.parametrize(
    ("kind", "n"),
    [("proportion", 100), ("proportion", 1000), ("mean", 100), ("ratio", 50), ("cuped", 100)],
)
def test_aa_false_positives_are_alpha_on_each_side(kind: str, n: int) -> None:
    """Nothing changed: "significantly up" and "significantly down" each in α/2 of pilots.
    The delta method's relative test alone (gbstats') takes its variance at the observed
    ratio, not at "no change": at 10 % conversion with 100 units a group it called 7.3 % of
    A/A pilots down and 0.0 % up, with 1,000 units 4.3 % and 1.1 % (20,000 replicates) — a
    guardrail alarm twice too often, and a real rise rarely seen."""
    rng = np.random.default_rng(20261208 + n + len(kind))
    replicates = 4000
    fired = {"up": 0, "down": 0}
    for _ in range(replicates):
        if kind == "proportion":
            a, b = (float(rng.binomial(n, 0.1)) for _ in range(2))
            arms = ArmStats(n, a, a), ArmStats(n, b, b)
        elif kind == "mean":
            y, z = rng.lognormal(0, 1.2, n), rng.lognormal(0, 1.2, n)
            arms = ArmStats(n, y.sum(), (y * y).sum()), ArmStats(n, z.sum(), (z * z).sum())
        elif kind == "cuped":  # revenue adjusted by the same users' revenue before
            arms = []
            for _arm in range(2):
                pre = rng.lognormal(0, 1.0, n)
                post = 0.8 * pre + rng.lognormal(0, 1.0, n)
                sums = (post.sum(), (post * post).sum(), pre.sum(), (pre * pre).sum())
                arms.append(ArmStats(n, *sums, (post * pre).sum()))
        else:
            arms = _units(rng, kind, n), _units(rng, kind, n)
        metric = "mean" if kind == "cuped" else kind
        result = compare_arms(*arms, metric, adjusted=kind == "cuped")  # type: ignore[arg-type]
        if result.p_value is not None and result.p_value < 0.05:
            fired["up" if result.rel_diff > 0 else "down"] += 1
            assert not result.ci_rel or not result.ci_rel[0] <= 0 <= result.ci_rel[1]
        elif result.ci_rel:
            assert result.ci_rel[0] <= 0 <= result.ci_rel[1]  # the interval says the same
    low, high = (x / replicates for x in sps.binom.interval(0.999, replicates, 0.025))
    assert low <= fired["up"] / replicates <= high, fired
    assert low <= fired["down"] / replicates <= high, fired


def test_unit_did_aa_false_positive_rate_is_alpha() -> None:
    """Difference in differences over users, the same shift in both groups: α."""
    rng = np.random.default_rng(7)
    fired = 0
    for _ in range(AA_REPLICATIONS):
        cells = [_units(rng, "mean", 300) for _ in range(4)]
        result = difference_in_differences(*cells, "mean")
        fired += result.p_value_abs is not None and result.p_value_abs < 0.05
    low, high = _aa_interval()
    assert low <= fired / AA_REPLICATIONS <= high
