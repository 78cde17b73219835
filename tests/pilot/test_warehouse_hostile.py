"""Issue 19: a `--db` from elsewhere reads no local file, a credential in its URL is never
shown, and odd table names, pipes and URLs are errors in words (exit 2), not tracebacks."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.readers import warehouse
from tests.pilot.conftest import EXAMPLES

ONBOARDING = EXAMPLES.parent / "playbooks" / "new-user-onboarding.yaml"
UNITS = EXAMPLES / "onboarding_units.csv"
runner = CliRunner()


def compare(*args: str):
    return runner.invoke(app, ["pilot", "compare", str(ONBOARDING), *args])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "ops.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE units AS SELECT * FROM read_csv('{UNITS}')")
    return path


def test_a_view_reading_a_local_file_reads_nothing(tmp_path: Path) -> None:
    """A view with read_csv('/path/secret') would surface the secret as a segment label."""
    secret = tmp_path / "secret.txt"
    secret.write_text("sk-live-0123456789\n", "utf-8")
    path = tmp_path / "evil.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE u AS SELECT * FROM read_csv('{UNITS}')")
        con.execute(
            "CREATE VIEW units AS SELECT u.*, s.column0 AS leak FROM u, "
            f"read_csv('{secret}', header = false) s"
        )
    result = compare("--db", f"duckdb:///{path}", "--table", "units", "--by", "leak")
    assert result.exit_code == 2, result.output
    assert "sk-live" not in result.output + result.stderr
    assert "Traceback" not in result.output


def test_duckdb_files_are_opened_without_external_access_or_extensions(database: Path) -> None:
    with warehouse.connect(f"duckdb:///{database}") as (con, _dialect):
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('enable_external_access', 'autoload_known_extensions', "
                "'autoinstall_known_extensions')"
            ).fetchall()
        )
    assert settings == {
        "enable_external_access": "false",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
    }


@pytest.mark.parametrize("option", ["--table", "--events-table"])
@pytest.mark.parametrize("name", ["units'--", "x'y", 'a"b', "a;b"])
def test_a_table_name_with_quotes_is_an_error_in_words(database: Path, option, name) -> None:
    args = ["--db", f"duckdb:///{database}"]
    args += ["--table", name] if option == "--table" else ["--table", "units", option, name]
    result = compare(*args)
    assert result.exit_code == 2, result.output
    assert "not a plain identifier" in result.stderr and "Traceback" not in result.output


def test_a_fifo_as_db_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "ops.duckdb"
    os.mkfifo(fifo)
    result = compare("--db", f"duckdb:///{fifo}", "--table", "units")
    assert result.exit_code == 2 and "not a regular file" in result.stderr, result.output


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("postgresql://alice@127.0.0.1:1/db?password=hunter22x&sslmode=disable", ["hunter22x"]),
        ("postgresql://alice:p%40ssw0rd@127.0.0.1:1/db", ["p%40ssw0rd", "p@ssw0rd"]),
        ("postgresql://alice:p@ssw0rd@127.0.0.1:1/db", ["p@ssw0rd", "ssw0rd"]),
        ("postgresql://127.0.0.1:1/db?sslpassword=abcd1234&token=tok-98765", ["abcd1234", "98765"]),
        # libpq and SQLAlchemy take a raw `?` or `#` in a password: it is masked whole
        ("postgresql://alice:sec?retPW123@127.0.0.1:1/db?sslmode=disable", ["sec?ret", "retPW123"]),
        ("postgresql://alice:se#cretPW1@127.0.0.1:1/db", ["se#", "cretPW1"]),
    ],
)
def test_a_credential_in_the_db_url_is_never_shown(url: str, secrets: list[str]) -> None:
    pytest.importorskip("sqlalchemy")
    result = compare("--db", url, "--table", "units")
    assert result.exit_code == 2, result.output
    for secret in secrets:
        assert secret not in result.output + result.stderr, result.stderr
    assert "alice" in result.stderr or "127.0.0.1" in result.stderr


def test_the_source_label_in_json_reports_and_history_has_no_credential() -> None:
    """The label of `--db` rows is what JSON `sources`, reports, state.db and history keep."""
    source = warehouse.table_source(
        "postgresql://alice:pw0rd@db.corp/ops?password=hunter22&sslmode=require", "units", ()
    )
    assert source.display == "postgresql://alice:***@db.corp/ops?password=***&sslmode=require units"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://postgres:sec?retPW123@/postgres?host=/tmp/x",
            "postgresql://postgres:***@/postgres?host=/tmp/x units",
        ),
        ("postgresql://alice:se#cret99@db/ops", "postgresql://alice:***@db/ops units"),
        ("postgresql://alice:a/b?c#d@e@db/ops?x=1", "postgresql://alice:***@db/ops?x=1 units"),
    ],
)
def test_a_password_with_a_question_mark_or_hash_is_masked_whole(url: str, shown: str) -> None:
    """The user info ends at the last `@` of the authority, as libpq reads it, not at `?`."""
    assert warehouse.table_source(url, "units", ()).display == shown


def test_a_libpq_key_value_string_as_db_is_not_echoed_with_its_password() -> None:
    result = compare("--db", "host=/tmp password=SECRETKV dbname=ops", "--table", "units")
    assert result.exit_code == 2 and "not a database URL" in result.stderr, result.output
    assert "SECRETKV" not in result.output + result.stderr
    assert "password=***" in result.stderr


@pytest.mark.parametrize("key", ["password", "passwd", "PASSWORD", "sslpassword"])
def test_every_error_text_is_scrubbed_of_passwords(key: str) -> None:
    from opsplay.errors import InputError

    error = InputError(f"x: host=db {key}='s3 cr\\'et' user=a {key}=plain99 port=5")
    assert "s3" not in error.message and "plain99" not in error.message
    assert error.message.startswith("x: host=db ") and "user=a" in error.message


def test_a_webhook_given_as_data_is_not_echoed() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef"
    result = compare(url)
    assert result.exit_code == 2 and "abcdef0123456789" not in result.stderr, result.stderr
