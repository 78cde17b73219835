"""Issue 19: CI cannot pass having run nothing. `.ci/run` runs README's test lines one by one
(a failed install fails it), and with CI=true a test that skips for want of PostgreSQL,
Spark or Chromium fails."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"


def readme_test_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("**Install and run the tests**", 1)[1].split("```bash\n", 1)[1]
    return block.split("```", 1)[0].strip().splitlines()


def test_ci_runs_exactly_readmes_test_lines_one_per_line() -> None:
    lines = readme_test_lines()
    assert lines[0].startswith("python3 -m venv")  # .ci/run makes its own venv
    script = CI_RUN.read_text("utf-8").splitlines()
    start = script.index(lines[1])
    assert script[start : start + len(lines) - 1] == lines[1:]
    for line in script:
        command = line.split("#", 1)[0]
        if re.search(r"\b(pip|pytest|apt-get)\b", command):
            assert "&&" not in command and "||" not in command, line
    assert "set -euo pipefail" in script


def _fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n", "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_a_failed_install_fails_ci_and_no_test_runs(tmp_path: Path) -> None:
    """The install lines of .ci/run, with a pip that fails: the run stops there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ran = tmp_path / "pytest-ran"
    _fake(bin_dir, "pip", 'case "$*" in *gbstats*) exit 1;; esac; exit 0')
    _fake(bin_dir, "python", f'touch "{ran}"; exit 0')
    lines = readme_test_lines()[1:]
    script = "set -euo pipefail\n" + "\n".join(lines) + "\necho reached-the-end\n"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "reached-the-end" not in result.stdout
    assert not ran.exists(), "pytest must not run after a failed install"


PROBE = """
import pytest

def test_needs_chromium():
    pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")

def test_needs_spark():
    pytest.importorskip("no_such_module_pyspark", reason="pyspark is not installed")

def test_other_skip():
    pytest.skip("creating device nodes needs root")
"""


def _probe(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_in_ci_a_skip_for_want_of_a_service_fails(tmp_path: Path) -> None:
    local = _probe(tmp_path, None)
    assert local.returncode == 0 and "3 skipped" in local.stdout, local.stdout
    ci = _probe(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout
    assert "2 failed" in ci.stdout and "1 skipped" in ci.stdout, ci.stdout
    assert "CI=true: this test must run in CI" in ci.stdout


def test_hypothesis_is_derandomised_in_ci(tmp_path: Path) -> None:
    code = "import tests.conftest; from hypothesis import settings; print(settings.default.derandomize)"
    env = {**os.environ, "CI": "true"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr


def test_the_tools_that_can_flip_ci_are_pinned() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    for tool in ("pytest", "ruff", "hypothesis"):
        assert re.search(rf'"{tool}==[0-9][^"]*"', text), tool
