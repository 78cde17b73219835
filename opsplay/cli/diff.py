"""`opsplay diff OLD NEW`: what changed between two playbook versions, classified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import DiffFormat, Lang
from opsplay.cli.options import asked_lang
from opsplay.errors import OpsplayError
from opsplay.i18n import N_, _

_SIDE = N_("a playbook file, a folder of playbooks, or REF:path from git (e.g. {example})")
_SIDE_EXAMPLE = "main:playbooks/a.yaml"


@app.command(
    help=_(
        "Semantic diff of two playbook versions, classified major/minor/patch, "
        "with the version bump it needs."
    )
    + "\n\n"
    + _("Items are matched by id; reordering, formatting and comments are not changes.")
    + "\n\n"
    + _("Folders are compared playbook by playbook, matched by metadata.id.")
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay diff main:playbooks/onboarding.yaml playbooks/onboarding.yaml"
    )
)
def diff(
    ctx: typer.Context,
    old: Annotated[
        str,
        typer.Argument(
            metavar="OLD",
            help=_("Old version: {side}.").format(side=_(_SIDE).format(example=_SIDE_EXAMPLE)),
        ),
    ],
    new: Annotated[
        str,
        typer.Argument(
            metavar="NEW",
            help=_("New version: {side}.").format(side=_(_SIDE).format(example=_SIDE_EXAMPLE)),
        ),
    ],
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format", "-f", help=_("Output format; markdown suits a pull-request comment.")
        ),
    ] = DiffFormat.text,
    lang: Annotated[
        Lang | None,
        typer.Option("--lang", help=_("Language of the wording. Default: the new playbook's.")),
    ] = None,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help=_("Exit with 1 when the playbooks differ (like git diff --exit-code)."),
        ),
    ] = False,
) -> None:
    """Semantic diff of two playbook versions."""
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.config import find_config
    from opsplay.diff import FORMATS, default_lang, diff_sources, read_source

    try:
        config = find_config(Path.cwd())
        report = diff_sources(read_source(old, config), read_source(new, config), config)
    except OpsplayError as error:
        raise fail(error) from None
    chosen = lang.value if lang else default_lang(report)
    typer.echo(FORMATS[output_format.value](report, chosen), nl=False)
    if exit_code and report.differs:
        raise typer.Exit(1)
