"""Pilot results as the cells and lines people read: the metric and node tables, alert
lines by node name, the arms line and the method section. Shared by the Markdown and the
terminal formats; everything speaks the message language (callers set the document
language with `opsplay.i18n.language`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opsplay.i18n import N_, _
from opsplay.pilot.presentation.words import (
    OPS,
    SHAPES,
    colon,
    fmt_abs,
    fmt_interval,
    fmt_p,
    fmt_rel,
    fmt_value,
    label,
    method_words,
    not_enough_words,
    p_is,
    row_verdict,
    segment_text,
)
from opsplay.text import visible

if TYPE_CHECKING:
    from opsplay.pilot.judging import MetricResult
    from opsplay.pilot.outcome import PilotReport


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
        return value + "\n" + _("n={n}").format(n=f"{n:,}")
    return _("{value} (n={n})").format(value=value, n=f"{n:,}")


def heading(report: PilotReport) -> str:
    """`售后退款工单处理（refund-tickets）1.1.0 版`: the process by its name, then its id."""
    if not report.playbook_title:
        return f"{visible(report.playbook_id)}@{visible(report.playbook_version)}"
    return _("{title} ({id}), version {version}").format(
        title=visible(report.playbook_title),
        id=visible(report.playbook_id),
        version=visible(report.playbook_version),
    )


def method_line(report: PilotReport) -> str:
    """How the figures were computed, stated in every human format (SPEC section 4)."""
    options = report.options
    test = {"welch": _("Welch t-test"), "z": _("z-test")}[options.test]
    if options.variance == "pooled":
        test = _("z-test with pooled variance")
    if report.design == "did":  # the four-cell estimate is tested on the normal scale
        test = _("difference in differences, normal approximation")
    if report.cluster:
        test = _(
            "each `{cluster}` counted as one unit: ratio of the totals per `{cluster}`, Welch "
            "t on the `{cluster}` counts; with fewer than 30 per group the p-value comes from "
            "re-assigning the `{cluster}` values to the groups (randomisation test), and the "
            "interval from the same test (the changes it does not reject)"
        ).format(cluster=visible(report.cluster))
    if report.design == "before_after":
        test = _("no test: a before/after comparison cannot tell the change from the period")
    if report.sequential_tuning is not None:
        test = _("sequential test, valid at every look (tuning {tuning})").format(
            tuning=f"{report.sequential_tuning:g}"
        )
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


# Beside a change and a deviation rate computed with CUPED (a metric's `pre_column`): the arm
# values are the groups' own, the change is the adjusted one, so the two need not agree.
ADJUSTED = N_("adjusted for the before period")


def adjusted(row: Any) -> bool:
    """Whether a row's change and deviation rate are CUPED-adjusted (SPEC 11)."""
    return row.comparison.variance_reduction is not None


def adjusted_cell(value: str, row: Any, stacked: bool = False) -> str:
    """A change cell, labelled when it is adjusted: `-2.7 个百分点（已按试点前调整）`, or the
    label on a second line in a terminal table."""
    if not adjusted(row) or value == "—":
        return value
    if stacked:
        return value + "\n" + _(ADJUSTED)
    return _("{value} ({adjusted})").format(value=value, adjusted=_(ADJUSTED))


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
                adjusted_cell(fmt_abs(c.abs_diff, row.kind, row.unit), row),
                adjusted_cell(fmt_rel(c.rel_diff), row),
                fmt_interval(c.ci_rel),
                fmt_p(c.p_value),
                fmt_p(row.p_adjusted),
                fmt_value(row.target, row.kind, row.unit),
                "—" if row.attainment is None else f"{row.attainment:.0%}",
                row_verdict(row),
            ]
        )
    return header, rows


# Why the intervals of a sequential test are wider, and what CUPED did (SPEC 11), in plain words;
# the review report states the same sentences.
SEQUENTIAL_WORDS = N_(
    "Repeated looks: these intervals and p-values stay valid however often the results are "
    "looked at (a sequential test, as GrowthBook's). They are wider than a single look's would "
    "be, because every look is one more chance for chance alone to cross the line; the extra "
    "width pays for all the looks, so a scheduled check does not raise false alarms."
)
CUPED_WORDS = N_(
    "Before-period adjustment (CUPED): metrics with a pre_column are compared after taking out "
    "what each unit's own value before the pilot predicts (as GrowthBook's regression "
    "adjustment), which narrows their intervals by the variance reduction shown; the values "
    "shown are the groups' own."
)


def method_section(report: PilotReport) -> list[str]:
    """The statistician's figures: test, data, sample ratio check, p-values and intervals."""
    lines = [method_line(report), data_line(report)]
    if report.sequential_tuning is not None:
        lines.append(_(SEQUENTIAL_WORDS))
    if any(row.comparison.variance_reduction is not None for row in report.metrics):
        lines.append(_(CUPED_WORDS))
    if report.srm_p_value is not None:
        verdict = _("passed") if report.srm_ok else _("failed: check the assignment")
        lines.append(label("srm") + colon() + p_is(report.srm_p_value) + _(", ") + verdict)
    elif report.design == "ab" and not report.cluster and report.metrics:
        # a summary without sample sizes: say the check was not done, not nothing
        lines.append(label("srm") + colon() + _("not done (the data give no group sizes)"))
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


def node_table(
    report: PilotReport, per_line: bool = False
) -> tuple[tuple[str, ...], list[list[str]]]:
    """Node figures as cells, nodes named as the playbook names them; a limit per level one
    level a line when `per_line` (a terminal table), else listed (`P1 5分钟、P2 30分钟`)."""
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
                limit_cell(report, n, per_line),
                rate(n.sla_compliance),
            ]
        )
    return NODE_KEYS, cells


def limit_cell(report: PilotReport, figures: Any, per_line: bool = False) -> str:
    """A node's limit as the playbook writes it, as the SOP and the review report show it:
    each level's (`P1 5分钟`, `其他级别 2小时`), naming a business-hour calendar (`2小时（客服
    班次）`); from the log's figures when the report does not carry the playbook's."""
    from opsplay.i18n import message_language
    from opsplay.labels import listing, sla_parts

    written = report.node_limits.get(figures.node)
    parts = sla_parts(written, lang=message_language()) if written else []
    if parts:
        return "\n".join(parts) if per_line else listing(parts, lang=message_language())
    return visible(figures.sla) if figures.sla else seconds(figures.sla_s)


# Headings of the lines below the node table: open cases as of the evaluation time (SPEC 12);
# per-level compliance and schedule adherence (SPEC 8), shown for processes with either.
OPEN_CASES = N_("Open cases")
BY_LEVEL = N_("By level and schedule")


def open_lines(report: PilotReport) -> list[str]:
    """Open cases per node as of the evaluation time (SPEC 12), one line per node with any."""
    nodes = [
        {"node": n.node, "open": n.open, "breached_open": n.breached_open, "pending": n.pending}
        | {"as_of": n.as_of}
        for n in report.nodes
    ]
    return open_case_lines(nodes, lambda node: node_name(report, node), _)


def process_lines(report: PilotReport) -> list[str]:
    """Per-level compliance and schedule adherence, one line each, nodes by name (SPEC 8);
    [] for a process without levels or schedules."""
    if report.process is None:
        return []
    return level_lines(
        report.process.to_json(),
        lambda node: node_name(report, node),
        _,
        written=report.node_limits,
    )


def open_cases(figures: dict[str, Any], gettext: Any) -> str:
    """`截至 … 未结 3 单：2 单已超时（计为未达标），1 单未到期`: a node's open cases (SPEC 12);
    open cases of a level without a time limit are said apart (they are neither)."""
    breached, pending = figures.get("breached_open") or 0, figures.get("pending") or 0
    text = gettext(
        N_(
            "{open} open as of {as_of}: {breached} past the deadline (counted as missed), "
            "{pending} not yet due"
        )
    ).format(
        open=f"{figures['open']:,}",
        as_of=shown_time(figures.get("as_of"), gettext),
        breached=f"{breached:,}",
        pending=f"{pending:,}",
    )
    unjudged = figures["open"] - breached - pending
    if unjudged > 0:
        text += gettext(N_("; {count} of a level without a time limit, not judged")).format(
            count=f"{unjudged:,}"
        )
    return text


def open_case_lines(nodes: Any, name: Any, gettext: Any) -> list[str]:
    """`退款审核 — 截至 2024-10-14 15:30（北京时间）未结 3 单：2 单已超时（计为未达标），1 单未到期`
    from the `nodes` of the JSON (SPEC 12), one line per node with open cases."""
    lines = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or not node.get("open"):
            continue
        figure = open_cases(node, gettext)
        lines.append(
            gettext(N_("{node} — {figure}")).format(node=name(node["node"]), figure=figure)
        )
    return lines


def shown_time(iso: Any, gettext: Any) -> str:
    """`2024-10-14 15:30（北京时间）` from an ISO 8601 time; UTC±hh:mm for other offsets."""
    from datetime import datetime, timedelta

    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return "—"
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    if offset == timedelta(hours=8):
        zone = gettext(N_("Beijing time"))
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        zone = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return gettext(N_("{time} ({zone})")).format(time=moment.strftime("%Y-%m-%d %H:%M"), zone=zone)


def level_lines(
    process: Any,
    name: Any,
    gettext: Any,
    written: Mapping[str, Any] | None = None,
    lang: str | None = None,
    duration: Any = None,
) -> list[str]:
    """`故障响应：级别 P1：时限达标率 92.0%（限时 5分钟；中位耗时 3分钟，P95 4分钟50秒）` and
    `按时执行率` lines from the `process` part of the JSON, `gettext` translating and `duration`
    writing a length (the report passes its language's). `written`: node id -> node data with
    `sla` as written and `calendar` (the SOP's, the report's `node_limits`): a limit counted in
    business hours names its calendar, and a level of the log the node's `sla` does not name
    (judged by its `default` limit) says so, and which declared level it may mean. `lang`: the
    language of `gettext` (default: the message language)."""
    from opsplay.i18n import message_language
    from opsplay.labels import in_business_hours

    lines = []
    limits = process.get("sla_by_level") or {}
    durations = (process.get("p50_s_by_level") or {}, process.get("p95_s_by_level") or {})
    lengths = duration or seconds
    for node, levels in (process.get("sla_compliance_by_level") or {}).items():
        data = (written or {}).get(node) or {}
        for level, value in levels.items():
            limit = limits.get(node, {}).get(level)
            shown = "—"
            if limit is not None:
                shown = in_business_hours(
                    str(limit), data.get("calendar"), lang=lang or message_language()
                )
            figure = gettext(
                N_("level {level}: SLA compliance {rate} (limit {limit}; p50 {p50}, p95 {p95})")
            ).format(
                level=visible(level),
                rate=rate(value),
                limit=visible(shown),
                p50=lengths(durations[0].get(node, {}).get(level)),
                p95=lengths(durations[1].get(node, {}).get(level)),
            )
            sla = data.get("sla")
            named = [str(key) for key in sla if key != "default"] if isinstance(sla, dict) else None
            if named is not None and level not in named and limit is not None:
                figure += gettext(_OTHER_LEVEL) + _meant(level, named, gettext)
            lines.append(gettext(N_("{node} — {figure}")).format(node=name(node), figure=figure))
    return lines + schedule_lines(process, name, gettext)


# A level of the log the node's `sla` does not name: judged by its `default` limit.
_OTHER_LEVEL = N_(", judged by the limit for other levels")


def _meant(level: str, named: Sequence[str], gettext: Any) -> str:
    """`；若指 P1，请在日志中写作 P1` when `level` is the node's level written in another case,
    width or with spaces. The query reads `p1`, `Ｐ１`, ` P1 ` as P1 already
    (events_sql.level_sql); a level of the log reaches here so written only when the playbook
    declares it too, elsewhere (`levels` has `p1`, this node's `sla` only P1)."""
    meant = meant_level(level, named)
    if meant is None:
        return ""
    return gettext(N_("; if it means {level}, write {level} in the log")).format(
        level=visible(meant)
    )


def meant_level(level: str, named: Sequence[str]) -> str | None:
    """The one level of `named` that `level` is written as in another case or width, or
    with spaces (NFKC, stripped, case-folded); None when none or several are."""
    import unicodedata

    def folded(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip().casefold()

    same = [n for n in named if n != level and folded(n) == folded(level)]
    return same[0] if len(same) == 1 else None


def misread_levels(process: Any, written: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(node, level of the log, declared level it is likely meant as) for levels a node's
    `sla` does not name, judged by its `default` limit and left out of that level's alerts,
    written as a declared level in another case, width or with spaces (`p1` for P1): only
    when the playbook declares that spelling too (see _meant)."""
    found = []
    limits = (process or {}).get("sla_by_level") or {}
    for node, levels in ((process or {}).get("sla_compliance_by_level") or {}).items():
        sla = ((written or {}).get(node) or {}).get("sla")
        if not isinstance(sla, dict):
            continue
        named = [str(key) for key in sla if key != "default"]
        for level in levels:
            meant = meant_level(level, named) if level not in named else None
            if meant is not None and level in limits.get(node, {}):
                found.append((node, level, meant))
    return found


def schedule_lines(process: Any, name: Any, gettext: Any) -> list[str]:
    """`早班巡检 — 按时执行率 75.0%（8 次中 6 次按时）` lines from the `process` part of the
    JSON: each schedule's occurrences due, on time and not yet due (SPEC 8, 12)."""
    lines = []
    counts = process.get("schedule_occurrences") or {}
    for node, value in (process.get("schedule_adherence") or {}).items():
        figure = schedule_figure(value, counts.get(node), gettext)
        lines.append(gettext(N_("{node} — {figure}")).format(node=name(node), figure=figure))
    return lines


def schedule_figure(value: float | None, met: Any, gettext: Any) -> str:
    """`按时执行率 75.0%（8 次中 6 次按时；1 次未到期）`: one schedule's adherence and its
    occurrences (`met`: its entry of `schedule_occurrences` in the JSON, or None)."""
    if met is not None and not met["total"]:  # a quarterly drill in a log of three weeks
        return str(gettext(N_("runs on schedule — (nothing was due in the log's days)")))
    if met is None:
        return str(gettext(N_("runs on schedule {rate}")).format(rate=rate(value)))
    if met.get("pending"):  # occurrences not yet due: pending, never missed (SPEC 12)
        return str(
            gettext(
                N_(
                    "runs on schedule {rate} ({met} of {total} occurrences on time; {pending} "
                    "not yet due)"
                )
            ).format(rate=rate(value), met=met["met"], total=met["total"], pending=met["pending"])
        )
    figure = gettext(N_("runs on schedule {rate} ({met} of {total} occurrences on time)"))
    return str(figure.format(rate=rate(value), met=met["met"], total=met["total"]))


def node_name(report: PilotReport, node: str) -> str:
    """A node's name from the playbook (its id when it has none)."""
    return visible(report.node_names.get(node, node))


def alert_text(report: PilotReport, alert: Any) -> str:
    """`个性化内容推送 完成率 87.0% < 90.0%`: node or metric by name, measure in words."""
    watched = _watched(report, alert)
    shown = _shown(report, alert)
    op = _(OPS[alert.op]) if alert.op in OPS else alert.op
    return _("{watched} {value} {op} {threshold} (alert {id})").format(
        watched=watched, value=shown[0], op=op, threshold=shown[1], id=visible(alert.id)
    )


def _watched(report: PilotReport, alert: Any) -> str:
    """What an alert watches, by name: 个性化内容推送：完成率, or a metric's name."""
    if alert.measure:
        node = node_name(report, alert.target)
        level = report.alert_levels.get(alert.id)
        if level:  # its value is that level's rows only, not the node table's
            node = _("{node} (level {level})").format(node=node, level=visible(level))
        return _("{node}: {measure}").format(node=node, measure=label(alert.measure))
    return visible(report.metric_names.get(alert.target, alert.target))


def _shown(report: PilotReport, alert: Any) -> tuple[str, str]:
    """An alert's value and threshold as its readers think of them."""
    if alert.measure in ("p50_s", "p95_s"):
        return seconds(alert.value), seconds(alert.threshold)
    if alert.measure or _is_proportion(report, alert.target):
        return rate(alert.value), rate(alert.threshold)
    return _num(alert.value), f"{alert.threshold:g}"


def waiting_alert_texts(report: PilotReport) -> list[str]:
    """Alerts waiting for evidence on this one look (SPEC 11): the condition holds but `for`
    asks for more consecutive runs of `watch`, or the value stands on fewer rows than min_n."""
    texts = []
    for alert in report.alerts:
        if alert.status == "pending":
            texts.append(
                _(
                    "pending (held on {held}/{needed} consecutive runs): {alert}; one look cannot "
                    "fire it, `opsplay watch` fires it once {needed} consecutive runs meet the "
                    "condition"
                ).format(held=alert.held, needed=alert.runs_needed, alert=alert_text(report, alert))
            )
        elif alert.status == "not_enough_data":
            value, threshold = _shown(report, alert)
            watched = _("{watched} (alert {id})").format(
                watched=_watched(report, alert), id=visible(alert.id)
            )
            texts.append(not_enough_words(alert, value, threshold, watched))
    return texts


def _is_proportion(report: PilotReport, metric: str) -> bool:
    """Whether a metric alert watches a rate (shown as a percentage) rather than a mean."""
    return any(row.metric == metric and row.kind == "proportion" for row in report.metrics)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def rate(value: float | None) -> str:
    """A rate as a percentage."""
    return "—" if value is None else f"{value:.1%}"


def seconds(value: float | None) -> str:
    """A duration in the one human format of every output (8分钟16秒, 18小时6分钟, 41.5秒)."""
    from opsplay.humantime import duration
    from opsplay.i18n import message_language

    return duration(value, lang=message_language())
