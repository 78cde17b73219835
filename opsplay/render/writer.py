"""Writing rendered documents: atomic, confined to the output folder, unchanged files left alone.

All files of a run are staged as temporary files next to their targets (written,
flushed, fsynced) before any of them replaces its target, so an error while writing
leaves no partial file and no target touched. A file whose bytes would not change is
not rewritten, so its modification time stays.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from opsplay.errors import OpsplayError, UsageError


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
        raise UsageError(f"refusing to write `{name}` outside the output folder {root}")
    target = root / Path(*relative.parts)
    resolved_root = root.resolve()
    if resolved_root != target.resolve() and resolved_root not in target.resolve().parents:
        raise UsageError(f"refusing to write `{name}` outside the output folder {root}")
    return target


def write_files(
    root: Path, files: Mapping[str, str | bytes], *, check: bool = False
) -> WriteReport:
    """Write `files` (relative name → text, UTF-8, `\\n` newlines; or bytes, as-is) under `root`."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    pending: list[tuple[Path, bytes]] = []
    unchanged: list[Path] = []
    for name in sorted(files):
        target = confined(root, name)
        content = files[name]
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        if target.is_dir():
            raise UsageError(f"{target} is a folder; cannot write a document there")
        if target.is_file() and _read(target) == data:
            unchanged.append(target)
        else:
            pending.append((target, data))
    if check or not pending:
        return WriteReport(tuple(t for t, _ in pending), tuple(unchanged), check)
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in pending:
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(target, data), target))
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as error:
        for temporary, _ in staged:
            _remove(temporary)
        raise OpsplayError(
            f"cannot write {error.filename or root}: {error.strerror or error}"
        ) from None
    for folder in sorted({target.parent for _, target in staged}):
        _sync_folder(folder)
    return WriteReport(tuple(t for t, _ in pending), tuple(unchanged), check)


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
