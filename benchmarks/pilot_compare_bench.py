"""Benchmark: `opsplay pilot compare` on a big unit-row export, side by side with DuckDB.

    python benchmarks/pilot_compare_bench.py                      # 10M-row CSV (~370 MB), temp dir
    python benchmarks/pilot_compare_bench.py --both               # that CSV and a 30M-row Parquet
    python benchmarks/pilot_compare_bench.py --parquet --rows 30000000   # Parquet only
    python benchmarks/pilot_compare_bench.py --rows 1000000 --data /tmp/units.csv --keep
    python benchmarks/pilot_compare_bench.py --by region,channel  # segments on every side
    python benchmarks/pilot_compare_bench.py --reader-only        # `read_exports` instead

Every command runs as its own process (interpreter start and imports included), so a time is
what a user waits for; peak RSS is that process's own maximum (os.wait4). The commands run in
turn, round after round, so that all of them see the same page cache and the same load; each
figure is the median of the rounds. Per file (issue 22):

- opsplay: the whole `opsplay pilot compare benchmarks/bench-playbook.yaml FILE --format json`;
- duckdb: `python -c "import duckdb; <the GROUP BY query>"`, the same sums per arm;
- pandas + scipy: the script a user would otherwise write (read the file with pandas, group by
  arm, scipy's Welch t-test per metric, the ratio metric by the delta method).

Each runs on the big file and on its first 1,000 rows. **start-up** is the run on 1,000 rows
(target: opsplay at most 3.0x DuckDB); **scan** is the big run minus the 1,000-row run (target:
at most 1.10x DuckDB's, for the 10M-row CSV and the 30M-row Parquet file); peak RSS at most
400 MB at any size. Parquet files are the generated CSV converted by DuckDB (typed columns).
At the end, `opsplay validate one.yaml` against `python -c "import pydantic, yaml"` (target:
at most 3.0x; benchmarks/validate_bench.py's start-up part), and one table of every ratio
against its target.

On a shared machine the load moves from one moment to the next: each ratio is taken round by
round (a run against the peer's run of the same round, which saw about the same load), and
the median of the rounds' ratios is reported, for wall time and for CPU time (user + system of
the process, which a busy machine disturbs less); min-max of the rounds' wall ratios beside.
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
from dataclasses import dataclass, field
from pathlib import Path

SEED = 7
REGIONS = ["上海", "杭州", "南京", "苏州", "宁波", "无锡"]
CHANNELS = ["应用商店", "信息流广告", "老带新", "搜索引擎"]
BATCH = 1_000_000
HEAD_ROWS = 1_000

OPSPLAY_SCRIPT = """
import json, sys
from pathlib import Path
from opsplay.readers import MetricColumns, ReadOptions, read_exports
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

# What a user writes without opsplay: pandas reads the file, groups by arm, scipy tests.
PANDAS_SCRIPT = """
import json, math, sys
import pandas as pd
from scipy import stats
path = sys.argv[1]
by = [c for c in (sys.argv[2].split(",") if len(sys.argv) > 2 else []) if c]
frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
frame["rev_sq"] = frame["revenue"] ** 2
frame["ord_sq"] = frame["orders"] ** 2
frame["rev_ord"] = frame["revenue"] * frame["orders"]
out = []
for segment, part in (frame.groupby(by) if by else [((), frame)]):
    sums = part.groupby("arm").agg(
        n=("converted", "size"), conv=("converted", "mean"), conv_var=("converted", "var"),
        rev=("revenue", "mean"), rev_var=("revenue", "var"), r=("revenue", "sum"),
        o=("orders", "sum"), rr=("rev_sq", "sum"), oo=("ord_sq", "sum"), ro=("rev_ord", "sum"),
    )
    a, b = sums.loc["control"], sums.loc["pilot"]
    row = {"segment": str(segment), "n": [int(a.n), int(b.n)]}
    for name, mean, var in (("conversion", "conv", "conv_var"), ("revenue", "rev", "rev_var")):
        test = stats.ttest_ind_from_stats(b[mean], math.sqrt(b[var]), b.n,
                                          a[mean], math.sqrt(a[var]), a.n, equal_var=False)
        row[name] = [b[mean] - a[mean], test.pvalue]
    def ratio(arm):  # revenue per order and its variance by the delta method
        n, r, o = arm.n, arm.r / arm.n, arm.o / arm.n
        vr, vo = (arm.rr - arm.r * r) / (n - 1), (arm.oo - arm.o * o) / (n - 1)
        cov = (arm.ro - arm.r * o) / (n - 1)
        value = r / o
        return value, (vr / o**2 - 2 * value * cov / o**2 + value**2 * vo / o**2) / n
    (va, sa), (vb, sb) = ratio(a), ratio(b)
    z = (vb - va) / math.sqrt(sa + sb)
    row["aov"] = [vb - va, 2 * stats.norm.sf(abs(z))]
    out.append(row)
print(json.dumps(out))
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


@dataclass
class Runs:
    """Wall seconds, CPU seconds and peak RSS (bytes) of one command, run after run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    output: str = ""

    @property
    def time(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_time(self) -> float:
        return statistics.median(self.cpu)


def run(args: list[str], cwd: Path, runs: Runs) -> None:
    """Run a command once; add its wall and CPU seconds and its own peak RSS to `runs`."""
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
        runs.wall.append(elapsed)
        runs.cpu.append(usage.ru_utime + usage.ru_stime)
        runs.rss.append(usage.ru_maxrss * 1024)
        runs.output = out.read().decode()


def child(code: str) -> None:
    """Run Python code in a child process: a child's peak RSS starts from its parent's size at
    fork time, so this process stays small for the measurements."""
    subprocess.run([sys.executable, "-c", code], check=True)


def make_csv(path: Path, rows: int, reuse: bool) -> None:
    """Generate the CSV (unless `reuse` and it exists)."""
    if reuse and path.exists():
        return
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--generate", str(path), "--rows", str(rows)], check=True
    )
    print(
        f"generated {rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB "
        f"in {time.perf_counter() - start:.1f} s: {path}"
    )


def make_parquet(csv: Path, parquet: Path, reuse: bool) -> None:
    """The CSV converted to Parquet by DuckDB (typed columns, DuckDB's row groups)."""
    if reuse and parquet.exists():
        return
    child(f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}'\")")


def commands(data: Path, options: argparse.Namespace, root: Path) -> dict[str, list[str]]:
    """The command line of each side on `data`."""
    if options.command:
        ours = shlex.split(options.command.format(python=sys.executable, data=data))
    elif options.reader_only:
        ours = [sys.executable, "-c", OPSPLAY_SCRIPT, str(data), options.by]
    else:
        by = [arg for column in options.by.split(",") if column for arg in ("--by", column)]
        playbook = str(root / "benchmarks" / "bench-playbook.yaml")
        ours = [sys.executable, "-m", "opsplay", "pilot", "compare", playbook, str(data)]
        ours += ["--format", "json", *by]
    sides = {
        "opsplay": ours,
        "duckdb": [sys.executable, "-c", DUCKDB_SCRIPT, str(data), options.by],
    }
    if not options.no_pandas:
        sides["pandas+scipy"] = [sys.executable, "-c", PANDAS_SCRIPT, str(data), options.by]
    return sides


def measure(
    data: Path, options: argparse.Namespace, root: Path, label: str
) -> dict[str, tuple[float, float, float, float]]:
    """Every side on the big file and on its first 1,000 rows, in turn; print the figures."""
    with tempfile.TemporaryDirectory(prefix="opsplay-bench-") as folder:
        head = Path(folder) / f"head{data.suffix}"
        reader = "read_parquet" if data.suffix == ".parquet" else "read_csv"
        child(
            f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM {reader}('{data}') "
            f"LIMIT {HEAD_ROWS}) TO '{head}'\")"
        )
        big, small = commands(data, options, root), commands(head, options, root)
        results = {(name, size): Runs() for name in big for size in ("big", "head")}
        for name in big:  # warm-up: the page cache and the .pyc files
            run(big[name], root, Runs())
            run(small[name], root, Runs())
        for _ in range(options.repeat):
            for name in big:
                run(big[name], root, results[name, "big"])
                run(small[name], root, results[name, "head"])
    figures = report(label, results)
    if not options.command:
        check_agreement(
            results["opsplay", "big"].output,
            results["duckdb", "big"].output,
            reader_only=options.reader_only,
        )
    return figures


def paired(ours: list[float], peer: list[float]) -> tuple[float, float, float]:
    """Median, min and max of the rounds' ratios ours[i] / peer[i]."""
    ratios = [a / b for a, b in zip(ours, peer, strict=True) if b > 0]
    return statistics.median(ratios), min(ratios), max(ratios)


def report(
    label: str, results: dict[tuple[str, str], Runs]
) -> dict[str, tuple[float, float, float, float]]:
    """The figures of one file: whole runs, start-up, scan, peak RSS; ratios to DuckDB.

    Returns {"scan" | "start-up": (wall ratio, CPU ratio, min, max of the rounds' wall ratios)}
    and {"rss": (MiB, …)}."""
    names = list(dict.fromkeys(name for name, _size in results))
    print(f"\n== {label} (median of {len(results[names[0], 'big'].wall)} interleaved rounds)")
    print(f"{'':14}{'whole':>9}{'start-up':>10}{'scan':>9}{'scan CPU':>10}{'peak RSS':>10}")
    scan: dict[str, list[float]] = {}
    scan_cpu: dict[str, list[float]] = {}
    for name in names:
        big, head = results[name, "big"], results[name, "head"]
        scan[name] = [b - h for b, h in zip(big.wall, head.wall, strict=True)]
        scan_cpu[name] = [b - h for b, h in zip(big.cpu, head.cpu, strict=True)]
        peak = max(big.rss + head.rss)
        print(
            f"{name:14}{big.time:8.2f}s{head.time:9.2f}s{statistics.median(scan[name]):8.2f}s"
            f"{statistics.median(scan_cpu[name]):9.2f}s{peak / 2**20:7.0f} MiB"
        )
    ours, duck = results["opsplay", "head"], results["duckdb", "head"]
    peak = max(results["opsplay", "big"].rss + ours.rss) / 2**20
    wall, low, high = paired(scan["opsplay"], scan["duckdb"])
    cpu = paired(scan_cpu["opsplay"], scan_cpu["duckdb"])[0]
    figures = {"scan": (wall, cpu, low, high)}
    print(
        f"scan      opsplay {statistics.median(scan['opsplay']):.3f} s vs duckdb "
        f"{statistics.median(scan['duckdb']):.3f} s: {wall:.2f}x wall ({low:.2f}-{high:.2f}), "
        f"{cpu:.2f}x CPU (target <= 1.10x)"
    )
    wall, low, high = paired(ours.wall, duck.wall)
    cpu = paired(ours.cpu, duck.cpu)[0]
    figures["start-up"] = (wall, cpu, low, high)
    print(
        f"start-up  opsplay {ours.time:.3f} s vs duckdb {duck.time:.3f} s: {wall:.2f}x wall "
        f"({low:.2f}-{high:.2f}), {cpu:.2f}x CPU (target <= 3.0x)"
    )
    figures["rss"] = (peak, peak, peak, peak)
    print(f"peak RSS  opsplay {peak:.0f} MiB (target <= 400 MB)")
    if "pandas+scipy" in names:
        whole = results["pandas+scipy", "big"].time
        print(
            f"pandas+scipy script: whole {whole:.2f} s, scan "
            f"{statistics.median(scan['pandas+scipy']):.2f} s; "
            f"opsplay whole / script: {results['opsplay', 'big'].time / whole:.2f}x"
        )
    return figures


def validate_startup(runs: int) -> tuple[float, float]:
    """`opsplay validate one.yaml` against `import pydantic, yaml` (validate_bench.py's part a)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "validate_bench", Path(__file__).with_name("validate_bench.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("\n== opsplay validate")
    with tempfile.TemporaryDirectory(prefix="opsplay-bench-") as folder:
        workdir = Path(folder)
        (workdir / ".git").mkdir()  # a project root of its own: no outer configuration
        worst: tuple[float, float] = module.startup(workdir, runs)
    return worst


def summary(rows: list[tuple[str, tuple[float, float, float, float], float, str]]) -> None:
    """Every ratio of the run against its target, in one table."""
    print("\n== issue 22 targets, this run (wall: median of the rounds' ratios; CPU beside)")
    print(f"{'measure':34}{'wall':>8}{'(rounds)':>14}{'CPU':>8}{'target':>10}")
    for name, (wall, cpu, low, high), target, unit in rows:
        verdict = "ok" if wall <= target else "MISSED"
        if unit == "MiB":
            print(f"{name:34}{wall:5.0f} MiB{'':14}{'':8}{'<= 400 MB':>10}  {verdict}")
            continue
        spread = f"({low:.2f}-{high:.2f})" if low != high else ""
        print(
            f"{name:34}{wall:7.2f}x{spread:>14}{cpu:7.2f}x{'<= ' + format(target, '.2f') + 'x':>10}"
            f"  {verdict}"
        )


def main() -> None:
    """Parse options, generate the data if needed, run every side and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="unit rows to generate")
    parser.add_argument(
        "--data", type=Path, help="CSV path (generated unless --reuse and it exists)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse --data if it already exists")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--by", default="", help="segment columns, comma-separated (e.g. region)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; medians are reported")
    parser.add_argument(
        "--reader-only", action="store_true", help="time read_exports instead of the whole command"
    )
    parser.add_argument(
        "--command",
        help="opsplay command line to time instead; placeholders {python} and {data}",
    )
    parser.add_argument(
        "--parquet", action="store_true", help="convert the CSV to Parquet and time that only"
    )
    parser.add_argument(
        "--both",
        action="store_true",
        help="time the CSV (--rows), then a Parquet file of --parquet-rows rows",
    )
    parser.add_argument(
        "--parquet-rows",
        type=int,
        default=30_000_000,
        help="rows of the Parquet file with --both (default 30,000,000)",
    )
    parser.add_argument(
        "--no-pandas", action="store_true", help="leave out the pandas + scipy script"
    )
    parser.add_argument(
        "--validate-runs",
        type=int,
        default=21,
        help="rounds of `opsplay validate` against `import pydantic, yaml` (0: leave it out)",
    )
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.generate:
        generate(options.generate, options.rows)
        return
    root = Path(__file__).resolve().parents[1]
    temporary = tempfile.TemporaryDirectory(prefix="opsplay-bench-")
    folder = Path(temporary.name)
    data = options.data or folder / "units.csv"
    table: list[tuple[str, tuple[float, float, float, float], float, str]] = []
    try:
        make_csv(data, options.rows, options.reuse)
        if not options.parquet:
            csv = measure(data, options, root, f"CSV, {options.rows:,} rows")
            table += [
                (f"scan, {options.rows:,}-row CSV", csv["scan"], 1.10, "x"),
                ("start-up, 1,000-row CSV", csv["start-up"], 3.0, "x"),
                ("peak RSS, CSV", csv["rss"], 400e6 / 2**20, "MiB"),
            ]
        if options.parquet or options.both:
            rows = options.parquet_rows if options.both else options.rows
            if rows == options.rows:
                parquet = data.with_suffix(".parquet")
                make_parquet(data, parquet, options.reuse)
            else:
                parquet = data.with_name(f"{data.stem}-{rows}.parquet")
                if not (options.reuse and parquet.exists()):
                    source = folder / f"units-{rows}.csv"
                    make_csv(source, rows, False)
                    make_parquet(source, parquet, False)
                    source.unlink()
            figures = measure(parquet, options, root, f"Parquet, {rows:,} rows")
            table += [
                (f"scan, {rows:,}-row Parquet", figures["scan"], 1.10, "x"),
                ("start-up, 1,000-row Parquet", figures["start-up"], 3.0, "x"),
                ("peak RSS, Parquet", figures["rss"], 400e6 / 2**20, "MiB"),
            ]
        if options.validate_runs and not options.command:
            wall, cpu = validate_startup(options.validate_runs)
            table.append(("opsplay validate, one file", (wall, cpu, wall, wall), 3.0, "x"))
        if not options.command:
            summary(table)
    finally:
        if options.keep and options.data is None:
            print(f"kept in {folder}")
        else:
            temporary.cleanup()


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
