"""Issue 19 (low): odd words and characters — malformed Chinese numerals are refused, terminal
escapes and bidi controls from data never reach the terminal raw."""

from __future__ import annotations

import pytest

from opsplay.model.duration import parse_duration


@pytest.mark.parametrize(
    "text", ["十十十十十天", "一一一天", "二二小时", "十一十分钟", "三百百天", "零五天"]
)
def test_malformed_chinese_numerals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a Chinese number"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("十天", 864000), ("一十天", 864000), ("二十五分钟", 1500), ("一百零五分钟", 6300),
     ("两千零一十分钟", 120600), ("一百一十天", 9504000), ("两小时", 7200), ("一个半小时", 5400)],
)  # fmt: skip
def test_well_formed_chinese_numerals_still_read(text: str, seconds: int) -> None:
    assert parse_duration(text).seconds == seconds


def _units_with(tmp_path, cell: str):
    import csv

    from tests.robustness.test_bombs import ROOT

    rows = list(csv.reader((ROOT / "examples" / "onboarding_units.csv").open(encoding="utf-8")))
    rows[2][rows[0].index("retained_d1")] = cell
    rows[1][rows[0].index("group")] = "pil\x1b[31mot\u202e"
    path = tmp_path / "units.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


RAW = ("\x1b", "\x07", "\u202e", "\u2066")


def test_terminal_escapes_and_bidi_in_csv_cells_never_reach_stderr(tmp_path) -> None:
    from typer.testing import CliRunner

    from opsplay.cli import app
    from tests.robustness.test_bombs import ONBOARDING

    export = _units_with(tmp_path, "bad\x1b]0;pwned\x07\u202e\u2066")
    runner = CliRunner()
    failed = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(export)])
    assert failed.exit_code == 2 and "\\x1b" in failed.stderr and "<U+202E>" in failed.stderr
    skipped = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), str(export), "--skip-bad-rows", "--by", "group"]
    )
    for output in (failed.stderr, skipped.stderr, skipped.stdout):
        assert not any(ch in output for ch in RAW), repr(output[-400:])


def test_sheet_names_with_bidi_are_shown_not_obeyed(tmp_path) -> None:
    import openpyxl
    from typer.testing import CliRunner

    from opsplay.cli import app
    from tests.robustness.test_bombs import ONBOARDING

    book = openpyxl.Workbook()
    book.active.title = "说明\u202e"
    book.create_sheet("数据\u2066")
    path = tmp_path / "units.xlsx"
    book.save(path)
    args = ["pilot", "compare", str(ONBOARDING), str(path), "--sheet", "nope"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "<U+202E>" in result.stderr, result.stderr
    assert not any(ch in result.stderr for ch in RAW)


def test_run_from_root_a_symlink_to_a_secret_is_not_followed(tmp_path) -> None:
    """The trust boundary is the project (its .opsplay.toml, pyproject.toml or .git), never the
    working directory `/`, where "inside the cwd" would be everywhere."""
    import subprocess
    import sys

    secret = tmp_path / "elsewhere" / "token.txt"
    secret.parent.mkdir()
    secret.write_text("sk-live-0123456789abcdef\n", "utf-8")
    folder = tmp_path / "checkout" / "playbooks"
    folder.mkdir(parents=True)
    (folder / "leak.yaml").symlink_to(secret)
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", "validate", str(folder)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "sk-live" not in result.stdout + result.stderr
    assert "OPS010" in result.stdout + result.stderr and "symlink" in result.stdout + result.stderr
