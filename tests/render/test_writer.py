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


def _device(folder: Path, name: str, minor: int) -> Path:
    """A character device node like /dev/null (minor 3) or /dev/full (minor 7), made in
    `folder` so a regression replaces a throwaway node instead of the machine's /dev/null."""
    import stat

    path = folder / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, AttributeError):
        pytest.skip("creating device nodes needs root (the CLI test below uses /dev/null)")
    return path


def _is_char_device(path: Path) -> bool:
    import stat

    return stat.S_ISCHR(os.stat(path).st_mode)


def test_a_character_device_is_written_into_never_replaced(tmp_path: Path) -> None:
    null = _device(tmp_path, "null", 3)
    report = write_files(tmp_path, {"null": "报告\n"})
    assert report.written == (null,)
    assert _is_char_device(null)
    assert _leftovers(tmp_path) == []
    assert write_files(tmp_path, {"null": "报告\n"}, check=True).written == (null,)


def test_a_full_device_is_a_clear_error_and_stays_a_device(tmp_path: Path) -> None:
    full = _device(tmp_path, "full", 7)
    with pytest.raises(OpsplayError) as caught:
        write_files(tmp_path, {"a.md": "a\n", "full": "x" * 10000})
    assert str(full) in caught.value.message
    assert "No space left" in caught.value.message
    assert _is_char_device(full)
    assert not (tmp_path / "a.md").exists()  # nothing replaced when one target fails
    assert _leftovers(tmp_path) == []


def test_a_named_pipe_is_written_into_and_stays_a_pipe(tmp_path: Path) -> None:
    import stat
    import threading

    fifo = tmp_path / "report.md"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_files(tmp_path, {"report.md": "甲\n" * 50000})
    reader.join(timeout=30)
    assert received == [("甲\n" * 50000).encode()]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    # --check never opens the pipe (it would wait for a reader): it says it would write.
    assert write_files(tmp_path, {"report.md": "x\n"}, check=True).written == (fifo,)


def test_other_special_files_are_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock.md"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(UsageError, match="neither a regular file"):
            write_files(tmp_path, {"sock.md": "x\n"})
        assert path.is_socket()
    finally:
        server.close()


def test_render_report_to_dev_null_leaves_it_a_device(
    tmp_path: Path, comparison_files: dict[Path, Path]
) -> None:
    import subprocess
    import sys

    from .conftest import PLAYBOOKS

    playbook = PLAYBOOKS / "new-user-onboarding.yaml"
    for target in ("/dev/null", "/dev/full"):
        before = os.stat(target)
        result = subprocess.run(
            [sys.executable, "-m", "opsplay", "render-report", str(playbook)]
            + ["--from-json", str(comparison_files[playbook]), "-o", target, "--lang", "en"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        after = os.stat(target)
        assert _is_char_device(Path(target)) and after.st_ino == before.st_ino
        if target == "/dev/null":
            assert result.returncode == 0, result.stderr
            assert result.stdout == "wrote /dev/null\n"
        else:
            assert result.returncode != 0
            assert "cannot write /dev/full" in result.stderr and "Traceback" not in result.stderr
