"""`95%` read as 0.95 where the playbook means a proportion (SPEC 6: people write rates so).

A percentage is a share: it is read where the value is one — `goal.baseline` and
`goal.target` and a scenario's expected `value` of a proportion metric, an alert's
`threshold` on a rate (`completion_rate`, `sla_compliance`…) or on a proportion metric,
`pilot.split` and `pilot.alpha`. Anywhere else (a mean such as 客单价) `95%` stays text and
the schema's finding ("write 0.95 for 95%") stands.
The threshold of a duration measure (`p50_s`, `p95_s`: seconds) is read alike where it is
written as a duration: `2小时` → 7200; `95%` there stays text and the finding says seconds.
Applied to the raw data before the models and the rules read it; positions are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from opsplay.model.aliases import canonical

_PERCENT = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*[%％]\s*")
RATES = frozenset(
    {
        "completion_rate",
        "fallback_rate",
        "failure_rate",
        "timeout_rate",
        "sla_compliance",
        "schedule_adherence",
    }
)
DURATIONS = frozenset({"p50_s", "p95_s"})  # measures in seconds


def as_share(value: Any) -> Any:
    """`95%` → 0.95; anything else unchanged."""
    if isinstance(value, str):
        found = _PERCENT.fullmatch(value)
        if found:
            return float(found.group(1)) / 100
    return value


def as_seconds(value: Any) -> Any:
    """`2小时` / `90m` → its seconds (a fixed length only: not `realtime`, not working days);
    anything else unchanged."""
    from opsplay.model.duration import parse_duration

    if isinstance(value, str) and not _PERCENT.fullmatch(value):
        try:
            duration = parse_duration(value)
        except ValueError:
            return value
        if duration.seconds is not None and not duration.is_calendar:
            return duration.seconds
    return value


def read_percentages(data: Any) -> Any:
    """The raw playbook with percentages read as shares where a proportion is meant (a copy
    where anything changed; the original otherwise)."""
    if not isinstance(data, dict):
        return data
    metrics = data.get("metrics")
    proportions = {
        str(metric.get("id"))
        for metric in (metrics if isinstance(metrics, list) else [])
        if isinstance(metric, dict) and canonical("kind", metric.get("kind")) == "proportion"
    }
    changed: dict[str, Any] = {}
    goal = data.get("goal")
    if isinstance(goal, dict) and str(goal.get("metric")) in proportions:
        changed["goal"] = _read(goal, ("baseline", "target"))
    alerts = data.get("alerts")
    if isinstance(alerts, list):
        changed["alerts"] = _same_list(
            [
                _read(alert, ("threshold",))
                if isinstance(alert, dict)
                and (
                    canonical("measure", alert.get("measure")) in RATES
                    or (alert.get("measure") is None and str(alert.get("metric")) in proportions)
                )
                else _read(alert, ("threshold",), as_seconds)
                if isinstance(alert, dict)
                and canonical("measure", alert.get("measure")) in DURATIONS
                else alert
                for alert in alerts
            ],
            alerts,
        )
    scenarios = data.get("scenarios")
    if isinstance(scenarios, list):
        changed["scenarios"] = _same_list(
            [_scenario(item, proportions) for item in scenarios], scenarios
        )
    pilot = data.get("pilot")
    if isinstance(pilot, dict):
        changed["pilot"] = _read(pilot, ("split", "alpha"))
    if all(value is data.get(key) for key, value in changed.items()):
        return data
    return {**data, **changed}


def _same_list(read: list[Any], original: list[Any]) -> list[Any]:
    """The original list when no item changed (so unchanged data stays the same object)."""
    return original if all(a is b for a, b in zip(read, original, strict=True)) else read


def _read(
    mapping: dict[str, Any], keys: tuple[str, ...], read: Callable[[Any], Any] = as_share
) -> dict[str, Any]:
    values = {key: read(mapping[key]) for key in keys if key in mapping}
    if all(values[key] is mapping[key] for key in values):
        return mapping
    return {**mapping, **values}


def _scenario(item: Any, proportions: set[str]) -> Any:
    expected = item.get("expected") if isinstance(item, dict) else None
    if not isinstance(expected, list):
        return item
    read = [
        _read(entry, ("value",))
        if isinstance(entry, dict) and str(entry.get("metric")) in proportions
        else entry
        for entry in expected
    ]
    if all(a is b for a, b in zip(read, expected, strict=True)):
        return item
    return {**item, "expected": read}
