"""Options declared once and used by several commands (`pilot compare`, `render-report`,
`render-sop`), so their names, defaults and help stay the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli.choices import Correction, InputFormat, Lang, Test, Variance
from opsplay.i18n import _

Events = Annotated[
    Path | None, typer.Option("--events", help=_("Node execution log (CSV) for SLAs and alerts."))
]
Encoding = Annotated[
    str | None, typer.Option("--encoding", help=_("Force the exports' encoding (e.g. gbk, utf-8)."))
]
InputFormatOption = Annotated[
    InputFormat, typer.Option("--input-format", help=_("Force the export shape."))
]
SkipBadRows = Annotated[
    bool, typer.Option("--skip-bad-rows", help=_("Skip and count rows with bad values."))
]
TestOption = Annotated[Test, typer.Option("--test", help=_("welch (default, as gbstats) or z."))]
VarianceOption = Annotated[
    Variance, typer.Option("--variance", help=_("pooled: pooled variance for proportions."))
]
CorrectionOption = Annotated[
    Correction, typer.Option("--correction", help=_("Multiple-testing correction."))
]
Sequential = Annotated[
    bool,
    typer.Option(
        "--sequential",
        help=_(
            "Always-valid intervals and p-values, for a check run again and again (as "
            "pilot.sequential: true)."
        ),
    ),
]
Alpha = Annotated[
    float | None, typer.Option("--alpha", min=1e-9, max=0.5, help=_("Override pilot.alpha."))
]
Templates = Annotated[
    Path | None,
    typer.Option("--templates", help=_("Folder of templates overriding the shipped ones by name.")),
]
Sheet = Annotated[
    str | None,
    typer.Option(
        "--sheet", help=_("Excel: the sheet to read, by name or number (default: the first).")
    ),
]
Database = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=_(
            "Run the query in a database instead of reading files: duckdb:///file.duckdb, "
            "postgresql://user@host/db (pip install 'opsplay[warehouse]')."
        ),
    ),
]
Table = Annotated[str | None, typer.Option("--table", help=_("With --db: the table of unit rows."))]
EventsTable = Annotated[
    str | None,
    typer.Option("--events-table", help=_("With --db: the table of the node execution log.")),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help=_(
            "Evaluation time of open cases and schedules, e.g. 2026-12-07 14:00 (default: the "
            "log's last time for pilot compare, now for watch); read in the project's time zone."
        ),
    ),
]


def asked_lang(lang: Lang | None, ctx: typer.Context) -> Lang | None:
    """The language asked for on the command line: the command's `--lang`, else opsplay's own
    before the command (`opsplay --lang en pilot compare …`); None when neither was given."""
    return lang if lang is not None else ctx.find_root().params.get("lang")
