"""`opsplay watch` (alerts to chat robots, on change only) and `opsplay history` (what each
version achieved)."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import InputFormat, Lang
from opsplay.cli.options import AsOf, Encoding, InputFormatOption, Sheet, SkipBadRows, asked_lang
from opsplay.errors import OpsplayError, UsageError
from opsplay.i18n import _, language
from opsplay.text import visible


class WatchFormat(str, enum.Enum):
    """opsplay.watch.output.FORMATTERS."""

    text = "text"
    json = "json"


class HistoryFormat(str, enum.Enum):
    """opsplay.watch.history.FORMATTERS."""

    text = "text"
    json = "json"
    markdown = "markdown"


StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        envvar="OPSPLAY_STATE",
        help=_(
            "State file (SQLite) of alert states, queued messages and history. "
            "Default: .opsplay/state.db"
        ),
    ),
]
PlaybookArg = Annotated[
    Path, typer.Argument(metavar="PLAYBOOK", help=_("The playbook (YAML file)."))
]
LangOption = Annotated[
    Lang | None,
    typer.Option(
        "--lang", help=_("Language of the messages and output (default: the playbook's).")
    ),
]


@app.command(
    "watch",
    help=_(
        "Evaluate the playbook's alerts as `pilot compare` does and tell the chat robots when an "
        "alert starts firing or resolves (not on every run). Exit 1 while an alert fires."
    )
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay watch playbooks/new-user-onboarding.yaml --events "
        "examples/onboarding_events.csv --notify "
        "'https://oapi.dingtalk.com/robot/send?access_token=…'"
    ),
)
def watch(
    ctx: typer.Context,
    playbook: PlaybookArg,
    data: Annotated[
        list[Path] | None,
        typer.Argument(metavar="DATA", help=_("Metric exports, for metric alerts (optional).")),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events", help=_("Node execution log (CSV, Excel or Parquet), for node alerts.")
        ),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help=_(
                "Robot webhook URL (repeatable): DingTalk, Feishu/Lark, WeCom, Slack by host, "
                "or a prefix dingtalk+ feishu+ wecom+ slack+ json+ for a gateway."
            ),
        ),
    ] = None,
    state: StateOption = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="OPSPLAY_NOTIFY_SECRET",
            show_envvar=True,
            help=_("Signing secret of DingTalk / Feishu robots (prefer the environment variable)."),
        ),
    ] = None,
    output_format: Annotated[
        WatchFormat, typer.Option("--format", "-f", help=_("Output format: text or json."))
    ] = WatchFormat.text,
    input_format: InputFormatOption = InputFormat.auto,
    encoding: Encoding = None,
    skip_bad_rows: SkipBadRows = False,
    sheet: Sheet = None,
    lang: LangOption = None,
    as_of: AsOf = None,
) -> None:
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.watch.output import FORMATTERS
    from opsplay.watch.run import run_watch

    try:
        if events is None and not data:
            raise UsageError(
                _("give the node execution log (`--events LOG`), metric exports (DATA…), or both")
            )
        result = run_watch(
            playbook,
            events=events,
            data=data or [],
            notify_urls=notify or [],
            state_path=state,
            secret=secret or None,
            input_format=input_format.value,
            encoding=encoding,
            skip_bad_rows=skip_bad_rows,
            sheet=sheet,
            lang=lang.value if lang else None,
            as_of=as_of,
        )
    except OpsplayError as error:
        raise fail(error) from None
    typer.echo(FORMATTERS[output_format.value](result, result.playbook), nl=False)
    where = state or Path(os.environ.get("OPSPLAY_STATE") or ".opsplay/state.db")
    for notice in result.notices:
        typer.echo(_("opsplay: note: {message}").format(message=visible(notice)), err=True)
    for warning in result.warnings:
        typer.echo(_("opsplay: warning: {message}").format(message=visible(warning)), err=True)
    for failure in result.failures:
        typer.echo(_failure_words(failure, where), err=True)
    if result.unknown_targets:
        typer.echo(
            _(
                "opsplay: warning: messages for {count} robot(s) not given with --notify this "
                "run are queued in {state}; they are sent when that URL is given again"
            ).format(count=result.unknown_targets, state=where),
            err=True,
        )
    if result.firing or any(f.status != "maybe" for f in result.failures):
        raise typer.Exit(1)


def _failure_words(failure: Any, where: Path) -> str:
    """What became of a message whose post failed: queued, given up, or perhaps delivered."""
    words = {
        "alert": failure.alert,
        "playbook": failure.playbook,
        "target": failure.target,
        "reason": failure.reason,
        "state": where,
        "id": failure.message_id,
    }
    if failure.status == "maybe":
        return _(
            "opsplay: warning: the message about `{alert}` went to {target} but no answer "
            "came ({reason}); it may have arrived, so it is not sent again (message id {id})"
        ).format(**words)
    if failure.status == "dead":
        return _(
            "opsplay: error: {target} refused the message about `{alert}` of `{playbook}` in "
            "every run ({reason}); it is given up and kept in {state} (see `opsplay history`); "
            "the robot's other messages are sent"
        ).format(**words)
    return _(
        "opsplay: error: could not post the message about `{alert}` of `{playbook}` to "
        "{target}: {reason}; it stays queued in {state} and is sent by the next run"
    ).format(**words)


@app.command(
    "history",
    help=_(
        "List what each recorded version of a playbook achieved: primary metrics, verdicts, "
        "fired alerts (recorded by `pilot compare --record` and `watch`)."
    )
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay history playbooks/new-user-onboarding.yaml --format markdown"
    ),
)
def history(
    ctx: typer.Context,
    playbook: PlaybookArg,
    state: StateOption = None,
    output_format: Annotated[
        HistoryFormat,
        typer.Option("--format", "-f", help=_("Output format: text, json or markdown.")),
    ] = HistoryFormat.text,
    lang: LangOption = None,
) -> None:
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.validate import load_playbook
    from opsplay.watch.history import FORMATTERS, dead_letters, versions
    from opsplay.watch.state import open_state

    try:
        loaded = load_playbook(playbook)
        opened = open_state(state, create=False)
        try:
            entries = versions(opened, loaded.metadata.id)
            given_up = dead_letters(opened, loaded.metadata.id)
        finally:
            if opened is not None:
                opened.close()
    except OpsplayError as error:
        raise fail(error) from None
    from opsplay.config import find_config
    from opsplay.watch.history import shown_time
    from opsplay.zones import zone as zone_of

    # times on the team's clock, the zone named (SPEC 12): `timezone`, else by language
    where = zone_of(find_config(playbook.parent).timezone, loaded.language)
    document_lang = lang.value if lang else loaded.language
    with language(document_lang):
        text = FORMATTERS[output_format.value](
            loaded.metadata.id, entries, loaded, document_lang, where
        )
    typer.echo(text, nl=False)
    for letter in given_up:
        typer.echo(
            _(
                "opsplay: warning: the message of {created} about `{alert}` ({event}) was "
                "refused by {target} and given up on {dead}: {reason}"
            ).format(
                created=shown_time(letter["created"], where),
                alert=letter["alert"],
                event=letter["event"],
                target=letter["shown"],
                dead=shown_time(letter["dead"], where),
                reason=letter["last_error"] or "",
            ),
            err=True,
        )


RecordOption = Annotated[
    bool,
    typer.Option(
        "--record",
        help=_(
            "Store the results with playbook id, version and data fingerprint in the state "
            "file (see `opsplay history`)."
        ),
    ),
]


def record_compare(
    report: object, data: list[Path], events: Path | None, state: Path | None
) -> None:
    """Store a `pilot compare` result in the history (for `pilot compare --record`)."""
    from opsplay.config import find_config
    from opsplay.pilot.presentation.formats import report_to_json
    from opsplay.watch.history import fingerprint, record
    from opsplay.watch.state import open_state

    document = report_to_json(report)  # type: ignore[arg-type]
    files = [*data, *([events] if events else [])]
    opened = open_state(state)
    assert opened is not None
    with opened:
        keep = find_config(Path.cwd()).keep_runs
        record(opened, document, fingerprint(files), "pilot compare", keep)
