"""Commands on playbooks themselves: validate, rules, schema, init.

Floor: the CLI, the top. May import every floor, inside the command bodies; it is where
`--base` (`opsplay.version_check`) is put beside `validate_project`.
"""

# No `from __future__ import annotations`: typer would evaluate every annotation string of
# every command on each run; evaluated once at import they cost start-up less.

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import Lang, ValidateFormat
from opsplay.cli.options import asked_lang
from opsplay.errors import OpsplayError
from opsplay.i18n import _, language

LANG_HELP = _("Language of the messages: zh or en (default: OPSPLAY_LANG, configuration, locale).")


def _asked(flag: Lang | str | None, ctx: typer.Context) -> str | None:
    """The language asked for on the command line (`opsplay --lang zh validate` too)."""
    chosen = flag if flag is not None else asked_lang(None, ctx)
    return chosen.value if isinstance(chosen, Lang) else chosen


def _speak(flag: Lang | str | None, ctx: typer.Context) -> str:
    """The message language of a command in SPEC 6's order: `--lang` (the command's or
    opsplay's), OPSPLAY_LANG, configuration, locale (read again here, so that a run inside a
    test or a long-lived process follows it too)."""
    from opsplay.cli import _configured_language
    from opsplay.i18n import resolve_message_language

    return resolve_message_language(_asked(flag, ctx), _configured_language())


def _example(text: str, example: str) -> str:
    return text + "\n\n" + _("Example: {example}").format(example=example)


@app.command(
    help=_example(
        _("Check playbooks: schema, references, node graph, SMART goal, versions."),
        "opsplay validate playbooks/ --format github",
    )
)
def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH", help=_("Playbook files or folders (recursive). Default: playbooks/.")
        ),
    ] = None,
    output_format: Annotated[
        ValidateFormat, typer.Option("--format", "-f", help=_("Output format."))
    ] = ValidateFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help=_("Fail on warnings too."))] = False,
    base: Annotated[
        str | None,
        typer.Option("--base", help=_("Git ref: changed playbooks must bump metadata.version.")),
    ] = None,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks",
            help=_("Also check files that symlinks lead to outside the checked folder."),
        ),
    ] = False,
    lang: Annotated[Lang | None, typer.Option("--lang", help=LANG_HELP)] = None,
) -> None:
    from dataclasses import replace

    from opsplay.config import find_config
    from opsplay.formats import FORMATTERS, github_step_summary
    from opsplay.i18n import resolve_message_language
    from opsplay.validate import validate_project

    try:
        config = find_config(Path.cwd())
    except OpsplayError as error:  # a broken configuration: said in the flag's or env's language
        with language(_speak(lang, ctx)):
            raise fail(error) from None
    if follow_symlinks:
        config = replace(config, follow_symlinks=True)
    with language(resolve_message_language(_asked(lang, ctx), config.lang)):
        try:
            result = validate_project(paths or [], config)
            if base is not None:  # beside validate, not under it: only --base needs the differ
                from opsplay.version_check import check_version_bumps

                result = result.adding(check_version_bumps(paths or [], base, config))
            if strict:  # SPEC: under --strict a warning is an error (the version findings too)
                result = result.strict()
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
                    _("opsplay: warning: cannot write $GITHUB_STEP_SUMMARY: {reason}").format(
                        reason=error.strerror
                    ),
                    err=True,
                )
    if result.errors:
        raise typer.Exit(1)


@app.command(
    help=_example(_("List every rule with its id, severity and what it checks."), "opsplay rules")
)
def rules(
    ctx: typer.Context, lang: Annotated[Lang | None, typer.Option("--lang", help=LANG_HELP)] = None
) -> None:
    from opsplay.diagnostics import RULES
    from opsplay.formats import SEVERITY_WORDS

    with language(_speak(lang, ctx)):
        for rule in RULES.values():
            severity = _(SEVERITY_WORDS[rule.severity])
            typer.echo(f"{rule.id}  {severity:<7}  {rule.text}")


@app.command(
    help=_example(
        _("Print the JSON Schema (draft-07) of the playbook format, for editors."),
        "opsplay schema > opsplay.schema.json",
    )
)
def schema(
    ctx: typer.Context, lang: Annotated[Lang | None, typer.Option("--lang", help=LANG_HELP)] = None
) -> None:
    from opsplay.schema import schema_json

    typer.echo(schema_json(_speak(lang, ctx)), nl=False)


@app.command(
    help=_example(
        _(
            "Write a new playbook skeleton with every step's section, "
            "as DIR/ID.yaml (default: playbooks/ID.yaml)."
        ),
        "opsplay init 售后退款工单处理 --id refund-tickets",
    )
)
def init(
    ctx: typer.Context,
    title: Annotated[
        str,
        typer.Argument(
            metavar="TITLE",
            help=_(
                "Title of the process, e.g. 售后退款工单处理; an id such as member-recall "
                "works too."
            ),
        ),
    ],
    playbook_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help=_(
                "Playbook id (file name): lowercase letters, digits and `-`, e.g. refund-tickets."
            ),
        ),
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help=_("Folder to write ID.yaml into."))
    ] = Path("playbooks"),
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help=_("Language of the placeholder text and the messages: zh or en.")
        ),
    ] = None,
) -> None:
    from opsplay.i18n import normalise
    from opsplay.skeleton import derive_id, write_skeleton

    with language(_speak(normalise(lang), ctx)):
        try:
            chosen = playbook_id or derive_id(title, ask=_ask_id if sys.stdin.isatty() else None)
            path = write_skeleton(chosen, directory, lang or "zh", title=title)
        except OpsplayError as error:
            raise fail(error) from None
        from opsplay.validate import display_name

        name = display_name(path)
        typer.echo(
            _(
                "wrote {path}; replace its <…> placeholders, then run `opsplay validate {path}`"
            ).format(path=name)
        )


def _ask_id(title: str) -> str:
    """Ask for the id on a terminal (a Chinese title has no spelling to derive it from)."""
    return typer.prompt(
        _(
            "Playbook id for “{title}” (lowercase letters, digits and `-`, e.g. refund-tickets)"
        ).format(title=title)
    )
