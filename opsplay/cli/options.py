"""Options declared once and used by several commands (`pilot compare`, `render-report`,
`render-sop`), so their names, defaults and help stay the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli.choices import Correction, InputFormat, Test, Variance
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
Alpha = Annotated[
    float | None, typer.Option("--alpha", min=1e-9, max=0.5, help=_("Override pilot.alpha."))
]
Templates = Annotated[
    Path | None,
    typer.Option("--templates", help=_("Folder of templates overriding the shipped ones by name.")),
]
