"""The default state folder `.opsplay/` keeps itself out of git (`.gitignore` of `*`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.watch.state import open_state


def test_the_default_state_folder_gets_a_gitignore(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = open_state(None)
    assert state is not None
    state.close()
    ignore = tmp_path / ".opsplay" / ".gitignore"
    assert ignore.read_text("utf-8").splitlines()[-1] == "*"


def test_an_existing_gitignore_is_kept_and_an_old_state_file_gets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / ".opsplay"
    folder.mkdir()
    (folder / ".gitignore").write_text("state.db\n", "utf-8")
    open_state(None).close()  # type: ignore[union-attr]
    assert (folder / ".gitignore").read_text("utf-8") == "state.db\n"
    (folder / ".gitignore").unlink()  # a state file from before: the next run adds it
    open_state(None).close()  # type: ignore[union-attr]
    assert (folder / ".gitignore").exists()


def test_a_folder_the_user_chose_is_left_alone(tmp_path: Path) -> None:
    state = open_state(tmp_path / "ops-data" / "state.db")
    assert state is not None
    state.close()
    assert not (tmp_path / "ops-data" / ".gitignore").exists()
