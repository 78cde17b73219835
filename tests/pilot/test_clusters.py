"""Clustered pilots (SPEC 11): clusters as units, against gbstats, statsmodels, an independent
enumeration of re-assignments, and seeded A/A simulations of the region pilots teams run."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import RatioStatistic
from scipy import stats as sps

from opsplay.pilot import clusters, stats
from opsplay.query.sufficient import ArmStats

RTOL = 1e-9


def region(rng: np.random.Generator, users: int, rate: float) -> ArmStats:
    """One region's unit rows (0/1) summed, as the query gives them per (arm, cluster)."""
    y = rng.binomial(1, min(max(rate, 0.0), 1.0), users)
    return ArmStats(users, float(y.sum()), float(y.sum()))


def regions(
    rng: np.random.Generator, count: int, users: int, mean: float, icc: float
) -> list[ArmStats]:
    """Regions whose true rates spread around `mean` with intra-cluster correlation `icc`."""
    spread = math.sqrt(icc * mean * (1 - mean))
    return [region(rng, users, mean + rng.normal(0, spread)) for _ in range(count)]


def gbstats_on_totals(
    base: list[ArmStats], test: list[ArmStats], alpha: float = 0.05
) -> TwoSidedTTest:
    def totals(arm: list[ArmStats]) -> RatioStatistic:
        num = np.array([c.sum for c in arm])
        den = np.array([c.n for c in arm], dtype=float)
        return RatioStatistic(
            n=len(arm),
            m_statistic=_sample_mean(num),
            d_statistic=_sample_mean(den),
            m_d_sum_of_products=float((num * den).sum()),
        )

    config = FrequentistConfig(alpha=alpha)
    return TwoSidedTTest(totals(base), totals(test), config)


def _sample_mean(values: np.ndarray):  # type: ignore[no-untyped-def]
    from gbstats.models.statistics import SampleMeanStatistic

    return SampleMeanStatistic(
        n=len(values), sum=float(values.sum()), sum_squares=float((values**2).sum())
    )


def test_ratio_of_cluster_totals_agrees_with_gbstats() -> None:
    rng = np.random.default_rng(7)
    base = regions(rng, 34, 400, 0.35, 0.02)
    test = regions(rng, 31, 400, 0.37, 0.02)
    ours = clusters.compare_clustered(base, test, "proportion")
    result = gbstats_on_totals(base, test).compute_result()
    assert ours.method == "cluster-welch-t"
    assert ours.unit == "cluster" and ours.clusters == (34, 31)
    assert ours.baseline_n == 34 * 400 and ours.pilot_n == 31 * 400
    assert math.isclose(ours.rel_diff, result.expected, rel_tol=RTOL)
    assert math.isclose(ours.ci_rel[0], result.ci[0], rel_tol=RTOL)
    assert math.isclose(ours.ci_rel[1], result.ci[1], rel_tol=RTOL)
    assert math.isclose(ours.p_value, result.p_value, rel_tol=RTOL)
    assert ours.min_p is None and ours.interval_method is None


def test_intervals_with_few_clusters_invert_the_randomisation_test() -> None:
    """Below 30 clusters an arm the estimate still comes from the cluster totals (as gbstats),
    but the interval is the inversion of the randomisation test, not Welch on 5 clusters
    (anti-conservative; tests/pilot/test_cluster_intervals.py checks it)."""
    rng = np.random.default_rng(8)
    base, test = regions(rng, 15, 500, 0.35, 0.01), regions(rng, 5, 500, 0.35, 0.01)
    ours = clusters.compare_clustered(base, test, "proportion")
    result = gbstats_on_totals(base, test).compute_result()
    assert ours.method == "randomisation"
    assert ours.interval_method == clusters.RANDOMISATION_INVERSION
    assert math.isclose(ours.rel_diff, result.expected, rel_tol=RTOL)
    assert ours.ci_rel[0] < ours.rel_diff < ours.ci_rel[1]
    assert not math.isclose(ours.ci_rel[0], result.ci[0], rel_tol=1e-3)
    assert (ours.ci_rel[0] > 0 or ours.ci_rel[1] < 0) == (ours.p_value < 0.05)
    assert ours.min_p == pytest.approx(1 / math.comb(20, 5))


def enumerate_p(base: list[ArmStats], test: list[ArmStats]) -> tuple[float, float]:
    """Independent randomisation inference: every re-assignment, plain Python loops."""
    pool = [(c.sum, c.n) for c in [*base, *test]]

    def statistic(treated: set[int]) -> tuple[float, float]:
        p_num = sum(pool[i][0] for i in treated)
        p_den = sum(pool[i][1] for i in treated)
        b_num = sum(pool[i][0] for i in range(len(pool)) if i not in treated)
        b_den = sum(pool[i][1] for i in range(len(pool)) if i not in treated)
        diff = p_num / p_den - b_num / b_den
        return diff / (b_num / b_den), diff

    observed = statistic(set(range(len(base), len(pool))))
    null = [statistic(set(c)) for c in itertools.combinations(range(len(pool)), len(test))]
    return tuple(  # type: ignore[return-value]
        sum(abs(s[k]) >= abs(observed[k]) * (1 - 1e-12) for s in null) / len(null) for k in (0, 1)
    )


@pytest.mark.parametrize(("n_base", "n_test", "seed"), [(4, 3, 1), (9, 5, 2), (6, 6, 3)])
def test_randomisation_p_equals_an_independent_enumeration(
    n_base: int, n_test: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    base = regions(rng, n_base, 300, 0.3, 0.03)
    test = regions(rng, n_test, 300, 0.33, 0.03)
    ours = clusters.compare_clustered(base, test, "proportion")
    expected_rel, expected_abs = enumerate_p(base, test)
    assert ours.p_value == pytest.approx(expected_rel, abs=1e-12)
    assert ours.p_value_abs == pytest.approx(expected_abs, abs=1e-12)


def test_randomisation_p_equals_scipy_permutation_test() -> None:
    """scipy's permutation test (exact: every partition) on the same statistic."""
    rng = np.random.default_rng(11)
    base, test = regions(rng, 8, 200, 0.4, 0.02), regions(rng, 4, 200, 0.4, 0.02)

    def statistic(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        # each observation (a cluster) is a (numerator, denominator) column; the resamples
        # come batched in front: (batch, 2, clusters)
        ratio_x = x[..., 0, :].sum(axis=axis) / x[..., 1, :].sum(axis=axis)
        ratio_y = y[..., 0, :].sum(axis=axis) / y[..., 1, :].sum(axis=axis)
        return np.abs((ratio_x - ratio_y) / ratio_y)

    data = (
        np.array([[c.sum for c in test], [c.n for c in test]], dtype=float),
        np.array([[c.sum for c in base], [c.n for c in base]], dtype=float),
    )
    reference = sps.permutation_test(
        data,
        statistic,
        permutation_type="independent",
        vectorized=True,
        n_resamples=10**6,
        alternative="greater",
        axis=-1,
    )
    ours = clusters.compare_clustered(base, test, "proportion")
    assert ours.p_value == pytest.approx(reference.pvalue, abs=1e-12)


def test_many_assignments_are_drawn_with_a_fixed_seed() -> None:
    rng = np.random.default_rng(5)
    base, test = regions(rng, 25, 200, 0.3, 0.02), regions(rng, 12, 200, 0.3, 0.02)
    first = clusters.compare_clustered(base, test, "proportion")
    again = clusters.compare_clustered(base, test, "proportion")
    assert math.comb(37, 12) > clusters.EXACT_LIMIT
    assert first.method == "randomisation"
    assert first.p_value == again.p_value
    assert first.min_p == pytest.approx(1 / (clusters.DRAWS + 1))
    assert first.min_p <= first.p_value <= 1


def test_cluster_robust_se_agrees_with_statsmodels_for_many_clusters() -> None:
    """The delta method on cluster totals and OLS with cluster-robust errors estimate the
    same standard error when clusters are many (they differ by small-sample factors)."""
    rng = np.random.default_rng(3)
    rows = []
    for arm, count in (("control", 60), ("pilot", 60)):
        for k in range(count):
            size = int(rng.integers(150, 300))
            rate = 0.3 + rng.normal(0, 0.04)
            for y in rng.binomial(1, rate, size):
                rows.append((arm, f"{arm}{k}", y))
    frame = pd.DataFrame(rows, columns=["arm", "region", "y"])
    frame["pilot"] = (frame["arm"] == "pilot").astype(int)
    fit = smf.ols("y ~ pilot", frame).fit(cov_type="cluster", cov_kwds={"groups": frame["region"]})

    def cells(arm: str) -> list[ArmStats]:
        grouped = frame[frame["arm"] == arm].groupby("region")["y"].agg(["size", "sum"])
        return [ArmStats(int(n), float(s), float(s)) for n, s in grouped.itertuples(index=False)]

    ours = clusters.compare_clustered(cells("control"), cells("pilot"), "proportion")
    assert ours.abs_diff == pytest.approx(fit.params["pilot"], rel=1e-9)
    assert ours.se_abs == pytest.approx(fit.bse["pilot"], rel=0.03)


def test_one_pilot_cluster_is_not_testable_without_a_before_period() -> None:
    rng = np.random.default_rng(2)
    result = clusters.compare_clustered(
        regions(rng, 19, 500, 0.35, 0.01), regions(rng, 1, 5000, 0.35, 0.01), "proportion"
    )
    assert result.method == "not-testable"
    assert result.p_value is None and result.ci_rel is None
    assert clusters.ONE_CLUSTER in result.issues
    assert result.rel_diff is not None  # the deviation rate is still described


def test_placebo_in_space_ranks_the_pilot_among_every_cluster() -> None:
    rng = np.random.default_rng(4)
    base = [(c, region(rng, 500, c.sum / c.n)) for c in regions(rng, 19, 500, 0.35, 0.01)]
    treated = region(rng, 500, 0.35)
    result = clusters.did_clustered(base, [(treated, region(rng, 500, 0.6))], "proportion")
    assert result.method == "placebo-in-space"
    assert result.min_p == pytest.approx(1 / 20)
    # a large true change in the pilot region ranks first: the smallest p the design gives
    assert result.p_value == pytest.approx(1 / 20)
    assert clusters.FLOOR_ABOVE_ALPHA in result.issues  # 1/20 is not below 0.05


# --- A/A simulations: how often "significant" when nothing changed -----------------------------

REPLICATIONS = 300
ALPHA = 0.05


def binomial_interval(replications: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Where a false-positive rate of exactly alpha lands 99.9 % of the time."""
    low, high = sps.binom.interval(0.999, replications, alpha)
    return low / replications, high / replications


@pytest.mark.parametrize("icc", [0.01, 0.05])
def test_region_pilot_aa_false_positive_rate_is_alpha(icc: float) -> None:
    """5 of 20 regions in the pilot, 500 users each: clusters as units hold α; users as units
    do not (the defect this module fixes)."""
    rng = np.random.default_rng(20241207 + int(icc * 100))
    clustered = per_user = 0
    for _ in range(REPLICATIONS):
        pool = regions(rng, 20, 500, 0.35, icc)
        order = rng.permutation(20)
        base, test = [pool[i] for i in order[5:]], [pool[i] for i in order[:5]]
        result = clusters.compare_clustered(base, test, "proportion")
        clustered += result.p_value is not None and result.p_value < ALPHA
        naive = stats.compare_arms(sum(base[1:], base[0]), sum(test[1:], test[0]), "proportion")
        per_user += naive.p_value is not None and naive.p_value < ALPHA
    low, high = binomial_interval(REPLICATIONS)
    assert low <= clustered / REPLICATIONS <= high
    assert per_user / REPLICATIONS > high  # the per-user analysis fails the same check


def test_clustered_did_aa_false_positive_rate_is_alpha() -> None:
    """did with 6 of 20 regions, each region with its own period shock."""
    rng = np.random.default_rng(99)
    fired = 0
    for _ in range(REPLICATIONS):
        cells = []
        for _k in range(20):
            rate = 0.3 + rng.normal(0, 0.02)
            shock = rng.normal(0, 0.02)
            cells.append((region(rng, 400, rate), region(rng, 400, rate + shock)))
        order = rng.permutation(20)
        result = clusters.did_clustered(
            [cells[i] for i in order[6:]], [cells[i] for i in order[:6]], "proportion"
        )
        fired += result.p_value is not None and result.p_value < ALPHA
    low, high = binomial_interval(REPLICATIONS)
    assert low <= fired / REPLICATIONS <= high


def test_one_region_did_placebo_never_significant_below_its_floor() -> None:
    """1 pilot region vs 19: the placebo p cannot go below 1/20, so at α = 0.05 it never
    calls an A/A pilot significant, and its p-values spread evenly over 1/20 … 1."""
    rng = np.random.default_rng(5)
    p_values = []
    for _ in range(200):
        cells = []
        for _k in range(20):
            rate = 0.3 + rng.normal(0, 0.02)
            cells.append((region(rng, 2500, rate), region(rng, 2500, rate + rng.normal(0, 0.015))))
        result = clusters.did_clustered(cells[1:], cells[:1], "proportion")
        p_values.append(result.p_value)
    assert min(p_values) >= 1 / 20
    assert sum(p <= 0.25 for p in p_values) / 200 == pytest.approx(0.25, abs=0.1)


def test_many_regions_welch_on_clusters_aa_false_positive_rate_is_alpha() -> None:
    """30+ regions per group: no randomisation test, the Welch t on cluster totals — which
    must hold α on its own (A/A, ICC 0.05, unequal region sizes)."""
    rng = np.random.default_rng(424242)
    fired = 0
    for _ in range(REPLICATIONS):
        base = [
            region(rng, int(rng.integers(100, 600)), 0.35 + rng.normal(0, 0.107)) for _ in range(32)
        ]
        test = [
            region(rng, int(rng.integers(100, 600)), 0.35 + rng.normal(0, 0.107)) for _ in range(30)
        ]
        result = clusters.compare_clustered(base, test, "proportion")
        assert result.method == "cluster-welch-t"
        fired += result.p_value is not None and result.p_value < ALPHA
    low, high = binomial_interval(REPLICATIONS)
    assert low <= fired / REPLICATIONS <= high
