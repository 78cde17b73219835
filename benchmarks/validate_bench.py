"""Benchmarks for `opsplay validate` (issue 2's performance targets; not run by the tests).

(a) start-up: `opsplay validate one.yaml`, whole process, against
    `python -c "import pydantic, yaml"` (median of N runs; target: at most 4x).
(b) throughput: 1,000 generated playbooks in one `opsplay validate` run against
    `check-jsonschema --schemafile <opsplay schema>` on the same files (target: opsplay no slower).

Usage: python benchmarks/validate_bench.py [--runs 15] [--files 1000] [--big-runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "playbooks" / "new-user-onboarding.yaml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> list[str]:
    """The console script next to this interpreter, else `python -m`."""
    script = BIN / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    if found:
        return [found]
    return [sys.executable, "-m", name.replace("-", "_")]


def _time(command: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in expect:
        raise SystemExit(
            f"{' '.join(command[:3])}… exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return elapsed


def _median(command: list[str], cwd: Path, runs: int) -> float:
    _time(command, cwd)  # warm the OS file cache and .pyc files
    return statistics.median(_time(command, cwd) for _ in range(runs))


def _playbook(index: int, text: str) -> str:
    """A distinct, valid playbook: its own id and title."""
    return text.replace("id: new-user-onboarding", f"id: bench-{index:04d}", 1).replace(
        "title: 新用户引导优化", f"title: 新用户引导优化 {index}", 1
    )


def _cpu(command: list[str], cwd: Path, runs: int) -> float:
    """Median CPU time (user + system) of a command: steadier than wall time on a busy machine."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def startup(workdir: Path, runs: int) -> float:
    """Print and return opsplay's worst start-up ratio (English and Chinese messages)."""
    one = workdir / "one"
    one.mkdir()
    shutil.copyfile(TEMPLATE, one / "one.yaml")
    peer = [sys.executable, "-c", "import pydantic, yaml"]
    baseline, baseline_cpu = _median(peer, one, runs), _cpu(peer, one, runs)
    print("(a) start-up, median of", runs, "runs: wall time, CPU time")
    print(
        f"    python -c 'import pydantic, yaml'      {baseline * 1000:7.1f} ms {baseline_cpu * 1000:7.1f} ms"
    )
    worst = 0.0
    for lang in ("en", "zh"):  # zh reads the message catalogue too
        command = [*_tool("opsplay"), "validate", "one.yaml", "--lang", lang]
        opsplay, cpu = _median(command, one, runs), _cpu(command, one, runs)
        ratio = opsplay / baseline
        worst = max(worst, ratio)
        print(
            f"    opsplay validate one.yaml --lang {lang} {opsplay * 1000:7.1f} ms {cpu * 1000:7.1f} ms"
            f"  {ratio:.2f}x wall, {cpu / baseline_cpu:.2f}x CPU"
        )
    print(f"    worst ratio {worst:.2f}x (target <= 4x): {'ok' if worst <= 4 else 'MISSED'}")
    return worst


def throughput(workdir: Path, files: int, runs: int) -> float:
    """Print and return opsplay's time relative to check-jsonschema on `files` playbooks."""
    folder = workdir / "many"
    folder.mkdir()
    text = TEMPLATE.read_text(encoding="utf-8")
    names = []
    for index in range(files):
        name = f"bench-{index:04d}.yaml"
        (folder / name).write_text(_playbook(index, text), encoding="utf-8")
        names.append(name)
    schema = workdir / "opsplay.schema.json"
    schema.write_text(
        subprocess.run(
            [*_tool("opsplay"), "schema"], capture_output=True, text=True, check=True
        ).stdout,
        encoding="utf-8",
    )
    opsplay = _median([*_tool("opsplay"), "validate", "."], folder, runs)
    checker = _median(
        [*_tool("check-jsonschema"), "--schemafile", str(schema), *names], folder, runs
    )
    ratio = opsplay / checker
    print(f"(b) {files} playbooks in one run, median of {runs} runs")
    print(f"    check-jsonschema (structure only)  {checker:8.2f} s")
    print(f"    opsplay validate (everything)      {opsplay:8.2f} s")
    print(f"    ratio {ratio:.2f}x (target <= 1x): {'ok' if ratio <= 1 else 'MISSED'}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="runs for the start-up median")
    parser.add_argument("--files", type=int, default=1000, help="playbooks for the throughput run")
    parser.add_argument("--big-runs", type=int, default=3, help="runs for the throughput median")
    args = parser.parse_args()
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    with tempfile.TemporaryDirectory(prefix="opsplay-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / ".git").mkdir()  # a project root of its own: no outer configuration
        startup(workdir, args.runs)
        throughput(workdir, args.files, args.big_runs)


if __name__ == "__main__":
    main()
