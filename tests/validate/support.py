"""Where the validate tests find their data, and small helpers shared by them."""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
CASES = TESTS / "cases"
DATA = HERE / "data"
REPO = TESTS.parent
PLAYBOOKS = REPO / "playbooks"


def copy_case(name: str, folder: Path, kind: str = "invalid", as_name: str | None = None) -> Path:
    """Copy tests/cases/<kind>/<name> into `folder`; return the copy."""
    target = folder / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CASES / kind / name, target)
    return target
