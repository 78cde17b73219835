"""Finding and reading playbook files safely: the one place validate, diff and the
version check take files from.

Playbooks come from pull requests, so an entry is read only when it is a regular file
inside the checked folder (or the project): a symlink leaving it (to `~/.ssh/id_rsa`,
`/proc/self/environ`) is not followed unless asked, a device or a pipe is never opened,
and a file above the size limit is refused before it is parsed. Each refusal is a finding
about that entry (OPS010); the other files are still checked.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from opsplay.errors import InputError, UsageError
from opsplay.i18n import _

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Entry:
    """A playbook entry found under the checked paths; `problem` says why it is not read."""

    path: Path
    problem: str | None = None


def display_name(path: Path) -> str:
    """Path as shown to users: relative to the working directory when below it, with `/`."""
    try:
        relative = Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()
    return path.as_posix() if relative.startswith("..") else relative


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def inspect(path: Path, roots: list[Path], follow_symlinks: bool) -> Entry:
    """The entry at `path`: readable (resolved path), or the reason it is not read."""
    absolute = Path(os.path.abspath(path))
    try:
        real = absolute.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return Entry(absolute, _("a symlink that loops; it was not followed"))
    # Only a link itself can lead out (folders on the way were vetted by the walk, and a
    # symlinked folder above the checked one, such as /tmp on macOS, is the user's choice).
    leaves = os.path.islink(absolute) and not _inside(real, [*roots, absolute.parent.resolve()])
    if leaves and not follow_symlinks:
        return Entry(
            absolute,
            _(
                "a symlink to a file outside the checked folder; it was not followed "
                "(pass `--follow-symlinks` if that file is meant to be checked)"
            ),
        )
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return Entry(absolute, _("a symlink to nothing (its target does not exist)"))
    if stat.S_ISDIR(mode):
        return Entry(absolute, _("a folder, not a file; rename it or move the playbooks out"))
    if not stat.S_ISREG(mode):
        return Entry(
            absolute,
            _("a device, pipe or socket, not a regular file; it was not read"),
        )
    return Entry(real)


def not_a_regular_file(path: Path) -> str:
    """Why an existing entry that is not a regular file is not read (said by every command)."""
    if path.is_dir():
        return _("a folder, not a file; rename it or move the playbooks out")
    return _("a device, pipe or socket, not a regular file; it was not read")


def require_regular_file(path: Path, shown: str | None = None) -> None:
    """InputError when `path` exists and is not a regular file: a pipe opened for reading
    waits for a writer for ever, and `/dev/zero` never ends. A missing path is left to the
    caller, which knows what to call it."""
    if os.path.exists(path) and not path.is_file():
        raise InputError(
            _("{path}: {problem}").format(path=shown or path, problem=not_a_regular_file(path))
        )


def find_entries(
    targets: list[Path], roots: list[Path] | None = None, *, follow_symlinks: bool = False
) -> list[Entry]:
    """Playbook entries under the given files and folders (recursive, sorted, hidden skipped).

    A symlink is followed only to somewhere inside the folder it was found in, one of
    `roots` (the project), or anywhere with `follow_symlinks`. A target that does not
    exist is a usage error (exit 2).
    """
    # `roots=[]` (no project) trusts only the checked folder: an empty list is not "the cwd"
    extra = [
        Path(os.path.abspath(r)).resolve() for r in (roots if roots is not None else [Path.cwd()])
    ]
    found: list[Entry] = []
    for target in targets:
        if target.is_dir():
            top = Path(os.path.abspath(target))
            allowed = [top.resolve(), *extra]
            for folder, names in _walk(top, allowed, follow_symlinks):
                found += [
                    inspect(folder / name, allowed, follow_symlinks)
                    for name in names
                    if name.endswith(SUFFIXES) and not name.startswith(".")
                ]
        elif os.path.lexists(target):
            found.append(inspect(target, extra, follow_symlinks))
        else:
            raise UsageError(_("{path}: no such file or folder").format(path=target))
    unique: dict[Path, Entry] = {}
    for entry in found:
        unique.setdefault(entry.path, entry)
    return list(unique.values())


def _walk(top: Path, allowed: list[Path], follow_symlinks: bool) -> list[tuple[Path, list[str]]]:
    """(folder, sorted entry names) below `top`; symlinked folders only where allowed."""
    found: list[tuple[Path, list[str]]] = []
    seen: set[Path] = set()
    pending = [top]
    while pending:
        folder = pending.pop(0)
        real = folder.resolve()
        if real in seen:  # a symlink loop, or two links to one folder
            continue
        seen.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        files = []
        for name in names:
            if name.startswith("."):
                continue
            path = folder / name
            if name.endswith(SUFFIXES):
                files.append(name)  # inspected by the caller, whatever it turns out to be
            if path.is_dir():
                leaves = path.is_symlink() and not _inside(path.resolve(), allowed)
                if follow_symlinks or not leaves:
                    pending.append(path)
        found.append((folder, files))
    return found


def discover(paths: list[Path], *, follow_symlinks: bool = False) -> list[Path]:
    """Readable playbook files under the given files and folders (entries not read are left out)."""
    return [
        e.path for e in find_entries(paths, follow_symlinks=follow_symlinks) if e.problem is None
    ]


class Unreadable(Exception):
    """An entry that is not read; `message` says why (in the message language)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_limited(path: Path, max_kb: int) -> bytes:
    """The bytes of a regular file of at most `max_kb` kilobytes; Unreadable otherwise."""
    limit = max_kb * 1024
    try:
        # O_NONBLOCK: a pipe swapped in since it was inspected must not hang the run
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since inspected
                raise Unreadable(_("a device, pipe or socket, not a regular file; it was not read"))
            raw = handle.read(limit + 1)
    except OSError as error:
        raise Unreadable(
            _("the file cannot be read: {reason}").format(reason=error.strerror or error)
        ) from None
    if len(raw) > limit:
        raise Unreadable(
            _(
                "the file is larger than {limit} KB, far more than a playbook needs; it was not "
                "parsed (raise `max_file_kb` in [tool.opsplay] if it really is one)"
            ).format(limit=max_kb)
        )
    return raw
