"""Benchmarks for `opsplay validate` (issue 2's performance targets; not run by the tests).

(a) start-up: `opsplay validate one.yaml` (as `python -m opsplay`, the interpreter running this
    script), whole process, against `python -c "import pydantic, yaml"` (median of N runs,
    interleaved; target (issue 22): at most 3.0x; pre-commit runs it on every commit).
(b) throughput: 1,000 generated playbooks in one `opsplay validate` run against
    `check-jsonschema --schemafile <opsplay schema>` on the same files (target: opsplay no slower).

Usage: python benchmarks/validate_bench.py [--runs 21] [--files 1000] [--big-runs 3]
"""

from __future__ import annotations

import argparse
import os
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


def _run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process's own) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime


def startup(workdir: Path, runs: int) -> tuple[float, float]:
    """Print and return opsplay's worst start-up ratio, wall and CPU (English and Chinese).

    The three commands run in turn, round after round, so that they share the machine's load;
    each round's ratio pairs a run with the peer's run of the same round (a busy moment slows
    both), and the median of those ratios is reported, for wall and for CPU time (user + system,
    which a busy machine disturbs less)."""
    one = workdir / "one"
    one.mkdir(exist_ok=True)
    shutil.copyfile(TEMPLATE, one / "one.yaml")
    opsplay = [sys.executable, "-m", "opsplay", "validate", "one.yaml", "--lang"]
    commands = {
        "python -c 'import pydantic, yaml'": [sys.executable, "-c", "import pydantic, yaml"],
        "opsplay validate one.yaml --lang en": [*opsplay, "en"],
        "opsplay validate one.yaml --lang zh": [*opsplay, "zh"],  # reads the catalogue too
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for command in commands.values():  # warm the OS file cache and .pyc files
        _run(command, one)
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_run(command, one))
    peer = next(iter(commands))
    print(f"(a) start-up, {runs} interleaved rounds: median wall and CPU time; ratio: median of")
    print("    the rounds' ratios to the peer's run in the same round")
    worst = (0.0, 0.0)
    for name, done in times.items():
        wall = statistics.median(t for t, _c in done)
        cpu = statistics.median(c for _t, c in done)
        line = f"    {name:37} {wall * 1000:7.1f} ms {cpu * 1000:7.1f} ms"
        if name != peer:
            ratios = [(t / tp, c / cp) for (t, c), (tp, cp) in zip(done, times[peer], strict=True)]
            ratio = (
                statistics.median(r for r, _c in ratios),
                statistics.median(c for _r, c in ratios),
            )
            worst = max(worst, ratio)
            line += f"  {ratio[0]:.2f}x wall, {ratio[1]:.2f}x CPU"
        print(line)
    verdict = "ok" if worst[0] <= 3.0 else "MISSED"
    print(f"    worst ratio {worst[0]:.2f}x wall, {worst[1]:.2f}x CPU (target <= 3.0x): {verdict}")
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
            [sys.executable, "-m", "opsplay", "schema"], capture_output=True, text=True, check=True
        ).stdout,
        encoding="utf-8",
    )
    opsplay = _median([sys.executable, "-m", "opsplay", "validate", "."], folder, runs)
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
    parser.add_argument("--runs", type=int, default=21, help="runs for the start-up median")
    parser.add_argument(
        "--files", type=int, default=1000, help="playbooks for the throughput run (0: none)"
    )
    parser.add_argument("--big-runs", type=int, default=3, help="runs for the throughput median")
    args = parser.parse_args()
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    with tempfile.TemporaryDirectory(prefix="opsplay-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / ".git").mkdir()  # a project root of its own: no outer configuration
        startup(workdir, args.runs)
        if args.files:
            throughput(workdir, args.files, args.big_runs)


if __name__ == "__main__":
    main()
