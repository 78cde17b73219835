"""Issue 19 (storage growth): the state file keeps a bounded number of runs and sent messages
per playbook (`keep_runs`), never the run `history` shows for a version nor a queued message;
`history` reads what it shows, not every run."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.config import find_config
from opsplay.errors import UsageError
from opsplay.watch import history
from opsplay.watch.state import State, open_state
from tests.watch.conftest import ONBOARDING

runner = CliRunner()


def result(version: str, metrics: bool, fired: tuple[str, ...] = ()) -> dict:
    rows = [{"metric": "d1_retention", "segment": {}, "role": "primary", "baseline": {"value": 0.35},
             "pilot": {"value": 0.4}, "verdict": "improved"}] if metrics else []  # fmt: skip
    alerts = [{"id": alert, "fired": True} for alert in fired] + [{"id": "quiet", "fired": False}]
    return {"playbook": {"id": "new-user-onboarding", "version": version}, "metrics": rows,
            "alerts": alerts}  # fmt: skip


def test_runs_beyond_keep_are_dropped_but_every_version_stays(tmp_path: Path, frozen) -> None:
    state = open_state(tmp_path / "state.db")
    assert state is not None
    with state:
        history.record(state, result("1.0.0", True), "a", "pilot compare", keep=5)
        history.record(state, result("1.1.0", False, ("push-slow",)), "b", "watch", keep=5)
        for index in range(30):
            history.record(state, result("1.2.0", index == 3), f"w{index}", "watch", keep=5)
        count = state.read("SELECT COUNT(*) FROM runs")[0][0]
        entries = history.versions(state, "new-user-onboarding")
    assert count <= 5 + 3
    assert [e.version for e in entries] == ["1.0.0", "1.1.0", "1.2.0"]
    assert entries[0].metrics and entries[2].metrics, "the run with metrics is the one kept"
    assert entries[1].fired == ("push-slow",)


def test_sent_messages_are_pruned_and_queued_ones_kept(tmp_path: Path, frozen) -> None:
    state = open_state(tmp_path / "state.db")
    assert state is not None
    with state, state.transaction() as db:
        for index in range(40):
            db.execute(
                "INSERT INTO outbox (target, shown, kind, playbook, alert, event, message, "
                "created, delivered, dead) VALUES ('t', 's', 'wecom', 'new-user-onboarding', "
                "'a', 'firing', '{}', 'now', ?, ?)",
                (
                    "sent" if index % 4 else None,
                    "dead" if index % 4 == 0 and index < 20 else None,
                ),
            )
        history.prune(db, "new-user-onboarding", 5)
        rows = db.execute("SELECT delivered, dead FROM outbox").fetchall()
    queued = [r for r in rows if r[0] is None and r[1] is None]
    done = [r for r in rows if r[0] is not None or r[1] is not None]
    assert len(queued) == 5 and len(done) == 5


def test_keep_runs_is_a_setting(tmp_path: Path) -> None:
    (tmp_path / ".opsplay.toml").write_text("keep_runs = 50\n", "utf-8")
    assert find_config(tmp_path).keep_runs == 50
    (tmp_path / ".opsplay.toml").write_text("keep_runs = 0\n", "utf-8")
    with pytest.raises(UsageError, match="keep_runs = 1000"):
        find_config(tmp_path)


def test_history_reads_the_runs_it_shows_not_every_run(tmp_path: Path, monkeypatch) -> None:
    """300,000 runs took 20 s and 3.2 GB: every result was read and parsed."""
    path = tmp_path / "state.db"
    opened = open_state(path)
    assert opened is not None
    opened.close()
    big = json.dumps(result("1.0.0", True, ("push-slow",)) | {"padding": "x" * 2000})
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result, "
            "metrics, fired) VALUES ('new-user-onboarding', ?, 'f', '2024-08-01T00:00:00', "
            "'watch', ?, 1, '[\"push-slow\"]')",
            ((f"1.{index % 3}.0", big) for index in range(20000)),
        )
    read_rows = []
    original = State.read

    def counting(self: State, sql: str, parameters: tuple = ()) -> list:
        rows = original(self, sql, parameters)
        if rows and "result" in rows[0].keys():  # whole results fetched
            read_rows.append(len(rows))
        return rows

    monkeypatch.setattr(State, "read", counting)
    started = time.monotonic()
    shown = runner.invoke(app, ["history", str(ONBOARDING), "--state", str(path), "-f", "json"])
    assert shown.exit_code == 0, shown.output
    assert time.monotonic() - started < 10
    versions = json.loads(shown.stdout)["versions"]
    assert [v["runs"] for v in versions] == [6667, 6667, 6666]
    assert all(v["alerts_fired"] == ["push-slow"] for v in versions)
    assert sum(read_rows) <= 3, "one result read per version shown"


def test_runs_recorded_before_the_new_columns_are_filled_in(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    opened = open_state(path)
    assert opened is not None
    opened.close()
    with sqlite3.connect(path) as db:  # as an older opsplay wrote them
        db.execute("DROP INDEX runs_shown")
        rows = [("1.0.0", json.dumps(result("1.0.0", True, ("push-slow",)))), ("1.0.0", "{bad")]
        db.executemany(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result) "
            "VALUES ('new-user-onboarding', ?, 'f', '2024-08-01T00:00:00', 'watch', ?)",
            rows,
        )
    reopened = open_state(path)  # opened for writing: filled in, indexed
    assert reopened is not None
    with reopened:
        filled = reopened.read("SELECT metrics, fired FROM runs ORDER BY id")
        entries = history.versions(reopened, "new-user-onboarding")
    assert [tuple(row) for row in filled] == [(1, '["push-slow"]'), (0, "[]")]
    assert entries[0].fired == ("push-slow",) and entries[0].metrics and entries[0].runs == 2
