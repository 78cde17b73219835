"""The `opsplay` command line: a thin typer layer over the core functions.

Each command group lives in its own module and registers itself on `app`; heavy
libraries (pandas, scipy, jinja2) are imported inside command bodies only, so
`opsplay validate` starts fast.
"""

from __future__ import annotations

import sys

import typer

from opsplay import __version__
from opsplay.errors import OpsplayError
from opsplay.i18n import _, lang_from_argv, resolve_message_language, set_language


def _configured_language() -> str | None:
    """`lang` in `[tool.opsplay]`, if the project sets one (a broken file is reported later)."""
    from pathlib import Path

    from opsplay.config import find_config

    try:
        return find_config(Path.cwd()).lang
    except OpsplayError:
        return None


# Help texts are translated when the commands are declared, so the message language is
# settled before they are imported.
set_language(resolve_message_language(lang_from_argv(sys.argv[1:]), _configured_language()))

app = typer.Typer(
    name="opsplay",
    help=_("Versioned YAML playbooks for operations teams: validate, pilot, render, diff.")
    + "\n\n"
    + _("Example: {example}").format(example="opsplay validate playbooks/"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"opsplay {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help=_("Print the version.")
    ),
) -> None:
    """opsplay: operations playbooks as code."""


def fail(error: OpsplayError) -> typer.Exit:
    """Print a user error on stderr and return the Exit to raise."""
    typer.echo(error_line(error), err=True)
    return typer.Exit(error.exit_code)


def error_line(error: OpsplayError) -> str:
    """The line a user error is printed as: `opsplay: error: …` in the message language."""
    return _("opsplay: error: {message}").format(message=error.message)


# Command modules register themselves on import; they import only typer and the
# standard library at module level.
from opsplay.cli import diff, pilot, render, validate, watch  # noqa: E402,F401


def main() -> None:
    """Entry point of the console script and `python -m opsplay`."""
    try:
        app()
    except OpsplayError as error:  # raised outside a command body (e.g. in a callback)
        typer.echo(error_line(error), err=True)
        sys.exit(error.exit_code)
