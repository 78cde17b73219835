"""`--db URL --table T`: the query of `pilot sql` run in the database, its result read back.

`duckdb:///file.duckdb` works out of the box. Other URLs go through SQLAlchemy (`pip install
'opsplay[warehouse]'` brings SQLAlchemy and psycopg for `postgresql://…`; BigQuery, Trino or
Databricks work when their SQLAlchemy driver is installed). SQLAlchemy rather than ADBC: the
query returns a few hundred rows, so Arrow transfer buys nothing, while SQLAlchemy's URLs
reach every warehouse SPEC 7 names with one code path. Only `SELECT`s are sent.

Identifiers are quoted, so they are case-sensitive in PostgreSQL: a playbook column is
matched to the table's exact name first, then to the one name equal to it ignoring case;
otherwise the error lists the table's columns.
"""

from __future__ import annotations

import contextlib
import csv
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opsplay.credentials import mask_url, scrub, secrets_of_url
from opsplay.discovery import require_regular_file
from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.query.units import Quoter
from opsplay.readers.engine import _NUMERIC, Table
from opsplay.readers.sources import Source
from opsplay.text import visible

_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "bigquery": "bigquery"}
# Databases whose SQL the query is not written in (no information_schema, other functions).
_UNSUPPORTED = {
    "sqlite": "SQLite",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "mssql": "SQL Server",
    "oracle": "Oracle",
}


def _forms() -> str:
    return _(
        "write duckdb:///ops.duckdb (a DuckDB file) or postgresql://user@host/db; other "
        "warehouses with their SQLAlchemy URL, or run the SQL of `opsplay pilot sql` there"
    )


def display_url(url: str) -> str:
    """The URL as messages, JSON `sources`, reports and the state file show it: without its
    password or any credential in the query (opsplay.credentials)."""
    return mask_url(url)


def _reason(exc: BaseException, url: str) -> str:
    """A driver's error in one line, with the URL's secrets and any echoed credential masked."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return visible(scrub(text, secrets_of_url(url)))


@contextlib.contextmanager
def connect(url: str) -> Iterator[tuple[Any, str]]:
    """(a connection, its dialect) for a database URL (a DuckDB file's path will do)."""
    if "://" not in url and (Path(url).is_file() or url.endswith((".duckdb", ".db"))):
        url = "duckdb:///" + url  # `--db ops.duckdb`: what users type first
    if "://" not in url:
        raise InputError(_("{url}: not a database URL; {forms}").format(url=url, forms=_forms()))
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme in _UNSUPPORTED:
        raise InputError(
            _("{url}: {name} is not supported; {forms}").format(
                url=display_url(url), name=_UNSUPPORTED[scheme], forms=_forms()
            )
        )
    if scheme == "duckdb":
        import duckdb

        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        if path and Path(path).exists():
            # A FIFO would block the open for ever; a device is no database file.
            require_regular_file(Path(path), display_url(url))
        if path and not Path(path).exists():
            raise InputError(
                _(
                    "{url}: no such database file {path}; a path after duckdb:/// is relative to "
                    "the current folder, an absolute one takes four slashes (duckdb:////data/ops.duckdb)"
                ).format(url=display_url(url), path=Path(path).absolute())
            )
        try:
            # A file from elsewhere may hold views that read local files (read_csv('/etc/…'))
            # or load extensions: it gets no file system, network or extension.
            con = duckdb.connect(
                path or ":memory:",
                read_only=bool(path),
                config={
                    "enable_external_access": False,
                    "autoload_known_extensions": False,
                    "autoinstall_known_extensions": False,
                },
            )
        except Exception as exc:  # duckdb.Error
            raise InputError(
                _("{url}: cannot be opened ({reason})").format(
                    url=display_url(url), reason=_reason(exc, url)
                )
            ) from None
        con.execute("SET enable_progress_bar = false")
        try:
            yield con, "duckdb"
        finally:
            con.close()
        return
    try:
        import sqlalchemy
    except ImportError:
        raise InputError(
            _(
                "{url}: reading a database needs SQLAlchemy and the database's driver; "
                "install them with pip install 'opsplay[warehouse]'"
            ).format(url=display_url(url))
        ) from None
    written = url
    where = re.split(r"[?#]", url.split("://", 1)[1], maxsplit=1)[0]
    if "@" in where[: max(where.rfind("@"), 0)]:
        # Drivers split `alice:p@ss@host` at the first `@` and print the rest as the host.
        raise InputError(
            _(
                "{url}: the user name or password contains `@`; write it as `%40` "
                "(postgresql://alice:p%40ss@host/db)"
            ).format(url=display_url(url))
        )
    if re.match(r"^postgres(ql)?://", url):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, not psycopg2
    try:
        sqlalchemy.engine.make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):  # no scheme, a port that is no number
        raise InputError(
            _("{url}: not a database URL; {forms}").format(url=display_url(written), forms=_forms())
        ) from None
    try:
        engine = sqlalchemy.create_engine(url)
        raw = engine.raw_connection()
    except Exception as exc:  # the driver's connection errors, a missing driver
        raise InputError(
            _("{url}: cannot connect ({reason})").format(
                url=display_url(written), reason=_reason(exc, written)
            )
        ) from None
    try:
        yield raw, _DIALECTS.get(scheme, "postgres")
    finally:
        raw.close()
        engine.dispose()


def columns_of(con: Any, dialect: str, table: str, url: str) -> list[tuple[str, str]]:
    """(name, type) of every column of `table`, in table order."""
    try:
        Quoter(dialect).table(table)  # quotes, dots and control characters are refused
    except ValueError as error:
        raise InputError(_("{url}: {reason}").format(url=display_url(url), reason=error)) from None
    parts = table.split(".")
    name, schema = parts[-1], parts[-2] if len(parts) > 1 else None
    sql = (
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_name = '{_plain(name)}'"
        + (f" AND table_schema = '{_plain(schema)}'" if schema else "")
        + " ORDER BY ordinal_position"
    )
    probe = Table(table_source(url, table, ()), con, "", "db", dialect=dialect)
    rows = probe.fetch(sql)
    if not rows:
        raise InputError(
            _("{url}: no table `{table}` (or it has no columns)").format(
                url=display_url(url), table=table
            )
        )
    return [(str(n), str(t).upper()) for n, t in rows]


def open_db_table(con: Any, dialect: str, url: str, table: str) -> Table:
    """The table as the unit-row reader sees a file: its columns, typed ones marked (DuckDB)."""
    columns = columns_of(con, dialect, table, url)
    source = table_source(url, table, tuple(n for n, _t in columns))
    numeric = frozenset(n for n, t in columns if dialect == "duckdb" and _NUMERIC.match(t))
    relation = Quoter(dialect).table(table)
    return Table(source, con, relation, "db", numeric=numeric, dialect=dialect)


def events_csv(con: Any, dialect: str, url: str, table: str, folder: Path) -> Path:
    """The event table written as a CSV file, for the execution-log reader."""
    columns = [n for n, _t in columns_of(con, dialect, table, url)]
    q = Quoter(dialect)
    text = "VARCHAR" if dialect == "duckdb" else "TEXT"
    select = ", ".join(f"CAST({q.column(c)} AS {text})" for c in columns)
    probe = Table(table_source(url, table, tuple(columns)), con, "", "db", dialect=dialect)
    rows = probe.fetch(f"SELECT {select} FROM {q.table(table)}")
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', table)}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    """A folder removed after use."""
    return tempfile.TemporaryDirectory(prefix="opsplay-")


def table_source(url: str, table: str, columns: tuple[str, ...]) -> Source:
    """A database table as a Source: its display name and its columns."""
    return Source(
        Path(table),
        f"{display_url(url)} {table}",
        "db",
        "db",
        ",",
        columns,
        0,
        0,  # type: ignore[arg-type]
    )


def _plain(name: str) -> str:
    Quoter("duckdb").column(name)  # validates: no quotes can reach the SQL
    return name
