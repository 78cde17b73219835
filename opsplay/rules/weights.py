"""OPS305–OPS306, OPS317: metric weights of the weighted attainment (综合达成度 = Σ weight × attainment)."""

from __future__ import annotations

from typing import Any

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, ident, rule


def _number(value: Any) -> float | None:
    """A weight written as a number (text and booleans are the schema's to report)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@rule("OPS305")
def weights_in_range(pb: PlaybookData, report: Report) -> None:
    """A weight lies in (0, 1]."""
    for i, metric in pb.entries("metrics"):
        weight = _number(metric.get("weight"))
        if weight is not None and not 0 < weight <= 1:
            shown = getattr(metric.get("weight"), "yaml_source", None) or f"{weight:g}"
            report(
                ("metrics", i, "weight"),
                _(
                    "weight {weight} lies outside (0, 1]; write the metric's share of the "
                    "weighted attainment, e.g. 0.4 for 40%"
                ).format(weight=shown),
            )


@rule("OPS306")
def weights_add_up(pb: PlaybookData, report: Report) -> None:
    """The weights of the pilot's metrics (of all metrics without a pilot) add up to 1."""
    weighted = {
        metric_id: (i, _number(metric.get("weight")))
        for i, metric in pb.entries("metrics")
        if (metric_id := ident(metric.get("id"))) is not None
    }
    if not any(weight is not None for _, weight in weighted.values()):
        return
    listed = pb.get("pilot", "metrics")
    primary = [ident(m) for m in listed] if isinstance(listed, list) else None
    if primary is not None:
        for metric_id, (i, weight) in weighted.items():
            if weight is not None and metric_id not in primary:
                report(
                    ("metrics", i, "weight"),
                    _(
                        "only the pilot's metrics are weighted, and `{metric}` is not in "
                        "`pilot.metrics`; add it there or remove its weight"
                    ).format(metric=metric_id),
                )
        members = [m for m in primary if m in weighted]
        if not any(weighted[m][1] is not None for m in members):
            return
        for metric_id in members:
            i, weight = weighted[metric_id]
            if weight is None:
                report(
                    ("metrics", i),
                    _(
                        "`{metric}` is a pilot metric without a weight while others have one; "
                        "give every metric in `pilot.metrics` a `weight:`"
                    ).format(metric=metric_id),
                )
        where: tuple[str | int, ...] = ("pilot", "metrics")
    else:
        members = [m for m, (_, weight) in weighted.items() if weight is not None]
        where = ("metrics", weighted[members[0]][0], "weight")
    weights = [weighted[m][1] for m in members if weighted[m][1] is not None]
    total = sum(w for w in weights if w is not None)
    if weights and abs(total - 1) > 1e-9:
        parts = " + ".join(f"{weighted[m][1]:g}" for m in members if weighted[m][1] is not None)
        message = (
            _("the weights add up to {total} ({parts}); make them add up to 1")
            if len(weights) > 1
            else _("the only weight is {total}; make the weights add up to 1")  # not 0.4 (0.4)
        )
        report(where, message.format(total=f"{total:g}", parts=parts))


@rule("OPS317")
def weights_have_targets(pb: PlaybookData, report: Report) -> None:
    """A weighted metric has a target (the goal's, or a scenario expectation's): attainment is
    measured against it, and without one 综合达成度 would always be `—`."""
    targeted = {ident(pb.get("goal", "metric"))}
    for _i, scenario in pb.entries("scenarios"):
        expected = scenario.get("expected")
        for item in expected if isinstance(expected, list) else []:
            if isinstance(item, dict):
                targeted.add(ident(item.get("metric")))
    for i, metric in pb.entries("metrics"):
        weight = _number(metric.get("weight"))
        metric_id = ident(metric.get("id"))
        if weight is None or weight <= 0 or metric_id is None or metric_id in targeted:
            continue
        report(
            ("metrics", i, "weight"),
            _(
                "`{metric}` is weighted but has no target (not the goal's metric, in no "
                "scenario's `expected`), so its attainment, and the weighted attainment, can "
                "never be computed; add an expectation for it to a scenario or remove its weight"
            ).format(metric=metric_id),
        )
