"""Read the two sides of `opsplay diff` (files, folders or `REF:path`) and pair their playbooks.

Floor: versions (the differ's entrance). May import validate (to check each side) and below,
and the rest of `opsplay.diff`; never `version_check`, which sits above it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from opsplay.config import Config
from opsplay.diagnostics import error_listing
from opsplay.diff.changes import Classification, DiffReport, PlaybookDiff, Side
from opsplay.diff.compare import compare
from opsplay.errors import InputError, UsageError
from opsplay.i18n import _
from opsplay.model.playbook import Playbook


@dataclass(frozen=True)
class Source:
    """One side of a diff: its label, whether it is a folder, its files' contents, and the
    entries of a folder that were not read (a pipe named `x.yaml`, a file too large)."""

    label: str
    is_folder: bool
    files: dict[str, bytes]
    unread: tuple[tuple[str, str], ...] = ()


def read_source(argument: str, config: Config | None = None) -> Source:
    """A local file or folder, or `REF:path` from git when no such local path exists.

    Only regular files are read, at most `max_file_kb` each, without blocking: `/dev/zero`
    or a pipe is refused for what it is (a pipe opened for reading waits for a writer).
    """
    from opsplay.discovery import Unreadable, find_entries, inspect, read_limited
    from opsplay.gitfiles import read_ref_path, split_ref_path
    from opsplay.validate import display_name

    config = config or Config()
    path = Path(argument)
    if path.is_dir():
        files, unread = {}, []
        for entry in find_entries([path], [Path.cwd()], follow_symlinks=config.follow_symlinks):
            name = display_name(entry.path)
            try:
                if entry.problem is not None:
                    raise Unreadable(entry.problem)
                files[name] = read_limited(entry.path, config.max_file_kb)
            except Unreadable as refusal:
                unread.append((name, refusal.message))
        return Source(display_name(path), True, files, tuple(unread))
    if os.path.lexists(path):
        # Named on the command line: the user's choice, wherever a symlink leads.
        entry = inspect(path, [Path.cwd()], follow_symlinks=True)
        try:
            if entry.problem is not None:
                raise Unreadable(entry.problem)
            raw = read_limited(entry.path, config.max_file_kb)
        except Unreadable as refusal:
            raise InputError(
                _("{path}: {problem}").format(path=argument, problem=refusal.message)
            ) from None
        return Source(display_name(path), False, {display_name(path): raw})
    if split_ref_path(argument) is not None:
        content = read_ref_path(argument)
        return Source(content.label, content.is_folder, content.files)
    raise UsageError(
        _(
            "{argument}: no such file or folder (for a file in git, write REF:path such as "
            "{example})"
        ).format(argument=argument, example="main:playbooks/a.yaml")
    )


def parse_playbook(raw: bytes, name: str, config: Config | None = None) -> Playbook:
    """A playbook that validates (warnings allowed); InputError listing its errors otherwise.

    A diff of a playbook that validate refuses would classify changes on references that
    resolve to nothing (an owner that is no role), so it is refused the same way.
    """
    from opsplay.validate import check_content

    playbook, errors = check_content(raw, name, config or Config())
    if playbook is None or errors:
        raise InputError(
            _("{name} is not a valid playbook, so it cannot be compared:").format(name=name)
            + f"\n{error_listing(errors)}".rstrip()
        )
    return playbook


def side(name: str, playbook: Playbook) -> Side:
    """How one version of a playbook is shown."""
    return Side(name, playbook.metadata.version, playbook.metadata.title, playbook.language)


def diff_playbooks(
    old: Playbook,
    new: Playbook,
    *,
    old_name: str,
    new_name: str,
    classification: Classification | None = None,
    realtime_seconds: float = 1.0,
) -> PlaybookDiff:
    """The classified changes between two versions of one playbook."""
    classification = classification or Classification()
    changes = classification.apply(compare(old, new, realtime_seconds=realtime_seconds))
    return PlaybookDiff(new.metadata.id, side(old_name, old), side(new_name, new), changes)


def diff_sources(old: Source, new: Source, config: Config) -> DiffReport:
    """Compare two files, or two folders with playbooks matched by metadata.id."""
    classification = Classification.from_config(config.diff, config.source)
    if old.is_folder != new.is_folder:
        raise UsageError(
            _(
                "compare a file with a file or a folder with a folder "
                "({old} and {new} are not alike)"
            ).format(old=old.label, new=new.label)
        )
    options = {"classification": classification, "realtime_seconds": config.realtime_seconds}
    if not old.is_folder:
        (old_name, old_raw), (new_name, new_raw) = (
            next(iter(old.files.items())),
            next(iter(new.files.items())),
        )
        result = diff_playbooks(
            parse_playbook(old_raw, old_name, config),
            parse_playbook(new_raw, new_name, config),
            old_name=old_name,
            new_name=new_name,
            **options,
        )
        return DiffReport(old.label, new.label, (result,))
    if not old.files and not new.files:
        raise UsageError(
            _("no playbook files (*.yaml, *.yml) in {old} or {new}").format(
                old=old.label, new=new.label
            )
        )
    skipped: list[tuple[str, str]] = []
    before, after = _by_id(old, skipped, config), _by_id(new, skipped, config)
    results = []
    for playbook_id in sorted(set(before) | set(after)):
        if playbook_id not in after:
            name, playbook = before[playbook_id]
            results.append(PlaybookDiff(playbook_id, side(name, playbook), None))
        elif playbook_id not in before:
            name, playbook = after[playbook_id]
            results.append(PlaybookDiff(playbook_id, None, side(name, playbook)))
        else:
            (old_name, old_pb), (new_name, new_pb) = before[playbook_id], after[playbook_id]
            results.append(
                diff_playbooks(old_pb, new_pb, old_name=old_name, new_name=new_name, **options)
            )
    skipped += [*old.unread, *new.unread]
    return DiffReport(old.label, new.label, tuple(results), tuple(skipped))


def _by_id(
    source: Source, skipped: list[tuple[str, str]], config: Config
) -> dict[str, tuple[str, Playbook]]:
    """The valid playbooks of a folder by id; invalid ones are listed in `skipped`, so one
    broken file does not hide the changes to all the others."""
    found: dict[str, tuple[str, Playbook]] = {}
    for name, raw in source.files.items():
        try:
            playbook = parse_playbook(raw, name, config)
        except InputError as error:
            lines = error.message.splitlines()
            skipped.append((name, lines[1].strip() if len(lines) > 1 else lines[0]))
            continue
        if playbook.metadata.id in found:
            raise InputError(
                _(
                    "{name} and {other} share metadata.id `{id}`; "
                    "playbooks in a folder are matched by id, so each needs its own"
                ).format(name=name, other=found[playbook.metadata.id][0], id=playbook.metadata.id)
            )
        found[playbook.metadata.id] = (name, playbook)
    return found


def default_lang(report: DiffReport) -> str:
    """The language of the new playbooks (the most common one; zh on a tie), else the old ones."""
    langs = Counter(p.new.lang for p in report.playbooks if p.new) or Counter(
        p.old.lang for p in report.playbooks if p.old
    )
    if not langs:
        return "en"
    top = max(langs.values())
    return "zh" if langs.get("zh") == top else max(langs, key=lambda lang: langs[lang])
