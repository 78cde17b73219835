"""Benchmark: reading a big unit-row export vs DuckDB's GROUP BY over the same CSV.

    python benchmarks/pilot_compare_bench.py                      # 10M rows (~370 MB) in a temp dir
    python benchmarks/pilot_compare_bench.py --rows 1000000 --data /tmp/units.csv --keep
    python benchmarks/pilot_compare_bench.py --by region,channel  # segments on both sides
    python benchmarks/pilot_compare_bench.py --reader-only        # only `read_exports`
    python benchmarks/pilot_compare_bench.py --rows 30000000 --parquet  # Parquet on both sides

Each side runs as its own process (interpreter start and imports included), so the time is
what a user waits for; peak RSS is that process's own maximum (os.wait4). The opsplay side
is the whole `opsplay pilot compare benchmarks/bench-playbook.yaml DATA --format json`
(`--reader-only` times a small script around `read_exports` instead; `--command` any
command line, with placeholders `{python}` and `{data}`). Targets (issue 9): CSV at most
1.2x DuckDB's GROUP BY over the same file; Parquet (`--parquet`, the CSV converted by DuckDB)
at most 1.5x; peak RSS at most 400 MB and flat as the file grows.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 7
REGIONS = ["上海", "杭州", "南京", "苏州", "宁波", "无锡"]
CHANNELS = ["应用商店", "信息流广告", "老带新", "搜索引擎"]
BATCH = 1_000_000

OPSPLAY_SCRIPT = """
import json, sys
from pathlib import Path
from opsplay.pilot.readers import MetricColumns, ReadOptions, read_exports
metrics = (
    MetricColumns("conversion", "proportion", "converted"),
    MetricColumns("revenue", "mean", "revenue"),
    MetricColumns("aov", "ratio", None, "revenue", "orders"),
)
by = tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 and sys.argv[2] else ()
data = read_exports([Path(sys.argv[1])], ReadOptions(metrics, "arm", segment_columns=by))
print(json.dumps({f"{k.metric}|{k.arm}|{k.segment}": [v.n, v.sum, v.sum_sq, v.sum_den, v.sum_prod]
                  for k, v in data.stats.items()}))
"""

DUCKDB_SCRIPT = """
import json, sys
import duckdb
by = [c for c in (sys.argv[2].split(",") if len(sys.argv) > 2 else []) if c]
keys = ", ".join(["arm", *by])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
rows = con.sql(f'''
    SELECT {keys}, count(*) AS n,
           sum(converted) AS c, sum(converted * converted) AS c2,
           sum(revenue) AS r, sum(revenue * revenue) AS r2,
           sum(orders) AS o, sum(orders * orders) AS o2, sum(revenue * orders) AS ro
    FROM {"read_parquet" if sys.argv[1].endswith(".parquet") else "read_csv"}('{sys.argv[1]}')
    GROUP BY {keys}''').fetchall()
print(json.dumps([list(map(str, row)) for row in rows]))
"""


def generate(path: Path, rows: int) -> None:
    """Write a seeded unit-row export: arm, region, channel, converted, revenue, orders."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(SEED)
    schema = pa.schema(
        [
            (name, pa.string())
            for name in ("arm", "region", "channel", "converted", "revenue", "orders")
        ]
    )
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with path.open("wb") as sink:
        sink.write(b"arm,region,channel,converted,revenue,orders\n")
        with pcsv.CSVWriter(sink, schema, write_options=options) as writer:
            for start in range(0, rows, BATCH):
                n = min(BATCH, rows - start)
                pilot = rng.random(n) < 0.5
                orders = rng.poisson(0.6, n)
                cents = np.rint(orders * rng.gamma(2.0, 3000.0, n)).astype(np.int64)
                converted = rng.random(n) < np.where(pilot, 0.38, 0.35)
                revenue = pc.binary_join_element_wise(
                    pc.cast(pa.array(cents // 100), pa.string()),
                    pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0"),
                    ".",
                )
                writer.write_table(
                    pa.table(
                        {
                            "arm": pa.array(np.where(pilot, "pilot", "control")),
                            "region": pa.array(np.array(REGIONS)[rng.integers(0, len(REGIONS), n)]),
                            "channel": pa.array(
                                np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)]
                            ),
                            "converted": pc.cast(pa.array(converted.astype(np.int8)), pa.string()),
                            "revenue": revenue,
                            "orders": pc.cast(pa.array(orders), pa.string()),
                        },
                        schema=schema,
                    )
                )


def run(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run a command; return wall seconds, its own peak RSS in bytes, and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            sys.exit(
                f"command failed ({process.returncode}): {shlex.join(args)}\n"
                + err.read().decode(errors="replace")
            )
        return elapsed, usage.ru_maxrss * 1024, out.read().decode()


def main() -> None:
    """Parse options, generate the data if needed, run both sides and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="unit rows to generate")
    parser.add_argument(
        "--data", type=Path, help="CSV path (generated unless --reuse and it exists)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse --data if it already exists")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--by", default="", help="segment columns, comma-separated (e.g. region)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best is reported")
    parser.add_argument(
        "--reader-only", action="store_true", help="time read_exports instead of the whole command"
    )
    parser.add_argument(
        "--command",
        help="opsplay command line to time instead of the read_exports script; "
        "placeholders {python} and {data}",
    )
    parser.add_argument(
        "--parquet", action="store_true", help="convert the CSV to Parquet and time that"
    )
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.generate:
        generate(options.generate, options.rows)
        return
    root = Path(__file__).resolve().parents[1]
    temporary = None
    data = options.data
    if data is None:
        temporary = tempfile.TemporaryDirectory(prefix="opsplay-bench-")
        data = Path(temporary.name) / "units.csv"
    if not (options.reuse and data.exists()):
        start = time.perf_counter()
        # In a child process: a child's peak RSS starts from its parent's size at fork time,
        # so this process stays small for the measurements.
        generator = [sys.executable, __file__, "--generate", str(data), "--rows", str(options.rows)]
        subprocess.run(generator, check=True)
        print(
            f"generated {options.rows:,} rows, {data.stat().st_size / 1e6:,.0f} MB "
            f"in {time.perf_counter() - start:.1f} s: {data}"
        )
    if options.parquet:
        parquet = data.with_suffix(".parquet")
        if not (options.reuse and parquet.exists()):
            # in a child process, so that this process stays small (see above)
            convert = f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_csv('{data}')) TO '{parquet}'\")"
            subprocess.run([sys.executable, "-c", convert], check=True)
        data = parquet
    if options.command:
        ours = shlex.split(options.command.format(python=sys.executable, data=data))
    elif options.reader_only:
        ours = [sys.executable, "-c", OPSPLAY_SCRIPT, str(data), options.by]
    else:
        by = [arg for column in options.by.split(",") if column for arg in ("--by", column)]
        playbook = str(root / "benchmarks" / "bench-playbook.yaml")
        ours = [
            sys.executable,
            "-m",
            "opsplay",
            "pilot",
            "compare",
            playbook,
            str(data),
            "--format",
            "json",
            *by,
        ]
    duck = [sys.executable, "-c", DUCKDB_SCRIPT, str(data), options.by]

    results: dict[str, list[tuple[float, int]]] = {"opsplay": [], "duckdb": []}
    outputs = {}
    for _ in range(options.repeat):  # interleaved, so both see the same page cache
        for name, args in (("opsplay", ours), ("duckdb", duck)):
            elapsed, rss, outputs[name] = run(args, root)
            results[name].append((elapsed, rss))
    best = {name: min(runs) for name, runs in results.items()}
    peak = {name: max(rss for _, rss in runs) for name, runs in results.items()}
    for name in ("opsplay", "duckdb"):
        times = [t for t, _ in results[name]]
        print(
            f"{name:8} best {best[name][0]:6.2f} s  median {statistics.median(times):6.2f} s  "
            f"peak RSS {peak[name] / 2**20:6.0f} MiB"
        )
    print(f"ratio opsplay / duckdb: {best['opsplay'][0] / best['duckdb'][0]:.2f}x")
    if not options.command:
        check_agreement(outputs["opsplay"], outputs["duckdb"], reader_only=options.reader_only)
        startup(ours, duck, data, best, options.repeat, root)
    if temporary is not None and not options.keep:
        temporary.cleanup()


def startup(
    ours: list[str],
    duck: list[str],
    data: Path,
    best: dict[str, tuple[float, int]],
    repeat: int,
    root: Path,
) -> None:
    """The same two commands on the file's first 1,000 rows: what each side costs before and
    after its scan (interpreter, imports, playbook, statistics), and the scans without it."""
    with tempfile.TemporaryDirectory(prefix="opsplay-bench-") as folder:
        head = Path(folder) / f"head{data.suffix}"
        reader = "read_parquet" if data.suffix == ".parquet" else "read_csv"
        cut = f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM {reader}('{data}') LIMIT 1000) TO '{head}'\")"
        subprocess.run([sys.executable, "-c", cut], check=True)
        fixed = {"opsplay": float("inf"), "duckdb": float("inf")}
        for _ in range(repeat):
            for name, args in (("opsplay", ours), ("duckdb", duck)):
                swapped = [str(head) if arg == str(data) else arg for arg in args]
                fixed[name] = min(fixed[name], run(swapped, root)[0])
    scan = {name: best[name][0] - fixed[name] for name in fixed}
    print(
        f"start-up (first 1,000 rows): opsplay {fixed['opsplay']:.2f} s, "
        f"duckdb {fixed['duckdb']:.2f} s; the rest: opsplay {scan['opsplay']:.2f} s, "
        f"duckdb {scan['duckdb']:.2f} s ({scan['opsplay'] / scan['duckdb']:.2f}x)"
    )


def check_agreement(ours: str, duck: str, *, reader_only: bool) -> None:
    """Both sides must have counted the same rows per arm (a cheap guard against a bad run)."""
    counts_ours: dict[str, int] = {}
    if reader_only:
        for key, values in json.loads(ours).items():
            if key.startswith("conversion|"):
                arm = key.split("|")[1]
                counts_ours[arm] = counts_ours.get(arm, 0) + values[0]
    else:
        overall = next(m for m in json.loads(ours)["metrics"] if not m["segment"])
        counts_ours = {"control": overall["baseline"]["n"], "pilot": overall["pilot"]["n"]}
    counts_duck: dict[str, int] = {}
    for row in json.loads(duck):
        counts_duck[row[0]] = counts_duck.get(row[0], 0) + int(row[-8])
    status = "agree" if counts_ours == counts_duck else f"DIFFER: {counts_ours} vs {counts_duck}"
    print(f"row counts per arm {status}")


if __name__ == "__main__":
    main()
