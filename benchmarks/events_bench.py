"""Benchmark: the node figures of a big execution log vs DuckDB's GROUP BY over the same CSV.

    python benchmarks/events_bench.py                       # 5M rows (~390 MB) in a temp dir
    python benchmarks/events_bench.py --rows 1000000 --data /tmp/log.csv --keep
    python benchmarks/events_bench.py --rows 1000000,5000000,10000000   # flat memory?

The log has five nodes, P1/P2/P3 levels, per-level limits, working-day and cut-off limits
(`1个工作日`, `T+1`, `次日12点前`), business hours and 3 % open cases, over 60 days around
国庆. Each side runs as its own process (interpreter start and imports included), so the
time is what a user waits for; peak RSS is that process's own maximum and CPU its user +
system time (os.wait4: the CPU time says more than the wall time on a busy machine). The
two run in turn, so a drift of the machine's speed hits both. The opsplay side is the whole
`opsplay pilot compare PLAYBOOK UNITS --events LOG --format json`; the DuckDB side a GROUP
BY node, level with the status counts and duration quantiles. Targets (issue 21): the whole
run at most 1.5x DuckDB's GROUP BY, peak RSS at most 400 MB, flat as the log grows (beyond
what exact quantiles keep: each node's and each level's durations, 4 bytes a row each for
this log's whole-second stamps; DuckDB's own keeps 8). As every benchmark here, each side
also runs on the log's first 1,000 rows: **start-up** is that run, **scan** the whole run
minus it (the rounds paired), each on a line of its own. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 21
PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: bench-claims, title: 售后理赔（基准）, version: "1.0.0", status: pilot, owner: lead, updated: 2024-09-20}
goal: {statement: 理赔时效提升, metric: conversion, baseline: 0.35, target: 0.40, deadline: 2024-12-31}
roles: [{id: lead, name: 主管}]
levels: [{id: P1, name: 加急}, {id: P2, name: 普通}, {id: P3, name: 低}]
calendars: [{id: 客服班次, hours: "09:00-21:00", days: 工作日}]
metrics:
  - {id: conversion, name: 转化率, kind: proportion, column: converted, better: higher}
nodes:
  - {id: accept, name: 受理, owner: lead, sla: {P1: 5分钟, P2: 30分钟, default: 2小时}, fallback: {when: [timeout], action: 升级}}
  - {id: review, name: 审核, owner: lead, sla: {P1: 1个工作日, default: 3个工作日}, fallback: {when: [timeout], action: 升级}}
  - {id: pay, name: 赔付, owner: lead, sla: T+1, fallback: {when: [timeout], action: 升级}}
  - {id: ship, name: 补发, owner: lead, sla: 次日12点前, fallback: {when: [timeout], action: 升级}}
  - {id: reply, name: 回复, owner: lead, calendar: 客服班次, sla: 4小时, fallback: {when: [timeout], action: 升级}}
pilot: {design: ab, arm_column: arm, arms: {baseline: control, pilot: pilot}, metrics: [conversion], feedback: [访谈]}
"""
DUCKDB_SCRIPT = """
import sys
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
rows = con.sql(f'''
    SELECT node, level, count(*) AS n,
           count(*) FILTER (WHERE status = '成功') AS ok,
           count(*) FILTER (WHERE status = '失败') AS failed,
           count(finished_at) AS timed,
           quantile_cont(epoch(finished_at) - epoch(started_at), 0.5) AS p50,
           quantile_cont(epoch(finished_at) - epoch(started_at), 0.95) AS p95
    FROM read_csv('{sys.argv[1]}')
    GROUP BY GROUPING SETS ((node), (node, level))''').fetchall()
print(len(rows))
"""


def generate(path: Path, rows: int) -> None:
    """Write a seeded node log: case_id, node, level, started_at, finished_at, status."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(SEED)
    nodes = np.array(["accept", "review", "pay", "ship", "reply"])
    levels = np.array(["P1", "P2", "P3", ""])
    statuses = np.array(["成功", "失败", "兜底", "超时", "跳过"])
    start0 = np.datetime64("2024-09-01T00:00:00")
    with path.open("wb") as handle:
        header = True
        for first in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - first)
            start = start0 + rng.integers(0, 60 * 86400, n).astype("timedelta64[s]")
            took = rng.gamma(1.5, 3600, n).astype("int64").astype("timedelta64[s]")
            finish = (start + took).astype("datetime64[s]")
            finished = pc.strftime(pa.array(finish), format="%Y-%m-%d %H:%M:%S")
            open_case = rng.random(n) < 0.03
            finished = pc.if_else(pa.array(open_case), pa.scalar(None, pa.string()), finished)
            table = pa.table(
                {
                    "case_id": pa.array([f"TK{first + i:08d}" for i in range(n)]),
                    "node": pa.array(nodes[rng.integers(0, 5, n)]),
                    "level": pa.array(levels[rng.integers(0, 4, n)]),
                    "started_at": pc.strftime(pa.array(start), format="%Y-%m-%d %H:%M:%S"),
                    "finished_at": finished,
                    "status": pa.array(
                        statuses[rng.choice(5, n, p=[0.85, 0.05, 0.04, 0.04, 0.02])]
                    ),
                }
            )
            options = pcsv.WriteOptions(include_header=header)
            pcsv.write_csv(table, handle, write_options=options)
            header = False


def run(command: list[str]) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS in MB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def head(log: Path, target: Path, rows: int = 1000) -> Path:
    """The log's header and first `rows` rows."""
    with log.open("rb") as source, target.open("wb") as out:
        for _ in range(rows + 1):
            out.write(source.readline())
    return target


def measure(log: Path, folder: Path, repeat: int) -> dict[str, list[tuple[float, ...]]]:
    """Each side's runs on one log and on its first 1,000 rows: (seconds, CPU seconds, peak
    MB), in turn; keys `duckdb`, `opsplay` and the same with ` 1k`."""
    playbook = folder / "bench.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    units = folder / "units.csv"
    units.write_text(
        "arm,converted\n"
        + "".join(f"{'pilot' if i % 2 else 'control'},{i % 3 == 0:d}\n" for i in range(400)),
        encoding="utf-8",
    )
    small = head(log, folder / "log1k.csv")

    def commands(path: Path) -> tuple[list[str], list[str]]:
        opsplay = [sys.executable, "-m", "opsplay", "pilot", "compare", str(playbook), str(units)]
        opsplay += ["--events", str(path), "--format", "json"]
        return [sys.executable, "-c", DUCKDB_SCRIPT, str(path)], opsplay

    (duckdb, opsplay), (duckdb_1k, opsplay_1k) = commands(log), commands(small)
    sides = {"duckdb": duckdb, "opsplay": opsplay, "duckdb 1k": duckdb_1k, "opsplay 1k": opsplay_1k}
    runs: dict[str, list[tuple[float, ...]]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, command in sides.items():
            runs[name].append(run(command))
    return runs


def split(runs: dict[str, list[tuple[float, ...]]], name: str) -> tuple[float, float, float]:
    """(start-up, scan, scan CPU) of a side, in seconds: medians over the rounds, the scan of
    a round being its whole run minus its 1,000-row run."""
    small, big = runs[f"{name} 1k"], runs[name]
    return (
        statistics.median(r[0] for r in small),
        statistics.median(b[0] - s[0] for b, s in zip(big, small, strict=True)),
        statistics.median(b[1] - s[1] for b, s in zip(big, small, strict=True)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5000000", help="rows, or sizes: 1000000,5000000")
    parser.add_argument("--data", type=Path, help="the log to use (one size; written if absent)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # only write this log
    args = parser.parse_args()
    if args.write:
        generate(args.write, int(args.rows))
        return
    sizes = [int(size) for size in str(args.rows).split(",")]
    folder = Path(tempfile.mkdtemp(prefix="opsplay-events-bench-"))
    lines = []
    for rows in sizes:
        log = args.data if args.data and len(sizes) == 1 else folder / f"log{rows}.csv"
        if not log.exists():
            print(f"writing {rows:,} rows to {log} …", flush=True)
            # in a process of its own: Linux counts the RSS a child had before exec (this
            # process's, forked) in the child's peak, so a log made here inflated both sides'
            subprocess.run(
                [sys.executable, __file__, "--write", str(log), "--rows", str(rows)], check=True
            )
        runs = measure(log, folder, args.repeat)
        size = log.stat().st_size / 1e6
        print(f"{rows:,} rows, {size:,.0f} MB")
        median = {}
        for name in ("duckdb", "opsplay"):
            wall, cpu = (statistics.median(r[i] for r in runs[name]) for i in (0, 1))
            peak = max(r[2] for r in runs[name])
            median[name] = (wall, cpu, peak)
            print(
                f"  {name:8s} median {wall:6.2f} s, CPU {cpu:6.2f} s  "
                f"(runs {', '.join(f'{r[0]:.2f}' for r in runs[name])})  peak RSS {peak:,.0f} MB"
            )
        ratio = median["opsplay"][0] / median["duckdb"][0]
        cpu_ratio = median["opsplay"][1] / median["duckdb"][1]
        print(
            f"  whole     {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU "
            "(target <= 1.5x; peak RSS <= 400 MB)"
        )
        (ours_start, ours_scan, ours_cpu), (duck_start, duck_scan, duck_cpu) = (
            split(runs, name) for name in ("opsplay", "duckdb")
        )
        print(
            f"  scan      opsplay {ours_scan:.2f} s vs duckdb {duck_scan:.2f} s: "
            f"{ours_scan / duck_scan:.2f}x wall, {ours_cpu / duck_cpu:.2f}x CPU"
        )
        print(
            f"  start-up  opsplay {ours_start:.3f} s vs duckdb {duck_start:.3f} s "
            f"(1,000 rows): {ours_start / duck_start:.2f}x"
        )
        lines.append((rows, median, ratio))
        if not args.keep and log != args.data:
            log.unlink()
    if len(lines) > 1:
        print("rows        duckdb s   MB   opsplay s   MB   ratio")
        for rows, median, ratio in lines:
            (dw, _dc, dp), (ow, _oc, op) = median["duckdb"], median["opsplay"]
            print(f"{rows:>10,}  {dw:7.2f} {dp:5.0f}  {ow:9.2f} {op:5.0f}  {ratio:5.2f}x")


if __name__ == "__main__":
    main()
