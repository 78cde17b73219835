"""The writer: atomic, confined to the output folder, unchanged files untouched, --check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opsplay.errors import OpsplayError, UsageError
from opsplay.render import writer
from opsplay.render.writer import write_files


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


def test_writes_utf8_bytes_and_reports_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = write_files(out, {"b.md": "乙\n", "a.md": "甲 😀\n"})
    assert report.written == (out / "a.md", out / "b.md")
    assert report.unchanged == ()
    assert (out / "a.md").read_bytes() == "甲 😀\n".encode()


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.md": "same\n", "b.md": "old\n"})
    past = 1_000_000_000
    os.utime(tmp_path / "a.md", (past, past))
    report = write_files(tmp_path, {"a.md": "same\n", "b.md": "new\n"})
    assert report.unchanged == (tmp_path / "a.md",)
    assert report.written == (tmp_path / "b.md",)
    assert (tmp_path / "a.md").stat().st_mtime == past
    assert (tmp_path / "b.md").read_text() == "new\n"


def test_check_writes_nothing_and_says_what_would_change(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.md": "same\n"})
    report = write_files(tmp_path, {"a.md": "same\n", "b.md": "x\n"}, check=True)
    assert report.check and report.changed
    assert report.written == (tmp_path / "b.md",)
    assert not (tmp_path / "b.md").exists()
    assert not write_files(tmp_path, {"a.md": "same\n"}, check=True).changed


def test_check_on_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    report = write_files(tmp_path / "new", {"a.md": "x"}, check=True)
    assert report.changed and not (tmp_path / "new").exists()


def test_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a.md"
    target.write_text("old")
    target.chmod(0o640)
    write_files(tmp_path, {"a.md": "new"})
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "name", ["../escape.md", "/etc/passwd", "sub/../../x.md", "C:/x.md", "..\\x.md", ""]
)
def test_names_cannot_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="outside the output folder"):
        write_files(tmp_path / "out", {name: "x"})
    assert not (tmp_path / "escape.md").exists()


def test_symlinked_subfolder_pointing_outside_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(tmp_path)
    with pytest.raises(UsageError, match="outside the output folder"):
        write_files(out, {"link/x.md": "x"})


def test_error_while_staging_leaves_no_partial_file_and_touches_nothing(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.md": "old a\n"})
    (tmp_path / "sub").write_text("a file where a folder is needed")
    with pytest.raises(OpsplayError, match="cannot write"):
        write_files(tmp_path, {"a.md": "new a\n", "sub/b.md": "b\n"})
    assert (tmp_path / "a.md").read_text() == "old a\n"
    assert _leftovers(tmp_path) == []


def test_error_while_flushing_removes_the_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def failing_fsync(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", failing_fsync)
    with pytest.raises(OpsplayError, match="No space left on device"):
        write_files(tmp_path, {"a.md": "a\n", "b.md": "b\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").mkdir()
    with pytest.raises(UsageError, match="is a folder"):
        write_files(tmp_path, {"a.md": "x"})


def test_output_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        write_files(tmp_path / "out", {"a.md": "x"})
