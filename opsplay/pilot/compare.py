"""`opsplay pilot compare`: pilot vs baseline per metric and segment, targets, SLAs, alerts.

Reads exports into sufficient statistics (readers), runs the tests of SPEC section 4
(stats), and judges each metric against the playbook's directions and targets. The
result is a frozen `PilotReport` (opsplay.pilot.outcome); `present.report_to_json` gives SPEC's JSON document, which is also
what the report renderer consumes.

Floor: orchestration (open → read → compare → judge), below the CLI. May import the model,
the engine (`readers`, `columns`), statistics and judging, and presentation only to hand the
report over. Only orchestration beside it (`playbook_plan`, `watch.run`) and the CLI import it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opsplay.errors import InputError, UsageError
from opsplay.i18n import N_, _, language, translate
from opsplay.model.playbook import Playbook
from opsplay.nodes import measures
from opsplay.pilot import clusters, stats
from opsplay.pilot.designs import (
    Setting,
    assigned_by,
    compare_metric,
    segment_label,
    segment_words,
    segments,
    split_clusters,
    summary_clusters,
)
from opsplay.pilot.judging import (
    MetricResult,
    adjust,
    corrected_interval_alphas,
    evaluate_alerts,
    judge,
    reaches_target,
)
from opsplay.pilot.outcome import SRM_THRESHOLD, CompareOptions, PilotReport
from opsplay.pilot.weighting import weighted_attainment
from opsplay.readers import MetricColumns, ReadOptions, read_exports
from opsplay.text import joined, p_is, visible

# Why a comparison could not be (fully) tested: stats' issue codes, in words.
STAT_ISSUES = {
    stats.NO_UNITS: N_("a group has no units; nothing to compute"),
    stats.TOO_FEW_UNITS: N_(
        "fewer units than min_n ({min_n}) in a group; no test, verdict: not enough data"
    ),
    stats.ZERO_VARIANCE: N_(
        "all units of a group have the same value (such as 0% or 100%); no test"
    ),
    stats.ZERO_DENOMINATOR: N_(
        "the ratio's denominator adds up to 0 in a group; nothing to compute"
    ),
    stats.ZERO_BASELINE: N_(
        "the control group's value is 0, so the deviation rate is undefined; the p-value "
        "uses the absolute change"
    ),
    stats.RELATIVE_BY_FIELLER: N_(
        "the deviation rate and the change, tested each on its own, disagree at this sample "
        "size; the verdict follows the test of the change, and the deviation rate's likely "
        "range is the one that test gives (in small groups the deviation rate's own test "
        "calls drops too often and rises too rarely)"
    ),
    stats.RELATIVE_UNBOUNDED: N_(
        "the deviation rate and the change, tested each on its own, disagree at this sample "
        "size; the verdict follows the test of the change, and the control group's value is "
        "too uncertain for the deviation rate to have a likely range, so the range is given "
        "for the change itself (in small groups the deviation rate's own test calls drops too "
        "often and rises too rarely)"
    ),
    stats.NONPOSITIVE_MEAN: N_(
        "a group's value is not above 0; the relative difference in differences is undefined"
    ),
    stats.POOLED_NOT_APPLICABLE: N_(
        "--variance pooled applies to proportions only; unpooled variance used here"
    ),
    stats.POOLED_NOT_ADJUSTED: N_(
        "--variance pooled does not apply to a metric adjusted by its pre_column; unpooled "
        "variance used here"
    ),
    clusters.ONE_CLUSTER: N_(
        "a group has one cluster only, so nothing tells the change from that cluster's own ups "
        "and downs: no test. Testable: more clusters per group (opsplay pilot plan says how "
        "many), or one pilot cluster with a before period and at least 19 comparison clusters "
        "(design: did)"
    ),
    clusters.FLOOR_ABOVE_ALPHA: N_(
        "with this few clusters even the most extreme result could too easily be chance to "
        "count as significant; add clusters (opsplay pilot plan says how many)"
    ),
    stats.NO_ADJUSTMENT: N_(
        "the before-period values (pre_column) do not vary, so they cannot narrow anything; "
        "compared without the adjustment"
    ),
}


def run_compare(playbook: Playbook, data: Sequence[Path], options: CompareOptions) -> PilotReport:
    """Read the exports, compare pilot with baseline, evaluate SLAs and alerts: open the pilot,
    read its exports, compare each metric, judge the rows, then the node log and the alerts."""
    opened = _open(playbook, data, options)
    read, setting, warnings = _read(opened, data, options)
    rows = _compare(opened, read, setting, options.by, warnings)
    judged = _judge(opened, read, setting, rows, warnings, options)
    notices: list[str] = []
    nodes, process, sources = _node_figures(playbook, options, opened.lang, warnings, notices)
    alerts = evaluate_alerts(
        playbook,
        judged.rows,
        nodes,
        opened.lang,
        warnings,
        has_events=options.events is not None or options.events_table is not None,
        values=process.alerts if process else {},
        nothing_due=process.nothing_due if process else frozenset(),
        counts=process.alert_counts if process else None,
    )
    pilot = opened.pilot
    return PilotReport(
        playbook_id=playbook.metadata.id,
        playbook_title=playbook.metadata.title,
        playbook_version=playbook.metadata.version,
        design=pilot.design,
        alpha=opened.alpha,
        options=options,
        lang=opened.lang,
        metrics=judged.rows,
        srm_p_value=judged.srm,
        nodes=nodes,
        alerts=tuple(alerts),
        sources=(*read.sources, *sources),
        shape=read.shape,
        warnings=tuple(dict.fromkeys(warnings)),
        missing=judged.missing,
        arms=opened.arms,
        periods=(pilot.periods.before, pilot.periods.after),
        node_names={n.id: n.name for n in playbook.nodes},
        metric_names={m.id: m.name for m in playbook.metrics},
        process=process,
        weighted=weighted_attainment(playbook, judged.rows),
        cluster=pilot.cluster,
        assignment=judged.assignment,
        sequential_tuning=opened.tuning,
        node_limits=written_limits(playbook, options.realtime_seconds),
        alert_levels={a.id: a.level for a in playbook.alerts if a.level is not None},
        notices=tuple(notices),
    )


def written_limits(playbook: Playbook, realtime_seconds: float) -> dict[str, dict[str, Any]]:
    """Each node's limit as written, per level, with its business-hour calendar: what the
    node tables show (`P1 5分钟`, `2小时（客服班次）`), as the SOP shows it."""
    return {node.id: written_limit(node, realtime_seconds) for node in playbook.nodes}


def written_limit(node: Any, realtime_seconds: float = 1.0) -> dict[str, Any]:
    """One node's limit as the SOP's node data carries it: `sla` as written (a dict per
    level), `calendar`, `sla_realtime`, `sla_seconds` (render.filters.sla_parts shows it)."""
    return {
        "sla": node.model_dump(mode="json", by_alias=True, include={"sla"}).get("sla"),
        "calendar": node.calendar,
        "sla_realtime": bool(node.sla and node.sla.realtime),
        "sla_seconds": node.sla.resolve(realtime_seconds) if node.sla else None,
    }


@dataclass(frozen=True)
class _Opened:
    """What the playbook and the options say to read and how to judge it."""

    playbook: Playbook
    pilot: Any  # model.playbook.Pilot
    lang: str
    alpha: float
    roles: list[tuple[str, str]]  # (metric id, "primary" | "guardrail")
    metric_defs: dict[str, Any]
    tuning: float | None  # the sequential test's tuning, when intervals are always valid
    adjusted: set[str]  # metrics compared with their pre_column (CUPED)
    columns: tuple[MetricColumns, ...]
    arms: tuple[str, str]
    arm_column: str
    period_column: str | None
    notes: list[str]  # warnings found while opening


def _open(playbook: Playbook, data: Sequence[Path], options: CompareOptions) -> _Opened:
    """The pilot as the playbook and the options describe it; refuses what cannot be compared."""
    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(
            _(
                "playbook `{id}` has no `pilot` section; add one with design, arms and metrics "
                "(see `opsplay init`)"
            ).format(id=visible(playbook.metadata.id))
        )
    lang = options.lang or playbook.language
    roles = [(m, "primary") for m in pilot.metrics] + [(m, "guardrail") for m in pilot.guardrails]
    metric_defs = {m.id: m for m in playbook.metrics}
    tuning, notes = _repeated_looks(pilot, options, lang)
    adjusted = _adjusted_metrics(playbook, [m for m, _role in roles], notes, lang)
    columns = tuple(
        replace(
            MetricColumns.of(metric_defs[metric_id]),
            required=role == "primary",
            pre_column=metric_defs[metric_id].pre_column if metric_id in adjusted else None,
        )
        for metric_id, role in roles
    )
    arms = (options.baseline_label or pilot.arms.baseline, options.pilot_label or pilot.arms.pilot)
    if arms[0] == arms[1] and pilot.design != "before_after":
        raise UsageError(
            _(
                "the control and pilot groups are both `{arm}`; this pilot compares two "
                "different groups (pilot.arms, --baseline, --pilot)"
            ).format(arm=visible(arms[0]))
        )
    period_column = None if pilot.design == "ab" else (options.period_column or pilot.period_column)
    arm_column = options.arm_column or pilot.arm_column
    if (
        pilot.design == "before_after"
        and not options.arm_column
        and not options.db
        and not _has_column(data, arm_column, options)
    ):
        # One population measured twice needs no arm column: let the period stand in for it.
        arm_column = period_column or "period"
    return _Opened(
        playbook=playbook,
        pilot=pilot,
        lang=lang,
        alpha=options.alpha if options.alpha is not None else pilot.alpha,
        roles=roles,
        metric_defs=metric_defs,
        tuning=tuning,
        adjusted=adjusted,
        columns=columns,
        arms=arms,
        arm_column=arm_column,
        period_column=period_column,
        notes=notes,
    )


def refuse_by_cluster(pilot: Any, by: Sequence[str]) -> None:
    """--by the pilot.cluster column of a pilot comparing groups of clusters (ab, did): each
    cluster is in one group only, so no segment could be compared (`pilot compare` and the
    SQL `pilot sql` prints for it)."""
    if pilot.cluster and pilot.cluster in by and pilot.design in ("ab", "did"):
        raise UsageError(
            _(
                "--by `{column}` is the pilot's cluster column (pilot.cluster): each `{column}` "
                "is in one group only, so none can be compared on its own; compare by a column "
                "that holds several `{column}` values in each group, such as a region, or leave "
                "--by out"
            ).format(column=visible(pilot.cluster))
        )


def _read(
    opened: _Opened, data: Sequence[Path], options: CompareOptions
) -> tuple[Any, Setting, list[str]]:
    """The exports as sufficient statistics (clusters split out), the comparison's setting, and
    the warnings so far."""
    pilot, lang, arms, period_column = opened.pilot, opened.lang, opened.arms, opened.period_column
    refuse_by_cluster(pilot, options.by)
    read = read_exports(
        list(data),
        ReadOptions(
            metrics=opened.columns,
            arm_column=opened.arm_column,
            period_column=period_column,
            segment_columns=tuple(options.by) + _cluster_column(pilot, options, data),
            input_format=options.input_format,
            encoding=options.encoding,
            skip_bad_rows=options.skip_bad_rows,
            progress=options.progress,
            arm_labels=() if pilot.design == "before_after" else arms,
            window=_window(pilot, period_column),
            sheet=options.sheet,
            db=options.db,
            find_assignment=not pilot.cluster and pilot.design != "before_after",
            lang=lang,
            table=options.table,
            limited_columns=tuple(options.by),
            max_segments=options.max_segments,
            period_labels=()
            if period_column is None
            else (pilot.periods.before, pilot.periods.after),
        ),
    )
    warnings = list(read.warnings) + opened.notes
    if pilot.design == "before_after":
        warnings.append(
            translate(
                N_(
                    "a before/after comparison cannot separate the change from seasonality or "
                    "other changes at the same time; the result does not prove cause and effect"
                ),
                lang,
            )
        )
    per_cluster = None
    adjusted = opened.adjusted
    if pilot.cluster and read.shape == "summary":  # one row per cluster and arm (SPEC 11)
        adjusted = _without_adjustment(adjusted, lang, warnings)
        kinds = {m: opened.metric_defs[m].kind for m in opened.metric_defs}
        read = summary_clusters(read, pilot.cluster, kinds, lang)
    if pilot.cluster and read.shape != "summary":
        read, per_cluster = split_clusters(read, pilot.cluster, options.by)
    _check_segments(read, options)
    if read.shape == "summary":
        adjusted = _without_adjustment(adjusted, lang, warnings)
    setting = Setting(
        read,
        pilot,
        arms,
        opened.alpha,
        options.test,
        options.variance,
        lang,
        clusters=per_cluster,
        adjusted=frozenset(adjusted),
        sequential_tuning=opened.tuning,
        names={m: d.name for m, d in opened.metric_defs.items() if getattr(d, "name", None)},
    )
    return read, setting, warnings


def _without_adjustment(adjusted: Any, lang: str, warnings: list[str]) -> Any:
    """A dashboard has no before-period values: the pre_column metrics are compared without."""
    if not adjusted:
        return adjusted
    with language(lang):
        shown = joined([f"`{visible(m)}`" for m in sorted(adjusted)])
    text = N_(
        "a dashboard summary has no before-period values; {metrics} compared without the "
        "before-period adjustment (pre_column)"
    )
    warnings.append(translate(text, lang).format(metrics=shown))
    return set()


def _compare(
    opened: _Opened, read: Any, setting: Setting, by: Sequence[str], warnings: list[str]
) -> list[MetricResult]:
    """Each metric in each segment compared as the design says, with its target."""
    rows: list[MetricResult] = []
    for metric_id, role in opened.roles:
        metric = opened.metric_defs[metric_id]
        if not any(key.metric == metric_id for key in [*read.stats, *read.summary]):
            continue  # an export may show some metrics only; the reader has warned
        for segment in segments(read, metric_id, by):
            comparison = compare_metric(setting, metric_id, metric.kind, segment, warnings)
            if comparison is not None:
                rows.append(judge(opened.playbook, metric, role, segment, comparison))
    return rows


@dataclass(frozen=True)
class _Judged:
    """The rows judged (corrected, verdicts), with what judging them found."""

    rows: tuple[MetricResult, ...]
    missing: dict[tuple[str, Any], dict[str, tuple[int, int]]]
    srm: float | None
    assignment: tuple[str, ...]  # columns that look like the unit of assignment


def _judge(
    opened: _Opened,
    read: Any,
    setting: Setting,
    rows: list[MetricResult],
    warnings: list[str],
    options: CompareOptions,
) -> _Judged:
    """Correct for several metrics and segments, decide verdicts, and say what could not be
    judged: one-group segments, untested rows, signs of clustering, missing values, the split."""
    pilot, lang, arms = opened.pilot, opened.lang, opened.arms
    judged = adjust(rows, options.correction, opened.alpha)
    judged = _corrected_intervals(judged, setting, opened, options)
    for (metric_id, arm), skipped in setting.one_group.items():
        text = translate(N_("data for one group only (no `{arm}`); left out"), lang).format(
            arm=visible(arm)
        )
        warnings.append(_where_many(setting.label(metric_id), skipped, lang) + text)
    warnings += _issue_warnings(judged, lang, max(pilot.min_n, 2), setting.label)
    assignment: tuple[str, ...] = ()
    if not pilot.cluster and pilot.design != "before_after":
        # the export's own columns (finest first), then --by columns the query grouped by
        by_columns = assigned_by(read, options.by, arms)
        assignment = tuple(dict.fromkeys([*read.assignment, *by_columns]))
    if assignment:
        warnings.append(
            translate(
                N_(
                    "the pilot looks assigned by `{column}`: each of its values is in one group "
                    "only, so users of one `{column}` share more than the change and the tests "
                    "above count them as independent; do not act on them. Declare "
                    "`pilot.cluster: {column}` to test with each `{column}` as one unit"
                ),
                lang,
            ).format(column=visible(assignment[0]))
        )
    missing = _missing_counts(setting, judged)
    warnings += _differential_missingness(judged, missing, opened.metric_defs, setting.label, lang)
    srm = _sample_ratio(pilot, judged, read.arm_rows, arms, lang, warnings)
    return _Judged(tuple(judged), missing, srm, assignment)


def _corrected_intervals(
    rows: list[MetricResult], setting: Setting, opened: _Opened, options: CompareOptions
) -> list[MetricResult]:
    """Intervals at the level their corrected verdict is decided at (Holm's step, or BH's
    R·α/m) — segment rows, and overall rows of several primary metrics or guardrails — so an
    interval excludes 0 exactly when its verdict is a change."""
    levels = corrected_interval_alphas(rows, options.correction, opened.alpha)
    settings: dict[float, Setting] = {}
    out = list(rows)
    for index, level in levels.items():
        row = rows[index]
        if level >= opened.alpha:
            continue
        at_level = settings.setdefault(
            level, replace(setting, alpha=level, scale_alpha=opened.alpha)
        )
        kind = opened.metric_defs[row.metric].kind
        redone = compare_metric(at_level, row.metric, kind, row.segment, [])
        if redone is None:
            continue
        comparison = replace(
            row.comparison, ci_abs=redone.ci_abs, ci_rel=redone.ci_rel, alpha=level
        )
        out[index] = replace(row, comparison=comparison)
    return out


def _sample_ratio(
    pilot: Any,
    rows: Sequence[MetricResult],
    arm_rows: Mapping[str, int],
    arms: tuple[str, str],
    lang: str,
    warnings: list[str],
) -> float | None:
    """The sample-ratio check of an `ab` pilot of units (arms of whole clusters need not match
    a share of users), with its warning: on each group's rows (blank metric cells are units
    too), or for summaries the largest count any overall row has."""
    if pilot.design != "ab" or pilot.cluster or not rows:
        return None
    if all(arm in arm_rows for arm in arms):
        n_baseline, n_pilot = (arm_rows[arm] for arm in arms)
    else:
        overall = [row.comparison for row in rows if not row.segment]
        n_baseline = max((c.baseline_n or 0 for c in overall), default=0)  # None: no n given
        n_pilot = max((c.pilot_n or 0 for c in overall), default=0)
    if not (n_baseline and n_pilot):
        return None
    srm = stats.sample_ratio_mismatch(n_baseline, n_pilot, pilot.split)
    if srm is not None and srm < SRM_THRESHOLD:
        warnings.append(
            translate(
                N_(
                    "the groups' sizes do not match the planned split: control {n_baseline}, "
                    "pilot {n_pilot} against a planned pilot share of {split} ({p}); check "
                    "how users were assigned before trusting the results"
                ),
                lang,
            ).format(
                n_baseline=f"{n_baseline:,}",
                n_pilot=f"{n_pilot:,}",
                split=f"{pilot.split:.1%}".replace(".0%", "%"),  # 50%, 33.3%
                p=p_is(srm),
            )
        )
    return srm


def _node_figures(
    playbook: Playbook,
    options: CompareOptions,
    lang: str,
    warnings: list[str],
    notices: list[str] | None = None,
) -> tuple[tuple[Any, ...], measures.ProcessMeasures | None, list[Any]]:
    """The node log's figures (`--events`, `--events-table`), levels and schedules, and its
    source; nothing without a log."""
    if options.events is None and options.events_table is None:
        return (), None, []
    from opsplay.nodes.log import read_events
    from opsplay.workdays import WorkdayCalendar
    from opsplay.zones import zone

    # The log is another system's export: its encoding is detected on its own.
    calendar = WorkdayCalendar(options.calendar, options.workday_limits)
    with contextlib.ExitStack() as scratch:
        events_path, display = options.events, None
        if options.events_table is not None:  # --db: the log table written out as CSV
            events_path, display = _events_from_table(options, scratch)
        event_data = read_events(
            events_path,
            measures.overall_limits(playbook),
            skip_bad_rows=options.skip_bad_rows,
            calendar=calendar,
            realtime_seconds=options.realtime_seconds,
            lang=lang,
            limit_for=measures.limit_for(playbook),  # per-level limits (SPEC 8)
            names={n.name: n.id for n in playbook.nodes},
            display=display,
            timezone=zone(options.timezone, playbook.language),
            as_of=options.as_of,
            as_it_stood=options.as_it_stood,
        )
    warnings += list(event_data.warnings)
    if notices is not None:
        notices += event_data.notices
    process = None
    if measures.needed(playbook):  # levels and schedules (SPEC 8)
        process = measures.measure_process(
            playbook, event_data.facts, calendar, options.realtime_seconds, event_data.as_of
        )
    return tuple(event_data.nodes), process, [event_data.source]


# Why the sequential test does not apply to a design: (refusal for --sequential, warning in watch)
_NOT_SEQUENTIAL = {
    "did": (
        N_(
            "--sequential (pilot.sequential) is not available for difference in differences: "
            "its before period is measured once and does not grow with each look, so intervals "
            "that stay valid over repeated looks cannot be built this way; judge a did pilot "
            "once, at the end of its period, or run the pilot as an A/B test (design: ab)"
        ),
        N_(
            "this difference-in-differences pilot has no always-valid intervals (its before "
            "period does not grow with each look); its intervals and p-values hold for one look "
            "only, so judge it once, at the end of its period"
        ),
    ),
    "before_after": (
        N_(
            "--sequential (pilot.sequential) is not available for a before/after comparison: "
            "its before period is measured once and does not grow with each look, so intervals "
            "that stay valid over repeated looks cannot be built this way; judge it once, at the "
            "end of its period, or run the pilot as an A/B test (design: ab)"
        ),
        N_(
            "this before/after pilot has no always-valid intervals (its before period does not "
            "grow with each look); its intervals and p-values hold for one look only"
        ),
    ),
    "cluster": (
        N_(
            "--sequential (pilot.sequential) is not available yet for clustered pilots "
            "(pilot.cluster): their tests count clusters, and the sequential test is checked "
            "for units only; judge a clustered pilot once, at the end of its period"
        ),
        N_(
            "this clustered pilot has no always-valid intervals yet (pilot.cluster); its "
            "intervals and p-values hold for one look only"
        ),
    ),
}


def _repeated_looks(
    pilot: Any, options: CompareOptions, lang: str
) -> tuple[float | None, list[str]]:
    """The sequential test's tuning parameter when intervals must stay valid over repeated
    looks (--sequential, pilot.sequential, watch), else None; and what to warn about."""
    asked = options.sequential or pilot.sequential
    if not (asked or options.repeated):
        return None, []
    design = "cluster" if getattr(pilot, "cluster", None) else pilot.design
    if design in _NOT_SEQUENTIAL:
        refusal, warning = _NOT_SEQUENTIAL[design]
        if asked:
            raise UsageError(_(refusal))
        return None, [translate(warning, lang)]
    if options.variance == "pooled":
        raise UsageError(
            _(
                "--variance pooled has no sequential form; drop --variance pooled, or look once "
                "without --sequential"
            )
        )
    return float(pilot.sequential_tuning), []


def _adjusted_metrics(
    playbook: Playbook, metric_ids: Sequence[str], notes: list[str], lang: str
) -> set[str]:
    """The compared metrics regression-adjusted by their pre_column (CUPED): in A/B pilots of
    units; elsewhere the metric is compared unadjusted, with a warning."""
    pilot = playbook.pilot
    assert pilot is not None
    named = {m.id for m in playbook.metrics if getattr(m, "pre_column", None)} & set(metric_ids)
    if not named or (pilot.design == "ab" and not getattr(pilot, "cluster", None)):
        return named
    text = (
        N_(
            "pre_column is not used yet in clustered pilots (pilot.cluster); {metrics} compared "
            "without the before-period adjustment"
        )
        if getattr(pilot, "cluster", None)
        else N_(
            "pre_column adjusts A/B pilots (design: ab) only; {metrics} compared without the "
            "before-period adjustment"
        )
    )
    with language(lang):
        shown = joined([f"`{visible(m)}`" for m in sorted(named)])
    notes.append(translate(text, lang).format(metrics=shown))
    return set()


def _issue_warnings(
    rows: Sequence[MetricResult], lang: str, min_n: int, label: Callable[[str], str]
) -> list[str]:
    """Why comparisons could not be tested; one line per metric (named by `label`) and
    reason, however many segments share it (thousands of segments must not mean thousands
    of lines)."""
    found: dict[tuple[str, str], list[tuple[tuple[str, str], ...]]] = {}
    for row in rows:
        for issue in row.comparison.issues:
            found.setdefault((row.metric, issue), []).append(row.segment)
    return [
        _where_many(label(metric), where, lang)
        + translate(STAT_ISSUES[issue], lang).format(min_n=min_n)
        for (metric, issue), where in found.items()
    ]


def _where_many(metric: str, where: Sequence[tuple[tuple[str, str], ...]], lang: str) -> str:
    """The prefix of a warning about one segment, or about many at once (three named)."""
    if len(where) == 1:
        return segment_label(metric, where[0], lang)
    with language(lang):
        shown = joined([segment_words(segment, lang) for segment in where[:3]])
    if len(where) <= 3:  # all of them named: no "for example"
        return translate(N_("`{metric}` in {count} segments ({segments}): "), lang).format(
            metric=visible(metric), count=f"{len(where):,}", segments=shown
        )
    return translate(N_("`{metric}` in {count} segments ({segments}{more}): "), lang).format(
        metric=visible(metric), count=f"{len(where):,}", segments=shown, more="…"
    )


def _check_segments(read: Any, options: CompareOptions) -> None:
    """Refuse --by that splits the data into more segments than anyone can read."""
    if not options.by:
        return
    found = {key.segment for key in [*read.stats, *read.summary]}
    if len(found) <= options.max_segments:
        return
    values = {
        column: len({dict(segment).get(column) for segment in found}) for column in options.by
    }
    coarsest = min(values, key=values.__getitem__)
    hint = (
        _("for example `--by {column}` alone ({count} segments)").format(
            column=visible(coarsest), count=f"{values[coarsest]:,}"
        )
        if len(options.by) > 1 and values[coarsest] <= options.max_segments
        else _("for example a region instead of a city, or a week instead of a day")
    )
    raise UsageError(
        _(
            "--by {columns} splits the data into {count} segments, more than {limit} "
            "(--max-segments); compare by a coarser column, {hint}"
        ).format(
            columns=" ".join(f"`{visible(c)}`" for c in options.by),
            count=f"{len(found):,}",
            limit=f"{options.max_segments:,}",
            hint=hint,
        )
    )


def _differential_missingness(
    rows: Sequence[MetricResult],
    missing: Mapping[tuple[str, Any], Mapping[str, tuple[int, int]]],
    metric_defs: Mapping[str, Any],
    label: Callable[[str], str],
    lang: str,
) -> list[str]:
    """A warning per metric (named by `label`) whose share of missing values differs between
    the arms (chi-square p < 0.001, SPEC 11): the arms then no longer compare like with like."""
    out = []
    for row in rows:
        counts = missing.get((row.metric, row.segment))
        if row.segment or counts is None or "baseline" not in counts:
            continue
        c = row.comparison
        # the units whose value was looked for: `missing: zero` already counts them among n
        excluded = (getattr(metric_defs[row.metric], "missing", None) or "exclude") == "exclude"
        lost_base, lost_pilot = counts["baseline"][0], counts["pilot"][0]
        met_base = c.baseline_n + lost_base if excluded else c.baseline_n
        met_pilot = c.pilot_n + lost_pilot if excluded else c.pilot_n
        p = stats.differential_missingness(lost_base, met_base, lost_pilot, met_pilot)
        if p is None or p >= DIFFERENTIAL_MISSING_THRESHOLD:
            continue
        out.append(
            segment_label(label(row.metric), (), lang)
            + translate(
                N_(
                    "values are missing in {baseline} of the control group and {pilot} of the "
                    "pilot group ({p}): the groups no longer compare like with like; find out "
                    "why values are missing before trusting the result"
                ),
                lang,
            ).format(
                baseline=f"{lost_base / met_base:.1%}",
                pilot=f"{lost_pilot / met_pilot:.1%}",
                p=p_is(p),
            )
        )
    return out


DIFFERENTIAL_MISSING_THRESHOLD = 0.001


def _cluster_column(
    pilot: Any, options: CompareOptions, data: Sequence[Path] = ()
) -> tuple[str, ...]:
    """pilot.cluster as an extra grouping column of the query (unless --by names it already);
    a dashboard summary without it is read as it is (it gets no test, and says why)."""
    if not pilot.cluster or pilot.cluster in options.by:
        return ()
    if data and not options.db and not _has_cluster_column(data, pilot.cluster, options):
        return ()  # a dashboard summary per arm: the deviation only, and it says why
    return (pilot.cluster,)


def _has_cluster_column(data: Sequence[Path], column: str, options: CompareOptions) -> bool:
    """Whether the first export has the pilot.cluster column. A dashboard summary without it
    is read as it is (the deviation only, with a warning saying what to export); unit rows or
    statistics without it are refused in words: a pilot assigned by the column is compared
    with each of its values as one unit. A file that cannot be opened is left for the reader."""
    from opsplay.readers.cells import normalize_text
    from opsplay.readers.sources import has_column, open_source

    path = Path(data[0])
    try:
        source = open_source(path, options.encoding)
    except (InputError, IndexError):
        return True
    columns = list(source.columns)
    if normalize_text(column).casefold() in {c.casefold() for c in columns}:
        return True
    summary = options.input_format == "summary" or (
        options.input_format == "auto"
        and not all(has_column(source, c) for c in ("n", "sum", "sum_sq"))
        and has_column(source, "metric")
        and has_column(source, "value")
    )
    if summary:
        return False
    raise InputError(
        _(
            "{file}: no column `{column}`, the pilot.cluster column (the allocation unit): "
            "a pilot assigned by `{column}` is compared with each `{column}` as one unit, "
            "so every row needs its `{column}`; columns found: {columns}. Add the column to "
            "the export, or correct pilot.cluster in the playbook"
        ).format(
            file=visible(str(path)),
            column=visible(column),
            columns=joined([f"`{visible(c)}`" for c in columns]),
        )
    )


def _missing_counts(
    setting: Setting, rows: Sequence[MetricResult]
) -> dict[tuple[str, Any], dict[str, tuple[int, int]]]:
    """Missing and unreadable values (`--skip-bad-rows`) per arm of every compared metric and
    segment (unit rows and statistics): {"pilot": (missing, invalid), ...}."""
    from opsplay.pilot.designs import _cells
    from opsplay.query.sufficient import ArmStats

    out: dict[tuple[str, Any], dict[str, int]] = {}
    for row in rows:
        cells = _cells(setting, row.metric, row.segment, [])
        if not cells or not all(isinstance(c, ArmStats) for c in cells):
            continue
        counts = [(c.missing, c.invalid) for c in cells]  # type: ignore[union-attr]
        if len(cells) == 4:  # did: comparison before/after, pilot before/after
            names = ("before_baseline", "baseline", "before_pilot", "pilot")
        else:
            names = ("baseline", "pilot")
        out[(row.metric, row.segment)] = dict(zip(names, counts, strict=True))
    return out


def _events_from_table(options: CompareOptions, scratch: contextlib.ExitStack) -> tuple[Path, str]:
    """`--events-table`: the node log of the database of `--db`, as a CSV file for the log
    reader (in a folder removed when `scratch` closes), and the table's name for messages."""
    from opsplay.readers.warehouse import connect, display_url, events_csv, scratch_folder

    if not options.db:
        raise UsageError(_("--events-table needs --db: the database holding the table"))
    folder = scratch.enter_context(scratch_folder())
    with connect(options.db) as (con, dialect):
        table = options.events_table or ""
        path = events_csv(con, dialect, options.db, table, Path(folder))
    return path, f"{display_url(options.db)} {table}"


def _window(pilot: Any, period_column: str | None) -> Any:
    """The pilot window of `pilot.date_column` (SPEC 7), or None."""
    if not pilot.date_column:
        return None
    from opsplay.query.columns import Window

    span = (pilot.period.start, pilot.period.end) if pilot.period else None
    before = (pilot.before_period.start, pilot.before_period.end) if pilot.before_period else None
    if pilot.design != "ab" and before is not None and span is not None:
        labels = (pilot.periods.before, pilot.periods.after)
        return Window(pilot.date_column, span, before, labels, derive_period=True)
    return Window(pilot.date_column, span, before if pilot.design != "ab" else None)


def _has_column(data: Sequence[Path], column: str, options: CompareOptions) -> bool:
    """Whether the first export names arms in `column` (or, for statistics and summary
    exports, in a column called `arm`); a bad file is left for the reader to report."""
    from opsplay.readers.cells import normalize_text
    from opsplay.readers.sources import open_source

    try:
        columns = {c.casefold() for c in open_source(Path(data[0]), options.encoding).columns}
    except (InputError, IndexError):
        return True
    return normalize_text(column).casefold() in columns or (
        "arm" in columns and "metric" in columns
    )


def compare_files(playbook_path: Path, data: Sequence[Path], **options: Any) -> PilotReport:
    """Load a playbook file and compare; `options` are CompareOptions fields (`by` as a list)."""
    from opsplay.config import find_config
    from opsplay.validate import load_playbook

    config = find_config(playbook_path.parent)
    playbook = load_playbook(playbook_path, config)
    options["by"] = tuple(dict.fromkeys(options.get("by") or ()))  # --by x --by x is one x
    options.setdefault("realtime_seconds", config.realtime_seconds)
    options.setdefault("calendar", config.calendar)
    options.setdefault("workday_limits", config.workday_limits)
    options.setdefault("timezone", config.timezone)
    if options.get("as_of") is not None:  # --as-of as written, naive in the project's zone
        from opsplay.nodes.log import evaluation_time
        from opsplay.zones import zone

        where = zone(options["timezone"], playbook.language)
        options["as_of"] = evaluation_time(options["as_of"], where)
    return run_compare(playbook, data, CompareOptions(**options))


def run_compare_for_report(playbook_path: Path, data: list[Path], **options: Any) -> dict[str, Any]:
    """The JSON document of `pilot compare --format json`, for `render-report`."""
    from opsplay.pilot.presentation.formats import report_to_json

    return report_to_json(compare_files(playbook_path, data, **options))


def _ids(ids: Sequence[str]) -> str:
    """`a`, `b` in a message."""
    return joined([f"`{visible(i)}`" for i in ids])


def failures(report: PilotReport, fail_on: Sequence[str]) -> list[str]:
    """The `--fail-on` conditions that happened, each naming what triggered it.

    regression: a primary or guardrail metric significantly worse overall (p corrected
    across the primary metrics, and apart across the guardrails); segment-regression: the
    same in a segment (p corrected across metrics × segments) — many segments are many
    chances, so a segment fails the run only when asked; alert: an alert fired (one look:
    an alert with `for: N`, N > 1, is pending, not fired, and below `min_n` it has not
    enough data); miss: a primary metric whose pilot value (overall) does not reach its
    target — judged on the value, so a dashboard without n can pass.
    """
    happened = []
    worse = sorted({r.metric for r in report.metrics if r.verdict == "worse" and not r.segment})
    if "regression" in fail_on and worse:
        happened.append(_("significantly worse ({metrics})").format(metrics=_ids(worse)))
    # which metric, in which segment: 满意度评分（城市为成都）
    from opsplay.pilot.presentation.words import segment_text

    in_segments = [
        _("{metric} ({segment})").format(metric=visible(r.name), segment=segment_text(r.segment))
        for r in report.metrics
        if r.verdict == "worse" and r.segment
    ]
    if "segment-regression" in fail_on and in_segments:
        happened.append(
            _("significantly worse in a segment: {segments}").format(
                segments=joined(list(dict.fromkeys(in_segments)))
            )
        )
    fired = [alert.id for alert in report.alerts if alert.fired]
    if "alert" in fail_on and fired:
        happened.append(_("alert fired ({alerts})").format(alerts=_ids(fired)))
    missed = [
        row.metric
        for row in report.metrics
        if row.role == "primary"
        and not row.segment
        and row.target is not None
        and not reaches_target(row)
    ]
    if "miss" in fail_on and missed:
        happened.append(_("target missed ({metrics})").format(metrics=_ids(missed)))
    return happened
