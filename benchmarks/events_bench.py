"""Benchmark: the node figures of a big execution log vs DuckDB's GROUP BY over the same CSV.

    python benchmarks/events_bench.py                       # 5M rows (~330 MB) in a temp dir
    python benchmarks/events_bench.py --rows 1000000 --data /tmp/log.csv --keep

The log has five nodes, P1/P2/P3 levels, per-level limits, working-day and cut-off limits
(`1个工作日`, `T+1`, `次日12点前`), business hours and 3 % open cases, over 60 days around
国庆. Each side runs as its own process (interpreter start and imports included), so the
time is what a user waits for; peak RSS is that process's own maximum (os.wait4). The
opsplay side is the whole `opsplay pilot compare PLAYBOOK UNITS --events LOG --format json`;
the DuckDB side a GROUP BY node, level with the status counts and duration quantiles.
Targets (issue 21): at most 1.5x DuckDB's GROUP BY, peak RSS at most 400 MB, flat as the
log grows. Not part of the test suite.
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


def run(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="opsplay-events-bench-"))
    log = args.data or folder / "log.csv"
    if not log.exists():
        print(f"writing {args.rows:,} rows to {log} …", flush=True)
        generate(log, args.rows)
    playbook = folder / "bench.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    units = folder / "units.csv"
    units.write_text(
        "arm,converted\n"
        + "".join(f"{'pilot' if i % 2 else 'control'},{i % 3 == 0:d}\n" for i in range(400)),
        encoding="utf-8",
    )
    opsplay = [sys.executable, "-m", "opsplay", "pilot", "compare", str(playbook), str(units)]
    opsplay += ["--events", str(log), "--format", "json"]
    duckdb = [sys.executable, "-c", DUCKDB_SCRIPT, str(log)]
    times: dict[str, list[float]] = {"opsplay": [], "duckdb": []}
    peaks: dict[str, float] = {"opsplay": 0.0, "duckdb": 0.0}
    for _ in range(args.repeat):
        for name, command in (("duckdb", duckdb), ("opsplay", opsplay)):
            elapsed, peak = run(command)
            times[name].append(elapsed)
            peaks[name] = max(peaks[name], peak)
    size = log.stat().st_size / 1e6
    print(f"{args.rows:,} rows, {size:,.0f} MB")
    for name in ("duckdb", "opsplay"):
        print(
            f"{name:8s} median {statistics.median(times[name]):6.2f} s  "
            f"(runs {', '.join(f'{t:.2f}' for t in times[name])})  peak RSS {peaks[name]:,.0f} MB"
        )
    ratio = statistics.median(times["opsplay"]) / statistics.median(times["duckdb"])
    print(f"ratio {ratio:.2f}x (target <= 1.5x; peak RSS target <= 400 MB)")
    if not args.keep and args.data is None:
        log.unlink()


if __name__ == "__main__":
    main()
