"""Writing rendered documents: atomic, confined to the output folder, unchanged files left alone.

Atomic replacement is for regular files only. A character device or a named pipe
(`-o /dev/null`, `-o /dev/stdout`, a FIFO a script reads) is written straight into: replacing
it would turn `/dev/null` into a regular file. Other special files (block devices,
sockets) are refused; nothing but a regular file is ever replaced.

All files of a run are staged as temporary files next to their targets (written,
flushed, fsynced) before any of them replaces its target, so an error while writing
leaves no partial file and no target touched. A file whose bytes would not change is
not rewritten, so its modification time stays.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from opsplay.errors import OpsplayError, UsageError
from opsplay.i18n import _


@dataclass(frozen=True)
class WriteReport:
    """Which files a run wrote (or, with check, would write) and which were unchanged."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    check: bool = False

    @property
    def changed(self) -> bool:
        """True when at least one file was (or would be) written."""
        return bool(self.written)


def confined(root: Path, name: str) -> Path:
    """`root/name`, refusing names that would leave `root` (absolute, `..`, drive letters)."""
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name or relative.is_absolute() or ".." in relative.parts or ":" in name:
        raise UsageError(_outside(name, root))
    target = root / Path(*relative.parts)
    resolved_root = root.resolve()
    if resolved_root != target.resolve() and resolved_root not in target.resolve().parents:
        raise UsageError(_outside(name, root))
    return target


def _outside(name: str, root: Path) -> str:
    return _("refusing to write `{name}` outside the output folder {folder}").format(
        name=name, folder=root
    )


def write_files(
    root: Path, files: Mapping[str, str | bytes], *, check: bool = False
) -> WriteReport:
    """Write `files` (relative name → text, UTF-8, `\\n` newlines; or bytes, as-is) under `root`."""
    if root.exists() and not root.is_dir():
        raise UsageError(_("{path} exists and is not a folder").format(path=root))
    pending: list[tuple[Path, bytes]] = []
    streams: list[tuple[Path, bytes]] = []  # character devices and named pipes
    unchanged: list[Path] = []
    for name in sorted(files):
        target = confined(root, name)
        content = files[name]
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        kind = _kind(target)
        if kind == "folder":
            raise UsageError(
                _("{path} is a folder; cannot write a document there").format(path=target)
            )
        if kind == "special":
            raise UsageError(
                _(
                    "{path} is neither a regular file nor a device or named pipe opsplay can "
                    "write into; give a file name"
                ).format(path=target)
            )
        if kind == "stream":
            streams.append((target, data))
        elif kind == "file" and _read(target) == data:
            unchanged.append(target)
        else:
            pending.append((target, data))
    written = tuple(sorted(t for t, _data in [*pending, *streams]))
    if check or not written:
        return WriteReport(written, tuple(unchanged), check)
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in pending:
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(target, data), target))
        for target, data in streams:
            _write_into(target, data)
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as error:
        for temporary, _target in staged:
            _remove(temporary)
        raise OpsplayError(
            _("cannot write {path}: {reason}").format(
                path=error.filename or root, reason=error.strerror or error
            )
        ) from None
    for folder in sorted({target.parent for _temporary, target in staged}):
        _sync_folder(folder)
    return WriteReport(written, tuple(unchanged), check)


def _kind(target: Path) -> str:
    """What is at `target` (symlinks followed): missing, file, folder, stream or special."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "missing"  # e.g. a dangling path component: mkdir or the write reports it
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    return "special"


def _write_into(target: Path, data: bytes) -> None:
    """Write `data` straight into a character device or named pipe (never replaced)."""
    try:
        descriptor = os.open(target, os.O_WRONLY)  # a pipe waits here for its reader, as `>` does
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
    except OSError as error:  # name the device, not the folder (os.write knows no file name)
        raise OSError(error.errno, error.strerror, str(target)) from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _stage(target: Path, data: bytes) -> str:
    """A temporary file in the target's folder holding `data`, flushed to disk."""
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode_for(target))
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual ones (mkstemp makes 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder: Path) -> None:
    """Persist the renames themselves (POSIX); harmless where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
