"""Document formats by name and by file suffix, and the rendering of each (md, html, docx).

Markdown and HTML come from the Jinja templates (`opsplay.render.sop`, `.report`);
Word documents are made from the HTML ones (`opsplay.render.word`), so all three say
the same words. Nothing is written here: callers pass the results to `writer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opsplay.errors import UsageError
from opsplay.i18n import _

# Format name -> suffix of the files it writes. opsplay.cli.choices.DocumentFormat mirrors
# the names (tests/test_cli_choices.py keeps them equal).
DOCUMENT_FORMATS: dict[str, str] = {"md": ".md", "html": ".html", "docx": ".docx"}
# File suffix (lower case) -> format name, for `-o FILE` without `--format`.
SUFFIXES: dict[str, str] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
}


def known_suffixes() -> str:
    """The suffixes `-o` accepts, for messages (joined as the message language joins a list)."""
    from opsplay.text import joined

    return joined(SUFFIXES)


def format_for_file(path: Path, explicit: str | None = None) -> str:
    """The format of output file `path`: `--format` when given, else its suffix.

    An unknown suffix without `--format` is an error listing the formats (never Markdown
    under another name); a known suffix contradicting `--format` is one too.
    """
    suffix = path.suffix.lower()
    implied = SUFFIXES.get(suffix)
    if explicit is not None:
        if implied is not None and implied != explicit:
            raise UsageError(
                _(
                    "`-o {path}` names a {implied} file but `--format {format}` was given; "
                    "name the file `{name}` or leave `--format` out"
                ).format(
                    path=path,
                    implied=implied,
                    format=explicit,
                    name=path.with_suffix(DOCUMENT_FORMATS[explicit]).name,
                )
            )
        return explicit
    if implied is None:
        if not suffix:
            return "md"
        from opsplay.text import joined

        raise UsageError(
            _(
                "`-o {path}`: opsplay cannot write `{suffix}` files; name the file with one of "
                "{suffixes} (formats: {formats})"
            ).format(
                path=path,
                suffix=suffix,
                suffixes=known_suffixes(),
                formats=joined(DOCUMENT_FORMATS),
            )
        )
    return implied


def looks_like_file(path: Path) -> bool:
    """Whether `-o PATH` of render-sop names one document rather than a folder.

    A path that is an existing folder, or has no suffix, or a suffix that is not a word
    (`docs/v1.2`), is a folder; `x.docx` is a file, and so is `x.pdf` (then refused).
    """
    if path.is_dir():
        return False
    suffix = path.suffix[1:]
    return bool(suffix) and suffix.isalpha()


def render_sops(
    paths: Sequence[Path],
    *,
    fmt: str,
    lang: str | None = None,
    templates_dir: Path | None = None,
) -> dict[str, str | bytes]:
    """One document per playbook under `paths` plus the index, in format `fmt`."""
    from opsplay.render.sop import render_sop_files

    if fmt not in DOCUMENT_FORMATS:
        raise UsageError(
            _("unknown format `{format}`; use one of: {known}").format(
                format=fmt, known=", ".join(DOCUMENT_FORMATS)
            )
        )
    if fmt != "docx":
        return dict(render_sop_files(paths, fmt=fmt, lang=lang, templates_dir=templates_dir))
    pages = render_sop_files(paths, fmt="html", lang=lang, templates_dir=templates_dir)
    steps = _steps_by_id(paths, lang)
    documents: dict[str, str | bytes] = {}
    for name, page in pages.items():
        stem = name.removesuffix(".html")
        language, lines = steps.get(stem, (_page_lang(page), []))
        documents[stem + ".docx"] = _docx(page, lines, language)
    return documents


def render_report_document(
    playbook: Any,
    comparison: dict[str, Any],
    *,
    fmt: str,
    lang: str | None = None,
    templates_dir: Path | None = None,
    source: Any = None,
) -> str | bytes:
    """The review report in format `fmt` (Word made from the HTML report)."""
    from opsplay.render.report import render_report
    from opsplay.render.sop import check_lang, flow, playbook_data

    text = render_report(
        playbook,
        comparison,
        lang=lang,
        fmt="html" if fmt == "docx" else fmt,
        templates_dir=templates_dir,
        source=source,
    )
    if fmt != "docx":
        return text
    from opsplay.render.flowchart import flow_steps

    language = check_lang(lang, playbook)
    return _docx(text, flow_steps(flow(playbook_data(playbook)), language), language)


def _docx(page: str, steps: list[str], lang: str) -> bytes:
    from opsplay.render.word import html_to_docx

    return html_to_docx(page, steps=steps, lang=lang)


def _page_lang(page: str) -> str:
    return "en" if '<html lang="en"' in page else "zh"


def _steps_by_id(paths: Sequence[Path], lang: str | None) -> dict[str, tuple[str, list[str]]]:
    """Per playbook id: the document language and the flowchart as numbered steps."""
    from opsplay.config import find_config
    from opsplay.render.flowchart import flow_steps
    from opsplay.render.sop import check_lang, flow, playbook_data
    from opsplay.validate import discover, load_playbook

    found = {}
    for path in discover(list(paths)):
        config = find_config(path.parent)
        playbook = load_playbook(path, config)
        language = check_lang(lang, playbook)
        graph = flow(playbook_data(playbook, config.realtime_seconds))
        found[playbook.metadata.id] = (language, flow_steps(graph, language))
    return found
