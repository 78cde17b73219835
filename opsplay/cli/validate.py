"""Commands on playbooks themselves: validate, rules, schema, init."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import ValidateFormat
from opsplay.errors import OpsplayError


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH", help="Playbook files or folders (recursive). Default: playbooks/."
        ),
    ] = None,
    output_format: Annotated[
        ValidateFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ValidateFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    base: Annotated[
        str | None,
        typer.Option("--base", help="Git ref: changed playbooks must bump metadata.version."),
    ] = None,
) -> None:
    """Check playbooks: schema, references, node graph, SMART goal, versions.

    Example: opsplay validate playbooks/ --format github
    """
    from opsplay.config import find_config
    from opsplay.formats import FORMATTERS, github_step_summary
    from opsplay.validate import validate_project

    try:
        result = validate_project(paths or [], find_config(Path.cwd()), base=base, strict=strict)
    except OpsplayError as error:
        raise fail(error) from None
    typer.echo(FORMATTERS[output_format.value](result), nl=False)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if output_format is ValidateFormat.github and summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(github_step_summary(result))
        except OSError as error:  # the annotations are already out; a summary is a bonus
            typer.echo(
                f"opsplay: warning: cannot write $GITHUB_STEP_SUMMARY: {error.strerror}", err=True
            )
    if result.errors:
        raise typer.Exit(1)


@app.command()
def rules() -> None:
    """List every rule with its id, severity and what it checks.

    Example: opsplay rules
    """
    from opsplay.diagnostics import RULES

    for rule in RULES.values():
        typer.echo(f"{rule.id}  {rule.severity.value:<7}  {rule.summary}")


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft-07) of the playbook format, for editors.

    Example: opsplay schema > opsplay.schema.json
    """
    from opsplay.schema import schema_json

    typer.echo(schema_json(), nl=False)


@app.command()
def init(
    playbook_id: Annotated[
        str, typer.Argument(metavar="ID", help="Playbook id, e.g. new-user-onboarding.")
    ],
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="Folder to write ID.yaml into.")
    ] = Path("playbooks"),
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the placeholder text: zh or en.")
    ] = "zh",
) -> None:
    """Write a new playbook skeleton with every step's section.

    Example: opsplay init member-recall --lang zh
    """
    from opsplay.skeleton import write_skeleton

    try:
        path = write_skeleton(playbook_id, directory, lang)
    except OpsplayError as error:
        raise fail(error) from None
    typer.echo(f"wrote {path}")
