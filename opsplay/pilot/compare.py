"""`opsplay pilot compare`: pilot vs baseline per metric and segment, targets, SLAs, alerts.

Reads exports into sufficient statistics (readers), runs the tests of SPEC section 4
(stats), and judges each metric against the playbook's directions and targets. The
result is a frozen `PilotReport`; `to_json()` gives SPEC's JSON document, which is also
what the report renderer consumes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from opsplay.errors import InputError, UsageError
from opsplay.i18n import _
from opsplay.model.playbook import Playbook
from opsplay.pilot import stats
from opsplay.pilot.designs import Setting, compare_metric, segment_label, segments
from opsplay.pilot.judging import (
    AlertResult,
    MetricResult,
    adjust,
    evaluate_alerts,
    judge,
    reaches_target,
)
from opsplay.pilot.readers import MetricColumns, ReadOptions, read_exports
from opsplay.pilot.wording import describe_issue


@dataclass(frozen=True)
class CompareOptions:
    """Command-line choices; None means "take it from the playbook"."""

    by: tuple[str, ...] = ()
    alpha: float | None = None
    test: stats.TestName = "welch"
    variance: stats.VarianceName = "unpooled"
    correction: stats.Correction = "holm"
    input_format: Literal["auto", "units", "stats", "summary"] = "auto"
    sheet: str | None = None  # Excel: sheet name or 1-based number
    db: str | None = None  # a database URL (`--db`) with `table`, instead of files
    table: str | None = None
    events_table: str | None = None
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
    # (metric, segment) -> missing values per arm: baseline, pilot, before_baseline, before_pilot
    missing: Mapping[tuple[str, Any], Mapping[str, int]] = field(default_factory=dict)

    @property
    def srm_ok(self) -> bool | None:
        """Whether the arm sizes pass the sample-ratio check (None when it was not run)."""
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
    columns = tuple(
        replace(MetricColumns.of(metric_defs[metric_id]), required=role == "primary")
        for metric_id, role in roles
    )
    arms = (options.baseline_label or pilot.arms.baseline, options.pilot_label or pilot.arms.pilot)
    if arms[0] == arms[1] and pilot.design != "before_after":
        raise UsageError(
            f"the baseline and pilot arms are both `{arms[0]}`; a {pilot.design} pilot compares "
            "two different groups (pilot.arms, --baseline, --pilot)"
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
            window=_window(pilot, period_column),
            sheet=options.sheet,
            db=options.db,
            table=options.table,
            period_labels=()
            if period_column is None
            else (pilot.periods.before, pilot.periods.after),
        ),
    )
    warnings = list(read.warnings)
    if pilot.design == "before_after":
        warnings.append(describe_issue("before_after_not_causal", lang))

    setting = Setting(read, pilot, arms, alpha, options.test, options.variance, lang)
    rows: list[MetricResult] = []
    for metric_id, role in roles:
        metric = metric_defs[metric_id]
        if not any(key.metric == metric_id for key in [*read.stats, *read.summary]):
            continue  # an export may show some metrics only; the reader has warned
        for segment in segments(read, metric_id, options.by):
            comparison = compare_metric(setting, metric_id, metric.kind, segment, warnings)
            if comparison is not None:
                rows.append(judge(playbook, metric, role, segment, comparison))
    rows = adjust(rows, options.correction, alpha)
    for row in rows:
        where = segment_label(row.segment)
        for issue in row.comparison.issues:
            warnings.append(
                f"{row.metric}{where}: {describe_issue(issue, lang, min_n=max(pilot.min_n, 2))}"
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
    if options.events is not None or options.events_table is not None:
        from opsplay.pilot.events import read_events

        sla = {
            n.id: (n.sla.resolve(options.realtime_seconds) if n.sla else None)
            for n in playbook.nodes
        }
        # The log is another system's export: its encoding is detected on its own.
        if options.events_table is not None:
            event_data = _events_from_table(options, sla)
        else:
            event_data = read_events(options.events, sla, skip_bad_rows=options.skip_bad_rows)
        nodes = tuple(event_data.nodes)
        warnings += list(event_data.warnings)
        sources.append(event_data.source)
    alerts = evaluate_alerts(
        playbook,
        rows,
        nodes,
        lang,
        warnings,
        has_events=options.events is not None or options.events_table is not None,
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
        missing=_missing_counts(setting, rows),
    )


def _missing_counts(
    setting: Setting, rows: Sequence[MetricResult]
) -> dict[tuple[str, Any], dict[str, int]]:
    """Missing values per arm of every compared metric and segment (unit rows and statistics)."""
    from opsplay.pilot.designs import _cells
    from opsplay.pilot.sufficient import ArmStats

    out: dict[tuple[str, Any], dict[str, int]] = {}
    for row in rows:
        cells = _cells(setting, row.metric, row.segment, [])
        if not cells or not all(isinstance(c, ArmStats) for c in cells):
            continue
        counts = [c.missing + c.invalid for c in cells]  # type: ignore[union-attr]
        if len(cells) == 4:  # did: comparison before/after, pilot before/after
            names = ("before_baseline", "baseline", "before_pilot", "pilot")
        else:
            names = ("baseline", "pilot")
        out[(row.metric, row.segment)] = dict(zip(names, counts, strict=True))
    return out


def _events_from_table(options: CompareOptions, sla: Mapping[str, float | None]) -> Any:
    """`--events-table`: the node log read from the database of `--db`, by the log reader."""
    from opsplay.pilot.events import read_events
    from opsplay.pilot.readers.warehouse import connect, events_csv, scratch_folder

    if not options.db:
        raise UsageError(_("--events-table needs --db: the database holding the table"))
    with scratch_folder() as folder, connect(options.db) as (con, dialect):
        path = events_csv(con, dialect, options.db, options.events_table or "", Path(folder))
        return read_events(path, sla, skip_bad_rows=options.skip_bad_rows)


def _window(pilot: Any, period_column: str | None) -> Any:
    """The pilot window of `pilot.date_column` (SPEC 7), or None."""
    if not pilot.date_column:
        return None
    from opsplay.pilot.sql import Window

    span = (pilot.period.start, pilot.period.end) if pilot.period else None
    before = (pilot.before_period.start, pilot.before_period.end) if pilot.before_period else None
    if pilot.design != "ab" and before is not None and span is not None:
        labels = (pilot.periods.before, pilot.periods.after)
        return Window(pilot.date_column, span, before, labels, derive_period=True)
    return Window(pilot.date_column, span, before if pilot.design != "ab" else None)


def _has_column(data: Sequence[Path], column: str, options: CompareOptions) -> bool:
    """Whether the first export names arms in `column` (or, for statistics and summary
    exports, in a column called `arm`); a bad file is left for the reader to report."""
    from opsplay.pilot.readers.cells import normalize_text
    from opsplay.pilot.readers.sources import open_source

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
    return run_compare(playbook, data, CompareOptions(**options))


def run_compare_for_report(playbook_path: Path, data: list[Path], **options: Any) -> dict[str, Any]:
    """The JSON document of `pilot compare --format json`, for `render-report`."""
    return compare_files(playbook_path, data, **options).to_json()


def failures(report: PilotReport, fail_on: Sequence[str]) -> list[str]:
    """The `--fail-on` conditions that happened, each naming what triggered it.

    regression: a primary or guardrail metric significantly worse (any segment);
    alert: an alert fired; miss: a primary metric whose pilot value (overall) does not
    reach its target — judged on the value, so a dashboard without n can pass.
    """
    happened = []
    worse = sorted({row.metric for row in report.metrics if row.verdict == "worse"})
    if "regression" in fail_on and worse:
        happened.append(f"regression ({', '.join(worse)})")
    fired = [alert.id for alert in report.alerts if alert.fired]
    if "alert" in fail_on and fired:
        happened.append(f"alert ({', '.join(fired)})")
    missed = [
        row.metric
        for row in report.metrics
        if row.role == "primary"
        and not row.segment
        and row.target is not None
        and not reaches_target(row)
    ]
    if "miss" in fail_on and missed:
        happened.append(f"miss ({', '.join(missed)})")
    return happened
