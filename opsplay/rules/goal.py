"""OPS301–OPS304: the SMART goal and value ranges."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, ident, rule

RATE_MEASURES = {
    "completion_rate",
    "fallback_rate",
    "failure_rate",
    "timeout_rate",
    "sla_compliance",
    "schedule_adherence",
}


def _number(value: Any) -> float | None:
    """A finite number as the schema reads it: YAML numbers, and text such as "0.35" (pydantic
    too); infinity and NaN are the schema's to report (OPS103), not compared here."""
    number = _any_number(value)
    return number if number is not None and math.isfinite(number) else None


def _any_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            return float(value.strip())
    except OverflowError:  # an integer too large for a float
        return float("inf") if value > 0 else float("-inf")
    except ValueError:
        return None
    return None


def _percent_hint(value: float) -> str:
    """` (write 0.35 for 35%)` when a rate looks written as a percentage, else nothing."""
    if 1 < value <= 100:
        return _(" (write {rate} for {percent}%)").format(
            rate=f"{value / 100:g}", percent=f"{value:g}"
        )
    return ""


def _date(value: Any) -> dt.date | None:
    """A date from what YAML read (a timestamp counts by its day; datetime < date raises)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@rule("OPS301")
def target_in_better_direction(pb: PlaybookData, report: Report) -> None:
    """The goal's target improves on the baseline in the metric's `better` direction."""
    baseline, target = _number(pb.get("goal", "baseline")), _number(pb.get("goal", "target"))
    metric_id = ident(pb.get("goal", "metric"))
    better = next(
        (m.get("better") for _index, m in pb.entries("metrics") if ident(m.get("id")) == metric_id),
        None,
    )
    if baseline is None or target is None or better not in ("higher", "lower"):
        return
    if better == "higher" and target <= baseline:
        message = _(
            "target {target} must lie above the baseline {baseline} because `{metric}` is "
            "better higher; fix the target or the metric's `better`"
        )
    elif better == "lower" and target >= baseline:
        message = _(
            "target {target} must lie below the baseline {baseline} because `{metric}` is "
            "better lower; fix the target or the metric's `better`"
        )
    else:
        return
    report(
        ("goal", "target"),
        message.format(target=f"{target:g}", baseline=f"{baseline:g}", metric=metric_id),
    )


@rule("OPS302")
def goal_rates_in_unit_interval(pb: PlaybookData, report: Report) -> None:
    """A proportion goal's baseline and target lie in [0, 1]."""
    if pb.metric_kind(pb.get("goal", "metric")) != "proportion":
        return
    for key in ("baseline", "target"):
        value = _number(pb.get("goal", key))
        if value is not None and not 0 <= value <= 1:
            report(
                ("goal", key),
                _("`{key}` {value} is a rate of a proportion metric and must lie in [0, 1]").format(
                    key=key, value=f"{value:g}"
                )
                + _percent_hint(value),
            )


@rule("OPS303")
def dates_in_order(pb: PlaybookData, report: Report) -> None:
    """Periods run forward and the deadline is not before the scope period starts."""
    for section in ("scope", "pilot"):
        start, end = (
            _date(pb.get(section, "period", "start")),
            _date(pb.get(section, "period", "end")),
        )
        if start is not None and end is not None and end < start:
            report(
                (section, "period", "end"),
                _("`{section}.period` ends ({end}) before it starts ({start})").format(
                    section=section, end=end, start=start
                ),
            )
    deadline, scope_start = (
        _date(pb.get("goal", "deadline")),
        _date(pb.get("scope", "period", "start")),
    )
    if deadline is not None and scope_start is not None and deadline < scope_start:
        report(
            ("goal", "deadline"),
            _(
                "the deadline {deadline} is before the scope period starts ({start}); "
                "move the deadline or the period"
            ).format(deadline=deadline, start=scope_start),
        )


@rule("OPS304")
def thresholds_in_range(pb: PlaybookData, report: Report) -> None:
    """Alert thresholds on rates and expected effects on proportion metrics lie in [0, 1]."""
    for i, alert in pb.entries("alerts"):
        threshold = _number(alert.get("threshold"))
        on_rate = alert.get("measure") in RATE_MEASURES or (
            alert.get("node") is None and pb.metric_kind(alert.get("metric")) == "proportion"
        )
        if threshold is None:
            continue
        if on_rate and not 0 <= threshold <= 1:
            report(
                ("alerts", i, "threshold"),
                _("threshold {threshold} is a rate and must lie in [0, 1]").format(
                    threshold=f"{threshold:g}"
                )
                + _percent_hint(threshold),
            )
        elif alert.get("measure") in ("p50_s", "p95_s") and threshold < 0:
            report(
                ("alerts", i, "threshold"),
                _("threshold {threshold} is a duration in seconds; it cannot be negative").format(
                    threshold=f"{threshold:g}"
                ),
            )
    for i, _scenario in pb.entries("scenarios"):
        for j, expected in pb.entries("scenarios", i, "expected"):
            value = _number(expected.get("value"))
            if (
                value is not None
                and pb.metric_kind(expected.get("metric")) == "proportion"
                and not 0 <= value <= 1
            ):
                report(
                    ("scenarios", i, "expected", j, "value"),
                    _(
                        "expected value {value} is a rate of a proportion metric "
                        "and must lie in [0, 1]"
                    ).format(value=f"{value:g}"),
                )
