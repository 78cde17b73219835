"""The state file (`.opsplay/state.db`): alert states, the outbox of messages, recorded runs.

One SQLite file, every write inside a transaction that takes the write lock first
(`BEGIN IMMEDIATE`), so two runs that overlap see each other's changes in order and a
run that stops half-way leaves the file as it was. Secrets are never stored: a robot is
known by the SHA-256 of its URL and shown redacted.
"""

from __future__ import annotations

import contextlib
import re
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
    held INTEGER NOT NULL DEFAULT 0,
    told TEXT,
    severity TEXT,
    looked TEXT,
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
    delivered TEXT,
    message_id TEXT,
    refused INTEGER NOT NULL DEFAULT 0,
    dead TEXT,
    maybe INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (target, delivered);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    playbook TEXT NOT NULL,
    version TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    recorded TEXT NOT NULL,
    command TEXT NOT NULL,
    result TEXT NOT NULL,
    metrics INTEGER,
    fired TEXT
);
CREATE INDEX runs_playbook ON runs (playbook, id);
CREATE INDEX runs_shown ON runs (playbook, version, metrics, fired);
"""
_TABLES = {"alert_state", "outbox", "runs"}
# Every table and index opsplay creates. Anything else in a state file (a trigger, a view, a
# table of another program) is not opsplay's: a trigger could rewrite a queued message, which
# the next run would post with the real secret.
_OBJECTS = set(re.findall(r"CREATE (?:TABLE|INDEX) (\w+)", _SCHEMA))
# Columns added to a table after files with SCHEMA_VERSION 1 were written: (table, column,
# definition), added to an older file when it is opened for writing.
_ADDED_COLUMNS = [
    ("outbox", "message_id", "TEXT"),  # sent with the message: a gateway can drop repeats
    ("outbox", "refused", "INTEGER NOT NULL DEFAULT 0"),  # runs whose posts the robot refused
    ("outbox", "dead", "TEXT"),  # given up (refused in DEAD_AFTER runs): kept, not posted
    ("outbox", "maybe", "INTEGER NOT NULL DEFAULT 0"),  # sent but never answered
    ("runs", "metrics", "INTEGER"),  # 1 when the result has metric rows (NULL: not yet known)
    ("runs", "fired", "TEXT"),  # JSON list of the alerts that fired (NULL: read the result)
    # consecutive runs an alert's condition held (`for:`, SPEC 11 "Repeated looks")
    ("alert_state", "held", "INTEGER NOT NULL DEFAULT 0"),
    # when the robots were last told of a firing alert, and at which severity (`renotify`)
    ("alert_state", "told", "TEXT"),
    ("alert_state", "severity", "TEXT"),
    # the data (and alert definition) the last counted look stood on: a run on the same data
    # is not another look for `for:` (SPEC 11 "Repeated looks")
    ("alert_state", "looked", "TEXT"),
]


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


GITIGNORE = "# written by opsplay: the state file is this machine's, not the repository's\n*\n"


def ignore_state_folder(folder: Path) -> None:
    """Keep `.opsplay/` out of git: a `.gitignore` of `*` in it, unless one is there already
    (the state file, with its queued messages and results, is never committed by accident)."""
    if folder.name != DEFAULT_PATH.parent.name:
        return  # a folder the user chose holds other files too: not ours to ignore
    try:
        with (folder / ".gitignore").open("x", encoding="utf-8") as handle:
            handle.write(GITIGNORE)
    except OSError:  # already there, or a read-only folder: the state file still works
        pass


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
    if path.is_symlink() and not path.exists():
        # SQLite would create the file at the link's target, wherever that points.
        raise StateError(
            _(
                "{path} is a symbolic link to a file that does not exist; give `--state` "
                "the state file itself or a new path"
            ).format(path=path)
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
    if create:  # also for a state file from before opsplay wrote the .gitignore
        ignore_state_folder(path.parent)
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
        objects = list(state.connection.execute("SELECT type, name FROM sqlite_master"))
    finally:
        if state.connection.in_transaction:
            state.connection.execute("COMMIT")
    tables = {row[1] for row in objects}
    foreign = sorted(
        name
        for kind, name in objects
        if kind in ("trigger", "view") or not (name in _OBJECTS or name.startswith("sqlite_"))
    )
    if foreign:
        raise StateError(
            _(
                "{path}: the state file holds {objects}, which opsplay did not create; it was "
                "left untouched and is not used — move it aside and run again to start a new one"
            ).format(path=state.path, objects=", ".join(f"`{name}`" for name in foreign))
        )
    if version == SCHEMA_VERSION and _TABLES <= tables:
        if create:
            _add_columns(state)
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


def _add_columns(state: State) -> None:
    """Add the columns a file written by an older opsplay lacks (see `_ADDED_COLUMNS`)."""
    have = {
        (table, row[1])
        for table in {table for table, _column, _definition in _ADDED_COLUMNS}
        for row in state.connection.execute(f"PRAGMA table_info({table})")
    }
    indexed = state.connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'runs_shown'"
    ).fetchone()
    if indexed and all((table, column) in have for table, column, _d in _ADDED_COLUMNS):
        return
    with state.transaction() as db:
        for table, column, definition in _ADDED_COLUMNS:
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in present:  # another run may have added it meanwhile
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        # Runs recorded before `metrics` and `fired` existed: filled in once from their JSON,
        # so that `history` reads both from the index, never every result.
        db.execute(
            "UPDATE runs SET metrics = COALESCE(json_array_length(result, '$.metrics'), 0) > 0, "
            "fired = (SELECT json_group_array(json_extract(a.value, '$.id')) FROM "
            "json_each(runs.result, '$.alerts') a WHERE json_extract(a.value, '$.fired')) "
            "WHERE metrics IS NULL AND json_valid(result)"
        )
        db.execute("UPDATE runs SET metrics = 0, fired = '[]' WHERE metrics IS NULL")
        db.execute(
            "CREATE INDEX IF NOT EXISTS runs_shown ON runs (playbook, version, metrics, fired)"
        )
