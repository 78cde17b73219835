"""`opsplay diff OLD NEW`: what changed between two playbook versions, classified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import DiffFormat, Lang
from opsplay.errors import OpsplayError

_SIDE = "a playbook file, a folder of playbooks, or REF:path from git (e.g. main:playbooks/a.yaml)"


@app.command()
def diff(
    old: Annotated[str, typer.Argument(metavar="OLD", help=f"Old version: {_SIDE}.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help=f"New version: {_SIDE}.")],
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format", "-f", help="Output format; markdown suits a pull-request comment."
        ),
    ] = DiffFormat.text,
    lang: Annotated[
        Lang | None,
        typer.Option("--lang", help="Language of the wording. Default: the new playbook's."),
    ] = None,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code", help="Exit with 1 when the playbooks differ (like git diff --exit-code)."
        ),
    ] = False,
) -> None:
    """Semantic diff of two playbook versions, classified major/minor/patch, with the bump it needs.

    Items are matched by id; reordering, formatting and comments are not changes.

    Folders are compared playbook by playbook, matched by metadata.id.

    Example: opsplay diff main:playbooks/onboarding.yaml playbooks/onboarding.yaml
    """
    from opsplay.config import find_config
    from opsplay.diff import FORMATS, default_lang, diff_sources, read_source

    try:
        config = find_config(Path.cwd())
        report = diff_sources(read_source(old), read_source(new), config)
    except OpsplayError as error:
        raise fail(error) from None
    chosen = lang.value if lang else default_lang(report)
    typer.echo(FORMATS[output_format.value](report, chosen), nl=False)
    if exit_code and report.differs:
        raise typer.Exit(1)
