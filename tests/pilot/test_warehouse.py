"""One query, four places: the file, the printed SQL in DuckDB and in a real PostgreSQL, `--db`.

Unit rows with blanks, NULLs, NA, 是/否 text, `1,234` and rows without an arm give the same
figures (1e-9), with SPEC 7's `n` and `missing`, on every path.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from tests.pilot.conftest import EXAMPLES

ONBOARDING = EXAMPLES.parent / "playbooks" / "new-user-onboarding.yaml"
COLUMNS = [
    "user_id",
    "group",
    "region",
    "retained_d1",
    "ordered",
    "used_core_feature",
    "revenue",
    "orders",
]
runner = CliRunner()


def messy_rows(count: int = 3000) -> list[list[str | None]]:
    """Unit rows as a warehouse holds them: text, NULLs (None), and the habits of Excel."""
    rng = np.random.default_rng(9)
    rows: list[list[str | None]] = []
    for i in range(count):
        arm = "control" if i % 2 else "pilot"
        if i % 397 == 0:
            arm = None  # no arm: left out of everything, counted
        retained = int(rng.random() < (0.35 if arm == "control" else 0.39))
        cell: str | None = str(retained)
        if i % 11 == 0:
            cell = "是" if retained else "否"
        elif i % 13 == 0:
            cell = ["", "NA", None, "N/A"][i % 4]
        ordered = int(rng.random() < 0.12)
        orders = int(rng.integers(1, 4)) if ordered else 0
        revenue: str | None = f"{rng.gamma(2.0, 40.0) * orders:.2f}" if orders else None
        if revenue is not None and i % 17 == 0:
            revenue = f"{float(revenue) * 100:,.2f}"  # 1,234.56
        rows.append(
            [
                f"u{i}",
                arm,
                ["华东", "华南"][i % 2 if i % 5 else 0],
                cell,
                "true" if ordered else "false",
                ["1", "0", "Y", "N", "NULL"][i % 5],
                revenue,
                None if i % 19 == 0 else str(orders),
            ]
        )
    return rows


def write_csv(rows: list[list[str | None]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def compare(*args: str) -> dict:
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def printed_sql(dialect: str, by: tuple[str, ...] = ()) -> str:
    extra = [a for b in by for a in ("--by", b)]
    result = runner.invoke(
        app, ["pilot", "sql", str(ONBOARDING), "--table", "units", "--dialect", dialect, *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def figures(document: dict) -> dict:
    """What must agree: per metric and segment, each arm's n, value and missing, and the test."""
    out = {}
    for m in document["metrics"]:
        key = (m["metric"], tuple(sorted(m["segment"].items())))
        out[key] = [
            m["baseline"]["n"],
            m["baseline"]["missing"],
            m["pilot"]["n"],
            m["pilot"]["missing"],
            m["baseline"]["value"],
            m["pilot"]["value"],
            m["abs_diff"],
            m["p_value"],
        ]
    return out


def assert_same(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for key in left:
        a, b = left[key], right[key]
        assert a[:4] == b[:4], key  # counts exactly
        for x, y in zip(a[4:], b[4:], strict=True):
            assert (x is None) == (y is None), key
            if x is not None:
                assert x == pytest.approx(y, rel=1e-9, abs=1e-12), key


def duckdb_file(rows: list[list[str | None]], path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE units (" + ", ".join(f'"{c}" VARCHAR' for c in COLUMNS) + ")")
    con.executemany(f"INSERT INTO units VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    con.close()
    return path


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for the module (pgserver); skipped where it cannot start."""
    pgserver = pytest.importorskip(
        "pgserver", reason="pgserver is not installed (pip install pgserver)"
    )
    pytest.importorskip(
        "psycopg", reason="psycopg is not installed (pip install 'opsplay[warehouse]')"
    )
    folder = tempfile.mkdtemp(prefix="opsplay-pg-")
    try:
        server = pgserver.get_server(folder, cleanup_mode="delete")
    except Exception as exc:  # the server binary cannot run here (sandbox, no shared memory)
        pytest.skip(f"PostgreSQL (pgserver) could not start: {exc}")
    uri = server.get_uri()
    yield uri
    server.cleanup()


def postgres_table(uri: str, rows: list[list[str | None]], name: str = "units") -> None:
    import psycopg

    with psycopg.connect(uri) as con:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(f'CREATE TABLE "{name}" (' + ", ".join(f'"{c}" TEXT' for c in COLUMNS) + ")")
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{name}" VALUES ({", ".join(["%s"] * len(COLUMNS))})', rows
            )


def run_in_postgres(uri: str, sql: str, out: Path) -> Path:
    import psycopg

    with psycopg.connect(uri) as con, con.cursor() as cur:
        cur.execute(sql.encode())  # bytes: no client-side `%` placeholders
        names = [d.name for d in cur.description]
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(["" if v is None else v for v in row] for row in cur.fetchall())
    return out


@pytest.mark.parametrize("by", [(), ("region",)])
def test_file_printed_sql_and_db_agree_in_duckdb_and_postgres(
    tmp_path: Path, postgres: str, by: tuple[str, ...]
) -> None:
    rows = messy_rows()
    extra = [a for b in by for a in ("--by", b)]
    from_file = compare(str(write_csv(rows, tmp_path / "units.csv")), *extra)

    database = duckdb_file(rows, tmp_path / "units.duckdb")
    con = duckdb.connect(str(database), read_only=True)
    stats = tmp_path / "duckdb_stats.csv"
    con.execute(f"COPY ({printed_sql('duckdb', by).strip().rstrip(';')}) TO '{stats}' (HEADER)")
    con.close()
    from_duckdb_sql = compare(str(stats), *extra)
    from_duckdb_db = compare("--db", f"duckdb:///{database}", "--table", "units", *extra)

    postgres_table(postgres, rows)
    pg_stats = run_in_postgres(postgres, printed_sql("postgres", by), tmp_path / "pg_stats.csv")
    from_pg_sql = compare(str(pg_stats), *extra)
    from_pg_db = compare("--db", postgres, "--table", "units", *extra)

    expected = figures(from_file)
    for other in (from_duckdb_sql, from_duckdb_db, from_pg_sql, from_pg_db):
        assert_same(expected, figures(other))
    # SPEC 7's counts, checked against the rows themselves
    retention = next(
        m for m in from_file["metrics"] if m["metric"] == "d1_retention" and not m["segment"]
    )
    pilot = [r for r in rows if r[1] == "pilot"]
    blank = [r for r in pilot if r[3] in ("", "NA", None, "N/A")]
    assert retention["pilot"]["missing"] == len(blank)
    assert retention["pilot"]["n"] == len(pilot) - len(blank)
    # (the playbook is Chinese: so are the results' warnings)
    assert any("没有值" in w and "未计入" in w for w in from_file["warnings"])
    assert any("`d1_retention`" in w and "缺失" in w for w in from_file["warnings"])


def test_postgres_identifiers_are_case_sensitive_and_resolved(
    tmp_path: Path, postgres: str
) -> None:
    """`Revenue` in the table and `revenue` in the playbook: resolved when it is the only one."""
    import psycopg

    rows = messy_rows(400)
    postgres_table(postgres, rows, "cased")
    with psycopg.connect(postgres) as con:
        con.execute('ALTER TABLE cased RENAME COLUMN "revenue" TO "Revenue"')
    cased = compare("--db", postgres, "--table", "cased")
    plain = compare(str(write_csv(rows, tmp_path / "units.csv")))
    assert_same(figures(plain), figures(cased))
    with psycopg.connect(postgres) as con:
        con.execute('ALTER TABLE cased ADD COLUMN "REVENUE" TEXT')
        con.execute('ALTER TABLE cased RENAME COLUMN "group" TO "Group"')
        con.execute('ALTER TABLE cased ADD COLUMN "GROUP" TEXT')
    result = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), "--db", postgres, "--table", "cased"]
    )
    assert result.exit_code == 2 and 'missing column "group"' in result.stderr
    assert "Group" in result.stderr and "Traceback" not in result.output


def test_by_period_on_a_did_playbook_runs_in_postgres(postgres: str) -> None:
    """The segment named like the period column: ordinals in ORDER BY, nothing ambiguous."""
    import psycopg

    recall = EXAMPLES.parent / "playbooks" / "member-recall.yaml"
    result = runner.invoke(
        app,
        [
            "pilot",
            "sql",
            str(recall),
            "--table",
            "recall",
            "--dialect",
            "postgres",
            "--by",
            "period",
        ],
    )
    assert result.exit_code == 0, result.output
    sql = result.stdout
    with psycopg.connect(postgres) as con:
        con.execute("DROP TABLE IF EXISTS recall")
        con.execute(
            'CREATE TABLE recall (member_id TEXT, "group" TEXT, period TEXT, province TEXT, '
            "recalled INTEGER, repurchased BOOLEAN, unsubscribed TEXT)"
        )
        con.execute(
            "INSERT INTO recall VALUES ('m1', 'pilot', 'before', '浙江', 1, true, '0'), "
            "('m2', 'comparison', 'after', '浙江', 0, false, NULL)"
        )
        rows = con.execute(sql.encode()).fetchall()
    assert len(rows) == 2 * 3


def test_events_table_and_the_events_query(tmp_path: Path) -> None:
    """`--events-table` reads the log from the database; `pilot sql --events` gives its figures."""
    database = tmp_path / "ops.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        f"CREATE TABLE units AS SELECT * FROM read_csv('{EXAMPLES / 'onboarding_units.csv'}')"
    )
    con.execute(
        f"CREATE TABLE events AS SELECT * FROM read_csv('{EXAMPLES / 'onboarding_events.csv'}')"
    )
    con.close()
    files = compare(
        str(EXAMPLES / "onboarding_units.csv"), "--events", str(EXAMPLES / "onboarding_events.csv")
    )
    db = compare("--db", f"duckdb:///{database}", "--table", "units", "--events-table", "events")
    assert [n["count"] for n in db["nodes"]] == [n["count"] for n in files["nodes"]]
    assert sum(1 for n in files["nodes"] if n["count"]) >= 3  # the log covers the nodes
    for a, b in zip(db["nodes"], files["nodes"], strict=True):
        if not b["count"]:
            continue
        for key in ("completion_rate", "fallback_rate", "failure_rate", "sla_compliance", "p50_s"):
            assert a[key] == pytest.approx(b[key], rel=1e-6), (a["node"], key)
    result = runner.invoke(app, ["pilot", "sql", str(ONBOARDING), "--table", "events", "--events"])
    assert result.exit_code == 0, result.output
    sql = result.stdout
    con = duckdb.connect(str(database), read_only=True)
    rows = {r[0]: r for r in con.execute(sql).fetchall()}
    for node in files["nodes"]:
        if node["count"]:
            row = rows[node["node"]]
            assert row[1] == node["count"] and row[2] / row[1] == pytest.approx(
                node["completion_rate"]
            )
            assert row[-1] / row[7] == pytest.approx(node["sla_compliance"])


def test_db_errors_are_clear(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "pilot",
            "compare",
            str(ONBOARDING),
            "--db",
            f"duckdb:///{tmp_path}/none.duckdb",
            "--table",
            "t",
        ],
    )
    assert result.exit_code == 2 and "no such database file" in result.stderr
    database = duckdb_file(messy_rows(50), tmp_path / "u.duckdb")
    result = runner.invoke(
        app,
        ["pilot", "compare", str(ONBOARDING), "--db", f"duckdb:///{database}", "--table", "nope"],
    )
    assert result.exit_code == 2 and "no table `nope`" in result.stderr
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING)])
    assert result.exit_code == 2 and "--db" in result.stderr


def test_messages_about_an_events_table_name_the_table(tmp_path: Path) -> None:
    """The log is copied out of the database to be read; messages name the table, not the copy."""
    database = tmp_path / "ops.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        f"CREATE TABLE units AS SELECT * FROM read_csv('{EXAMPLES / 'onboarding_units.csv'}')"
    )
    con.execute(
        "CREATE TABLE 执行日志 AS SELECT * FROM "
        f"read_csv('{EXAMPLES / 'onboarding_events.csv'}', all_varchar = true)"
    )
    con.execute("UPDATE 执行日志 SET finished_at = '昨天下午' WHERE rowid = 3")
    con.close()
    args = ["--db", f"duckdb:///{database}", "--table", "units", "--events-table", "执行日志"]
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), *args])
    assert result.exit_code == 2
    assert f"duckdb:///{database} 执行日志" in result.stderr and "昨天下午" in result.stderr
    assert "opsplay-" not in result.stderr and ".csv" not in result.stderr
    skipped = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), *args, "--skip-bad-rows", "--format", "json"]
    )
    assert skipped.exit_code == 0, skipped.output
    assert any("执行日志" in w for w in json.loads(skipped.stdout)["warnings"])


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    """A real local Spark session for the module; skipped where pyspark or Java is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark)")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or newer and there is no `java` on PATH")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("opsplay-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.parametrize("by", [(), ("region",)])
def test_the_printed_spark_sql_runs_in_spark_and_agrees(
    tmp_path: Path, spark: object, by: tuple[str, ...]
) -> None:
    """Spark SQL (ANSI mode on, as in Spark 4) over the same text rows gives the file's figures."""
    from pyspark.sql.types import StringType, StructField, StructType

    rows = messy_rows()
    extra = [a for b in by for a in ("--by", b)]
    from_file = compare(str(write_csv(rows, tmp_path / "units.csv")), *extra)
    schema = StructType([StructField(c, StringType(), True) for c in COLUMNS])
    spark.createDataFrame(rows, schema).createOrReplaceTempView("units")  # type: ignore[attr-defined]
    result = spark.sql(printed_sql("spark", by).strip().rstrip(";"))  # type: ignore[attr-defined]
    out = tmp_path / "spark_stats.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.collect())
    assert_same(figures(from_file), figures(compare(str(out), *extra)))


def test_numbers_no_engine_can_hold_are_unreadable_everywhere(
    tmp_path: Path, postgres: str
) -> None:
    """`1e999` or a 400-digit number: invalid on every path (PostgreSQL's cast used to fail)."""
    rows = messy_rows(200)
    rows[4][6], rows[6][6] = "1e999", "1" + "0" * 400  # revenue, two pilot units
    extra = ["--skip-bad-rows"]
    from_file = compare(str(write_csv(rows, tmp_path / "units.csv")), *extra)
    postgres_table(postgres, rows)
    from_pg = compare("--db", postgres, "--table", "units", *extra)
    database = duckdb_file(rows, tmp_path / "units.duckdb")
    from_duckdb = compare("--db", f"duckdb:///{database}", "--table", "units", *extra)
    for other in (from_pg, from_duckdb):
        assert_same(figures(from_file), figures(other))
    revenue = next(m for m in from_file["metrics"] if m["metric"] == "revenue" and not m["segment"])
    assert revenue["pilot"]["invalid"] == 2
