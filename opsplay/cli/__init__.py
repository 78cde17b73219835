"""The `opsplay` command line: a thin typer layer over the core functions.

Each command group lives in its own module and registers itself on `app`; heavy
libraries (pandas, scipy, jinja2) are imported inside command bodies only, so
`opsplay validate` starts fast.
"""

from __future__ import annotations

import copy
import gc
import os
import sys
import types
from collections.abc import Callable
from typing import Any

# Start-up builds the playbook model and the commands: tens of thousands of objects that live
# as long as the process, which the cyclic garbage collector would walk again and again while
# they are made. It pauses until they are made, then leaves them alone (`gc.freeze`): a tenth
# of `opsplay validate`'s start-up (issue 22). Unreachable cycles among them are never freed.
_COLLECTING = gc.isenabled()
gc.disable()


def _pydantic_plugins_off() -> Callable[[], None]:
    """Switch pydantic's plugins off until the returned function is called (a user's own
    `PYDANTIC_DISABLE_PLUGINS` is kept as it is).

    pydantic searches the entry points of every installed package for plugins when it builds
    the first model, and typer builds a pydantic adapter per option when a command runs;
    opsplay wants no plugin in either. The documented switch stops the search, but pydantic
    still imports its plugin loader, and with it `importlib.metadata` (email, zipfile, …): 7 %
    of `opsplay validate`'s start-up (issue 22). While the switch is ours, the loader pydantic
    finds is one that loads nothing — what the real one returns under the switch.
    """
    if os.environ.get(_SWITCH) is not None:
        return lambda: None
    os.environ[_SWITCH] = "__all__"
    stub = None
    if _LOADER not in sys.modules:
        stub = types.ModuleType(_LOADER, "pydantic's plugin loader while plugins are off")
        stub.get_plugins = _no_plugins  # type: ignore[attr-defined]
        sys.modules[_LOADER] = stub

    def restore() -> None:
        os.environ.pop(_SWITCH, None)
        if stub is not None and sys.modules.get(_LOADER) is stub:
            del sys.modules[_LOADER]  # a later model finds the real loader

    return restore


def _no_plugins() -> tuple[()]:
    return ()


_SWITCH = "PYDANTIC_DISABLE_PLUGINS"
_LOADER = "pydantic.plugin._loader"
_plugins_on = _pydantic_plugins_off()  # while the playbook model and the commands are made

from opsplay.errors import OpsplayError  # noqa: E402
from opsplay.i18n import _, lang_from_argv, resolve_message_language, set_language  # noqa: E402


def _configured_language() -> str | None:
    """`lang` in `[tool.opsplay]`, if the project sets one (a broken file is reported later)."""
    from pathlib import Path

    from opsplay.config import find_config

    try:
        return find_config(Path.cwd()).lang
    except OpsplayError:
        return None


def _settle_language() -> None:
    """Settle the message language before anything is declared: help texts are translated
    when the commands are declared, and typer reads its own words when it is imported."""
    from opsplay.cli.click_words import adapt_typer, speak

    lang = resolve_message_language(lang_from_argv(sys.argv[1:]), _configured_language())
    set_language(lang)
    speak(lang)
    adapt_typer()


_settle_language()

import typer  # noqa: E402  (after the language: typer's own words are read in it)

from opsplay import __version__  # noqa: E402
from opsplay.cli.choices import Lang  # noqa: E402

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
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help=_("Print the version.")
    ),
    lang: Lang | None = typer.Option(None, "--lang", help=_("Language of the messages: zh or en.")),
) -> None:
    """opsplay: operations playbooks as code (`--lang` is read before typer parses it)."""
    if lang is not None:
        from opsplay.i18n import message_language

        # for this run only: an in-process caller (a test, a notebook) keeps its language
        ctx.call_on_close(lambda previous=message_language(): set_language(previous))
        set_language(lang.value)


def fail(error: OpsplayError) -> typer.Exit:
    """Print a user error on stderr and return the Exit to raise."""
    typer.echo(error_line(error), err=True)
    return typer.Exit(error.exit_code)


def error_line(error: OpsplayError) -> str:
    """The line a user error is printed as: `opsplay: error: …` in the message language."""
    from opsplay.text import visible

    # A cell, sheet name or robot's answer quoted in the message may carry terminal escapes
    # or bidi controls: shown as `\x1b` / `<U+202E>`, never sent to the terminal raw.
    return _("opsplay: error: {message}").format(message=visible(error.message))


# Command modules register themselves on import; they import only typer and the
# standard library at module level.
from opsplay.cli import diff, pilot, render, validate, watch  # noqa: E402,F401

gc.freeze()
if _COLLECTING:
    gc.enable()
_plugins_on()


def _degrade_output() -> None:
    """Print what the terminal's encoding cannot show as `?` instead of failing
    (`PYTHONIOENCODING=latin-1` and Chinese text, or a `—`, in any command)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # a closed or detached stream: nothing to protect
                pass


def _named_command(argv: list[str]) -> str | None:
    """The first word of `argv` that is not an option of `opsplay` itself (nor `--lang`'s value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--lang":
            skip = True
        elif word == "--":
            return None
        elif not word.startswith("-"):
            return word
    return None


def _only(typer_app: typer.Typer, argv: list[str]) -> typer.Typer:
    """`typer_app` with only the command `argv` names, found level by level (`pilot compare`).

    typer builds every declared command, reading its options from the function's signature,
    on each run, though one runs: for opsplay's twelve that is a tenth of `opsplay validate`'s
    start-up. Anything else (no command, `--help` of a group, a name that is not a command)
    keeps the whole level, so that help and suggestions list every command.
    """
    name = _named_command(argv)
    if name is None:
        return typer_app
    for info in typer_app.registered_commands:
        callback = info.callback
        if info.name == name or (
            info.name is None and callback is not None and _command_name(callback) == name
        ):
            pruned = copy.copy(typer_app)
            pruned.registered_commands, pruned.registered_groups = [info], []
            return pruned
    for group in typer_app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            rest = argv[argv.index(name) + 1 :]
            inner = copy.copy(group)
            inner.typer_instance = _only(group.typer_instance, rest)
            pruned = copy.copy(typer_app)
            pruned.registered_commands, pruned.registered_groups = [], [inner]
            return pruned
    return typer_app


def _command_name(callback: Any) -> str:
    """The name typer gives a command declared without one (`render_sop` → `render-sop`)."""
    return str(callback.__name__).lower().replace("_", "-")


def main() -> None:
    """Entry point of the console script and `python -m opsplay`."""
    _degrade_output()
    restore = _pydantic_plugins_off()  # typer's adapters of the command's options
    try:
        _only(app, sys.argv[1:])()
    except OpsplayError as error:  # raised outside a command body (e.g. in a callback)
        typer.echo(error_line(error), err=True)
        sys.exit(error.exit_code)
    finally:
        restore()
