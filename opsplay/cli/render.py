"""Commands that write documents: render-sop and render-report.

Jinja2 and the rendering core are imported inside the command bodies, so loading the
command line stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from opsplay.cli import app, fail
from opsplay.cli.choices import Correction, DocumentFormat, InputFormat, Lang, Test, Variance
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
    Templates,
    TestOption,
    VarianceOption,
    asked_lang,
)
from opsplay.errors import OpsplayError, UsageError
from opsplay.i18n import _


def _report_writes(report: Any) -> None:
    """Print what was written (or would be, with --check) and what was unchanged."""
    from opsplay.validate import display_name

    line = _("would write {path}") if report.check else _("wrote {path}")
    for path in report.written:
        typer.echo(line.format(path=display_name(path)))
    for path in report.unchanged:
        typer.echo(_("unchanged {path}").format(path=display_name(path)))


@app.command(
    "render-sop",
    help=_("Render SOP documents (one per playbook, plus an index) for a knowledge base.")
    + "\n\n"
    + _("Example: {example}").format(example="opsplay render-sop playbooks/ -o docs/sop"),
)
def render_sop(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help=_("Playbook files or folders (recursive).")),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=_(
                "Output folder: one document per playbook (<id>.md, .html or .docx) and an "
                "index; or one file (.md, .html, .docx)."
            ),
        ),
    ] = None,
    output_format: Annotated[
        DocumentFormat | None, typer.Option("--format", "-f", help=_("Document format."))
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option("--lang", help=_("Language (default: each playbook's)."))
    ] = None,
    templates: Templates = None,
    check: Annotated[
        bool, typer.Option("--check", help=_("Write nothing; exit 1 if any file would change."))
    ] = False,
    site: Annotated[
        Path | None,
        typer.Option(
            "--site",
            help=_(
                "Write a complete MkDocs project into this folder instead: mkdocs.yml, a home "
                "page listing every SOP, one page per playbook (build it with `mkdocs build`)."
            ),
        ),
    ] = None,
    reports: Annotated[
        list[Path] | None,
        typer.Option(
            "--report",
            help=_(
                "With --site: a saved `opsplay pilot compare --format json` result to publish "
                "as the review report of its playbook (repeatable)."
            ),
        ),
    ] = None,
) -> None:
    """Render SOP documents for a knowledge base."""
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    from opsplay.render.writer import write_files

    chosen = output_format.value if output_format else None
    try:
        if site is not None:
            documents = _site_documents(paths, site, output, chosen, lang, templates, reports)
            report = write_files(site, documents, check=check)
        else:
            if reports:
                raise UsageError(_("`--report` goes with `--site DIR`"))
            target, documents = _sop_documents(paths, output, chosen, lang, templates)
            report = write_files(target, documents, check=check)
    except OpsplayError as error:
        raise fail(error) from None
    _report_writes(report)
    if check and report.changed:
        raise typer.Exit(1)


@app.command(
    "render-report",
    help=_("Render the review report of a pilot.")
    + "\n\n"
    + _("Example: {example}").format(
        example="opsplay render-report playbooks/x.yaml --from-json compare.json -o docs/x.html"
    ),
)
def render_report(
    ctx: typer.Context,
    playbook: Annotated[
        Path,
        typer.Argument(
            metavar="PLAYBOOK",
            help=_(
                "The playbook of the pilot: a file, or REF:path from git as for `opsplay diff` "
                "(e.g. HEAD:playbooks/a.yaml)."
            ),
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help=_("Report file to write (.md, .html or .docx)."))
    ],
    data: Annotated[
        list[Path] | None,
        typer.Argument(metavar="DATA", help=_("Metric exports, as for `opsplay pilot compare`.")),
    ] = None,
    from_json: Annotated[
        Path | None,
        typer.Option(
            "--from-json",
            help=_("Saved `opsplay pilot compare --format json` output instead of DATA."),
        ),
    ] = None,
    events: Events = None,
    as_of: AsOf = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help=_("Segment column (with DATA)."))
    ] = None,
    encoding: Encoding = None,
    input_format: InputFormatOption = InputFormat.auto,
    skip_bad_rows: SkipBadRows = False,
    sheet: Sheet = None,
    db: Database = None,
    table: Table = None,
    events_table: EventsTable = None,
    correction: CorrectionOption = Correction.holm,
    test: TestOption = Test.welch,
    variance: VarianceOption = Variance.unpooled,
    sequential: Sequential = False,
    alpha: Alpha = None,
    output_format: Annotated[
        DocumentFormat | None,
        typer.Option("--format", "-f", help=_("Document format (default: from -o suffix).")),
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option("--lang", help=_("Language (default: the playbook's)."))
    ] = None,
    templates: Templates = None,
    check: Annotated[
        bool, typer.Option("--check", help=_("Write nothing; exit 1 if the file would change."))
    ] = False,
) -> None:
    """Render the review report of a pilot."""
    lang = asked_lang(lang, ctx)  # or `opsplay --lang` before the command
    import tempfile

    from opsplay.render.documents import format_for_file, render_report_document
    from opsplay.render.report import load_comparison
    from opsplay.render.sop import source_of
    from opsplay.render.writer import write_files
    from opsplay.validate import load_playbook

    workspace = tempfile.TemporaryDirectory(prefix="opsplay-")
    try:
        playbook, source, config = _playbook_file(playbook, Path(workspace.name))
        if from_json is not None and (data or db):
            raise UsageError(_("give either DATA files or --from-json, not both"))
        if from_json is not None and as_of is not None:
            raise UsageError(
                _(
                    "`--as-of` goes with DATA: a saved comparison keeps the evaluation time it "
                    "was made with (`pilot compare --as-of … --format json`)"
                )
            )
        if from_json is None and not data and not db:
            raise UsageError(
                _("give the metric exports (DATA…) or a saved comparison with --from-json")
            )
        fmt = format_for_file(output, output_format.value if output_format else None)
        loaded = load_playbook(playbook, config)
        if from_json is not None:
            comparison = load_comparison(from_json)
        else:
            comparison = _run_compare(
                playbook,
                data or [],
                events=events,
                by=by,
                encoding=encoding,
                # Defaults are left out so pilot compare keeps its own.
                input_format=None if input_format is InputFormat.auto else input_format.value,
                skip_bad_rows=skip_bad_rows or None,
                correction=None if correction is Correction.holm else correction.value,
                test=None if test is Test.welch else test.value,
                variance=None if variance is Variance.unpooled else variance.value,
                sequential=sequential or None,
                alpha=alpha,
                lang=lang.value if lang else None,
                sheet=sheet,
                db=db,
                table=table,
                events_table=events_table,
                as_of=as_of,
            )
        text = render_report_document(
            loaded,
            comparison,
            fmt=fmt,
            lang=lang.value if lang else None,
            templates_dir=templates,
            source=source or source_of(playbook),
        )
        report = write_files(output.parent, {output.name: text}, check=check)
    except OpsplayError as error:
        raise fail(error) from None
    finally:
        workspace.cleanup()
    _report_writes(report)
    if check and report.changed:
        raise typer.Exit(1)


def _sop_documents(
    paths: list[Path],
    output: Path | None,
    chosen: str | None,
    lang: Lang | None,
    templates: Path | None,
) -> tuple[Path, dict[str, str | bytes]]:
    """The folder to write into and the documents: every SOP plus index, or one file for `-o FILE`."""
    from opsplay.render.documents import format_for_file, looks_like_file, render_sops

    if output is None:
        raise UsageError(
            _(
                "say where to write: `-o DIR` (one document per playbook), `-o FILE.docx` "
                "(one playbook) or `--site DIR` (an MkDocs project)"
            )
        )
    if not looks_like_file(output):
        documents = render_sops(
            paths, fmt=chosen or "md", lang=lang.value if lang else None, templates_dir=templates
        )
        return output, documents
    fmt = format_for_file(output, chosen)
    documents = render_sops(
        paths, fmt=fmt, lang=lang.value if lang else None, templates_dir=templates
    )
    own = [name for name in documents if not name.startswith("index.")]
    if len(own) != 1:
        raise UsageError(
            _(
                "`-o {path}` is one file but {count} playbooks were given; "
                "write them into a folder with `-o DIR`"
            ).format(path=output, count=len(own))
        )
    return output.parent, {output.name: documents[own[0]]}


def _site_documents(
    paths: list[Path],
    site: Path,
    output: Path | None,
    chosen: str | None,
    lang: Lang | None,
    templates: Path | None,
    reports: list[Path] | None,
) -> dict[str, str | bytes]:
    """The files of the MkDocs project `--site` writes."""
    from opsplay.render.site import build_site

    if output is not None:
        raise UsageError(_("give either `-o` or `--site`, not both"))
    if chosen not in (None, "md"):
        raise UsageError(_("`--site` writes Markdown pages; leave `--format` out"))
    return dict(
        build_site(
            paths,
            lang=lang.value if lang else None,
            templates_dir=templates,
            reports=list(reports or []),
        )
    )


def _playbook_file(argument: Path, workspace: Path) -> tuple[Path, Any, Any]:
    """The playbook as a file to read, its source for the documents, and its project settings.

    A local file is itself. `REF:path` (as `opsplay diff` reads it) is copied from git into
    `workspace` under its own name; the documents name it `REF:path`, and the settings are
    those of the current folder's project.
    """
    import hashlib

    from opsplay.config import find_config
    from opsplay.gitfiles import read_ref_path, split_ref_path
    from opsplay.render.sop import Source

    text = str(argument)
    if argument.exists() or split_ref_path(text) is None:  # read (and refused) when loaded
        return argument, None, find_config(argument.parent)
    content = read_ref_path(text)
    if content.is_folder or len(content.files) != 1:
        raise UsageError(
            _("`{argument}` is a folder in git; give one playbook file, e.g. {example}").format(
                argument=text, example="HEAD:playbooks/a.yaml"
            )
        )
    ((label, raw),) = content.files.items()
    copy = workspace / Path(label.rsplit(":", 1)[-1]).name
    copy.write_bytes(raw)
    return copy, Source(label, hashlib.sha256(raw).hexdigest()), find_config(Path.cwd())


def _run_compare(playbook: Path, data: list[Path], **options: Any) -> dict[str, Any]:
    """The `pilot compare --format json` dict for DATA; options left unset are not passed."""
    from opsplay.pilot.compare import run_compare_for_report

    chosen = {key: value for key, value in options.items() if value not in (None, [], ())}
    result: dict[str, Any] = run_compare_for_report(playbook, data, **chosen)
    return result
