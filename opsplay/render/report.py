"""Review reports (效果复盘): a `pilot compare` result rendered against its playbook.

The input is the dict `opsplay pilot compare --format json` prints (SPEC section 3, plus
`sources` and `warnings`); nothing is recomputed here except the verdict and next step,
whose rule `decide` implements and the report states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from opsplay.errors import InputError
from opsplay.i18n import N_, _, translate
from opsplay.labels import label_of, listing
from opsplay.model.playbook import COMPARATORS, Playbook
from opsplay.pilot.judging import UNTESTED_VERDICTS, Verdict
from opsplay.render.environment import get_renderer
from opsplay.render.filters import pvalue
from opsplay.render.plain import explain
from opsplay.render.sop import (
    Source,
    check_format,
    check_lang,
    drawn_flowchart,
    flow,
    playbook_data,
)

VERDICTS = get_args(Verdict)
DESIGNS = ("ab", "before_after", "did")
ROLES = ("primary", "guardrail", "secondary")

# Why the conclusion is what it is: reason codes of `decide`, with their parameters.
REASONS = {
    "no_primary": N_("the data has no result for a primary metric"),
    "all_inconclusive": N_("no primary metric could be tested (too few units or no variance)"),
    "srm": N_(
        "the groups' sizes do not match the planned split, so the assignment cannot be trusted"
    ),
    "primary_achieved": N_("primary {metrics} met"),
    "primary_improved": N_("primary {metrics} improved but short of the target"),
    "primary_improved_no_target": N_(
        "primary {metrics} improved significantly (no target value is set for it)"
    ),
    "primary_flat": N_("primary {metrics} showed no significant change"),
    "primary_inconclusive": N_("primary {metrics} had not enough data"),
    "primary_worse": N_("primary {metrics} got significantly worse"),
    "guardrail_worse": N_("guardrail {metrics} got significantly worse"),
    "critical_alerts": N_("critical alert(s) {alerts} fired"),
    "not_causal": N_("a before/after design does not rule out other changes in the period"),
    "assigned_by": N_(
        "the pilot looks assigned by {columns}, and its tests counted users as independent"
    ),
    "primary_untestable": N_(
        "primary {metrics} cannot be tested: one cluster in a group gives nothing to compare "
        "its ups and downs with"
    ),
}
# What Table 3's columns mean for each design.
TABLE3_NOTES = {
    "ab": N_(
        "Baseline is the control arm, pilot the pilot arm; deviation rate = (pilot − baseline) / baseline."
    ),
    "before_after": N_(
        "Baseline is before the change, pilot during the pilot; deviation rate = (pilot − baseline) / baseline. A before/after comparison does not rule out other changes in the same period, so it is not causal."
    ),
    "did": N_(
        "Baseline and pilot are the pilot group before and after the change; the deviation rate is the relative difference in differences, net of the comparison group's change."
    ),
}
# How each figure was computed (the report's Method section): (the designs a line applies
# to, None for every design; its text).
METHOD = (
    (
        None,
        N_(
            "Deviation rate (relative change) = (pilot − baseline) / baseline; the absolute change is in percentage points (proportions) or in the metric's unit."
        ),
    ),
    (
        ("ab", "before_after"),
        N_(
            "p-values and intervals come from Welch's t-test (as GrowthBook's frequentist engine), with the delta method for the relative change; primary metrics are corrected for multiple comparisons (adjusted p)."
        ),
    ),
    (
        ("did",),
        N_(
            "Difference in differences = (pilot after − pilot before) − (comparison after − comparison before), with normal-distribution intervals and p-values."
        ),
    ),
    (
        None,
        N_("Target attainment = (pilot value − goal baseline) / (goal target − goal baseline)."),
    ),
    (
        None,
        N_(
            "Verdicts: target met = significant and the target reached; improved / worse = significant in the better / worse direction; no change = enough data but not significant; not enough data = fewer units than the minimum, or no variance; cannot be tested = one region in a group; went up / went down / no clear change = a before/after comparison, which shows no cause."
        ),
    ),
    (
        None,
        N_(
            "SLA compliance = runs within their time limit / runs judged: the finished runs, plus the open ones already past their deadline at the evaluation time (counted as breached); open runs not yet due are pending and left out of the rate. A length limit is judged on the duration (in business hours for a node with a calendar), a calendar limit (3个工作日, T+1, 次日12点前) on the finish time against its deadline. Completion, fallback and failure rates are shares of all runs."
        ),
    ),
)
# The rule `decide` applies, as the report states it.
DECISION_RULES = (
    N_(
        "Not enough data: no primary metric result, every primary metric has not enough data, or the sample ratio check failed."
    ),
    N_("Met: every primary metric met its target (improved, for a metric without a target)."),
    N_("Partly met: at least one primary metric met its target or improved, but not all."),
    N_("Not met: everything else."),
    N_(
        "With not enough data the next step is to iterate: extend the pilot or collect more "
        "data; when the sample ratio check failed, to check how users were assigned, fix it "
        "and measure again."
    ),
    N_(
        "Stop: any primary metric got significantly worse, or not met and any guardrail got significantly worse."
    ),
    N_("Promote: met, no guardrail significantly worse and no critical alert fired."),
    N_(
        "This design cannot tell: a before/after comparison, or one pilot region, whatever the "
        "figures; the next step is to add regions that keep the old process, never to promote. "
        "A pilot that looks assigned by region without pilot.cluster is never promoted either."
    ),
    N_("Iterate: everything else."),
)


@dataclass(frozen=True)
class Decision:
    """The one-line conclusion, the next step, and why (reason codes with their parameters)."""

    conclusion: str
    next_step: str
    reasons: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)


def overall_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """Metric rows of the whole pilot (no segment)."""
    return [row for row in comparison.get("metrics", []) if not row.get("segment")]


def _achieved(row: dict[str, Any]) -> bool:
    """Met its target; a metric without a target counts when it improved significantly."""
    return row.get("verdict") == "met" or (
        row.get("verdict") == "improved" and row.get("target") is None
    )


def decide(comparison: dict[str, Any], critical_alerts: list[str] | None = None) -> Decision:
    """Conclusion and next step from the overall rows (the rule is printed in every report).

    Conclusion: `insufficient` when there is no primary row, every primary is
    `inconclusive`, or the sample ratio check failed; `met` when every primary is
    achieved (`met`, or `improved` without a target); `partly` when at least one primary
    is `met` or `improved`; else `not_met`; `untested` when no primary could be tested by
    its design (before/after without a comparison group, one cluster in a group), whose next
    step is `add_comparison`, never `promote` (SPEC 11).
    Next step: `check_assignment` when the sample ratio check failed; `iterate` with
    insufficient data; `stop` when a primary is `worse`, or the
    conclusion is `not_met` and a guardrail is `worse`; `promote` when `met`, no guardrail
    is `worse` and no critical alert fired; else `iterate`.
    """
    rows = overall_rows(comparison)
    primaries = [row for row in rows if row.get("role") == "primary"]
    guardrails = [row for row in rows if row.get("role") == "guardrail"]
    reasons: list[tuple[str, dict[str, Any]]] = []

    def add(code: str, selected: list[dict[str, Any]]) -> None:
        if selected:
            reasons.append((code, {"metrics": _names(selected)}))

    srm = comparison.get("srm") or {}
    worse = [row for row in primaries if row.get("verdict") == "worse"]
    guardrails_worse = [row for row in guardrails if row.get("verdict") == "worse"]
    untested = [row for row in primaries if row.get("verdict") in UNTESTED_VERDICTS]
    if not primaries:
        conclusion = "insufficient"
        reasons.append(("no_primary", {}))
    elif len(untested) == len(primaries) or comparison.get("design") == "before_after":
        # (a comparison saved by an older opsplay may still judge a before/after: not here)
        conclusion = "untested"
        add("primary_untestable", [r for r in untested if r.get("verdict") == "not_testable"])
    elif all(row.get("verdict") == "inconclusive" for row in primaries):
        conclusion = "insufficient"
        reasons.append(("all_inconclusive", {}))
    elif srm.get("ok") is False:
        conclusion = "insufficient"
        reasons.append(("srm", {"p": pvalue(srm.get("p_value"))}))
    elif all(_achieved(row) for row in primaries):
        conclusion = "met"
    elif any(row.get("verdict") in ("met", "improved") for row in primaries):
        conclusion = "partly"
    else:
        conclusion = "not_met"
    add("primary_worse", worse)
    add("primary_achieved", [row for row in primaries if row.get("verdict") == "met"])
    add(
        "primary_improved_no_target",
        [row for row in primaries if _achieved(row) and row.get("verdict") != "met"],
    )
    add(
        "primary_improved",
        [row for row in primaries if row.get("verdict") == "improved" and not _achieved(row)],
    )
    add("primary_flat", [row for row in primaries if row.get("verdict") == "no_change"])
    if reasons[-1:] != [("all_inconclusive", {})]:
        add(
            "primary_inconclusive",
            [row for row in primaries if row.get("verdict") == "inconclusive"],
        )
    add("guardrail_worse", guardrails_worse)
    if critical_alerts:
        reasons.append(("critical_alerts", {"alerts": list(critical_alerts)}))

    suspects = comparison.get("assignment_suspects") or []
    if suspects:
        reasons.append(("assigned_by", {"columns": list(suspects[:1])}))
    if conclusion == "untested":
        # before/after, or one region per group: a period shock moves the metric as much as
        # the change, so the next step is a comparison, never a rollout (SPEC 11)
        next_step = "add_comparison"
    elif suspects:
        # users of one region were counted as independent: no figure can carry a rollout
        next_step = "declare_cluster"
    elif (comparison.get("srm") or {}).get("ok") is False:
        # the groups' sizes do not match the split: the assignment, not the process, is at fault
        next_step = "check_assignment"
    elif conclusion == "insufficient":
        next_step = "iterate"
    elif worse or (conclusion == "not_met" and guardrails_worse):
        next_step = "stop"
    elif conclusion == "met" and not guardrails_worse and not critical_alerts:
        next_step = "promote"
    else:
        next_step = "iterate"
    if comparison.get("design") == "before_after":
        reasons.append(("not_causal", {}))
    return Decision(conclusion, next_step, tuple(reasons))


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [str(row.get("metric_name") or row.get("metric")) for row in rows]


def load_comparison(path: Path) -> dict[str, Any]:
    """A saved `opsplay pilot compare --format json` result."""
    from opsplay.discovery import require_regular_file

    require_regular_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(_("{path}: no such file").format(path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            _("{path}: cannot read the file: {reason}").format(path=path, reason=error)
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            _("{where}: not valid JSON: {problem}").format(
                where=f"{path}:{error.lineno}:{error.colno}", problem=error.msg
            )
        ) from None
    return check_comparison(data, str(path))


def check_comparison(data: Any, origin: str = "comparison") -> dict[str, Any]:
    """The comparison dict, or an InputError saying what is missing (keys rendering relies on)."""
    hint = _("expected the output of `opsplay pilot compare --format json`")

    def problem(text: str) -> InputError:
        return InputError(
            _("{where}: {problem}; {hint}").format(where=origin, problem=text, hint=hint)
        )

    if not isinstance(data, dict):
        raise InputError(f"{origin}: {hint}")
    if not isinstance(data.get("metrics"), list) or not all(
        isinstance(row, dict) for row in data["metrics"]
    ):
        raise problem(_("`metrics` must be a list of metric rows"))
    for index, row in enumerate(data["metrics"]):
        missing = [key for key in ("metric", "baseline", "pilot") if key not in row]
        if (
            missing
            or not isinstance(row.get("baseline"), dict)
            or not isinstance(row.get("pilot"), dict)
        ):
            raise problem(
                _("{field} lacks {keys}").format(
                    field=f"metrics[{index}]", keys=_(", ").join(missing) or "baseline/pilot"
                )
            )
        if row.get("verdict") is not None and row["verdict"] not in VERDICTS:
            raise problem(_not_one_of(f"metrics[{index}].verdict", row["verdict"], VERDICTS))
    if data.get("design") not in (None, *DESIGNS):
        raise problem(_not_one_of("design", data["design"], DESIGNS))
    for index, row in enumerate(data["metrics"]):
        if row.get("role") not in (None, *ROLES):
            raise problem(_not_one_of(f"metrics[{index}].role", row["role"], ROLES))
    for key in ("nodes", "alerts", "sources", "warnings"):
        if data.get(key) is not None and not isinstance(data[key], list):
            raise problem(_("`{field}` must be a list").format(field=key))
    return data


def _not_one_of(field: str, value: Any, known: tuple[str, ...]) -> str:
    return _("{field} `{value}` is not one of {known}").format(
        field=field, value=value, known=", ".join(known)
    )


def _segment_label(segment: dict[str, Any] | None, overall: str, lang: str) -> str:
    """A segment in words: `地区为华东` / `region: East` (never `地区=华东`)."""
    if not segment:
        return overall
    # TRANSLATORS: one segment of a pilot, e.g. 地区为华东.
    words = translate(N_("{column}: {value}"), lang)
    return translate(N_(", "), lang).join(
        words.format(column=key, value=value) for key, value in segment.items()
    )


def report_context(
    playbook: Playbook,
    comparison: dict[str, Any],
    *,
    lang: str,
    fmt: str,
    source: Source | None = None,
) -> dict[str, Any]:
    """Everything a report template receives (plain data; see templates/README.md)."""
    from opsplay.pilot.weighting import from_json
    from opsplay.render.chart import comparison_chart

    comparison = check_comparison(comparison)
    data = playbook_data(playbook)
    metrics = {metric["id"]: metric for metric in data["metrics"]}
    nodes = {node["id"]: node for node in data["nodes"]}
    playbook_alerts = {alert["id"]: alert for alert in data["alerts"]}
    pilot = data["pilot"] or {}
    found = comparison.get("playbook") or {}
    if found.get("id") not in (None, playbook.metadata.id):
        raise InputError(
            _(
                "the comparison is for playbook `{found}`, not `{id}`; "
                "pass the playbook it was computed from"
            ).format(found=found.get("id"), id=playbook.metadata.id)
        )
    findings = {f["metric"]: f for f in (data["review"] or {}).get("findings", [])}
    everyone = translate(N_("all"), lang)
    overall_scope = pilot.get("scope") or everyone
    weighted = from_json(comparison, playbook)  # 综合达成度, when the pilot's metrics have weights

    design = comparison.get("design") or pilot.get("design") or "ab"
    rows = []
    for raw in comparison["metrics"]:
        metric = metrics.get(raw["metric"])
        if metric is None:
            raise InputError(
                _(
                    "the comparison has metric `{metric}`, which the playbook does not define"
                ).format(metric=raw["metric"])
            )
        row = dict(raw)
        role = raw.get("role") or (
            "primary"
            if raw["metric"] in pilot.get("metrics", [])
            else "guardrail"
            if raw["metric"] in pilot.get("guardrails", [])
            else "secondary"
        )
        verdict = raw.get("verdict") or "inconclusive"
        row.update(
            {
                "segment": raw.get("segment") or {},
                "kind": raw.get("kind") or metric["kind"],
                "role": role,
                "verdict": verdict,
                # a dashboard value cannot be tested: not "not enough data" (as pilot compare)
                "verdict_label": label_of(
                    "verdict",
                    "dashboard"
                    if verdict == "inconclusive" and raw.get("method") == "point"
                    else verdict,
                    lang,
                ),
                "before": raw.get("before"),
                "metric_name": metric["name"],
                "unit": metric["unit"],
                "better": metric["better"],
                "scope": _segment_label(raw.get("segment"), overall_scope, lang),
                # the significance and DiD tables: 全部 or the segment, not the long scope
                "segment_label": _segment_label(raw.get("segment"), everyone, lang),
                "is_overall": not raw.get("segment"),
                "finding": findings.get(raw["metric"]) if not raw.get("segment") else None,
                "direction": {"met": "better", "improved": "better", "worse": "worse"}.get(verdict),
                # Table 3's "before": the pilot group before the change (DiD), else the baseline.
                "before_value": (raw.get("before") or {}).get("pilot", {}).get("value")
                if design == "did"
                else raw["baseline"].get("value"),
            }
        )
        for key in (
            "abs_diff",
            "rel_diff",
            "ci_abs",
            "ci_rel",
            "p_value",
            "p_value_abs",
            "p_adjusted",
            "significant",
            "target",
            "attainment",
        ):
            row.setdefault(key, None)
        rows.append(row)
    overall = [row for row in rows if row["is_overall"]]

    occurrences = (comparison.get("process") or {}).get("schedule_occurrences") or {}
    alerts = []
    for raw in comparison.get("alerts") or []:
        definition = playbook_alerts.get(raw.get("id"), {})
        alert = dict(raw)
        due = occurrences.get(raw.get("node")) if isinstance(occurrences, dict) else None
        alert.update(
            {
                "severity": definition.get("severity", "warning"),
                "subject": definition.get("subject"),
                "subject_name": definition.get("subject_name", raw.get("id")),
                "measure": definition.get("measure"),
                "level": definition.get("level"),
                "value_kind": definition.get("value_kind"),
                "unit": definition.get("unit"),
                "acting_name": definition.get("acting_name"),
                "action": definition.get("action"),
                "fired": bool(raw.get("fired")),
                # no value and not fired: the data it needs (an event log, say) was not given
                "evaluated": bool(raw.get("fired")) or raw.get("value") is not None,
                # a schedule alert on a node with no occurrence on the log's days
                "nothing_due": definition.get("measure") == "schedule_adherence"
                and isinstance(due, dict)
                and due.get("total") == 0,
            }
        )
        for key in ("value", "op", "threshold"):
            alert.setdefault(key, definition.get(key))
        alerts.append(alert)
    fired = [alert for alert in alerts if alert["fired"]]
    critical = [alert["id"] for alert in fired if alert["severity"] == "critical"]

    node_results = []
    for raw in comparison.get("nodes") or []:
        node = nodes.get(raw.get("node"), {})
        result = dict(raw)
        result.update(
            {
                "name": node.get("name", raw.get("node")),
                "owner_name": node.get("owner_name"),
                "sla": node.get("sla"),  # as written in the playbook
                "calendar": node.get("calendar"),  # business hours its lengths count in
                "sla_realtime": node.get("sla_realtime", False),
                "sla_seconds": node.get("sla_seconds"),
            }
        )
        for key in (
            "count",
            "completion_rate",
            "fallback_rate",
            "failure_rate",
            "p50_s",
            "p95_s",
            "sla_s",
            "sla_compliance",
        ):
            result.setdefault(key, None)
        node_results.append(result)

    decision = decide({**comparison, "metrics": rows}, critical)
    goal_row = next((row for row in overall if row["metric"] == data["goal"]["metric"]), None)
    expected = []
    by_metric = {row["metric"]: row for row in overall}
    for scenario in data["scenarios"]:
        for item in scenario["expected"]:
            actual = (by_metric.get(item["metric"]) or {}).get("pilot", {}).get("value")
            expected.append(
                {
                    **item,
                    "scenario": scenario["name"],
                    "actual": actual,
                    "reached": None
                    if actual is None
                    else COMPARATORS[item["op"]](actual, item["value"]),
                }
            )

    notes = []
    srm = comparison.get("srm")
    if srm and srm.get("p_value") is not None:
        notes.append(
            translate(
                N_("The groups' sizes match the planned split.")
                if srm.get("ok", True)
                else N_(
                    "The groups' sizes do not match the planned split: the assignment may be "
                    "broken; do not trust the results."
                ),
                lang,
            )
        )
    if found.get("version") not in (None, playbook.metadata.version):
        notes.append(
            translate(
                N_("The analysis is for {id}@{found}; the playbook is at version {expected}."), lang
            ).format(
                id=playbook.metadata.id,
                found=found.get("version"),
                expected=playbook.metadata.version,
            )
        )
    alpha = comparison.get("alpha", pilot.get("alpha", 0.05))
    meta = data["metadata"]
    return {
        "lang": lang,
        "format": fmt,
        "playbook": data,
        "source": {"path": source.path, "sha256": source.sha256} if source else None,
        "front_matter": {
            "title": translate(N_("{title}: review report"), lang).format(title=meta["title"]),
            "id": meta["id"] + "-report",
            "playbook_id": meta["id"],
            "version": meta["version"],
            "status": meta["status"],
            "status_label": label_of("status", meta["status"], lang),
            "owner": meta["owner"],
            "design": design,
            "design_label": label_of("design", design, lang),
            "period": pilot.get("period"),
            "conclusion": decision.conclusion,
            "conclusion_label": label_of("conclusion", decision.conclusion, lang),
            "next_step": decision.next_step,
            "next_step_label": label_of("next_step", decision.next_step, lang),
            "tags": meta["tags"],
            "lang": lang,
            "playbook": source.path if source else None,  # not `source` (see sop.front_matter)
            "sha256": source.sha256 if source else None,
        },
        "comparison": comparison,
        "design": design,
        "alpha": alpha,
        "confidence": 1 - alpha,
        "rows": rows,
        "overall": overall,
        "segments": [row for row in rows if not row["is_overall"]],
        "primaries": [row for row in overall if row["role"] == "primary"],
        "guardrails": [row for row in overall if row["role"] == "guardrail"],
        # declared guardrails the comparison has no figures for: not checked, not "none set"
        "guardrails_without_data": [
            metrics[metric].get("name") or metric if metric in metrics else metric
            for metric in pilot.get("guardrails", [])
            if not any(row["metric"] == metric for row in overall)
        ],
        "goal": {**data["goal"], "row": goal_row},
        "weighted_line": weighted.line(lang) if weighted else None,
        "expected": expected,
        "nodes": node_results,
        "level_lines": _open_case_lines(comparison.get("nodes"), nodes, lang)
        + _level_lines(comparison.get("process"), nodes, lang),
        "alerts": alerts,
        "fired_alerts": fired,
        "unevaluated_alerts": [a for a in alerts if not a["evaluated"] and not a["nothing_due"]],
        "srm": srm,
        "sources": [
            {
                key: source_row.get(key)
                for key in ("path", "shape", "encoding", "rows", "skipped_rows")
            }
            | source_row
            for source_row in comparison.get("sources") or []
            if isinstance(source_row, dict)
        ],
        "method": _method_names(comparison),
        "warnings": [str(w) for w in comparison.get("warnings") or []],
        "notes": notes,
        "decision": {
            "conclusion": decision.conclusion,
            "next_step": decision.next_step,
            "reasons": [
                translate(REASONS[code], lang).format(
                    **{
                        key: listing(value, lang=lang) if isinstance(value, list) else value
                        for key, value in params.items()
                    }
                )
                for code, params in decision.reasons
            ],
        },
        "table3_note": translate(TABLE3_NOTES[design], lang),
        "explanations": [
            explain(row, design=design, confidence=1 - alpha, lang=lang) for row in overall
        ],
        "method_lines": _method_lines(comparison, design, lang),
        "decision_rules": [translate(line, lang) for line in DECISION_RULES],
        "chart": comparison_chart(overall, lang=lang) if fmt == "html" else "",
        "flowchart_svg": drawn_flowchart(flow(data), data, lang) if fmt == "html" else None,
    }


_TEST_NAMES = {"welch": "Welch t", "z": "z", "sequential": "sequential"}
_CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": None}


def _method_lines(comparison: dict[str, Any], design: str, lang: str) -> list[str]:
    """The Method section: how each figure was computed, the sequential test and the
    before-period adjustment (SPEC 11) said in plain words when they were used."""
    from opsplay.pilot.presentation.cells import CUPED_WORDS, SEQUENTIAL_WORDS

    sequential = bool(comparison.get("sequential"))
    lines = []
    clustered = bool(comparison.get("cluster"))
    for designs, line in METHOD:
        if designs is not None and design not in designs:
            continue
        if line in (METHOD[1][1], METHOD[2][1]):  # the test: which one this comparison ran
            if design == "before_after":
                line = BEFORE_AFTER_METHOD
            elif clustered:
                line = CLUSTER_METHOD
            elif sequential and line is METHOD[1][1]:
                line = SEQUENTIAL_METHOD
        text = translate(line, lang)
        if line is CLUSTER_METHOD:
            text = text.format(cluster=comparison["cluster"])
        lines.append(text)
    if sequential:
        lines.append(translate(SEQUENTIAL_WORDS, lang))
    metrics = [m for m in comparison.get("metrics") or [] if isinstance(m, dict)]
    if any(m.get("variance_reduction") is not None for m in metrics):
        lines.append(translate(CUPED_WORDS, lang))
    return lines


CLUSTER_METHOD = N_(
    "The pilot was assigned by {cluster}, so each {cluster} counts as one unit: the metric is "
    "the ratio of the totals per {cluster}, its interval from a Welch t-test on the number of "
    "{cluster} values; with fewer than 30 per group the p-value comes from re-assigning the "
    "{cluster} values to the groups (randomisation test) and the interval from the same test "
    "(the changes it does not reject), and with one pilot {cluster} from ranking its change "
    "among the comparison values' (placebo test)."
)
BEFORE_AFTER_METHOD = N_(
    "No p-value: a before/after comparison cannot tell the change from anything else that "
    "happened in the same period. The interval is the range of the change seen, not of its "
    "cause."
)
SEQUENTIAL_METHOD = N_(
    "p-values and intervals come from a sequential test (GrowthBook's, always valid over "
    "repeated looks), with the delta method for the relative change; primary metrics are "
    "corrected for multiple comparisons (adjusted p)."
)


def _level_lines(process: Any, nodes: dict[str, Any], lang: str) -> list[str]:
    """Per-level compliance and schedule adherence lines (SPEC 8), nodes by name."""
    if not isinstance(process, dict):
        return []
    from opsplay.humantime import duration
    from opsplay.pilot.presentation.cells import level_lines

    return level_lines(
        process,
        lambda node: str(nodes.get(node, {}).get("name") or node),
        lambda message: translate(message, lang),
        written=nodes,  # each node's `sla` as written and its `calendar`
        lang=lang,
        duration=lambda value: duration(value, lang=lang),
    )


def _open_case_lines(figures: Any, nodes: dict[str, Any], lang: str) -> list[str]:
    """Open cases per node as of the evaluation time (SPEC 12), nodes by name."""
    from opsplay.pilot.presentation.cells import open_case_lines

    return open_case_lines(
        figures,
        lambda node: str(nodes.get(node, {}).get("name") or node),
        lambda message: translate(message, lang),
    )


def _method_names(comparison: dict[str, Any]) -> dict[str, str | None]:
    """The test and correction as readers know them (Welch t, Holm), not option values."""
    test = comparison.get("test")
    correction = comparison.get("correction")
    if comparison.get("sequential"):
        test = "sequential"
    name = _TEST_NAMES.get(test, test) if test else None
    if name and comparison.get("variance") == "pooled":
        name += " (pooled)"
    return {"test": name, "correction": _CORRECTION_NAMES.get(correction, correction)}


def render_report(
    playbook: Playbook,
    comparison: dict[str, Any],
    *,
    lang: str | None = None,
    fmt: str = "md",
    templates_dir: Path | None = None,
    source: Source | None = None,
) -> str:
    """The review report of one pilot, from template `report.<fmt>.j2`."""
    language = check_lang(lang, playbook)
    context = report_context(
        playbook, comparison, lang=language, fmt=check_format(fmt), source=source
    )
    from opsplay.watch.trend import iteration_trend  # the history in the state file, if any

    context["trend"] = iteration_trend(playbook, comparison, lang=language, fmt=fmt)
    return get_renderer(language, templates_dir).render(f"report.{fmt}.j2", context)
