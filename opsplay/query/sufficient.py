"""Mergeable sufficient statistics of one group of units (an arm, period and segment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArmStats:
    """Sums over the units of one group; enough for every test opsplay runs.

    For proportion and mean metrics only `n`, `sum` and `sum_sq` are used (y is the
    metric column). Ratio metrics (Σnum / Σden) use `sum`/`sum_sq` for the numerator and
    `sum_den`, `sum_den_sq`, `sum_prod` (Σ num·den) for the denominator and cross term.
    Adding two ArmStats merges them, so files and chunks can be read one at a time.
    """

    n: int
    sum: float
    sum_sq: float
    sum_den: float = 0.0
    sum_den_sq: float = 0.0
    sum_prod: float = 0.0
    missing: int = 0  # missing cells met (excluded, or counted as 0 with `missing: zero`)
    invalid: int = 0  # unreadable cells treated as missing (--skip-bad-rows)

    def __add__(self, other: ArmStats) -> ArmStats:
        return ArmStats(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_sq=self.sum_sq + other.sum_sq,
            sum_den=self.sum_den + other.sum_den,
            sum_den_sq=self.sum_den_sq + other.sum_den_sq,
            sum_prod=self.sum_prod + other.sum_prod,
            missing=self.missing + other.missing,
            invalid=self.invalid + other.invalid,
        )
