"""Output formats of `opsplay diff`, looked up by name: text, json, markdown (zh and en)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from opsplay.diff.changes import Change, DiffReport, Level, PlaybookDiff, parse_version
from opsplay.diff.limits import Budget, cut, left_out_note
from opsplay.diff.wording import (
    LEVELS,
    PLAIN,
    Description,
    Style,
    describe,
    joined,
    level_name,
)
from opsplay.i18n import _, language, ngettext
from opsplay.text import INVISIBLE_CLASS, md_line, visible

Formatter = Callable[[DiffReport, str], str]
FORMATS: dict[str, Formatter] = {}
MARKER = "<!-- opsplay-diff -->"  # lets CI find and update its own pull-request comment


def formatter(name: str) -> Callable[[Formatter], Formatter]:
    """Register an output format under `name`; no control character of a playbook's text
    (`\\x1b]0;…`) reaches the terminal or a comment raw, whatever the format."""

    def register(function: Formatter) -> Formatter:
        def neutralised(report: DiffReport, lang: str) -> str:
            text = function(report, lang)
            # JSON keeps valid escapes (`\\u001b`); text and Markdown show `\\x1b`.
            return _C1.sub(_json_escape, text) if name == "json" else visible(text)

        neutralised.__doc__ = function.__doc__
        FORMATS[name] = neutralised
        return function

    return register


# json.dumps escapes C0 controls itself; DEL and C1 controls (0x7f-0x9f) and invisible
# characters (U+200B, bidi overrides) it leaves raw. Escaped, they reach a program unchanged.
_C1 = re.compile(f"[\x7f-\x9f{INVISIBLE_CLASS}]")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON writes a character beyond the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def by_level(changes: tuple[Change, ...]) -> list[tuple[Level, list[Change]]]:
    """Changes grouped major, minor, patch (empty groups left out), order kept within a group."""
    return [
        (level, [c for c in changes if c.level is level])
        for level in (Level.MAJOR, Level.MINOR, Level.PATCH)
        if any(c.level is level for c in changes)
    ]


def bump_short(item: PlaybookDiff) -> bool:
    """True when the new version is below the suggested one."""
    suggested = item.suggested_version
    if suggested is None or item.new is None:
        return False
    new, wanted = parse_version(item.new.version), parse_version(suggested)
    return new is not None and wanted is not None and new < wanted


def _title(item: PlaybookDiff) -> str:
    side = item.new or item.old
    return side.title if side else ""


def _versions(item: PlaybookDiff) -> str:
    if item.old and item.new:
        return f"{item.old.version} → {item.new.version}"
    side = item.new or item.old
    return side.version if side else ""


def _summary_counts(report: DiffReport) -> str:
    counts = {
        s: sum(p.status == s for p in report.playbooks) for s in ("changed", "added", "removed")
    }
    counts["unchanged"] = len(report.playbooks) - sum(counts.values())
    return _(
        "{changed} changed · {added} added · {removed} removed · {unchanged} unchanged"
    ).format(**counts)


def _verdict(item: PlaybookDiff) -> str:
    """One line: how many changes, their level, and the version they call for."""
    count = len(item.changes)
    suggested = item.suggested_version
    line = ngettext("{count} change · {level}", "{count} changes · {level}", count).format(
        count=count, level=_(LEVELS[item.level])
    )
    if suggested:
        line += " · " + _("suggested version {version}").format(version=suggested)
        if bump_short(item) and item.new:
            line += _(" (this version is {version}, too low)").format(version=item.new.version)
    return line


def _status_line(item: PlaybookDiff) -> str | None:
    if item.status == "added":
        return _("new playbook, version {version}").format(version=_versions(item))
    if item.status == "removed":
        return _("removed (was version {version})").format(version=_versions(item))
    if item.status == "unchanged":
        return _("no changes")
    return None


# text ------------------------------------------------------------------------------------------


@formatter("text")
def format_text(report: DiffReport, lang: str) -> str:
    """Plain text for the terminal, grouped by level."""
    with language(lang):
        return _format_text(report, lang)


def _format_text(report: DiffReport, lang: str) -> str:
    budget = Budget()
    lines = [f"{report.old_label} → {report.new_label}"]
    if len(report.playbooks) > 1:
        lines.append(_summary_counts(report))
    for item in report.playbooks:
        if item.status == "unchanged" and len(report.playbooks) > 1:
            continue
        title = _("{id} ({title})").format(id=item.id, title=_title(item))
        lines.append("")
        status = _status_line(item)
        if status:
            lines.append(_("{subject}: {parts}").format(subject=title, parts=status))
            continue
        lines.append(f"{title} {_versions(item)}")
        lines.append(f"  {_verdict(item)}")
        before = budget.left_out
        for level, changes in by_level(item.changes):
            heading = ["  " + _("{level}:").format(level=level_name(level, lang))]
            for change in changes:
                listed = _text_change(describe(change, lang, PLAIN))
                if budget.take(heading + listed):
                    lines += heading + listed
                    heading = []
        if budget.left_out > before:
            lines.append("    " + left_out_note(budget.left_out - before))
    unchanged = [p.id for p in report.playbooks if p.status == "unchanged"]
    if unchanged and len(report.playbooks) > 1:
        lines.append("")
        lines.append(_("unchanged: {ids}").format(ids=joined(unchanged)))
    for name, problem in report.skipped:
        lines += ["", _skipped(name), f"  {problem}"]
    return "\n".join(lines) + "\n"


def _skipped(name: str) -> str:
    return _("{name} is not a valid playbook and was not compared (run opsplay validate):").format(
        name=name
    )


def _text_change(description: Description) -> list[str]:
    lines = [f"    - {description.line}"]
    if description.before is not None:
        lines.append(f"        - {cut(description.before)}")
    if description.after is not None:
        lines.append(f"        + {cut(description.after)}")
    return lines


# markdown --------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#~])")


def md_text(value: str) -> str:
    """User text made safe for Markdown (no accidental emphasis, links, tables or HTML):
    Markdown's markers escaped, then the one rule of every Markdown output (`md_line`)."""
    return md_line(_MD_SPECIAL.sub(r"\\\1", value))


def md_code(value: str) -> str:
    """An id or a fixed word as inline code."""
    return f"`{value}`"


MARKDOWN = Style(code=md_code, text=md_text)


@formatter("markdown")
def format_markdown(report: DiffReport, lang: str) -> str:
    """Markdown meant for a pull-request comment."""
    with language(lang):
        return _format_markdown(report, lang)


def _format_markdown(report: DiffReport, lang: str) -> str:
    # TRANSLATORS: heading of a pull-request comment; Chinese uses a full-width colon.
    heading = _("opsplay diff: {old} → {new}").format(
        old=md_code(report.old_label), new=md_code(report.new_label)
    )
    budget = Budget()
    lines = [
        MARKER,
        f"### {heading}",
        "",
    ]
    if len(report.playbooks) > 1:
        lines += [_summary_counts(report), ""]
    for item in report.playbooks:
        if item.status == "unchanged" and len(report.playbooks) > 1:
            continue
        title = f"{md_code(item.id)} {md_text(_title(item))}"
        status = _status_line(item)
        if status:
            lines += [f"#### {title}", "", md_text(status), ""]
            continue
        lines += [f"#### {title} · {_versions(item)}", ""]
        verdict = md_text(_verdict(item))
        lines += [f"**{verdict}**" if bump_short(item) else verdict, ""]
        before = budget.left_out
        for level, changes in by_level(item.changes):
            heading = [f"**{level_name(level, lang)}**", ""]
            for change in changes:
                listed = _markdown_change(describe(change, lang, MARKDOWN))
                if budget.take(heading + listed):
                    lines += heading + listed
                    heading = []
            if not heading:
                lines.append("")
        if budget.left_out > before:
            lines += [left_out_note(budget.left_out - before), ""]
    unchanged = [md_code(p.id) for p in report.playbooks if p.status == "unchanged"]
    if unchanged and len(report.playbooks) > 1:
        lines += [_("Unchanged: {ids}").format(ids=joined(unchanged)), ""]
    for name, problem in report.skipped:
        lines += [f"> ⚠️ {md_text(_skipped(name))} {md_code(problem)}", ""]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _markdown_change(description: Description) -> list[str]:
    lines = [f"- {description.line}"]
    if description.before is not None:
        lines.append("  - " + _("before: {text}").format(text=cut(description.before)))
    if description.after is not None:
        lines.append("  - " + _("after: {text}").format(text=cut(description.after)))
    return lines


# json ------------------------------------------------------------------------------------------


@formatter("json")
def format_json(report: DiffReport, lang: str) -> str:
    """Machine-readable form; `message` carries the wording in `lang`."""
    document = {
        "schema_version": 1,
        "old": report.old_label,
        "new": report.new_label,
        "lang": lang,
        "differs": report.differs,
        "level": report.level.label,
        "playbooks": [_json_playbook(item, lang) for item in report.playbooks],
        "skipped": [{"file": name, "problem": problem} for name, problem in report.skipped],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _json_playbook(item: PlaybookDiff, lang: str) -> dict[str, Any]:
    def side(value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        return {"file": value.file, "version": value.version, "title": value.title}

    return {
        "id": item.id,
        "status": item.status,
        "old": side(item.old),
        "new": side(item.new),
        "level": item.level.label,
        "suggested_version": item.suggested_version,
        "changes": [_json_change(change, lang) for change in item.changes],
    }


def _json_change(change: Change, lang: str) -> dict[str, Any]:
    description = describe(change, lang, PLAIN)
    return {
        "kind": change.kind,
        "level": change.level.label,
        "section": change.section,
        "item": change.item,
        "field": change.field,
        "old": list(change.old) if isinstance(change.old, tuple) else change.old,
        "new": list(change.new) if isinstance(change.new, tuple) else change.new,
        "added": list(change.added),
        "removed": list(change.removed),
        "note": change.note,
        "message": description.line,
    }
