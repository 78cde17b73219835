"""Output formats of `pilot compare`, looked up by name: json, csv, markdown, text.

Human formats speak the document language (`report.lang`); text from playbooks and
exports is neutralised for each format (opsplay.text: `csv_cell`, `md_cell`, `visible`).
The terminal format lives in opsplay.pilot.terminal.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsplay.i18n import _, language
from opsplay.pilot.plain import (
    SHAPES,
    colon,
    design_word,
    fmt_abs,
    fmt_interval,
    fmt_p,
    fmt_rel,
    fmt_value,
    label,
    method_words,
    plain_sentence,
    segment_text,
    verdict_word,
)
from opsplay.text import csv_cell, md_cell, visible

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
        "metrics": [_metric_json(row) for row in report.metrics],
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
                "timeout_rate": n.timeout_rate,
                "p50_s": n.p50_s,
                "p95_s": n.p95_s,
                "sla_s": n.sla_s,
                "sla": n.sla,
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


def _before(c: Any, group: str, row: MetricResult) -> str:
    """DiD shows each group's before value ahead of its after value."""
    if c.before is None:
        return ""
    return fmt_value(getattr(c.before, f"{group}_value"), row.kind, row.unit) + " → "


def arm_value(row: MetricResult, group: str, stacked: bool = False) -> str:
    """One arm's value (after its before value for DiD) and its n, beside it or under it."""
    c = row.comparison
    value = _before(c, group, row) + fmt_value(getattr(c, f"{group}_value"), row.kind, row.unit)
    n = getattr(c, f"{group}_n")
    if n is None:
        return value
    if stacked:
        return f"{value}\nn={n:,}"
    return _("{value} (n={n})").format(value=value, n=f"{n:,}")


def method_line(report: PilotReport) -> str:
    """How the figures were computed, stated in every human format (SPEC section 4)."""
    options = report.options
    test = {"welch": _("Welch t-test"), "z": _("z-test")}[options.test]
    if options.variance == "pooled":
        test = _("z-test with pooled variance")
    if report.design == "did":  # the four-cell estimate is tested on the normal scale
        test = _("difference in differences, normal approximation")
    correction = {
        "holm": _("Holm"),
        "bh": _("Benjamini–Hochberg"),
        "none": _("none"),
    }[options.correction]
    return _("test: {test} · multiple-testing correction: {correction} · α={alpha}").format(
        test=test, correction=correction, alpha=f"{report.alpha:g}"
    )


def data_line(report: PilotReport) -> str:
    """The files read, with their shape, encoding and rows."""
    parts = [
        _("{path} ({shape}, {encoding}, {rows} rows)").format(
            path=visible(s.path),
            shape=_(SHAPES[s.shape]) if s.shape in SHAPES else s.shape,
            encoding=s.encoding,
            rows=f"{s.rows:,}",
        )
        for s in report.sources
    ]
    return label("data") + colon() + _("; ").join(parts)


def arms_line(report: PilotReport) -> str:
    """Which labels of the data are the control and the pilot group."""
    baseline, pilot = report.arms
    before, after = report.periods
    if report.design == "before_after":
        return _("before the change: {before} · after the change: {after}").format(
            before=visible(before), after=visible(after)
        )
    line = _("control group: {baseline} · pilot group: {pilot}").format(
        baseline=visible(baseline), pilot=visible(pilot)
    )
    if report.design == "did":
        line += " · " + _("before the change: {before} · after the change: {after}").format(
            before=visible(before), after=visible(after)
        )
    return line


TABLE_KEYS = (
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


def table_rows(report: PilotReport) -> tuple[list[str], list[list[str]]]:
    """The metric table: labels, and one row of cells per metric and segment."""
    header = [label(k) for k in TABLE_KEYS]
    if report.design == "before_after":  # one population, before and after the change
        header[3], header[4] = label("before"), label("after")
    rows = []
    for row in report.metrics:
        c = row.comparison
        rows.append(
            [
                segment_text(row.segment),
                visible(row.name),
                label(row.role),
                arm_value(row, "baseline"),
                arm_value(row, "pilot"),
                fmt_abs(c.abs_diff, row.kind, row.unit),
                fmt_rel(c.rel_diff),
                fmt_interval(c.ci_rel),
                fmt_p(c.p_value),
                fmt_p(row.p_adjusted),
                fmt_value(row.target, row.kind, row.unit),
                "—" if row.attainment is None else f"{row.attainment:.0%}",
                verdict_word(row.verdict),
            ]
        )
    return header, rows


CSV_COLUMNS = (
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
)


@formatter("csv")
def format_csv(report: PilotReport, color: bool = False) -> str:
    """One row per metric and segment, full precision; UTF-8 BOM for Excel/WPS.

    Every text cell is neutralised against formula injection; numbers stay numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in report_to_json(report)["metrics"]:
        ci = entry["ci_rel"] or [None, None]
        cells = [
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
        writer.writerow([csv_cell(visible(c)) if isinstance(c, str) else c for c in cells])
    return "\ufeff" + buffer.getvalue()


@formatter("markdown")
def format_markdown(report: PilotReport, color: bool = False) -> str:
    """Markdown: the metric table, plain sentences, nodes, alerts, warnings, method."""
    with language(report.lang):
        return _markdown(report)


def _markdown(report: PilotReport) -> str:
    header, rows = table_rows(report)
    title = f"{report.playbook_id}@{report.playbook_version} — {design_word(report.design)}"
    lines = [f"## {md_cell(title)}", "", md_cell(arms_line(report)), ""]
    lines += ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    lines += [""] + [
        f"- {md_cell(plain_sentence(row, report.alpha, report.design))}"
        for row in report.metrics
        if not row.segment
    ]
    if report.nodes:
        keys, cells = node_table(report)
        lines += ["", f"### {md_cell(label('nodes'))}", ""]
        lines += ["| " + " | ".join(md_cell(label(k)) for k in keys) + " |"]
        lines += ["|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in cells]
    lines += ["", f"### {md_cell(label('alerts'))}", ""]
    fired = [alert_text(report, a) for a in report.alerts if a.fired]
    lines += [f"- {md_cell(text)}" for text in fired] or [f"- {md_cell(label('no_alerts'))}"]
    if report.warnings:
        lines += ["", f"### {md_cell(label('warnings'))}", ""]
        lines += [f"- {md_cell(w)}" for w in report.warnings]
    lines += ["", f"### {md_cell(label('method'))}", ""]
    lines += [f"- {md_cell(text)}" for text in method_section(report)]
    return "\n".join(lines) + "\n"


def method_section(report: PilotReport) -> list[str]:
    """The statistician's figures: test, data, sample ratio check, p-values and intervals."""
    lines = [method_line(report), data_line(report)]
    if report.srm_p_value is not None:
        verdict = _("passed") if report.srm_ok else _("failed: check the assignment")
        lines.append(label("srm") + colon() + f"p={fmt_p(report.srm_p_value)}" + _(", ") + verdict)
    for row in report.metrics:
        where = segment_text(row.segment)
        lines.append(
            _("{metric} ({segment}): {figures}").format(
                metric=visible(row.name), segment=where, figures=method_words(row, report.alpha)
            )
        )
    return lines


NODE_KEYS = (
    "node",
    "count",
    "completion_rate",
    "fallback_rate",
    "failure_rate",
    "timeout_rate",
    "p50_s",
    "p95_s",
    "sla",
    "sla_compliance",
)


def node_table(report: PilotReport) -> tuple[tuple[str, ...], list[list[str]]]:
    """Node figures as cells, nodes named as the playbook names them."""
    cells = []
    for n in report.nodes:
        cells.append(
            [
                node_name(report, n.node),
                f"{n.count:,}",
                rate(n.completion_rate),
                rate(n.fallback_rate),
                rate(n.failure_rate),
                rate(n.timeout_rate),
                seconds(n.p50_s),
                seconds(n.p95_s),
                visible(n.sla) if n.sla else seconds(n.sla_s),
                rate(n.sla_compliance),
            ]
        )
    return NODE_KEYS, cells


def node_name(report: PilotReport, node: str) -> str:
    """A node's name from the playbook (its id when it has none)."""
    return visible(report.node_names.get(node, node))


def alert_text(report: PilotReport, alert: Any) -> str:
    """`个性化内容推送 完成率 87.0% < 90.0%`: node or metric by name, measure in words."""
    if alert.measure:
        watched = _("{node}: {measure}").format(
            node=node_name(report, alert.target), measure=label(alert.measure)
        )
    else:
        watched = visible(report.metric_names.get(alert.target, alert.target))
    if alert.measure in ("p50_s", "p95_s"):
        shown = (seconds(alert.value), seconds(alert.threshold))
    elif alert.measure or (alert.value is not None and 0 <= alert.threshold <= 1):
        shown = (rate(alert.value), rate(alert.threshold))
    else:
        shown = (_num(alert.value), f"{alert.threshold:g}")
    return _("{watched} {value} {op} {threshold} (alert {id})").format(
        watched=watched, value=shown[0], op=alert.op, threshold=shown[1], id=visible(alert.id)
    )


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def rate(value: float | None) -> str:
    """A rate as a percentage."""
    return "—" if value is None else f"{value:.1%}"


def seconds(value: float | None) -> str:
    """A duration people read at a glance (120.2s, 45.5m, 18.1h, 3.0d), seconds up to 10 minutes."""
    if value is None:
        return "—"
    for unit, size, above in (
        (_("{n} d"), 86400, 3 * 86400),
        (_("{n} h"), 3600, 3 * 3600),
        (_("{n} min"), 60, 600),
    ):
        if value >= above:
            return unit.format(n=f"{value / size:.1f}")
    return _("{n} s").format(n=f"{value:.1f}")


_seconds = seconds  # the name opsplay.watch.message imports


@formatter("text")
def format_text(report: PilotReport, color: bool = False) -> str:
    """The terminal summary (opsplay.pilot.terminal)."""
    from opsplay.pilot.terminal import format_terminal

    with language(report.lang):
        return format_terminal(report, color)


__all__ = ["FORMATTERS", "plain_sentence", "report_to_json"]
