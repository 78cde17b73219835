"""Issue 19: a state file is opsplay's own or it is refused; `--state` never writes through a
dangling link; a file written before the outbox learnt to give messages up still works."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.watch.state import _SCHEMA

runner = CliRunner()


def watch(scene, state) -> object:
    args = ["watch", str(scene["playbook"]), "--events", str(scene["firing"])]
    return runner.invoke(app, [*args, "--state", str(state)])


def test_a_state_file_with_a_trigger_is_refused_and_left_untouched(scene, frozen) -> None:
    """A trigger could rewrite each queued message, which the next run posts with the secret."""
    assert watch(scene, scene["state"]).exit_code == 1
    with sqlite3.connect(scene["state"]) as db:
        db.execute(
            "CREATE TRIGGER evil AFTER UPDATE ON outbox BEGIN "
            'UPDATE outbox SET message = \'{"title": "attacker"}\'; END'
        )
    before = scene["state"].read_bytes()
    result = watch(scene, scene["state"])
    assert result.exit_code == 2, result.output
    assert "`evil`" in result.stderr and "did not create" in result.stderr
    assert "Traceback" not in result.output
    assert scene["state"].read_bytes() == before
    history = runner.invoke(
        app, ["history", str(scene["playbook"]), "--state", str(scene["state"])]
    )
    assert history.exit_code == 2 and "`evil`" in history.stderr


def test_a_view_or_foreign_table_is_refused_too(scene, frozen) -> None:
    assert watch(scene, scene["state"]).exit_code == 1
    with sqlite3.connect(scene["state"]) as db:
        db.execute("CREATE VIEW pending AS SELECT * FROM outbox")
    result = watch(scene, scene["state"])
    assert result.exit_code == 2 and "`pending`" in result.stderr


def test_a_dangling_symlink_as_state_creates_nothing(scene, frozen, tmp_path) -> None:
    target = tmp_path / "elsewhere" / "planted.db"
    target.parent.mkdir()
    link = tmp_path / "state-link.db"
    link.symlink_to(target)
    result = watch(scene, link)
    assert result.exit_code == 2 and "symbolic link" in result.stderr, result.output
    assert not target.exists()


def test_a_file_from_before_dead_letters_gets_the_new_columns(scene, frozen) -> None:
    """Files written with the first outbox (no message_id/refused/dead/maybe) keep working."""
    old = _SCHEMA.replace(
        ",\n    message_id TEXT,\n    refused INTEGER NOT NULL DEFAULT 0,\n    dead TEXT,\n"
        "    maybe INTEGER NOT NULL DEFAULT 0",
        "",
    )
    assert old != _SCHEMA
    with sqlite3.connect(scene["state"]) as db:
        db.executescript(old)
        db.execute("PRAGMA user_version = 1")
    history = runner.invoke(
        app, ["history", str(scene["playbook"]), "--state", str(scene["state"])]
    )
    assert history.exit_code == 0, history.output
    assert watch(scene, scene["state"]).exit_code == 1
    with sqlite3.connect(scene["state"]) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    assert {"message_id", "refused", "dead", "maybe"} <= columns
