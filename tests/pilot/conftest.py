"""Fixtures for the pilot reader, events and SQL tests: the shipped examples and their metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.readers import MetricColumns, ReadOptions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The metric contract of playbooks/new-user-onboarding.yaml (ids, kinds, columns).
ONBOARDING_METRICS = (
    MetricColumns("d1_retention", "proportion", "retained_d1"),
    MetricColumns("first_order", "proportion", "ordered"),
    MetricColumns("core_usage", "proportion", "used_core_feature"),
    MetricColumns("revenue", "mean", "revenue"),
    MetricColumns("aov", "ratio", None, "revenue", "orders"),
)
RECALL_METRICS = (
    MetricColumns("recall_rate", "proportion", "recalled"),
    MetricColumns("repurchase_rate", "proportion", "repurchased"),
    MetricColumns("unsubscribe_rate", "proportion", "unsubscribed"),
)
COMPLAINT_METRICS = (
    MetricColumns("resolved_24h", "proportion", "resolved_in_24h"),
    MetricColumns("csat", "mean", "csat_score"),
    MetricColumns("reopen_rate", "proportion", "reopened"),
)
ONBOARDING_SLAS = {"tag-detect": 1.0, "push-content": 120.0, "feedback": 86400.0}


@pytest.fixture(scope="session")
def examples() -> Path:
    """The folder of shipped example exports."""
    return EXAMPLES


def onboarding_options(**changes: object) -> ReadOptions:
    """Read options of the onboarding A/B pilot, with `changes` applied."""
    base: dict[str, object] = {
        "metrics": ONBOARDING_METRICS,
        "arm_column": "group",
        "arm_labels": ("control", "pilot"),
    }
    base.update(changes)
    return ReadOptions(**base)  # type: ignore[arg-type]


def assert_same_stats(left: object, right: object, rel: float = 1e-12) -> None:
    """Two stats mappings have the same keys, equal counts and sums equal to `rel`.

    Sums are float64. Adding the same numbers in a different order (chunk by chunk, per
    group, or in a warehouse) can change the last bits, so sums agree to about n·ε ≈ 1e-12
    relative, not bit for bit; counts and 0/1 sums are exact integers and compared exactly.
    """
    assert isinstance(left, dict | type({}.items())) or hasattr(left, "keys")
    assert set(left.keys()) == set(right.keys())  # type: ignore[attr-defined]
    for key in left.keys():  # type: ignore[attr-defined]
        a, b = left[key], right[key]  # type: ignore[index]
        assert a.n == b.n, key
        for name in ("sum", "sum_sq", "sum_den", "sum_den_sq", "sum_prod"):
            x, y = getattr(a, name), getattr(b, name)
            assert x == pytest.approx(y, rel=rel, abs=1e-9), (key, name, x, y)
