"""The state file (`.opsplay/state.db`): alert states, the outbox of messages, recorded runs.

One SQLite file, every write inside a transaction that takes the write lock first
(`BEGIN IMMEDIATE`), so two runs that overlap see each other's changes in order and a
run that stops half-way leaves the file as it was. Secrets are never stored: a robot is
known by the SHA-256 of its URL and shown redacted.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from opsplay.errors import InputError, OpsplayError
from opsplay.i18n import _

DEFAULT_PATH = Path(".opsplay") / "state.db"
SCHEMA_VERSION = 1
# Seconds a run waits for another run's transaction; transactions are short (posts happen
# outside them), so waiting longer means something else holds the file.
LOCK_TIMEOUT = 10.0

_SCHEMA = """
CREATE TABLE alert_state (
    playbook TEXT NOT NULL,
    alert TEXT NOT NULL,
    firing INTEGER NOT NULL,
    value REAL,
    changed TEXT NOT NULL,
    checked TEXT NOT NULL,
    PRIMARY KEY (playbook, alert)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    shown TEXT NOT NULL,
    kind TEXT NOT NULL,
    playbook TEXT NOT NULL,
    alert TEXT NOT NULL,
    event TEXT NOT NULL,
    message TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claim TEXT,
    claimed_until REAL,
    delivered TEXT
);
CREATE INDEX outbox_pending ON outbox (target, delivered);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    playbook TEXT NOT NULL,
    version TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    recorded TEXT NOT NULL,
    command TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX runs_playbook ON runs (playbook, id);
"""
_TABLES = {"alert_state", "outbox", "runs"}


class StateError(InputError):
    """The state file cannot be used (locked, corrupt, not ours, unwritable)."""


class State:
    """An open state file; use `transaction()` for every read-modify-write."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.connection = connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock for the block; commit at its end, roll back on any error."""
        with guard(self.path):
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def read(self, sql: str, parameters: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """Rows of one query, outside a transaction (a consistent snapshot of committed data)."""
        with guard(self.path):
            return list(self.connection.execute(sql, parameters))

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def guard(path: Path) -> Iterator[None]:
    """Turn SQLite's errors into messages that say what is wrong with the file and what to do."""
    try:
        yield
    except OpsplayError:
        raise
    except sqlite3.OperationalError as error:
        text = str(error).lower()
        if "locked" in text or "busy" in text:
            raise StateError(
                _(
                    "{path}: the state file is locked by another run (waited {seconds:g} s); "
                    "run again when it has finished"
                ).format(path=path, seconds=LOCK_TIMEOUT)
            ) from None
        if "unable to open" in text or "readonly" in text or "read-only" in text:
            raise StateError(
                _(
                    "{path}: cannot open or write the state file; check that its folder "
                    "exists and is writable, or choose another file with `--state`"
                ).format(path=path)
            ) from None
        raise _corrupt(path) from None
    except sqlite3.DatabaseError:
        raise _corrupt(path) from None


def _corrupt(path: Path) -> StateError:
    return StateError(
        _(
            "{path}: not a readable opsplay state file (damaged or another program's file); "
            "it was left untouched — move it aside and run again to start a new one"
        ).format(path=path)
    )


def open_state(path: Path | None, *, create: bool = True) -> State | None:
    """The state file at `path` (default `.opsplay/state.db`), created with its tables if
    missing and `create`; None when it does not exist and `create` is false."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if path.is_dir():
        raise StateError(
            _("{path} is a folder; `--state` takes a file such as {example}").format(
                path=path, example=DEFAULT_PATH
            )
        )
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        # A FIFO would block the read-only open for ever; a device would get SQLite's
        # journal written next to it (/dev/null-journal). Neither is a state file.
        raise _corrupt(path)
    if not path.exists():
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            raise StateError(
                _("{path}: cannot create the folder of the state file").format(path=path)
            ) from None
    with guard(path):
        if create:
            connection = sqlite3.connect(path, timeout=LOCK_TIMEOUT, isolation_level=None)
        else:
            uri = path.resolve().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, timeout=LOCK_TIMEOUT, isolation_level=None, uri=True)
        connection.row_factory = sqlite3.Row
        state = State(path, connection)
        try:
            _check_schema(state, create)
        except BaseException:
            connection.close()
            raise
    return state


def _check_schema(state: State, create: bool) -> None:
    """Create the tables in a new file; refuse a file that is not ours or is newer."""
    # Both read in one transaction: another run may be creating the tables right now.
    state.connection.execute("BEGIN")
    try:
        version = state.connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in state.connection.execute("SELECT name FROM sqlite_master")}
    finally:
        if state.connection.in_transaction:
            state.connection.execute("COMMIT")
    if version == SCHEMA_VERSION and _TABLES <= tables:
        return
    if version > SCHEMA_VERSION:
        raise StateError(
            _(
                "{path}: the state file was written by a newer opsplay (format {found}); "
                "upgrade opsplay or use another file with `--state`"
            ).format(path=state.path, found=version)
        )
    if version != 0 or tables:
        raise _corrupt(state.path)
    if not create:
        return
    with state.transaction() as db:
        # Another run may have created the tables while this one waited for the lock.
        if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
