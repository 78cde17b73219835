"""`opsplay pilot …`: compare a pilot with its baseline, plan its size, generate warehouse SQL.

Floor: the CLI, the top. May import every floor, inside the command bodies.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import (
    CompareFormat,
    Correction,
    InputFormat,
    Lang,
    PlanFormat,
    Test,
    Variance,
)
from opsplay.cli.options import (
    Alpha,
    AsOf,
    CorrectionOption,
    Database,
    Encoding,
    Events,
    EventsTable,
    InputFormatOption,
    Sequential,
    Sheet,
    SkipBadRows,
    Table,
    TestOption,
    VarianceOption,
    asked_lang,
)
from opsplay.cli.watch import RecordOption, StateOption, record_compare
from opsplay.errors import OpsplayError, UsageError
from opsplay.i18n import _, language
from opsplay.text import visible

pilot_app = typer.Typer(
    help=_("Step 4: measure a pilot against its control group.")
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay pilot compare playbooks/new-user-onboarding.yaml "
        "examples/onboarding_units.csv"
    ),
    no_args_is_help=True,
)
app.add_typer(pilot_app, name="pilot")


class FailOn(str, enum.Enum):
    """What makes `pilot compare --fail-on` exit 1 (opsplay.pilot.compare.failures)."""

    regression = "regression"
    segment_regression = "segment-regression"
    alert = "alert"
    miss = "miss"


class Dialect(str, enum.Enum):
    """SQL dialects of `pilot sql` (opsplay.query.units.DIALECTS)."""

    duckdb = "duckdb"
    postgres = "postgres"
    bigquery = "bigquery"
    spark = "spark"


PlaybookArg = Annotated[Path, typer.Argument(metavar="PLAYBOOK", help=_("The playbook YAML file."))]


def _with_progress(run, files: list[Path]):  # noqa: ANN001, ANN202
    """Run `run(progress)` with a progress bar (bytes read) on stderr when stderr is a terminal."""
    if not sys.stderr.isatty():
        return run(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        "{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(
            "reading", total=sum(p.stat().st_size for p in files if p.is_file()) or None
        )
        return run(lambda done: bar.update(task, completed=done))


@pilot_app.command(
    "compare",
    help=_(
        "Compare the pilot group with the control group per metric: change, interval, "
        "p-value, target, time limits, alerts."
    )
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay pilot compare playbooks/new-user-onboarding.yaml "
        "examples/onboarding_units.csv --by region"
    ),
)
def compare(
    ctx: typer.Context,
    playbook: PlaybookArg,
    data: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="DATA", help=_("Metric exports (CSV, Parquet or Excel); none with --db.")
        ),
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help=_("Segment column (repeatable)."))
    ] = None,
    max_segments: Annotated[
        int,
        typer.Option(
            "--max-segments",
            min=1,
            help=_("Refuse --by when it gives more segments than this."),
        ),
    ] = 1000,
    output_format: Annotated[
        CompareFormat, typer.Option("--format", "-f", help=_("Output format."))
    ] = CompareFormat.text,
    fail_on: Annotated[
        list[FailOn] | None,
        typer.Option(
            "--fail-on",
            help=_(
                "Exit 1 on regression (overall), segment-regression, alert or miss "
                "(repeatable); segment-regression checks the segments only, in addition to "
                "regression: pass both for both."
            ),
        ),
    ] = None,
    events: Events = None,
    as_of: AsOf = None,
    input_format: InputFormatOption = InputFormat.auto,
    encoding: Encoding = None,
    skip_bad_rows: SkipBadRows = False,
    test: TestOption = Test.welch,
    variance: VarianceOption = Variance.unpooled,
    correction: CorrectionOption = Correction.holm,
    sequential: Sequential = False,
    alpha: Alpha = None,
    arm_column: Annotated[
        str | None, typer.Option("--arm-column", help=_("Override pilot.arm_column."))
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help=_("Baseline arm label."))
    ] = None,
    pilot: Annotated[str | None, typer.Option("--pilot", help=_("Pilot arm label."))] = None,
    period_column: Annotated[
        str | None, typer.Option("--period-column", help=_("Override pilot.period_column."))
    ] = None,
    lang: Annotated[
        Lang | None,
        typer.Option("--lang", help=_("Language of the text (default: the playbook's).")),
    ] = None,
    sheet: Sheet = None,
    db: Database = None,
    table: Table = None,
    events_table: EventsTable = None,
    record: RecordOption = False,
    state: StateOption = None,
) -> None:
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.pilot.compare import compare_files, failures
    from opsplay.pilot.presentation.formats import FORMATTERS

    if not data and not db and events is not None:
        # No command gives a node log's figures on their own: say what to pass, and where the
        # node alerts of a log alone are evaluated.
        raise fail(
            UsageError(
                _(
                    "pilot compare compares the pilot with its baseline: pass the metric "
                    "exports (DATA…, or --db with --table) beside `--events {log}`, and the "
                    "node figures come with the comparison; for the node alerts of the log "
                    "alone run `opsplay watch {playbook} --events {log}` (--as-of sets the "
                    "evaluation time)"
                ).format(log=events, playbook=playbook)
            )
        )
    if not data and not db:
        raise fail(UsageError(_("pass the metric exports, or --db with --table")))
    data = data or []
    try:
        report = _with_progress(
            lambda progress: compare_files(
                playbook,
                data,
                sheet=sheet,
                db=db,
                table=table,
                events_table=events_table,
                by=by or [],
                max_segments=max_segments,
                events=events,
                input_format=input_format.value,
                encoding=encoding,
                skip_bad_rows=skip_bad_rows,
                test=test.value,
                variance=variance.value,
                correction=correction.value,
                sequential=sequential,
                alpha=alpha,
                arm_column=arm_column,
                baseline_label=baseline,
                pilot_label=pilot,
                period_column=period_column,
                lang=lang.value if lang else None,
                progress=progress,
                as_of=as_of,
            ),
            data,
        )
        if record:
            record_compare(report, data, events, state)
    except OpsplayError as error:
        raise fail(error) from None
    color = output_format is CompareFormat.text and sys.stdout.isatty()
    typer.echo(FORMATTERS[output_format.value](report, color), nl=False)
    for notice in report.notices:
        typer.echo(_("opsplay: note: {message}").format(message=visible(notice)), err=True)
    happened = failures(report, [f.value for f in fail_on or []])
    if happened:
        shown = _("; ").join(happened)
        typer.echo(_("opsplay: --fail-on: {conditions}").format(conditions=shown), err=True)
        raise typer.Exit(1)


@pilot_app.command(
    "plan",
    help=_("Units per group (and days, with --daily) needed to detect the goal's change.")
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay pilot plan playbooks/new-user-onboarding.yaml --daily 800"
    ),
)
def plan(
    ctx: typer.Context,
    playbook: PlaybookArg,
    mde: Annotated[
        float | None,
        typer.Option(
            "--mde", help=_("Absolute change to detect (default: goal target − baseline).")
        ),
    ] = None,
    power: Annotated[
        float, typer.Option("--power", min=0.5, max=0.999, help=_("Statistical power."))
    ] = 0.8,
    daily: Annotated[
        float | None,
        typer.Option("--daily", min=0, help=_("Units entering the pilot per day (both arms).")),
    ] = None,
    sd: Annotated[
        float | None,
        typer.Option("--sd", min=0, help=_("Per-unit standard deviation (mean metrics).")),
    ] = None,
    icc: Annotated[
        float | None,
        typer.Option(
            "--icc",
            min=0,
            max=0.999,
            help=_(
                "Intra-cluster correlation of a pilot assigned by region, store…: how alike "
                "units of one cluster are (0.01–0.05 is common)."
            ),
        ),
    ] = None,
    cluster_size: Annotated[
        float | None,
        typer.Option(
            "--cluster-size", min=1, help=_("Units per cluster over the pilot (with --icc).")
        ),
    ] = None,
    clusters: Annotated[
        int | None,
        typer.Option(
            "--clusters",
            min=1,
            help=_("Clusters each group can have: the units per cluster needed (with --icc)."),
        ),
    ] = None,
    before: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            help=_(
                "Before-period unit rows with the cluster column: the intra-cluster correlation "
                "and cluster size estimated from them."
            ),
        ),
    ] = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help=_("Output format."))
    ] = PlanFormat.text,
    lang: Annotated[
        Lang | None,
        typer.Option("--lang", help=_("Language of the text (default: the playbook's).")),
    ] = None,
    correction: CorrectionOption = Correction.holm,
) -> None:
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.pilot.playbook_plan import (
        before_period,
        clusters_for_playbook,
        format_plan,
        plan_for_playbook,
    )
    from opsplay.validate import load_playbook

    try:
        loaded = load_playbook(playbook)
        history = before_period(loaded, before) if before else None
        if sd is None and history is not None:
            sd = history.sd  # a mean metric's spread, from the same before period
        result = plan_for_playbook(
            loaded, mde=mde, power=power, daily=daily, sd=sd, correction=correction.value
        )
        clustered = clusters_for_playbook(
            loaded, result, icc=icc, cluster_size=cluster_size, clusters=clusters, before=history
        )
    except OpsplayError as error:
        raise fail(error) from None
    design = loaded.pilot.design if loaded.pilot else "ab"
    language = lang.value if lang else loaded.language
    column = loaded.pilot.cluster if loaded.pilot else None
    typer.echo(
        format_plan(result, output_format.value, language, design, clustered, column), nl=False
    )


@pilot_app.command(
    "sql",
    help=_("Print the SQL that turns a table of unit rows into the sufficient-statistics export.")
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay pilot sql playbooks/new-user-onboarding.yaml --table "
        "ods.onboarding_users --dialect bigquery"
    ),
)
def sql(
    ctx: typer.Context,
    playbook: PlaybookArg,
    table: Annotated[str, typer.Option("--table", help=_("Warehouse table of unit rows."))],
    dialect: Annotated[Dialect, typer.Option("--dialect", help=_("SQL dialect."))] = Dialect.duckdb,
    by: Annotated[
        list[str] | None, typer.Option("--by", help=_("Segment column (repeatable)."))
    ] = None,
    events: Annotated[
        bool,
        typer.Option(
            "--events", help=_("Print the node-figures query for an execution-log table instead.")
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=_(
                "Read the table's column names from this database first (组别 for `group`, "
                "节点 for a log's `node`, their case), as pilot compare --db does."
            ),
        ),
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option("--lang", help=_("Language of the comments."))
    ] = None,
    as_of: AsOf = None,
) -> None:
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    with language(lang.value if lang else None):
        _print_sql(playbook, table, dialect, by, events, db, lang.value if lang else None, as_of)


def _print_sql(
    playbook: Path,
    table: str,
    dialect: Dialect,
    by: list[str] | None,
    events: bool,
    db: str | None,
    lang: str | None = None,
    as_of: str | None = None,
) -> None:
    from opsplay.pilot.playbook_plan import sql_for_playbook
    from opsplay.validate import load_playbook

    try:
        if as_of is not None and not events:
            raise UsageError(
                _(
                    "--as-of goes with --events: it is the evaluation time of the node-figures "
                    "query (open cases and their deadlines)"
                )
            )
        if events:
            from opsplay.config import find_config
            from opsplay.nodes.log import evaluation_time, table_event_columns
            from opsplay.nodes.sql import events_sql_for_playbook
            from opsplay.zones import wall_clock, zone

            config = find_config(playbook.parent)
            loaded = load_playbook(playbook, config)
            # as pilot compare --as-of reads it: naive in the project's zone, an offset moved
            # there; the query compares it with the log's naive times
            where = zone(config.timezone, loaded.language)
            evaluated = evaluation_time(as_of, where)
            # the table's own column names (节点, 开始时间…), found as a log file's header is
            columns = table_event_columns(db, table) if db else None
            with language(lang or loaded.language):  # comments in the playbook's language
                text = events_sql_for_playbook(
                    loaded,
                    table=table,
                    dialect=dialect.value,
                    calendar=config.calendar,
                    workday_limits=config.workday_limits,
                    realtime_seconds=config.realtime_seconds,
                    as_of=None if evaluated is None else wall_clock(evaluated, where),
                    columns=columns,
                )
        else:
            loaded = load_playbook(playbook)
            with language(lang or loaded.language):  # comments in the playbook's language
                text = sql_for_playbook(
                    loaded,
                    table=table,
                    dialect=dialect.value,
                    by=by or [],
                    db=db,
                    warn=lambda warning: typer.echo(
                        _("opsplay: warning: {message}").format(message=visible(warning)),
                        err=True,
                    ),
                )
    except OpsplayError as error:
        raise fail(error) from None
    typer.echo(text)
