"""Output formats of `pilot compare`, looked up by name: json, csv, markdown, text."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsplay.pilot.wording import DESIGNS, label, verdict_word
from opsplay.text import md_cell

if TYPE_CHECKING:
    from opsplay.pilot.compare import MetricResult, PilotReport

JSON_SCHEMA_VERSION = 1
Formatter = Callable[["PilotReport", bool], str]
FORMATTERS: dict[str, Formatter] = {}


def formatter(name: str) -> Callable[[Formatter], Formatter]:
    """Register a formatter under its `--format` name."""

    def register(function: Formatter) -> Formatter:
        FORMATTERS[name] = function
        return function

    return register


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None; tuples become lists."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _metric_json(row: MetricResult) -> dict[str, Any]:
    c = row.comparison
    entry: dict[str, Any] = {
        "metric": row.metric,
        "name": row.name,
        "segment": dict(row.segment),
        "kind": row.kind,
        "role": row.role,
        "better": row.better,
        "unit": row.unit,
        "method": c.method,
        "baseline": {"n": c.baseline_n, "value": c.baseline_value},
        "pilot": {"n": c.pilot_n, "value": c.pilot_value},
        "abs_diff": c.abs_diff,
        "rel_diff": c.rel_diff,
        "ci_abs": list(c.ci_abs) if c.ci_abs else None,
        "ci_rel": list(c.ci_rel) if c.ci_rel else None,
        "p_value": c.p_value,
        "p_value_abs": c.p_value_abs,
        "p_adjusted": row.p_adjusted,
        "significant": row.significant,
        "target": row.target,
        "attainment": row.attainment,
        "verdict": row.verdict,
    }
    if c.before is not None:
        entry["before"] = {
            "baseline": {"n": c.before.baseline_n, "value": c.before.baseline_value},
            "pilot": {"n": c.before.pilot_n, "value": c.before.pilot_value},
        }
    return entry


def _with_missing(entry: dict[str, Any], report: PilotReport) -> dict[str, Any]:
    """Each arm's `missing` count (SPEC 7), as the readers counted it (None for summaries)."""
    counts = report.missing.get((entry["metric"], tuple(entry["segment"].items())))
    if counts is None:  # a dashboard summary does not say
        return entry
    for arm in ("baseline", "pilot"):
        entry[arm]["missing"] = counts.get(arm)
        if "before" in entry:
            entry["before"][arm]["missing"] = counts.get(f"before_{arm}")
    return entry


def report_to_json(report: PilotReport) -> dict[str, Any]:
    """SPEC section 3's JSON document (plus schema_version, options and sources)."""
    options = report.options
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "playbook": {"id": report.playbook_id, "version": report.playbook_version},
        "design": report.design,
        "alpha": report.alpha,
        "test": options.test,
        "variance": options.variance,
        "correction": options.correction,
        "lang": report.lang,
        "shape": report.shape,
        "sources": [
            {
                "path": s.path,
                "shape": s.shape,
                "encoding": s.encoding,
                "rows": s.rows,
                "skipped_rows": s.skipped_rows,
            }
            for s in report.sources
        ],
        "metrics": [_with_missing(_metric_json(row), report) for row in report.metrics],
        "srm": None
        if report.srm_p_value is None
        else {"p_value": report.srm_p_value, "ok": report.srm_ok},
        "nodes": [
            {
                "node": n.node,
                "count": n.count,
                "completion_rate": n.completion_rate,
                "fallback_rate": n.fallback_rate,
                "failure_rate": n.failure_rate,
                "p50_s": n.p50_s,
                "p95_s": n.p95_s,
                "sla_s": n.sla_s,
                "sla_compliance": n.sla_compliance,
            }
            for n in report.nodes
        ],
        "alerts": [
            {
                "id": a.id,
                ("metric" if a.measure is None else "node"): a.target,
                "measure": a.measure,
                "value": a.value,
                "op": a.op,
                "threshold": a.threshold,
                "severity": a.severity,
                "fired": a.fired,
            }
            for a in report.alerts
        ],
        "warnings": list(report.warnings),
    }
    return _clean(document)


@formatter("json")
def format_json(report: PilotReport, color: bool = False) -> str:
    """Full-precision JSON, Chinese kept readable."""
    return json.dumps(report_to_json(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# Human formatting (rounded; JSON keeps full precision)
def fmt_value(value: float | None, kind: str, unit: str | None = None) -> str:
    """35.0% for proportions; 4 significant digits (and the unit) otherwise."""
    if value is None:
        return "—"
    if kind == "proportion":
        return f"{value:.1%}"
    number = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return number + _unit(unit)


def _unit(unit: str | None) -> str:
    """元 and 分 follow the number directly; Latin units (CNY, min) after a space."""
    if not unit:
        return ""
    return unit if not unit[0].isascii() else f" {unit}"


def fmt_abs(value: float | None, kind: str, unit: str | None = None) -> str:
    """+3.0pp for proportions, +1.23 otherwise."""
    if value is None:
        return "—"
    if kind == "proportion":
        return f"{value * 100:+.1f}pp"
    return f"{value:+,.4g}{_unit(unit)}"


def fmt_rel(value: float | None) -> str:
    """+8.6%."""
    return "—" if value is None else f"{value:+.1%}"


def fmt_interval(interval: tuple[float, float] | None) -> str:
    """A relative interval: [+3.1%, +14.1%]."""
    if not interval:
        return "—"
    low, high = interval
    return f"[{low:+.1%}, {high:+.1%}]"


def fmt_p(value: float | None) -> str:
    """p-values: 0.0028, 1.2e-17."""
    if value is None:
        return "—"
    return f"{value:.2g}" if value < 0.001 else f"{value:.4f}"


def _segment_text(segment: tuple[tuple[str, str], ...], lang: str) -> str:
    separator = "，" if lang == "zh" else ", "
    return separator.join(f"{c}={v}" for c, v in segment) if segment else label("overall", lang)


def conclusion(row: MetricResult, lang: str, alpha: float) -> str:
    """One line per metric in the playbook's language."""
    c = row.comparison
    confidence = f"{1 - alpha:.0%}"

    def value(number: float | None) -> str:
        return fmt_value(number, row.kind, row.unit)

    change = f"{value(c.baseline_value)} → {value(c.pilot_value)}"
    if c.before is not None:  # DiD: each group's own change, then the difference of the two
        pilot, comparison = ("试点", "对照") if lang == "zh" else ("pilot", "comparison")
        change = (
            f"{pilot} {value(c.before.pilot_value)} → {value(c.pilot_value)}, {comparison} "
            f"{value(c.before.baseline_value)} → {value(c.baseline_value)}, DiD "
            f"{fmt_abs(c.abs_diff, row.kind, row.unit)}"
        )
        if lang == "zh":
            change = change.replace(", ", "，")
    if lang == "zh":
        relative = "相对DiD" if c.before is not None else "偏差率"
        text = f"{row.name}：{change}，{relative} {fmt_rel(c.rel_diff)}"
        if c.ci_rel:
            text += f"（{confidence}区间 {fmt_interval(c.ci_rel)}，p={fmt_p(c.p_value)}{_adjusted(row, lang)}）"
        text += f"，{verdict_word(row.verdict, lang)}"
        if row.target is not None:
            text += f"；目标 {fmt_value(row.target, row.kind, row.unit)}"
            if row.attainment is not None:
                text += f"，达成度 {row.attainment:.0%}"
        return text
    relative = "relative DiD " if c.before is not None else ""
    text = f"{row.name}: {change}, {relative}{fmt_rel(c.rel_diff)}"
    if c.ci_rel:
        text += f" ({confidence} CI {fmt_interval(c.ci_rel)}, p={fmt_p(c.p_value)}{_adjusted(row, lang)})"
    text += f", {verdict_word(row.verdict, lang)}"
    if row.target is not None:
        text += f"; target {fmt_value(row.target, row.kind, row.unit)}"
        if row.attainment is not None:
            text += f", {row.attainment:.0%} attained"
    return text


def _n(n: int | None) -> str:
    return "" if n is None else f" (n={n:,})"


def _before(c: Any, group: str, row: MetricResult) -> str:
    """DiD shows each group's before value ahead of its after value."""
    if c.before is None:
        return ""
    return fmt_value(getattr(c.before, f"{group}_value"), row.kind, row.unit) + " → "


def _adjusted(row: MetricResult, lang: str) -> str:
    if row.p_adjusted is None or row.p_adjusted == row.comparison.p_value:
        return ""
    return (
        f"，校正后 {fmt_p(row.p_adjusted)}"
        if lang == "zh"
        else f", adjusted {fmt_p(row.p_adjusted)}"
    )


def _colon(lang: str) -> str:
    """The label separator: a full-width colon in Chinese text."""
    return "：" if lang == "zh" else ": "


def method_line(report: PilotReport) -> str:
    """How the figures were computed, stated in every human format (SPEC section 4)."""
    options, lang = report.options, report.lang
    test = {"welch": "Welch t", "z": "z"}[options.test]
    if options.variance == "pooled":
        test += " (pooled)" if lang == "en" else "（合并方差）"
    correction = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": "—"}[options.correction]
    if lang == "zh":
        return f"检验：{test} · 多重比较校正：{correction} · α={report.alpha:g}"
    return f"test: {test} · multiple-testing correction: {correction} · α={report.alpha:g}"


def data_line(report: PilotReport) -> str:
    """The files read, with their shape, encoding and rows."""
    if report.lang == "zh":
        shapes = {
            "units": "明细行",
            "stats": "汇总统计量",
            "summary": "看板汇总",
            "events": "执行日志",
        }
        parts = [
            f"{s.path}（{shapes.get(s.shape, s.shape)}，{s.encoding}，{s.rows:,} 行）"
            for s in report.sources
        ]
        return "数据：" + "；".join(parts)
    parts = [f"{s.path} ({s.shape}, {s.encoding}, {s.rows:,} rows)" for s in report.sources]
    return "data: " + "; ".join(parts)


def _table_rows(report: PilotReport) -> tuple[list[str], list[list[str]]]:
    lang = report.lang
    header = [
        label(k, lang)
        for k in (
            "segment",
            "metric",
            "role",
            "baseline",
            "pilot",
            "abs_diff",
            "rel_diff",
            "ci_rel",
            "p_value",
            "p_adjusted",
            "target",
            "attainment",
            "verdict",
        )
    ]
    rows = []
    for row in report.metrics:
        c = row.comparison
        rows.append(
            [
                _segment_text(row.segment, lang),
                row.name,
                label(row.role, lang),
                f"{_before(c, 'baseline', row)}{fmt_value(c.baseline_value, row.kind, row.unit)}{_n(c.baseline_n)}",
                f"{_before(c, 'pilot', row)}{fmt_value(c.pilot_value, row.kind, row.unit)}{_n(c.pilot_n)}",
                fmt_abs(c.abs_diff, row.kind, row.unit),
                fmt_rel(c.rel_diff),
                fmt_interval(c.ci_rel),
                fmt_p(c.p_value),
                fmt_p(row.p_adjusted),
                fmt_value(row.target, row.kind, row.unit),
                "—" if row.attainment is None else f"{row.attainment:.0%}",
                verdict_word(row.verdict, lang),
            ]
        )
    return header, rows


@formatter("csv")
def format_csv(report: PilotReport, color: bool = False) -> str:
    """One row per metric and segment, full precision; UTF-8 BOM added by the writer for Excel/WPS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "metric",
            "name",
            "segment",
            "role",
            "kind",
            "baseline_n",
            "baseline_value",
            "pilot_n",
            "pilot_value",
            "abs_diff",
            "rel_diff",
            "ci_rel_low",
            "ci_rel_high",
            "p_value",
            "p_value_abs",
            "p_adjusted",
            "significant",
            "target",
            "attainment",
            "verdict",
            "method",
            "correction",
        ]
    )
    for entry in report_to_json(report)["metrics"]:
        ci = entry["ci_rel"] or [None, None]
        writer.writerow(
            [
                entry["metric"],
                entry["name"],
                ";".join(f"{k}={v}" for k, v in entry["segment"].items()),
                entry["role"],
                entry["kind"],
                entry["baseline"]["n"],
                entry["baseline"]["value"],
                entry["pilot"]["n"],
                entry["pilot"]["value"],
                entry["abs_diff"],
                entry["rel_diff"],
                ci[0],
                ci[1],
                entry["p_value"],
                entry["p_value_abs"],
                entry["p_adjusted"],
                entry["significant"],
                entry["target"],
                entry["attainment"],
                entry["verdict"],
                entry["method"],
                report.options.correction if entry["role"] == "primary" else "none",
            ]
        )
    return "\ufeff" + buffer.getvalue()


@formatter("markdown")
def format_markdown(report: PilotReport, color: bool = False) -> str:
    """Markdown tables: metrics, nodes, alerts, warnings."""
    lang = report.lang
    header, rows = _table_rows(report)
    lines = [
        f"## {report.playbook_id}@{report.playbook_version} — {DESIGNS[report.design][lang]}",
        "",
        md_cell(method_line(report)),
        "",
        md_cell(data_line(report)),
        "",
    ]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    lines += [""] + [
        f"- {md_cell(conclusion(row, lang, report.alpha))}"
        for row in report.metrics
        if not row.segment
    ]
    if report.nodes:
        lines += [
            "",
            f"### {label('nodes', lang)}",
            "",
            f"| {label('node', lang)} | {label('count', lang)} | {label('completion_rate', lang)} | "
            f"{label('fallback_rate', lang)} | p50 | p95 | {label('sla', lang)} | {label('sla_compliance', lang)} |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [f"| {' | '.join(_node_cells(n))} |" for n in report.nodes]
    fired = [a for a in report.alerts if a.fired]
    lines += ["", f"### {label('alerts', lang)}", ""]
    lines += [f"- **{a.id}** ({a.severity}): {_alert_text(a)}" for a in fired] or [
        f"- {label('no_alerts', lang)}"
    ]
    if report.warnings:
        lines += ["", f"### {label('warnings', lang)}", ""] + [
            f"- {md_cell(w)}" for w in report.warnings
        ]
    return "\n".join(lines) + "\n"


def _alert_text(alert: Any) -> str:
    """`push-content.completion_rate 87.0% < 90.0%`, durations in seconds."""
    watched = f"{alert.target}.{alert.measure}" if alert.measure else alert.target
    if alert.measure in ("p50_s", "p95_s"):
        shown = (_seconds(alert.value), _seconds(alert.threshold))
    elif alert.measure or (alert.value is not None and 0 <= alert.threshold <= 1):
        shown = (_rate(alert.value), _rate(alert.threshold))
    else:
        shown = (_num(alert.value), f"{alert.threshold:g}")
    return f"{watched} {shown[0]} {alert.op} {shown[1]}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    """A duration people read at a glance (120.2s, 45.5m, 18.1h, 3.0d), seconds up to 10 minutes."""
    if value is None:
        return "—"
    for unit, size, above in (("d", 86400, 3 * 86400), ("h", 3600, 3 * 3600), ("m", 60, 600)):
        if value >= above:
            return f"{value / size:.1f}{unit}"
    return f"{value:.1f}s"


def _node_cells(n: Any) -> list[str]:
    """One node's figures as table cells (Markdown and terminal)."""
    return [
        n.node,
        f"{n.count:,}",
        _rate(n.completion_rate),
        _rate(n.fallback_rate),
        _seconds(n.p50_s),
        _seconds(n.p95_s),
        _seconds(n.sla_s),
        _rate(n.sla_compliance),
    ]


@formatter("text")
def format_text(report: PilotReport, color: bool = False) -> str:
    """Rich tables per segment, coloured by verdict, with a conclusion per metric; warnings last."""
    from rich.console import Console
    from rich.table import Table

    lang = report.lang
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        # The terminal's width (COLUMNS is honoured); 120 when the output is a file or pipe.
        width=shutil.get_terminal_size((120, 24)).columns,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"[bold]{report.playbook_id}@{report.playbook_version}[/bold]  "
        f"{label('design', lang)}{_colon(lang)}{DESIGNS[report.design][lang]}"
    )
    console.print(method_line(report), markup=False)
    console.print(data_line(report), markup=False, style="dim")
    header, rows = _table_rows(report)
    style = {
        "met": "bold green",
        "improved": "green",
        "worse": "bold red",
        "no_change": "yellow",
        "inconclusive": "dim",
    }
    segments = list(dict.fromkeys(row.segment for row in report.metrics))
    for segment in segments:
        table = Table(
            title=f"{label('segment', lang)}{_colon(lang)}{_segment_text(segment, lang)}",
            show_lines=False,
        )
        # The terminal table folds role into the metric, target with attainment, and puts n
        # under each value; the unadjusted p is left to JSON, CSV and Markdown. It fits 100
        # columns even in Chinese; below that the interval (also in the conclusion lines
        # underneath) is left out, and cells wrap rather than lose digits.
        columns = (
            [1, 3, 4, 5, 6, 7, 9, 10, 12] if console.width >= 100 else [1, 3, 4, 5, 6, 9, 10, 12]
        )
        for i in columns:
            table.add_column(
                header[i],
                justify="left" if i == 1 else "right",
                min_width=6 if i in (1, 12) else None,
                overflow="fold",
            )
        for result, cells in zip(report.metrics, rows, strict=True):
            if result.segment != segment:
                continue
            role = f"（{cells[2]}）" if lang == "zh" else f" ({cells[2]})"
            shown = dict(enumerate(cells))
            shown[1] = cells[1] + (role if result.role == "guardrail" else "")
            for i in (3, 4):
                shown[i] = cells[i].replace(" (n=", "\nn=").rstrip(")")
            shown[10] = cells[10] + (f"\n({cells[11]})" if cells[11] != "—" else "")
            table.add_row(*(shown[i] for i in columns), style=style[result.verdict])
        console.print(table)
    for row in report.metrics:
        if not row.segment:
            console.print(f"• {conclusion(row, lang, report.alpha)}", style=style[row.verdict])
    if report.srm_p_value is not None:
        console.print(
            f"{label('srm', lang)}{_colon(lang)}p={fmt_p(report.srm_p_value)} "
            f"{'✓' if report.srm_ok else '✗'}"
        )
    if report.nodes:
        table = Table(title=label("nodes", lang))
        for column in (
            label("node", lang),
            label("count", lang),
            label("completion_rate", lang),
            label("fallback_rate", lang),
            "p50",
            "p95",
            label("sla", lang),
            label("sla_compliance", lang),
        ):
            table.add_column(column, overflow="fold")
        for n in report.nodes:
            table.add_row(*_node_cells(n))
        console.print(table)
    fired = [a for a in report.alerts if a.fired]
    console.print(
        f"[bold]{label('alerts', lang)}[/bold]{_colon(lang)}"
        + (", ".join(f"{a.id} ({_alert_text(a)})" for a in fired) or label("no_alerts", lang)),
        style="red" if fired else None,
    )
    for warning in report.warnings:
        console.print(f"! {warning}", style="yellow", markup=False)
    return buffer.getvalue()


__all__ = ["FORMATTERS", "conclusion", "report_to_json"]
