"""The weighted attainment (综合达成度 = Σ weight × attainment) of the pilot's metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opsplay.i18n import N_, translate
from opsplay.model.playbook import Playbook


@dataclass(frozen=True)
class WeightedPart:
    """One weighted metric: its weight and its attainment (None without a target)."""

    metric: str
    name: str
    weight: float
    attainment: float | None


@dataclass(frozen=True)
class WeightedAttainment:
    """Σ weight × attainment over the pilot's metrics; None when a part has no attainment."""

    value: float | None
    parts: tuple[WeightedPart, ...]

    def to_json(self) -> dict[str, Any]:
        """The `weighted_attainment` entry of `pilot compare --format json`."""
        return {
            "value": self.value,
            "parts": [
                {"metric": p.metric, "weight": p.weight, "attainment": p.attainment}
                for p in self.parts
            ],
        }

    def line(self, lang: str) -> str:
        """`综合达成度 83%（次日留存率 0.6 × 90% + 首单转化率 0.4 × 72%）` in `lang`."""
        parts = " + ".join(f"{p.name} {p.weight:g} × {_percent(p.attainment)}" for p in self.parts)
        return translate(N_("Weighted attainment {value} ({parts})"), lang).format(
            value=_percent(self.value), parts=parts
        )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def from_json(document: Any, playbook: Playbook) -> WeightedAttainment | None:
    """The weighted attainment of a `pilot compare` JSON document (None when absent or odd)."""
    entry = document.get("weighted_attainment") if isinstance(document, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("parts"), list):
        return None
    parts = []
    for part in entry["parts"]:
        if not isinstance(part, dict) or not isinstance(part.get("weight"), (int, float)):
            return None
        metric = playbook.metric(str(part.get("metric")))
        attainment = part.get("attainment")
        parts.append(
            WeightedPart(
                str(part.get("metric")),
                metric.name if metric else str(part.get("metric")),
                float(part["weight"]),
                float(attainment) if isinstance(attainment, (int, float)) else None,
            )
        )
    value = entry.get("value")
    return WeightedAttainment(
        float(value) if isinstance(value, (int, float)) else None, tuple(parts)
    )


def weighted_attainment(playbook: Playbook, rows: Sequence[Any]) -> WeightedAttainment | None:
    """The weighted attainment of the overall rows, or None when no pilot metric is weighted."""
    if playbook.pilot is None:
        return None
    overall = {row.metric: row for row in rows if not row.segment and row.role == "primary"}
    parts = []
    for metric_id in playbook.pilot.metrics:
        metric = playbook.metric(metric_id)
        if metric is None or metric.weight is None:
            continue
        row = overall.get(metric_id)
        parts.append(
            WeightedPart(metric_id, metric.name, metric.weight, row.attainment if row else None)
        )
    if not parts:
        return None
    complete = all(p.attainment is not None for p in parts)
    value = sum(p.weight * (p.attainment or 0.0) for p in parts) if complete else None
    return WeightedAttainment(value, tuple(parts))
