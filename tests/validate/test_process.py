"""Real processes: `python -m opsplay`, the console script, and the light import path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .support import PLAYBOOKS, copy_case

HEAVY = ("pandas", "numpy", "scipy", "jinja2", "pyarrow")
SCRIPT = Path(sys.executable).parent / ("opsplay.exe" if os.name == "nt" else "opsplay")


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        args, cwd=cwd, env=environment, capture_output=True, text=True, encoding="utf-8", timeout=60
    )


def test_python_dash_m_runs_validate(tmp_path: Path) -> None:
    copy_case("unknown-owner.yaml", tmp_path)
    result = _run([sys.executable, "-m", "opsplay", "validate", "unknown-owner.yaml"], tmp_path)
    assert result.returncode == 1
    assert "unknown-owner.yaml:9:10: error OPS201" in result.stdout
    assert result.stderr == ""


def test_console_script_with_c_locale_prints_chinese(tmp_path: Path) -> None:
    """Chinese messages and source lines survive a plain C locale (CI containers)."""
    if not SCRIPT.exists():
        pytest.skip("console script not installed next to this interpreter")
    copy_case("unknown-keys.yaml", tmp_path)
    result = _run([str(SCRIPT), "validate", "unknown-keys.yaml"], tmp_path, LC_ALL="C", LANG="C")
    assert result.returncode == 1
    assert "desc: 引导" in result.stdout
    assert "Traceback" not in result.stderr


def test_usage_error_goes_to_stderr_with_exit_2(tmp_path: Path) -> None:
    result = _run([sys.executable, "-m", "opsplay", "validate", "missing.yaml"], tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "opsplay: error: missing.yaml: no such file or folder\n"


def test_import_cli_stays_light(tmp_path: Path) -> None:
    code = f"import sys, opsplay.cli; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = _run([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", (
        "importing opsplay.cli loaded heavy modules; import them inside command bodies "
        "(check `python -X importtime -c 'import opsplay.cli'` for who imports them)"
    )


def test_validate_run_stays_light(tmp_path: Path) -> None:
    playbook = str(PLAYBOOKS / "new-user-onboarding.yaml")
    code = (
        "import atexit, json, runpy, sys\n"
        f"heavy = {HEAVY!r}\n"
        "loaded = lambda: sorted(m for m in heavy if m in sys.modules)\n"
        "report = lambda: print(json.dumps(loaded()), file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"sys.argv = ['opsplay', 'validate', {playbook!r}]\n"
        "runpy.run_module('opsplay', run_name='__main__')\n"
    )
    result = _run([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []


def test_validate_never_imports_the_plugin_search(tmp_path: Path) -> None:
    """pydantic's plugin loader imports importlib.metadata (7 % of the start-up, issue 22):
    while opsplay switches plugins off, it is not imported; after `import opsplay.cli` the
    switch and the stand-in loader are gone, so a later model of the caller's finds plugins."""
    playbook = str(PLAYBOOKS / "new-user-onboarding.yaml")
    code = (
        "import atexit, os, runpy, sys\n"
        "atexit.register(lambda: print('importlib.metadata' in sys.modules, file=sys.stderr))\n"
        f"sys.argv = ['opsplay', 'validate', {playbook!r}]\n"
        "runpy.run_module('opsplay', run_name='__main__')\n"
    )
    result = _run([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == "False"
    after_import = (
        "import os, sys, opsplay.cli\n"
        "from pydantic.plugin import _loader\n"
        "print(os.environ.get('PYDANTIC_DISABLE_PLUGINS'), hasattr(_loader, 'entry_points'))\n"
    )
    result = _run([sys.executable, "-c", after_import], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "True"]  # the real loader, plugins not switched off
