"""Issue 19: inputs small on disk that would take minutes and gigabytes — each is refused or
bounded, in words, before the expensive part starts."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.readers import excel

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
runner = CliRunner()
ROW = (
    '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>u{r}</t></is></c>'
    '<c r="B{r}" t="inlineStr"><is><t>pilot</t></is></c><c r="C{r}"><v>1</v></c></row>'
)


def zip_bomb(path: Path, megabytes: int) -> Path:
    """A workbook whose first sheet's XML unpacks to `megabytes` MB (openpyxl's workbook with
    its sheet1.xml replaced by many rows)."""
    book = openpyxl.Workbook()
    book.active.append(["user_id", "group", "retained_d1"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, data)
                continue
            head = data.decode().partition("<sheetData>")[0]
            with out.open(item.filename, "w", force_zip64=True) as member:
                member.write((head + "<sheetData>").encode())
                written, row = 0, 1
                while written < megabytes * 2**20:
                    text = "".join(ROW.format(r=row + i) for i in range(1000))
                    member.write(text.encode())
                    written, row = written + len(text), row + 1000
                member.write(b"</sheetData></worksheet>")
    return path


def test_an_excel_zip_bomb_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 2 * 2**20)
    excel._sheet.cache_clear()
    bomb = zip_bomb(tmp_path / "units.xlsx", 6)
    assert bomb.stat().st_size < 2**20
    started = time.monotonic()
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(bomb)])
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.output
    assert "unpacks to more than 2 MB" in result.stderr and "CSV" in result.stderr


def test_a_workbook_below_the_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 2 * 2**20)
    excel._sheet.cache_clear()
    small = zip_bomb(tmp_path / "units.xlsx", 1)
    excel._check_unpacked_size(small, "units.xlsx")  # no error


@pytest.mark.parametrize("damage", ["truncated", "not-a-zip-inside"])
def test_a_damaged_zip_is_a_readable_error(tmp_path: Path, damage: str) -> None:
    good = zip_bomb(tmp_path / "good.xlsx", 1).read_bytes()
    bad = tmp_path / "bad.xlsx"
    if damage == "truncated":
        middle = len(good) // 2
        bad.write_bytes(good[:middle] + b"\0" * 64 + good[middle + 64 :])
    else:
        bad.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


def _scheduled(tmp_path: Path, schedule: str, first: str, last: str) -> tuple[Path, Path]:
    """The daily-inspection playbook with node `prepare` due on `schedule`, and a log whose
    rows span `first`..`last`."""
    data = yaml.safe_load((ROOT / "playbooks" / "daily-inspection.yaml").read_text("utf-8"))
    prepare = next(node for node in data["nodes"] if node["id"] == "prepare")
    prepare["schedule"] = schedule
    data.get("pilot", {}).pop("period", None)  # the log's days are not clipped to a window
    playbook = tmp_path / "inspection.yaml"
    playbook.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    log = tmp_path / "events.csv"
    log.write_text(
        "case_id,node,started_at,finished_at,status\n"
        f"c1,prepare,{first}T08:30:00,{first}T08:40:00,ok\n"
        f"c2,prepare,{last}T08:30:00,{last}T08:40:00,ok\n",
        "utf-8",
    )
    return playbook, log


@pytest.mark.parametrize(
    ("schedule", "first", "last"),
    [
        ("* * * * *", "2000-01-01", "2030-12-31"),
        ("工作日 09:00", "1700-01-01", "2260-12-30"),  # the widest span a log's stamps hold
        ("每日 08:30", "1700-01-01", "2260-12-30"),
    ],
)
def test_a_schedule_over_decades_is_refused_in_words(tmp_path: Path, schedule, first, last):
    playbook, log = _scheduled(tmp_path, schedule, first, last)
    started = time.monotonic()
    result = runner.invoke(
        app,
        ["watch", str(playbook), "--events", str(log), "--state", str(tmp_path / "s.db")],
    )
    assert time.monotonic() - started < 20
    assert result.exit_code == 2, result.output
    assert "falls due more than 50,000 times" in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_a_cron_day_no_month_has_is_an_error_in_words(tmp_path: Path) -> None:
    """`0 0 30 2 *` passed validate, then watch ended in a CroniterBadDateError traceback with
    exit 1, which CI reads as an alert firing."""
    playbook, log = _scheduled(tmp_path, "0 0 30 2 *", "2024-01-01", "2024-03-31")
    result = runner.invoke(
        app,
        ["watch", str(playbook), "--events", str(log), "--state", str(tmp_path / "s.db")],
    )
    assert result.exit_code == 2, result.output
    assert "`0 0 30 2 *` never falls due" in result.stderr and "Traceback" not in result.output
    checked = runner.invoke(app, ["validate", "--lang", "zh", str(playbook)])
    assert checked.exit_code == 1 and "OPS107" in checked.output and "从不到期" in checked.output


def _big_process(path: Path, count: int) -> Path:
    """The onboarding playbook with `count` nodes, each going on to the next and to a later
    one, its fallback to any node: about three arrows per node."""
    import random

    data = yaml.safe_load(ONBOARDING.read_text("utf-8"))
    base = {k: v for k, v in data["nodes"][0].items() if k not in ("fallback", "next")}
    nodes = []
    for index in range(count):
        pick = random.Random(index)
        later = (
            {f"n{index + 1}", f"n{pick.randrange(index + 1, count)}"}
            if index < count - 1
            else set()
        )
        fallback = {"when": ["failure"], "action": "重试", "goto": f"n{pick.randrange(count)}"}
        nodes.append(
            {
                **base,
                "id": f"n{index}",
                "name": f"步骤{index}",
                "next": sorted(later),
                "fallback": fallback,
            }
        )
    data["nodes"], data["alerts"] = nodes, []
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.mark.parametrize(("count", "drawn"), [(30, True), (300, False), (1500, False)])
def test_a_flowchart_too_large_to_draw_is_its_steps_in_words(tmp_path: Path, count, drawn) -> None:
    """300 nodes took 28 s to lay out, 1,500 over a minute and 1.5 GB."""
    playbook = _big_process(tmp_path / "big.yaml", count)
    out = tmp_path / "big.html"
    started = time.monotonic()
    result = runner.invoke(app, ["render-sop", str(playbook), "-o", str(out)])
    assert time.monotonic() - started < 15
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert ('class="opsplay-flowchart"' in page or "<svg" in page) == drawn
    if not drawn:
        assert f"{count} 个步骤" in page and page.count("<li>") >= count


def test_a_calendar_limit_past_the_year_9999_is_an_error_in_words(tmp_path: Path) -> None:
    data = yaml.safe_load(ONBOARDING.read_text("utf-8"))
    feedback = next(node for node in data["nodes"] if node["id"] == "feedback")
    feedback["sla"] = "T+1"
    playbook = tmp_path / "t1.yaml"
    playbook.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    log = tmp_path / "events.csv"
    log.write_text(
        "case_id,node,started_at,finished_at,status\n"
        "c1,feedback,9999-12-31T08:30:00,9999-12-31T08:40:00,ok\n",
        "utf-8",
    )
    args = ["watch", str(playbook), "--events", str(log), "--state", str(tmp_path / "s.db")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output  # the log reader may refuse the date first
    assert "Traceback" not in result.output and result.stderr.startswith("opsplay: error:")


def test_a_deadline_past_the_year_9999_is_an_input_error() -> None:
    import datetime as dt

    from opsplay.errors import InputError
    from opsplay.model.duration import parse_duration
    from opsplay.workdays import WorkdayCalendar

    for limit in ("T+1", "3个工作日", "次日12点前"):
        with pytest.raises(InputError, match="after the year 9999"):
            parse_duration(limit).deadline(dt.datetime(9999, 12, 31, 8, 30), WorkdayCalendar())


def test_max_segments_is_checked_before_the_data_is_grouped(tmp_path: Path, monkeypatch) -> None:
    """1M distinct cities took 36 s and 2.1 GB before --max-segments refused them: the
    count now comes first, from one DISTINCT that stops at the limit."""
    from opsplay.query import units as sql

    export = tmp_path / "units.csv"
    lines = ["user_id,group,region,channel,retained_d1,ordered,used_core_feature,revenue,orders"]
    lines += [f"u{i},{'pilot' if i % 2 else 'control'},city{i},app,1,0,1,10,1" for i in range(5000)]
    export.write_text("\n".join(lines) + "\n", "utf-8")

    def never(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the data was grouped by segment before --max-segments was checked")

    monkeypatch.setattr(sql.Query, "grouped", never)
    monkeypatch.setattr(sql.Query, "grouped_typed", never)
    args = [
        "pilot",
        "compare",
        str(ONBOARDING),
        str(export),
        "--by",
        "region",
        "--max-segments",
        "100",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "5,000 segments, more than 100" in result.stderr and "--max-segments" in result.stderr
