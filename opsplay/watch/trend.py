"""The iteration trend of a review report (迭代版本): each version's pilot value of the primary
metrics, from the history in the state file plus the report's own comparison.

The report templates include `_trend.<fmt>.j2`, which lays out what `iteration_trend`
returns: words already in the document language, a table, and for HTML an inline SVG
(no script, no external font), so the partial needs no translation of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from opsplay.i18n import _, language
from opsplay.watch.history import verdict_word, version_key, versions
from opsplay.watch.state import DEFAULT_PATH, open_state

WIDTH = 720
PANEL = 120
LEFT, RIGHT = 60, 660
COLOURS = {"line": "#0969da", "target": "#1a7f37", "text": "#57606a"}
FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'


def iteration_trend(
    playbook: Any,
    comparison: dict[str, Any],
    *,
    lang: str,
    fmt: str,
    state_path: Path | None = None,
) -> dict[str, Any] | None:
    """Title, note, table and (HTML) chart of the trend; None with fewer than two versions."""
    from opsplay.pilot.presentation.formats import fmt_value

    path = state_path or Path(os.environ.get("OPSPLAY_STATE") or DEFAULT_PATH)
    state = open_state(path, create=False)
    try:
        entries = versions(state, playbook.metadata.id)
    finally:
        if state is not None:
            state.close()
    # Versions watched from the event log alone have no metric to draw.
    by_version = {entry.version: list(entry.metrics) for entry in entries if entry.metrics}
    current = str((comparison.get("playbook") or {}).get("version") or playbook.metadata.version)
    rows = [
        row
        for row in comparison.get("metrics") or []
        if not row.get("segment") and row.get("role", "primary") == "primary"
    ]
    # This report's data, already recorded under an earlier version, keeps that version: data
    # gathered under 0.2.0 and reported after the bump to 2.0.0 is not 2.0.0's result.
    recorded_as = next(
        (
            entry.version
            for entry in reversed(entries)
            if entry.metrics and _same_data(entry.metrics, rows)
        ),
        None,
    )
    if recorded_as is not None:
        current = recorded_as
    else:
        by_version[current] = rows
    if len(by_version) < 2:
        return None
    order = sorted(by_version, key=version_key)
    metrics = {m.id: m for m in playbook.metrics}
    primary = list(playbook.pilot.metrics) if playbook.pilot else []
    for rows in by_version.values():
        primary += [r["metric"] for r in rows if r.get("metric") not in primary]
    series = []
    for metric_id in primary:
        metric = metrics.get(metric_id)
        kind, unit = (metric.kind, metric.unit) if metric else ("mean", None)
        points = []
        for version in order:
            row = next((r for r in by_version[version] if r.get("metric") == metric_id), None)
            value = ((row or {}).get("pilot") or {}).get("value")
            points.append(
                (
                    version,
                    value,
                    (row or {}).get("verdict"),
                    (row or {}).get("target"),
                    (row or {}).get("method"),
                )
            )
        series.append(
            {
                "name": metric.name if metric else metric_id,
                "kind": kind,
                "unit": unit,
                "points": points,
            }
        )
    with language(lang):
        headers = [_("Playbook version")] + [s["name"] for s in series]
        table = [
            [version]
            + [
                _("{value} ({verdict})").format(
                    value=fmt_value(s["points"][i][1], s["kind"], s["unit"]),
                    verdict=verdict_word(s["points"][i][2], s["points"][i][4]),
                )
                if s["points"][i][1] is not None
                else "—"
                for s in series
            ]
            for i, version in enumerate(order)
        ]
        words = {
            "title": _("Iteration trend"),
            "note": _(
                "Pilot value of each primary metric by playbook version: the latest recorded run "
                "of each version, and this report's data for version {version}."
            ).format(version=current),
        }
    if fmt != "html":
        from opsplay.text import md_cell

        headers = [md_cell(cell) for cell in headers]
        table = [[md_cell(cell) for cell in row] for row in table]
    chart = _chart(series, words["title"]) if fmt == "html" else Markup("")
    return {**words, "headers": headers, "rows": table, "chart": chart}


def _same_data(recorded: Any, rows: list[dict[str, Any]]) -> bool:
    """Whether two results come from the same data: each metric's counts and values agree."""

    def key(items: Any) -> list[tuple[Any, ...]]:
        return sorted(
            (
                str(r.get("metric")),
                (r.get("baseline") or {}).get("n"),
                (r.get("baseline") or {}).get("value"),
                (r.get("pilot") or {}).get("n"),
                (r.get("pilot") or {}).get("value"),
            )
            for r in items
        )

    return bool(rows) and key(recorded) == key(rows)


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _chart(series: list[dict[str, Any]], title: str) -> Markup:
    """One small panel per metric: its pilot value by version, the target dashed."""
    from opsplay.pilot.presentation.formats import fmt_value

    height = PANEL * len(series) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f"font-family='{FONT}' font-size=\"12\">",
        f"<title>{escape(title)}</title>",
    ]
    for index, item in enumerate(series):
        top = PANEL * index + 18
        values = [v for _v, v, _d, _t, _m in item["points"] if v is not None]
        targets = [t for _v, _value, _d, t, _m in item["points"] if t is not None]
        scale = values + targets[-1:]
        low, high = (min(scale), max(scale)) if scale else (0.0, 1.0)
        if high == low:
            low, high = low - 1 if low else -1.0, high + 1 if high else 1.0
        count = len(item["points"])

        def x(i: int, count: int = count) -> float:
            return LEFT + (RIGHT - LEFT) * (i / (count - 1) if count > 1 else 0.5)

        def y(value: float, top: int = top, low: float = low, high: float = high) -> float:
            return top + 70 - 60 * (value - low) / (high - low)

        out.append(f'<text x="0" y="{top - 4}" font-weight="bold">{escape(item["name"])}</text>')
        if targets:
            ty = _f(y(targets[-1]))
            out.append(
                f'<line x1="{LEFT}" y1="{ty}" x2="{RIGHT}" y2="{ty}" stroke="{COLOURS["target"]}" '
                'stroke-dasharray="4 3"/>'
            )
        drawn = [
            (x(i), y(v)) for i, (_ver, v, _d, _t, _m) in enumerate(item["points"]) if v is not None
        ]
        if len(drawn) > 1:
            path = " ".join(f"{_f(px)},{_f(py)}" for px, py in drawn)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{COLOURS["line"]}" stroke-width="2"/>'
            )
        for i, (version, value, _verdict, _target, _method) in enumerate(item["points"]):
            out.append(
                f'<text x="{_f(x(i))}" y="{top + 92}" text-anchor="middle" '
                f'fill="{COLOURS["text"]}">{escape(version)}</text>'
            )
            if value is None:
                continue
            px, py = _f(x(i)), _f(y(value))
            out.append(f'<circle cx="{px}" cy="{py}" r="4" fill="{COLOURS["line"]}"/>')
            shown = escape(fmt_value(value, item["kind"], item["unit"]))
            out.append(f'<text x="{px}" y="{_f(y(value) - 8)}" text-anchor="middle">{shown}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
