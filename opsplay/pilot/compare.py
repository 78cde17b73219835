"""`opsplay pilot compare`: pilot vs baseline per metric and segment, targets, SLAs, alerts.

Reads exports into sufficient statistics (readers), runs the tests of SPEC section 4
(stats), and judges each metric against the playbook's directions and targets. The
result is a frozen `PilotReport`; `to_json()` gives SPEC's JSON document, which is also
what the report renderer consumes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from opsplay.errors import InputError, UsageError
from opsplay.model.playbook import COMPARATORS, Playbook
from opsplay.pilot import stats
from opsplay.pilot.readers import ExportData, MetricColumns, ReadOptions, read_exports
from opsplay.pilot.sufficient import ArmStats
from opsplay.pilot.wording import describe_issue

Verdict = Literal["met", "improved", "worse", "no_change", "inconclusive"]
Segment = tuple[tuple[str, str], ...]
JSON_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CompareOptions:
    """Command-line choices; None means "take it from the playbook"."""

    by: tuple[str, ...] = ()
    alpha: float | None = None
    test: stats.TestName = "welch"
    variance: stats.VarianceName = "unpooled"
    correction: stats.Correction = "holm"
    input_format: Literal["auto", "units", "stats", "summary"] = "auto"
    encoding: str | None = None
    skip_bad_rows: bool = False
    arm_column: str | None = None
    baseline_label: str | None = None
    pilot_label: str | None = None
    period_column: str | None = None
    events: Path | None = None
    lang: Literal["zh", "en"] | None = None
    realtime_seconds: float = 1.0
    progress: Callable[[int], None] | None = None


@dataclass(frozen=True)
class MetricResult:
    """One metric in one segment, judged."""

    metric: str
    name: str
    kind: str
    better: str
    unit: str | None
    role: Literal["primary", "guardrail"]
    segment: Segment
    comparison: stats.Comparison
    p_adjusted: float | None
    significant: bool
    target: float | None
    attainment: float | None
    verdict: Verdict


@dataclass(frozen=True)
class AlertResult:
    """One alert of the playbook evaluated on the pilot's figures."""

    id: str
    target: str  # node or metric id
    measure: str | None
    value: float | None
    op: str
    threshold: float
    severity: str
    fired: bool


@dataclass(frozen=True)
class PilotReport:
    """Everything `pilot compare` found, in plain data."""

    playbook_id: str
    playbook_version: str
    design: str
    alpha: float
    options: CompareOptions
    lang: str
    metrics: tuple[MetricResult, ...]
    srm_p_value: float | None
    nodes: tuple[Any, ...]  # events.NodeFigures
    alerts: tuple[AlertResult, ...]
    sources: tuple[Any, ...]  # readers.SourceInfo
    shape: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def srm_ok(self) -> bool | None:
        return None if self.srm_p_value is None else self.srm_p_value >= SRM_THRESHOLD

    def to_json(self) -> dict[str, Any]:
        """SPEC's JSON document; full precision, None where not computable."""
        from opsplay.pilot.present import report_to_json

        return report_to_json(self)


SRM_THRESHOLD = 0.001


def run_compare(playbook: Playbook, data: Sequence[Path], options: CompareOptions) -> PilotReport:
    """Read the exports, compare pilot with baseline, evaluate SLAs and alerts."""
    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(
            f"playbook `{playbook.metadata.id}` has no `pilot` section; add one with design, arms "
            "and metrics (see `opsplay init`)"
        )
    lang = options.lang or playbook.language
    alpha = options.alpha if options.alpha is not None else pilot.alpha
    roles = [(m, "primary") for m in pilot.metrics] + [(m, "guardrail") for m in pilot.guardrails]
    metric_defs = {m.id: m for m in playbook.metrics}
    columns = tuple(MetricColumns.of(metric_defs[metric_id]) for metric_id, _ in roles)
    arms = (options.baseline_label or pilot.arms.baseline, options.pilot_label or pilot.arms.pilot)
    period_column = None if pilot.design == "ab" else (options.period_column or pilot.period_column)
    arm_column = options.arm_column or pilot.arm_column
    if (
        pilot.design == "before_after"
        and not options.arm_column
        and not _has_column(data, arm_column, options)
    ):
        # One population measured twice needs no arm column: let the period stand in for it.
        arm_column = period_column or "period"
    read = read_exports(
        list(data),
        ReadOptions(
            metrics=columns,
            arm_column=arm_column,
            period_column=period_column,
            segment_columns=tuple(options.by),
            input_format=options.input_format,
            encoding=options.encoding,
            skip_bad_rows=options.skip_bad_rows,
            progress=options.progress,
            arm_labels=() if pilot.design == "before_after" else arms,
            period_labels=()
            if period_column is None
            else (pilot.periods.before, pilot.periods.after),
        ),
    )
    warnings = list(read.warnings)
    if pilot.design == "before_after":
        warnings.append(describe_issue("before_after_not_causal", lang))

    rows: list[MetricResult] = []
    for metric_id, role in roles:
        metric = metric_defs[metric_id]
        if read.shape == "summary" and not any(key.metric == metric_id for key in read.summary):
            continue  # a dashboard shows some metrics only; the reader has warned
        for segment in _segments(read, metric_id, options.by):
            comparison = _compare_one(
                read,
                playbook,
                metric_id,
                metric.kind,
                segment,
                arms,
                alpha,
                options,
                lang,
                warnings,
            )
            if comparison is None:
                continue
            rows.append(_judge(playbook, metric, role, segment, comparison, alpha))
    rows = _adjust(rows, options.correction, alpha)
    for row in rows:
        where = _segment_label(row.segment)
        for issue in row.comparison.issues:
            warnings.append(
                f"{row.metric}{where}: {describe_issue(issue, lang, min_n=pilot.min_n)}"
            )

    srm = None
    if (
        pilot.design == "ab"
        and rows
        and rows[0].comparison.baseline_n
        and rows[0].comparison.pilot_n
    ):
        first = rows[0].comparison
        srm = stats.sample_ratio_mismatch(first.baseline_n, first.pilot_n, pilot.split)
        if srm is not None and srm < SRM_THRESHOLD:
            warnings.append(
                describe_issue(
                    "srm",
                    lang,
                    p=srm,
                    split=pilot.split,
                    n_baseline=first.baseline_n,
                    n_pilot=first.pilot_n,
                )
            )

    nodes: tuple[Any, ...] = ()
    sources = list(read.sources)
    if options.events is not None:
        from opsplay.pilot.events import read_events

        sla = {
            n.id: (n.sla.resolve(options.realtime_seconds) if n.sla else None)
            for n in playbook.nodes
        }
        event_data = read_events(options.events, sla, encoding=options.encoding)
        nodes = tuple(event_data.nodes)
        warnings += list(event_data.warnings)
        sources.append(event_data.source)
    alerts = _evaluate_alerts(
        playbook, rows, nodes, lang, warnings, has_events=options.events is not None
    )
    return PilotReport(
        playbook_id=playbook.metadata.id,
        playbook_version=playbook.metadata.version,
        design=pilot.design,
        alpha=alpha,
        options=options,
        lang=lang,
        metrics=tuple(rows),
        srm_p_value=srm,
        nodes=nodes,
        alerts=tuple(alerts),
        sources=tuple(sources),
        shape=read.shape,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _has_column(data: Sequence[Path], column: str, options: CompareOptions) -> bool:
    """Whether the first export's header has `column` (a bad file is left for the reader to report)."""
    from opsplay.pilot.readers.cells import normalize_text
    from opsplay.pilot.readers.sources import open_source

    try:
        columns = open_source(Path(data[0]), options.encoding).columns
    except (InputError, IndexError):
        return True
    return any(c.casefold() == normalize_text(column).casefold() for c in columns)


def _segments(read: ExportData, metric_id: str, by: Sequence[str]) -> list[Segment]:
    """The overall segment, then each segment combination found in the data (sorted)."""
    found = {key.segment for key in [*read.stats, *read.summary] if key.metric == metric_id}
    overall: Segment = ()
    if not by:
        return [overall]
    return [overall, *sorted(s for s in found if s)]


def _group(
    read: ExportData, metric_id: str, arm: str, period: str | None, segment: Segment
) -> ArmStats | None:
    """Sum the stats of every key matching (segments not named are summed over)."""
    total: ArmStats | None = None
    wanted = dict(segment)
    for key, value in read.stats.items():
        if key.metric != metric_id or key.arm != arm or key.period != period:
            continue
        if any(dict(key.segment).get(col) != val for col, val in wanted.items()):
            continue
        total = value if total is None else total + value
    return total


def _compare_one(
    read: ExportData,
    playbook: Playbook,
    metric_id: str,
    kind: str,
    segment: Segment,
    arms: tuple[str, str],
    alpha: float,
    options: CompareOptions,
    lang: str,
    warnings: list[str],
) -> stats.Comparison | None:
    pilot = playbook.pilot
    assert pilot is not None
    baseline_label, pilot_label = arms
    where = _segment_label(segment)
    if read.shape == "summary":
        return _compare_summary(
            read, metric_id, kind, segment, arms, alpha, options, pilot.min_n, lang, warnings
        )
    if pilot.design == "ab":
        base = _group(read, metric_id, baseline_label, None, segment)
        test = _group(read, metric_id, pilot_label, None, segment)
        if base is None or test is None:
            _missing_arm(read, metric_id, segment, base is None, arms, lang, warnings)
            return None
        return stats.compare_arms(
            base,
            test,
            kind,
            alpha=alpha,
            test=options.test,
            variance=options.variance,
            min_n=pilot.min_n,
        )
    before, after = pilot.periods.before, pilot.periods.after
    if pilot.design == "before_after":
        # One population measured twice; use the pilot arm if the export has arms, else everyone.
        arm_values = {k.arm for k in read.stats if k.metric == metric_id}
        chosen = [pilot_label] if pilot_label in arm_values else sorted(arm_values)
        groups = []
        for period in (before, after):
            parts = [
                g for a in chosen if (g := _group(read, metric_id, a, period, segment)) is not None
            ]
            groups.append(sum(parts[1:], parts[0]) if parts else None)
        if groups[0] is None or groups[1] is None:
            missing = before if groups[0] is None else after
            warnings.append(
                f"{metric_id}{where}: " + describe_issue("missing_period", lang, period=missing)
            )
            return None
        return stats.compare_arms(
            groups[0],
            groups[1],
            kind,
            alpha=alpha,
            test=options.test,
            variance=options.variance,
            min_n=pilot.min_n,
        )
    cells = [
        _group(read, metric_id, arm, period, segment)
        for arm in (baseline_label, pilot_label)
        for period in (before, after)
    ]
    if any(cell is None for cell in cells):
        warnings.append(f"{metric_id}{where}: " + describe_issue("missing_cell", lang))
        return None
    c_before, c_after, p_before, p_after = cells
    return stats.difference_in_differences(
        c_before, c_after, p_before, p_after, kind, alpha=alpha, min_n=pilot.min_n
    )


def _compare_summary(
    read: ExportData,
    metric_id: str,
    kind: str,
    segment: Segment,
    arms: tuple[str, str],
    alpha: float,
    options: CompareOptions,
    min_n: int,
    lang: str,
    warnings: list[str],
) -> stats.Comparison | None:
    """Dashboard values: the deviation always; a test only for proportions with n."""
    values = {}
    for key, value in read.summary.items():
        if key.metric == metric_id and key.segment == segment and key.arm in arms:
            values[key.arm] = value
    if len(values) < 2:
        _missing_arm(read, metric_id, segment, arms[0] not in values, arms, lang, warnings)
        return None
    base, test = values[arms[0]], values[arms[1]]
    if kind == "proportion" and base.n and test.n:
        as_stats = [ArmStats(v.n, v.value * v.n, v.value * v.n) for v in (base, test)]
        return stats.compare_arms(
            as_stats[0],
            as_stats[1],
            kind,
            alpha=alpha,
            test=options.test,
            variance=options.variance,
            min_n=min_n,
        )
    delta = test.value - base.value
    warnings.append(f"{metric_id}: " + describe_issue("summary_no_test", lang))
    return stats.Comparison(
        kind=kind,
        method="point",
        alpha=alpha,  # type: ignore[arg-type]
        baseline_n=base.n,  # type: ignore[arg-type]  # None: the dashboard gave no n
        baseline_value=base.value,
        baseline_variance=None,
        pilot_n=test.n,  # type: ignore[arg-type]
        pilot_value=test.value,
        pilot_variance=None,
        abs_diff=delta,
        rel_diff=None if base.value == 0 else delta / abs(base.value),
    )


def _missing_arm(
    read: ExportData,
    metric_id: str,
    segment: Segment,
    baseline_missing: bool,
    arms: tuple[str, str],
    lang: str,
    warnings: list[str],
) -> None:
    label = arms[0] if baseline_missing else arms[1]
    if not segment:
        found = sorted({k.arm for k in [*read.stats, *read.summary] if k.metric == metric_id})
        raise InputError(
            describe_issue("arm_not_found", lang, arm=label, found=", ".join(found) or "—")
        )
    warnings.append(
        f"{metric_id}{_segment_label(segment)}: "
        + describe_issue("segment_one_arm", lang, arm=label)
    )


def _segment_label(segment: Segment) -> str:
    return f" [{', '.join(f'{c}={v}' for c, v in segment)}]" if segment else ""


def _target(playbook: Playbook, metric_id: str) -> tuple[float | None, float | None]:
    """(target, baseline the target was set against): the goal's, else a scenario expectation's."""
    if playbook.goal.metric == metric_id:
        return playbook.goal.target, playbook.goal.baseline
    for scenario in playbook.scenarios:
        for expected in scenario.expected:
            if expected.metric == metric_id and expected.op in (">=", ">", "<=", "<"):
                return expected.value, None
    return None, None


def _judge(
    playbook: Playbook,
    metric: Any,
    role: str,
    segment: Segment,
    comparison: stats.Comparison,
    alpha: float,
) -> MetricResult:
    target, goal_baseline = _target(playbook, metric.id)
    reference = goal_baseline if goal_baseline is not None else comparison.baseline_value
    attainment = None
    if (
        target is not None
        and reference is not None
        and comparison.pilot_value is not None
        and target != reference
    ):
        attainment = (comparison.pilot_value - reference) / (target - reference)
    return MetricResult(
        metric=metric.id,
        name=metric.name,
        kind=metric.kind,
        better=metric.better,
        unit=metric.unit,
        role=role,  # type: ignore[arg-type]
        segment=segment,
        comparison=comparison,
        p_adjusted=comparison.p_value,
        significant=False,
        target=target,
        attainment=attainment,
        verdict="inconclusive",
    )


def _adjust(
    rows: list[MetricResult], correction: stats.Correction, alpha: float
) -> list[MetricResult]:
    """Correct across primary metrics × segments, then decide significance and verdicts.

    The overall rows form one family and the per-segment rows another, so looking at
    segments (--by) does not weaken the headline result.
    """
    from dataclasses import replace

    p_adjusted: dict[int, float | None] = {}
    for overall in (True, False):
        family = [
            i
            for i, row in enumerate(rows)
            if row.role == "primary" and (not row.segment) == overall
        ]
        adjusted = stats.adjust_p_values([rows[i].comparison.p_value for i in family], correction)
        p_adjusted.update(zip(family, adjusted, strict=True))
    judged = []
    for i, row in enumerate(rows):
        p = p_adjusted.get(i, row.comparison.p_value)
        significant = p is not None and p < alpha
        judged.append(
            replace(row, p_adjusted=p, significant=significant, verdict=_verdict(row, significant))
        )
    return judged


def _verdict(row: MetricResult, significant: bool) -> Verdict:
    comparison = row.comparison
    if comparison.p_value is None or comparison.abs_diff is None:
        return "inconclusive"
    if not significant:
        return "no_change"
    better = (comparison.abs_diff > 0) == (row.better == "higher")
    if not better:
        return "worse"
    if (
        row.target is not None
        and comparison.pilot_value is not None
        and _reaches(row, comparison.pilot_value)
    ):
        return "met"
    return "improved"


def _reaches(row: MetricResult, value: float) -> bool:
    assert row.target is not None
    return value >= row.target if row.better == "higher" else value <= row.target


def _evaluate_alerts(
    playbook: Playbook,
    rows: Sequence[MetricResult],
    nodes: Sequence[Any],
    lang: str,
    warnings: list[str],
    *,
    has_events: bool,
) -> list[AlertResult]:
    figures = {figure.node: figure for figure in nodes}
    overall = {row.metric: row.comparison.pilot_value for row in rows if not row.segment}
    results = []
    for alert in playbook.alerts:
        if alert.node is not None:
            figure = figures.get(alert.node)
            value = getattr(figure, alert.measure or "", None) if figure is not None else None
            if figure is None and has_events:
                warnings.append(
                    describe_issue("alert_no_events", lang, alert=alert.id, node=alert.node)
                )
            target = alert.node
        else:
            value = overall.get(alert.metric or "")
            target = alert.metric or ""
        fired = (
            value is not None
            and not math.isnan(value)
            and COMPARATORS[alert.op](value, alert.threshold)
        )
        results.append(
            AlertResult(
                alert.id,
                target,
                alert.measure,
                value,
                alert.op,
                alert.threshold,
                alert.severity,
                fired,
            )
        )
    return results


def compare_files(
    playbook_path: Path, data: Sequence[Path], **options: Any
) -> tuple[PilotReport, Playbook]:
    """Load a playbook file and compare; `options` are CompareOptions fields (`by` as a list)."""
    from opsplay.config import find_config
    from opsplay.validate import load_playbook

    config = find_config(playbook_path.parent)
    playbook = load_playbook(playbook_path, config)
    options["by"] = tuple(options.get("by") or ())
    options.setdefault("realtime_seconds", config.realtime_seconds)
    return run_compare(playbook, data, CompareOptions(**options)), playbook


def run_compare_for_report(playbook_path: Path, data: list[Path], **options: Any) -> dict[str, Any]:
    """The JSON document of `pilot compare --format json`, for `render-report`."""
    report, _ = compare_files(playbook_path, data, **options)
    return report.to_json()


def failures(report: PilotReport, fail_on: Sequence[str]) -> list[str]:
    """Which `--fail-on` conditions happened: regression, alert, miss."""
    happened = []
    if "regression" in fail_on and any(row.verdict == "worse" for row in report.metrics):
        happened.append("regression")
    if "alert" in fail_on and any(alert.fired for alert in report.alerts):
        happened.append("alert")
    if "miss" in fail_on and any(
        row.role == "primary"
        and not row.segment
        and row.target is not None
        and row.verdict != "met"
        for row in report.metrics
    ):
        happened.append("miss")
    return happened
