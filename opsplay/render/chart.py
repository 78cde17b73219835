"""An inline SVG chart of baseline against pilot per metric, with the pilot's interval.

Offline and byte-stable: no scripts, no external fonts, coordinates written with one
decimal, text left as text (Chinese included) for the browser to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from opsplay.i18n import N_, translate
from opsplay.labels import label_of
from opsplay.render.filters import value_as
from opsplay.text import visible

WIDTH = 720
LABEL_X = 0
BAR_LEFT = 130
BAR_RIGHT = 560
PANEL = 78
BAR_HEIGHT = 16
COLOURS = {"baseline": "#8c959f", "pilot": "#0969da", "better": "#1a7f37", "worse": "#cf222e"}
FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _pilot_interval(row: dict[str, Any]) -> tuple[float, float] | None:
    """The pilot value's interval: pilot − change + the change's interval (baseline + CI)."""
    ci, change, pilot = row.get("ci_abs"), row.get("abs_diff"), row["pilot"].get("value")
    if not ci or change is None or pilot is None or any(b is None for b in ci):
        return None
    return (pilot - change + ci[0], pilot - change + ci[1])


def comparison_chart(rows: Sequence[dict[str, Any]], *, lang: str) -> Markup:
    """SVG with one panel per enriched report row (metric_name, kind, unit, verdict…)."""
    panels = [
        row
        for row in rows
        if row.get("before_value") is not None or row["pilot"].get("value") is not None
    ]
    if not panels:
        return Markup("")
    labels = (translate(N_("Baseline"), lang), translate(N_("Pilot"), lang))
    height = PANEL * len(panels) + 10
    title = escape(translate(N_("Table 3 Pilot results"), lang))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}" '
        f"font-family='{FONT}' font-size=\"12\">",
        f"<title>{title}</title>",
    ]
    for index, row in enumerate(panels):
        out += _panel(row, PANEL * index + 4, labels, lang)
    out.append("</svg>")
    return Markup("\n".join(out))


def _shown(text: str) -> Markup:
    """Text from the playbook or the export, escaped, its control and invisible characters shown."""
    return escape(visible(text))


def _panel(row: dict[str, Any], top: float, labels: tuple[str, str], lang: str) -> list[str]:
    baseline, pilot = row.get("before_value"), row["pilot"].get("value")
    interval = _pilot_interval(row)
    target = row.get("target")
    values = [v for v in (baseline, pilot, target, *(interval or ())) if v is not None]
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return BAR_LEFT + (value - low) / span * (BAR_RIGHT - BAR_LEFT)

    kind, unit = row.get("kind"), row.get("unit")
    colour = COLOURS.get(row.get("direction") or "", COLOURS["pilot"])
    role = label_of("role", row["role"], lang)
    verdict = row.get("verdict_label") or (
        label_of("verdict", row.get("verdict"), lang) if row.get("verdict") else ""
    )
    heading = f"{row['metric_name']} · {role} · {verdict}"
    lines = [f'<g class="metric" data-metric="{_shown(row["metric"])}">']
    lines.append(
        f'<text x="{LABEL_X}" y="{_f(top + 12)}" font-weight="600">{_shown(heading)}</text>'
    )
    for offset, label, value, fill in (
        (20, labels[0], baseline, COLOURS["baseline"]),
        (42, labels[1], pilot, colour),
    ):
        y = top + offset
        lines.append(f'<text x="{LABEL_X}" y="{_f(y + 12)}" fill="#59636e">{escape(label)}</text>')
        if value is None:
            continue
        start, end = sorted((x(0.0), x(value)))
        lines.append(
            f'<rect x="{_f(start)}" y="{_f(y)}" width="{_f(max(end - start, 0.5))}" '
            f'height="{BAR_HEIGHT}" fill="{fill}"/>'
        )
        shown = _shown(value_as(value, kind, unit, lang=lang))
        lines.append(
            f'<text x="{_f(max(end, x(interval[1]) if interval and offset == 42 else end) + 6)}" '
            f'y="{_f(y + 12)}">{shown}</text>'
        )
    if interval is not None:
        y = top + 42 + BAR_HEIGHT / 2
        left, right = x(interval[0]), x(interval[1])
        lines.append(
            f'<path d="M{_f(left)} {_f(y)}H{_f(right)}M{_f(left)} {_f(y - 5)}V{_f(y + 5)}'
            f'M{_f(right)} {_f(y - 5)}V{_f(y + 5)}" '
            'stroke="#1f2328" stroke-width="1.5" fill="none"/>'
        )
    if target is not None:
        tx = x(target)
        lines.append(
            f'<path d="M{_f(tx)} {_f(top + 17)}V{_f(top + 62)}" stroke="#9a6700" '
            f'stroke-width="1.5" stroke-dasharray="4 3" fill="none"/>'
        )
        target_word = translate(N_("Target"), lang)
        label = _shown(f"{target_word} {value_as(target, kind, unit, lang=lang)}")
        lines.append(
            f'<text x="{_f(tx)}" y="{_f(top + 74)}" fill="#9a6700" '
            f'text-anchor="middle">{label}</text>'
        )
    lines.append("</g>")
    return lines
