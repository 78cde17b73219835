"""Output formats of `pilot compare`, looked up by name: json, csv, markdown, text.

Human formats speak the document language (`report.lang`); text from playbooks and
exports is neutralised for each format (opsplay.text: `csv_cell`, `md_cell`, `visible`).
The terminal format lives in opsplay.pilot.presentation.terminal, the cells both
human formats share in opsplay.pilot.presentation.cells.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from opsplay.i18n import N_, _, language
from opsplay.pilot.presentation.cells import (
    BY_LEVEL,
    OPEN_CASES,
    TABLE_KEYS,
    alert_text,
    arms_line,
    heading,
    method_section,
    node_table,
    open_lines,
    process_lines,
    seconds,
    table_rows,
    waiting_alert_texts,
)
from opsplay.pilot.presentation.words import design_word, fmt_rel, fmt_value, label, plain_sentence
from opsplay.registry import registrar
from opsplay.text import csv_cell, md_cell, visible

if TYPE_CHECKING:
    from opsplay.pilot.judging import MetricResult
    from opsplay.pilot.outcome import PilotReport

JSON_SCHEMA_VERSION = 1
Formatter = Callable[["PilotReport", bool], str]
FORMATTERS: dict[str, Formatter] = {}


formatter = registrar(FORMATTERS)


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
        "value_unit": row.unit,  # the metric's own unit (元, 分钟)
        # what the test counted as independent: the export's units, or clusters (SPEC 11)
        "unit": c.unit,
        "clusters": None
        if c.clusters is None
        else {"baseline": c.clusters[0], "pilot": c.clusters[1]},
        "min_p": c.min_p,
        "method": c.method,
        "baseline": {"n": c.baseline_n, "value": c.baseline_value},
        "pilot": {"n": c.pilot_n, "value": c.pilot_value},
        "abs_diff": c.abs_diff,
        "rel_diff": c.rel_diff,
        # an unbounded side (no effect however large is rejected) is null
        "ci_abs": _bounds(c.ci_abs),
        "ci_rel": _bounds(c.ci_rel),
        # what gave the interval: the test's own formula, or the inversion of the
        # randomisation test whose p is the headline p (SPEC 11)
        # the interval's confidence: 1 − α, or, for a segment row under a correction, the
        # level its corrected verdict is decided at (Holm's step), so the two agree
        "interval_level": 1 - c.alpha if (c.ci_abs or c.ci_rel) else None,
        "interval_method": None if not (c.ci_abs or c.ci_rel) else (c.interval_method or c.method),
        "p_value": c.p_value,
        "p_value_abs": c.p_value_abs,
        "p_adjusted": row.p_adjusted,
        "significant": row.significant,
        "target": row.target,
        "attainment": row.attainment,
        "verdict": row.verdict,
        # CUPED (pre_column): 1 − adjusted/unadjusted variance of the difference; null without
        "variance_reduction": c.variance_reduction,
    }
    if c.theta is not None:
        entry["theta"] = c.theta  # the regression coefficient, pooled over both arms
    if c.before is not None:
        entry["before"] = {
            "baseline": {"n": c.before.baseline_n, "value": c.before.baseline_value},
            "pilot": {"n": c.before.pilot_n, "value": c.before.pilot_value},
        }
    return entry


def _bounds(interval: tuple[float, float] | None) -> list[float | None] | None:
    if not interval:
        return None
    return [value if math.isfinite(value) else None for value in interval]


def _with_missing(entry: dict[str, Any], report: PilotReport) -> dict[str, Any]:
    """Each arm's `missing` and `invalid` counts (SPEC 7), as the readers counted them (none
    for summaries); `invalid` counts the unreadable cells `--skip-bad-rows` let through."""
    counts = report.missing.get((entry["metric"], tuple(entry["segment"].items())))
    if counts is None:  # a dashboard summary does not say
        return entry
    for arm in ("baseline", "pilot"):
        entry[arm]["missing"], entry[arm]["invalid"] = counts.get(arm, (None, None))
        if "before" in entry:
            before = counts.get(f"before_{arm}", (None, None))
            entry["before"][arm]["missing"], entry["before"][arm]["invalid"] = before
    return entry


def report_to_json(report: PilotReport) -> dict[str, Any]:
    """SPEC section 3's JSON document (plus schema_version, options and sources)."""
    options = report.options
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "playbook": {"id": report.playbook_id, "version": report.playbook_version},
        "design": report.design,
        "cluster": report.cluster,
        "assignment_suspects": list(report.assignment),
        "alpha": report.alpha,
        "test": options.test,
        "variance": options.variance,
        "correction": options.correction,
        # true: always-valid intervals and p-values (sequential test, SPEC 11); false: valid
        # for one look at the data only
        "sequential": report.sequential_tuning is not None,
        "sequential_tuning": report.sequential_tuning,
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
                "timeout_rate": n.timeout_rate,
                "p50_s": n.p50_s,
                "p95_s": n.p95_s,
                "sla_s": n.sla_s,
                "sla": n.sla,
                "sla_compliance": n.sla_compliance,
                # open cases as of `as_of` (SPEC 12): breaches past their deadline, pending before
                "open": n.open,
                "breached_open": n.breached_open,
                "pending": n.pending,
                "as_of": n.as_of,
                # cases past their limit: how many and the first ten ids, overall ("all") and
                # per level, and which of those ids are still open (to act on now)
                "missed_cases": {
                    (level or "all"): {
                        "count": count,
                        "first": list(ids),
                        "first_open": [i for i in ids if i in n.missed_open],
                    }
                    for level, (count, ids) in n.missed_cases.items()
                },
            }
            for n in report.nodes
        ],
        "alerts": [alert_json(a) for a in report.alerts],
        "warnings": list(report.warnings),
    }
    if report.weighted is not None:
        document["weighted_attainment"] = report.weighted.to_json()
    if report.process is not None:
        document["process"] = report.process.to_json()
    return _clean(document)


@formatter("json")
def format_json(report: PilotReport, color: bool = False) -> str:
    """Full-precision JSON, Chinese kept readable."""
    return json.dumps(report_to_json(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


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
    # CUPED (a metric's pre_column): abs_diff, rel_diff and their interval are adjusted for
    # the before period; baseline_value and pilot_value are the groups' own
    "adjusted",
)


# Column headers of the CSV in a language other than English (opened in Excel/WPS by people);
# the English CSV keeps the machine names, as JSON keys do.
CSV_HEADERS = {
    "metric": N_("metric id"),
    "name": N_("metric"),
    "segment": N_("segment"),
    "role": N_("type"),
    "kind": N_("metric kind"),
    "baseline_n": N_("baseline n"),
    "baseline_value": N_("baseline value"),
    "pilot_n": N_("pilot n"),
    "pilot_value": N_("pilot value"),
    "abs_diff": N_("change"),
    "rel_diff": N_("deviation rate"),
    "ci_rel_low": N_("deviation rate interval, low"),
    "ci_rel_high": N_("deviation rate interval, high"),
    "p_value": N_("p-value"),
    "p_value_abs": N_("p-value (absolute change)"),
    "p_adjusted": N_("adjusted p-value"),
    "significant": N_("significant"),
    "target": N_("target"),
    "attainment": N_("attainment"),
    "verdict": N_("verdict"),
    "method": N_("test"),
    "correction": N_("multiple-testing correction"),
    "adjusted": N_("change adjusted for the before period"),
}
_CSV_ROLES = {"primary": N_("primary"), "guardrail": N_("guardrail"), "secondary": N_("secondary")}
_CSV_KINDS = {"proportion": N_("proportion"), "mean": N_("mean"), "ratio": N_("ratio")}
_CSV_CORRECTIONS = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": N_("none")}


def _csv_words(cells: list[Any], entry: dict[str, Any]) -> list[Any]:
    """The row's values in the message language: words for roles, kinds, verdicts, tests."""
    from opsplay.pilot.presentation.words import VERDICTS, method_name

    words = dict(zip(CSV_COLUMNS, cells, strict=True))
    words["role"] = _(_CSV_ROLES.get(entry["role"], entry["role"]))
    words["kind"] = _(_CSV_KINDS.get(entry["kind"], entry["kind"]))
    verdict = entry["verdict"]
    if verdict == "inconclusive" and entry["method"] == "point":
        words["verdict"] = _("cannot be tested (dashboard values)")
    elif verdict in VERDICTS:
        words["verdict"] = _(VERDICTS[verdict])
    if entry["method"]:
        words["method"] = method_name(entry["method"])
    for key in ("significant", "adjusted"):
        if isinstance(words[key], bool):
            words[key] = _("yes") if words[key] else _("no")
    correction = words["correction"]
    words["correction"] = _(_CSV_CORRECTIONS.get(correction, correction))
    return list(words.values())


@formatter("csv")
def format_csv(report: PilotReport, color: bool = False) -> str:
    """One row per metric and segment (the overall row's segment 全部 / all users), numbers to six
    significant digits (JSON keeps full precision); UTF-8 BOM for Excel/WPS.

    Headers and words (role, verdict, test) follow the results' language, as people open
    the file in Excel; in English they are the machine names, as JSON keys. Every text cell
    is neutralised against formula injection; numbers stay numbers.
    """
    with language(report.lang):
        return _csv(report)


def _csv(report: PilotReport) -> str:
    english = report.lang == "en"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS if english else [_(CSV_HEADERS[c]) for c in CSV_COLUMNS])
    for entry in report_to_json(report)["metrics"]:
        ci = entry["ci_rel"] or [None, None]
        cells = [
            entry["metric"],
            entry["name"],
            ";".join(f"{k}={v}" for k, v in entry["segment"].items()) or _("all users"),
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
            entry.get("variance_reduction") is not None,
        ]
        if not english:
            cells = _csv_words(cells, entry)
        writer.writerow(
            [csv_cell(visible(c)) if isinstance(c, str) else _for_people(c) for c in cells]
        )
    return "\ufeff" + buffer.getvalue()


def _for_people(value: Any) -> Any:
    """A number as people read it in Excel or WPS: six significant digits, never in scientific
    notation (0.145, not 0.14500000000000002; 0.0000602972, not 6.0e-05). JSON keeps them whole."""
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        return value
    if value == 0:
        return 0
    return format(Decimal(f"{value:.6g}").normalize(), "f")


@formatter("markdown")
def format_markdown(report: PilotReport, color: bool = False) -> str:
    """Markdown: the metric table, plain sentences, nodes, alerts, warnings, method."""
    with language(report.lang):
        return _markdown(report)


# p-values and intervals stay in the method section (SPEC section 9), not in the main table.
_MARKDOWN_HIDDEN = frozenset({"ci_rel", "p_value", "p_adjusted"})


def _markdown(report: PilotReport) -> str:
    header, rows = table_rows(report)
    keep = [i for i, key in enumerate(TABLE_KEYS) if key not in _MARKDOWN_HIDDEN]
    header, rows = [header[i] for i in keep], [[row[i] for i in keep] for row in rows]
    title = f"{heading(report)} — {design_word(report.design, report.cluster)}"
    lines = [f"## {md_cell(title)}", "", md_cell(arms_line(report)), ""]
    lines += ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    lines += [""] + [
        f"- {md_cell(plain_sentence(row, report.alpha, report.design))}"
        for row in report.metrics
        if not row.segment
    ]
    if report.weighted is not None:
        lines.append(f"- **{md_cell(report.weighted.line(report.lang))}**")
    if report.nodes:
        keys, cells = node_table(report)
        lines += ["", f"### {md_cell(label('nodes'))}", ""]
        lines += ["| " + " | ".join(md_cell(label(k)) for k in keys) + " |"]
        lines += ["|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in cells]
    for title, shown in ((OPEN_CASES, open_lines(report)), (BY_LEVEL, process_lines(report))):
        if shown:  # each heading only above lines it is true of
            lines += ["", f"### {md_cell(_(title))}", ""]
            lines += [f"- {md_cell(line)}" for line in shown]
    lines += ["", f"### {md_cell(label('alerts'))}", ""]
    fired = [alert_text(report, a) for a in report.alerts if a.fired]
    lines += [f"- {md_cell(text)}" for text in fired] or [f"- {md_cell(label('no_alerts'))}"]
    lines += [f"- {md_cell(text)}" for text in waiting_alert_texts(report)]
    if report.warnings:
        lines += ["", f"### {md_cell(label('warnings'))}", ""]
        lines += [f"- {md_cell(w)}" for w in report.warnings]
    lines += ["", f"### {md_cell(label('method'))}", ""]
    lines += [f"- {md_cell(text)}" for text in method_section(report)]
    return "\n".join(lines) + "\n"


# Names opsplay.watch imports from here.
_seconds = seconds
__all__ = ["FORMATTERS", "fmt_rel", "fmt_value", "plain_sentence", "report_to_json"]


@formatter("text")
def format_text(report: PilotReport, color: bool = False) -> str:
    """The terminal summary (opsplay.pilot.presentation.terminal)."""
    from opsplay.pilot.presentation.terminal import format_terminal

    with language(report.lang):
        return format_terminal(report, color)


def alert_json(alert: Any) -> dict[str, Any]:
    """One evaluated alert as the JSON outputs carry it (pilot compare, watch)."""
    return {
        "id": alert.id,
        ("metric" if alert.measure is None else "node"): alert.target,
        "measure": alert.measure,
        "value": alert.value,
        "op": alert.op,
        "threshold": alert.threshold,
        "severity": alert.severity,
        "fired": alert.fired,
        # fired | pending (held on `held` of the `for` looks) | ok | not_enough_data | not_evaluated
        "status": alert.status,
        "n": alert.n,
        "min_n": alert.min_n,
        "for": alert.runs_needed,
        "held": alert.held,
    }
