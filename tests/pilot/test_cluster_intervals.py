"""Region pilots' intervals agree with their randomisation p (SPEC 11): below 30 clusters an
arm the interval is the inversion of the same randomisation test, checked against an
independent enumeration of every assignment and by seeded coverage simulations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from opsplay.pilot import clusters
from opsplay.query.sufficient import ArmStats

ALPHA = 0.05


def city(rng: np.random.Generator, users: int, level: float, shift: float = 0.0) -> ArmStats:
    """One city's order values (客单价-like, 元): a city level, unit noise, plus `shift`."""
    values = level + rng.normal(0, 40.0, users) + shift
    return ArmStats(users, float(values.sum()), float((values**2).sum()))


def cities(rng: np.random.Generator, count: int, icc: float = 0.02) -> list[float]:
    """City levels around 200元 whose spread gives intra-cluster correlation `icc`."""
    between = 40.0 * math.sqrt(icc / (1 - icc))
    return list(200 + rng.normal(0, between, count))


def brute_p(base: list[ArmStats], test: list[ArmStats], delta: float, ratio: float) -> tuple:
    """Independent randomisation p over all assignments, plain Python: pilot cluster totals
    y − δ·n (absolute) or y / (1 + r) (relative), statistic the difference of Σy/Σn."""
    pool = [(c.sum, c.n) for c in base] + [((c.sum - delta * c.n) / (1 + ratio), c.n) for c in test]

    def statistic(chosen: tuple[int, ...]) -> tuple[float, float]:
        inside = set(chosen)
        p = sum(pool[i][0] for i in inside) / sum(pool[i][1] for i in inside)
        rest = [pool[i] for i in range(len(pool)) if i not in inside]
        b = sum(r[0] for r in rest) / sum(r[1] for r in rest)
        return (p - b) / abs(b), p - b

    observed = statistic(tuple(range(len(base), len(pool))))
    null = [statistic(c) for c in itertools.combinations(range(len(pool)), len(test))]
    return tuple(
        sum(abs(s[k]) >= abs(observed[k]) * (1 - 1e-12) for s in null) / len(null) for k in (0, 1)
    )


def test_shifted_p_values_equal_an_independent_enumeration() -> None:
    """p(δ0) and p(r0) over all C(20,5) = 15,504 assignments, at 0, inside, near and beyond the
    interval's bounds: the interval is exactly the set the enumerated test does not reject."""
    rng = np.random.default_rng(2211)
    levels = cities(rng, 20)
    base = [city(rng, int(rng.integers(80, 200)), lv) for lv in levels[:15]]
    test = [city(rng, int(rng.integers(80, 200)), lv, 25.0) for lv in levels[15:]]
    ours = clusters.compare_clustered(base, test, "mean")
    assert ours.method == "randomisation"
    assert ours.interval_method == clusters.RANDOMISATION_INVERSION
    test_ = clusters._Randomisation(  # the module's own shifted p, at the same points
        np.array([[c.sum, float(c.n)] for c in [*base, *test]]).T, 5, clusters._ab_statistics
    )
    low, high = ours.ci_abs
    for delta in (0.0, ours.abs_diff, low * 1.05, low * 0.95, high * 1.05, high * 0.95):
        assert test_.p_values(delta=delta)[1] == pytest.approx(brute_p(base, test, delta, 0)[1])
    r_low, r_high = ours.ci_rel
    for ratio in (0.0, r_low - 0.01, r_low + 0.01, r_high - 0.01, r_high + 0.01):
        theta = math.log1p(ratio)
        assert test_.p_values(theta=theta)[0] == pytest.approx(brute_p(base, test, 0, ratio)[0])
    # the bounds: just inside not rejected, just outside rejected (enumerated independently)
    width = high - low
    assert brute_p(base, test, low + 1e-3 * width, 0)[1] >= ALPHA
    assert brute_p(base, test, low - 1e-3 * width, 0)[1] < ALPHA
    assert brute_p(base, test, high - 1e-3 * width, 0)[1] >= ALPHA
    assert brute_p(base, test, high + 1e-3 * width, 0)[1] < ALPHA
    assert (
        brute_p(base, test, 0, r_high + 1e-3)[0] < ALPHA <= brute_p(base, test, 0, r_high - 1e-3)[0]
    )
    # and the headline p is the unshifted one
    assert ours.p_value == pytest.approx(brute_p(base, test, 0, 0)[0])
    assert ours.dof is None  # no Welch degrees of freedom behind this interval


def coverage_interval(replications: int, level: float = 0.95) -> tuple[float, float]:
    """Where the coverage of an exact `level` interval lands 99.9 % of the time."""
    low, high = sps.binom.interval(0.999, replications, level)
    return low / replications, high / replications


@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_interval_covers_the_true_change_and_agrees_with_p(scale: str) -> None:
    """400 region pilots (5 of 20 cities, ICC 0.02, a true change of +6元 or +3 %): the 95 %
    interval covers the true change 95 % of the time, and in every pilot it excludes 0
    exactly when p < 0.05. With no change (A/A) it excludes 0 in about 5 %."""
    rng = np.random.default_rng(1111 if scale == "absolute" else 2222)
    replications, covered, fired, aa_fired = 400, 0, 0, 0
    truth = 6.0 if scale == "absolute" else 0.03
    for index in range(replications):
        levels = cities(rng, 20)
        sizes = rng.integers(60, 160, 20)
        order = rng.permutation(20)
        effect = truth if index % 2 == 0 else 0.0  # half the pilots A/A
        base = [city(rng, int(sizes[i]), levels[i]) for i in order[5:]]
        if scale == "absolute":
            test = [city(rng, int(sizes[i]), levels[i], effect) for i in order[:5]]
        else:
            test = [_scaled(city(rng, int(sizes[i]), levels[i]), 1 + effect) for i in order[:5]]
        result = clusters.compare_clustered(base, test, "mean")
        ci = result.ci_abs if scale == "absolute" else result.ci_rel
        p = result.p_value_abs if scale == "absolute" else result.p_value
        assert (ci[0] > 0 or ci[1] < 0) == (p < ALPHA)
        covered += ci[0] <= effect <= ci[1]
        if effect:
            fired += p < ALPHA
        else:
            aa_fired += p < ALPHA
    low, high = coverage_interval(replications)
    assert low <= covered / replications <= high
    aa_low, aa_high = coverage_interval(replications // 2, ALPHA)
    assert aa_low <= aa_fired / (replications // 2) <= aa_high
    assert fired > aa_fired  # the true change is seen more often than none


def _scaled(cluster: ArmStats, factor: float) -> ArmStats:
    return ArmStats(cluster.n, cluster.sum * factor, cluster.sum_sq * factor**2)


def test_welch_interval_stays_where_it_is_the_method() -> None:
    rng = np.random.default_rng(30)
    levels = cities(rng, 62)
    base = [city(rng, 100, lv) for lv in levels[:32]]
    test = [city(rng, 100, lv) for lv in levels[32:]]
    result = clusters.compare_clustered(base, test, "mean")
    assert result.method == "cluster-welch-t"
    assert result.interval_method is None and result.dof is not None


def test_clustered_did_interval_agrees_with_its_randomisation_p() -> None:
    """did with 6 of 20 cities: the interval is the inversion of the DiD randomisation test,
    so in every replicate it excludes 0 exactly when p < 0.05."""
    rng = np.random.default_rng(606)
    outcomes = []
    for index in range(40):
        cells = []
        for level in cities(rng, 20):
            before = city(rng, 120, level)
            cells.append((before, city(rng, 120, level + rng.normal(0, 4))))
        order = rng.permutation(20)
        base = [cells[i] for i in order[6:]]
        test = [
            (b, _shifted(a, 8.0 if index % 2 else 0.0)) for b, a in (cells[i] for i in order[:6])
        ]
        result = clusters.did_clustered(base, test, "mean")
        assert result.method == "randomisation"
        assert result.interval_method == clusters.RANDOMISATION_INVERSION
        for ci, p in ((result.ci_abs, result.p_value_abs), (result.ci_rel, result.p_value)):
            assert ci[0] <= (result.abs_diff if ci is result.ci_abs else result.rel_diff) <= ci[1]
            assert (ci[0] > 0 or ci[1] < 0) == (p < ALPHA)
            outcomes.append(p < ALPHA)
    assert 0 < sum(outcomes) < len(outcomes)  # both kinds of replicate occur


def _shifted(cluster: ArmStats, shift: float) -> ArmStats:
    total = cluster.sum + shift * cluster.n
    return ArmStats(
        cluster.n, total, cluster.sum_sq + 2 * shift * cluster.sum + shift**2 * cluster.n
    )


def test_a_design_too_small_for_alpha_has_an_unbounded_interval_said_as_such() -> None:
    """3 + 2 cities: 10 assignments, no p below 0.1, so no change however large is rejected at
    0.05; the interval is unbounded on both sides and worded so, never a made-up range."""
    from opsplay.i18n import language
    from opsplay.pilot.presentation.words import fmt_abs, fmt_interval

    rng = np.random.default_rng(5)
    levels = cities(rng, 5)
    base = [city(rng, 150, lv) for lv in levels[:3]]
    test = [city(rng, 150, lv, 30.0) for lv in levels[3:]]
    result = clusters.compare_clustered(base, test, "mean")
    assert result.min_p == pytest.approx(0.1)
    assert result.ci_abs == (-math.inf, math.inf)
    assert result.ci_rel == (-1.0, math.inf)  # a relative change cannot fall below −100 %
    with language("zh"):
        assert fmt_interval(result.ci_rel) == "[-100.0%, 无上限]"
        assert fmt_abs(result.ci_abs[0], "mean", "元") == "无下限"
    with language("en"):
        assert fmt_interval(result.ci_rel) == "[-100.0%, no upper limit]"
