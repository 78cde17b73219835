"""The plain-Python distribution functions against scipy.special on a grid of their arguments:
Student's t tails and quantiles (any real degrees of freedom, tiny p-values included), the
normal and chi-square with one degree of freedom."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from opsplay.pilot.distributions import (
    chi2_1_sf,
    normal_isf,
    normal_ppf,
    normal_sf,
    t_isf,
    t_sf,
)

# Welch degrees of freedom run from 1 (two units) to the tens of millions; the two regimes of
# the incomplete beta function meet at 30 and at x = 0.7.
DOFS = sorted(
    {*np.geomspace(1, 1e12, 60).tolist(), 1.0, 2.0, 3.0, 4.5, 29.9, 30.0, 30.1, 59.0, 3e7}
)
STATISTICS = sorted(
    {*np.geomspace(1e-3, 1e3, 70).tolist(), 0.5, 1.0, 1.73, 1.96, 2.0, 2.58, 3.3, 8.0, 38.0}
)


def relative(ours: float, reference: float) -> float:
    return abs(ours - reference) / abs(reference) if reference else abs(ours)


@pytest.mark.parametrize("dof", DOFS)
def test_t_tail_matches_scipy(dof: float) -> None:
    for statistic in STATISTICS:
        reference = float(special.stdtr(dof, -statistic))
        if reference < 1e-290:  # below what a double holds with all its digits
            continue
        assert relative(t_sf(statistic, dof), reference) < 1e-12, (dof, statistic)


@pytest.mark.parametrize("dof", DOFS)
def test_t_quantile_matches_scipy(dof: float) -> None:
    for alpha in (0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9):
        reference = float(special.stdtrit(dof, 1 - alpha / 2))
        assert relative(t_isf(alpha / 2, dof), reference) < 1e-11, (dof, alpha)


def test_t_far_tail_keeps_its_size() -> None:
    """A p-value far below 1e-16 is computed, not rounded to 0 (the sf form, as scipy)."""
    for dof, statistic in ((200.0, 40.0), (3e7, 30.0), (4.5, 1e60)):
        reference = float(special.stdtr(dof, -statistic))
        assert 0 < t_sf(statistic, dof) < 1e-16
        assert relative(t_sf(statistic, dof), reference) < 1e-12
    # where scipy's stdtr underflows to 0, the Cauchy tail 1/(πt) still holds
    assert relative(t_sf(1e200, 1.0), 1 / (math.pi * 1e200)) < 1e-12


def test_t_exact_forms() -> None:
    """One and two degrees of freedom have closed forms: the Cauchy tail atan(1/t)/π, and
    (1 − t/√(2 + t²))/2 = 1/(√(2 + t²)(√(2 + t²) + t)), where scipy loses digits."""
    for statistic in (1e-6, 0.3, 1.0, 7.0, 1e4):
        cauchy = math.atan2(1.0, statistic) / math.pi
        assert relative(t_sf(statistic, 1.0), cauchy) < 1e-14
        root = math.sqrt(2 + statistic * statistic)
        assert relative(t_sf(statistic, 2.0), 1 / (root * (root + statistic))) < 1e-14
    assert t_sf(0.0, 7.0) == 0.5 and t_isf(0.5, 7.0) == 0.0
    assert t_sf(-1.5, 7.0) == pytest.approx(1 - t_sf(1.5, 7.0), rel=1e-15)
    assert t_sf(2.0, math.inf) == normal_sf(2.0)


def test_normal_and_chi_square_match_scipy() -> None:
    for p in (*np.linspace(0.001, 0.999, 97).tolist(), 1e-300, 1e-10, 0.975, 1 - 1e-12):
        assert relative(normal_ppf(p), float(special.ndtri(p))) < 1e-14, p
    for q in (1e-12, 0.0005, 0.025, 0.05):
        assert relative(normal_isf(q), float(-special.ndtri(q))) < 1e-14
    for x in np.geomspace(1e-8, 37, 80).tolist():
        assert relative(normal_sf(x), float(special.ndtr(-x))) < 1e-12, x
        assert relative(chi2_1_sf(x * x), float(special.chdtrc(1, x * x))) < 1e-12, x
    assert chi2_1_sf(0.0) == 1.0


def test_compare_does_not_import_scipy() -> None:
    """`pilot compare`'s statistics need neither scipy nor numpy (start-up, issue 22)."""
    code = (
        "import sys\n"
        "from opsplay.pilot import compare, stats\n"
        "stats.compare_arms(stats.ArmStats(100, 35, 35), stats.ArmStats(100, 41, 41), "
        "'proportion')\n"
        "print(sorted(m for m in ('scipy', 'numpy', 'pandas') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
