"""Benchmark: `opsplay render-sop` on 1,000 playbooks against `opsplay validate` on the same files.

Target (issue 11): rendering stays under 2x the time of validating. Both are whole
processes (start-up included), the median of a few runs, on the same generated folder;
every document format is measured (HTML draws each flowchart with grandalf's Sugiyama
layout; Word is made from the HTML). Not run by the tests: it prints figures side by side.

Usage: python benchmarks/render_bench.py [--files 1000] [--runs 3] [--formats md,html,docx]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "playbooks" / "new-user-onboarding.yaml"
WALL: list[float] = []  # wall seconds of every run, for the side column


def _playbook(index: int, text: str) -> str:
    """A distinct, valid playbook: its own id and title."""
    return text.replace("id: new-user-onboarding", f"id: bench-{index:04d}", 1).replace(
        "title: 新用户引导优化", f"title: 新用户引导优化 {index}", 1
    )


def _run(args: list[str], cwd: Path) -> float:
    """CPU seconds (user + system) of one whole opsplay process.

    CPU time, not wall time: the figures stay comparable on a machine shared with other
    work, where wall time mostly measures the neighbours. The wall time is printed too.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"opsplay {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    WALL.append(wall)
    return cpu


def _median(
    args: list[str], cwd: Path, runs: int, fresh: Path | None = None
) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of `runs` runs."""
    WALL.clear()
    times = []
    for _ in range(runs):
        if fresh is not None and fresh.exists():  # render into an empty folder every run
            for path in fresh.iterdir():
                path.unlink()
        times.append(_run(args, cwd))
    return statistics.median(times), statistics.median(WALL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="md,html,docx")
    options = parser.parse_args()
    text = TEMPLATE.read_text("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        playbooks = root / "playbooks"
        playbooks.mkdir()
        for index in range(options.files):
            (playbooks / f"bench-{index:04d}.yaml").write_text(_playbook(index, text), "utf-8")
        _run(["validate", "playbooks"], root)  # warm the file cache and .pyc files
        validate, validate_wall = _median(["validate", "playbooks"], root, options.runs)
        print(
            f"{options.files} playbooks (copies of {TEMPLATE.name}), median of {options.runs} runs"
        )
        print(f"{'command':<36}{'CPU s':>8}{'× validate':>12}{'wall s':>9}   target < 2×")
        print(f"{'opsplay validate':<36}{validate:>8.2f}{1.0:>12.2f}{validate_wall:>9.2f}")
        for fmt in options.formats.split(","):
            out = root / f"out-{fmt}"
            args = ["render-sop", "playbooks", "-o", str(out), "--format", fmt]
            seconds, wall = _median(args, root, options.runs, out)
            ratio = seconds / validate
            verdict = "ok" if ratio < 2 else "over"
            name = f"opsplay render-sop --format {fmt}"
            print(f"{name:<36}{seconds:>8.2f}{ratio:>12.2f}{wall:>9.2f}   {verdict}")


if __name__ == "__main__":
    main()
