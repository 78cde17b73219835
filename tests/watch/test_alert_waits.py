"""Alerts that wait for evidence (issue 18, SPEC 11 "Repeated looks"): `for: N` fires only
after N consecutive `watch` runs with the condition, counted in a real SQLite state file and
told to a real local HTTP robot; one run without it resolves; `min_n` says "not enough data"
and neither fires nor passes. Only the clock is replaced."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from tests.watch.conftest import EXAMPLES, NOW, ONBOARDING, RobotServer, write_events

runner = CliRunner()


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> list:
    """A clock that moves a day per run (each `now()` call after the first of a run)."""
    from opsplay.watch import clock

    moments = [NOW]
    monkeypatch.setattr(clock, "now", lambda: moments[-1])
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)
    return moments


def _with_alert(scene: dict[str, Path], **fields: object) -> Path:
    data = yaml.safe_load(scene["playbook"].read_text(encoding="utf-8"))
    data["alerts"][0].update(fields)
    scene["playbook"].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return scene["playbook"]


def _export(scene: dict[str, Path], log: str, day: int) -> Path:
    """The day's export of the `log` kind: the same figures, new rows (a new fingerprint)."""
    ok, failed = {"firing": (80, 20), "healthy": (95, 5)}[log]
    return write_events(scene["state"].parent / f"{log}-{day}.csv", ok, failed, prefix=f"d{day}-")


def _run(
    scene: dict[str, Path],
    log: str,
    moments: list,
    *urls: str,
    fmt: str = "text",
    same: bool = False,  # the same export as the last run (else the next day's)
):
    moments.append(moments[-1] + timedelta(days=1))
    exports = scene.setdefault("exports", [])  # type: ignore[arg-type]
    if not same:
        exports.append(len(moments))  # type: ignore[attr-defined]
    day = exports[-1]  # type: ignore[index]
    args = ["watch", str(scene["playbook"]), "--events", str(_export(scene, log, day))]
    for url in urls:
        args += ["--notify", url]
    return runner.invoke(app, [*args, "--state", str(scene["state"]), "--format", fmt])


def _stored(scene: dict[str, Path]) -> tuple[int, int]:
    with sqlite3.connect(scene["state"]) as db:
        return db.execute("SELECT firing, held FROM alert_state").fetchone()


def test_for_fires_on_the_third_consecutive_run_and_resolves_on_one(
    scene, robot: RobotServer, ticking
) -> None:
    _with_alert(scene, **{"for": 3})
    url = robot.url("dingtalk")
    for held in (1, 2):
        result = _run(scene, "firing", ticking, url)
        assert result.exit_code == 0, result.output  # pending is not firing
        assert robot.received == []
        assert f"待触发（已连续 {held}/3 次）" in result.output, result.output
        assert "连续 3 次运行都满足条件才触发" in result.output and "`for`" not in result.output
        assert _stored(scene) == (0, held)
    third = _run(scene, "firing", ticking, url)
    assert third.exit_code == 1, third.output
    assert len(robot.received) == 1 and "push-completion" in json.dumps(
        robot.received[0].body, ensure_ascii=False
    )
    assert _stored(scene) == (1, 3)
    told = json.dumps(robot.received[0].body, ensure_ascii=False)
    assert "条件已连续 3 次运行成立（连续 3 次运行都满足条件才触发）" in told
    assert "for" not in told and "ˋ" not in told  # in words: no key, no look-alike backticks
    fourth = _run(scene, "firing", ticking, url, fmt="json")
    assert fourth.exit_code == 1 and len(robot.received) == 1  # still firing: told once
    alert = json.loads(fourth.stdout)["alerts"][0]
    assert (alert["status"], alert["fired"], alert["held"], alert["for"]) == ("fired", True, 4, 3)
    healthy = _run(scene, "healthy", ticking, url)
    assert healthy.exit_code == 0, healthy.output
    assert len(robot.received) == 2  # one run without the condition resolves it
    assert _stored(scene) == (0, 0)
    again = _run(scene, "firing", ticking, url)
    assert again.exit_code == 0 and len(robot.received) == 2  # the count starts over
    assert _stored(scene) == (0, 1)


def test_the_same_export_looked_at_again_is_not_another_run(
    scene, robot: RobotServer, ticking
) -> None:
    """Cron every 10 minutes on a daily export: the same data again neither advances the
    count nor restarts it, and the run says so (issue 18's false alarm on A/A data)."""
    _with_alert(scene, **{"for": 3})
    url = robot.url("dingtalk")
    first = _run(scene, "firing", ticking, url)
    assert first.exit_code == 0 and _stored(scene) == (0, 1), first.output
    for _again in range(3):  # the same day's export: three more runs, no new evidence
        same = _run(scene, "firing", ticking, url, same=True)
        assert same.exit_code == 0, same.output
        assert "数据与上次相同，不计入 for（仍为已连续 1/3 次）" in same.output, same.output
        assert _stored(scene) == (0, 1)
    assert robot.received == []
    looked = _run(scene, "firing", ticking, url, same=True, fmt="json")
    alert = json.loads(looked.stdout)["alerts"][0]
    assert (alert["status"], alert["fired"], alert["held"]) == ("pending", False, 1)
    assert alert["counted"] is False
    assert _run(scene, "firing", ticking, url).exit_code == 0  # the next day's export
    assert _stored(scene) == (0, 2)
    assert _run(scene, "firing", ticking, url, same=True).exit_code == 0
    assert _stored(scene) == (0, 2)  # not restarted either
    third = _run(scene, "firing", ticking, url)
    assert third.exit_code == 1 and len(robot.received) == 1, third.output
    kept = _run(scene, "firing", ticking, url, same=True)
    assert kept.exit_code == 1 and len(robot.received) == 1  # still firing, told once
    assert _stored(scene) == (1, 3)


def test_an_edited_alert_on_the_same_export_is_judged_again(scene, robot, ticking) -> None:
    """The look is the data and the alert's definition: a changed threshold counts."""
    _with_alert(scene, **{"for": 2})
    assert _run(scene, "firing", ticking).exit_code == 0
    _with_alert(scene, threshold=0.85)
    assert _run(scene, "firing", ticking, same=True).exit_code == 1
    assert _stored(scene) == (1, 2)


def test_a_run_without_the_condition_restarts_the_count(scene, robot: RobotServer, ticking):
    _with_alert(scene, **{"for": 2})
    url = robot.url("wecom")
    for log in ("firing", "healthy", "firing", "healthy", "firing"):
        assert _run(scene, log, ticking, url).exit_code == 0
    assert robot.received == []
    assert _run(scene, "firing", ticking, url).exit_code == 1
    assert len(robot.received) == 1


def test_below_min_n_is_not_enough_data_never_fired_never_passed(
    scene, robot: RobotServer, ticking
) -> None:
    _with_alert(scene, min_n=150)  # the logs hold 100 rows of the node
    url = robot.url("wecom")
    result = _run(scene, "firing", ticking, url, fmt="json")
    assert result.exit_code == 0, result.output
    alert = json.loads(result.stdout)["alerts"][0]
    assert (alert["status"], alert["fired"], alert["n"], alert["min_n"]) == (
        "not_enough_data",
        False,
        100,
        150,
    )
    assert robot.received == []
    text = _run(scene, "healthy", ticking, url)
    assert "数据不足" in text.output and "150" in text.output, text.output
    _with_alert(scene, min_n=100)  # enough now: judged as any alert
    assert _run(scene, "firing", ticking, url).exit_code == 1
    assert len(robot.received) == 1
    _with_alert(scene, min_n=150)  # too little again: the firing alert is kept, not resolved
    kept = _run(scene, "healthy", ticking, url)
    assert kept.exit_code == 1 and len(robot.received) == 1, kept.output


def test_a_state_file_of_the_first_format_gains_the_count(scene, robot, ticking) -> None:
    """A state file written before `for:` (no `held` column) is used, and counts from then on."""
    with sqlite3.connect(scene["state"]) as db:
        db.executescript(
            """
            CREATE TABLE alert_state (playbook TEXT NOT NULL, alert TEXT NOT NULL,
                firing INTEGER NOT NULL, value REAL, changed TEXT NOT NULL,
                checked TEXT NOT NULL, PRIMARY KEY (playbook, alert));
            CREATE TABLE outbox (id INTEGER PRIMARY KEY, target TEXT NOT NULL,
                shown TEXT NOT NULL, kind TEXT NOT NULL, playbook TEXT NOT NULL,
                alert TEXT NOT NULL, event TEXT NOT NULL, message TEXT NOT NULL,
                created TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                claim TEXT, claimed_until REAL, delivered TEXT);
            CREATE INDEX outbox_pending ON outbox (target, delivered);
            CREATE TABLE runs (id INTEGER PRIMARY KEY, playbook TEXT NOT NULL,
                version TEXT NOT NULL, fingerprint TEXT NOT NULL, recorded TEXT NOT NULL,
                command TEXT NOT NULL, result TEXT NOT NULL);
            CREATE INDEX runs_playbook ON runs (playbook, id);
            PRAGMA user_version = 1;
            """
        )
    _with_alert(scene, **{"for": 2})
    assert _run(scene, "firing", ticking).exit_code == 0
    assert _stored(scene) == (0, 1)
    assert _run(scene, "firing", ticking).exit_code == 1


# --- one look: pilot compare --fail-on alert -------------------------------------------------


def _metric_alert(tmp_path: Path, **fields: object) -> Path:
    data = yaml.safe_load(ONBOARDING.read_text(encoding="utf-8"))
    data["alerts"] = [
        {"id": "retention-high", "metric": "d1_retention", "op": ">", "threshold": 0.3, **fields}
    ]
    path = tmp_path / "onboarding.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _compare(playbook: Path, *extra: str):
    units = str(EXAMPLES / "onboarding_units.csv")
    return runner.invoke(
        app, ["pilot", "compare", str(playbook), units, "--fail-on", "alert", *extra]
    )


def test_one_look_is_pending_for_n_above_one(tmp_path: Path) -> None:
    fires = _compare(_metric_alert(tmp_path))
    assert fires.exit_code == 1, fires.output
    pending = _compare(_metric_alert(tmp_path, **{"for": 3}), "--format", "json")
    assert pending.exit_code == 0, pending.output
    alert = json.loads(pending.stdout)["alerts"][0]
    assert (alert["status"], alert["fired"], alert["held"], alert["for"]) == (
        "pending",
        False,
        1,
        3,
    )
    words = _compare(_metric_alert(tmp_path, **{"for": 3}), "--lang", "en")
    assert "1/3" in words.output and "watch" in words.output, words.output
    zh = _compare(_metric_alert(tmp_path, **{"for": 3}), "--lang", "zh").output
    assert "待触发（已连续 1/3 次）：" in zh and "`for`" not in zh, zh
    assert _compare(_metric_alert(tmp_path, **{"for": 1})).exit_code == 1


def test_one_look_below_min_n_is_not_enough_data(tmp_path: Path) -> None:
    result = _compare(_metric_alert(tmp_path, min_n=6000), "--format", "json")
    assert result.exit_code == 0, result.output
    alert = json.loads(result.stdout)["alerts"][0]
    assert alert["status"] == "not_enough_data" and alert["n"] < 6000 and not alert["fired"]
    words = _compare(_metric_alert(tmp_path, min_n=6000), "--lang", "zh")
    assert "数据不足" in words.output, words.output
    assert _compare(_metric_alert(tmp_path, min_n=100)).exit_code == 1


def test_not_enough_data_states_the_condition_not_a_fact(tmp_path: Path) -> None:
    """次日留存率 is below 90%: the line must not say it is above 90% (issue 18 try-out)."""
    playbook = _metric_alert(tmp_path, threshold=0.9, min_n=6000)
    words = _compare(playbook, "--lang", "zh").output
    line = next(line for line in words.splitlines() if "数据不足" in line)
    assert "的告警条件为高于 90.0%（当前 " in line, line
    assert "% 高于 90.0%" not in line, line
    assert "仅基于试点组 " in line and " 个样本，少于其 min_n 6000" in line, line
    assert "行或单位" not in words
    english = _compare(playbook, "--lang", "en").output
    assert "the alert condition is above 90.0% (now " in english, english
    assert "units of the pilot group" in english, english


def test_watch_not_enough_data_names_the_rows_of_a_node(scene, robot, ticking) -> None:
    _with_alert(scene, min_n=150)
    text = _run(scene, "firing", ticking).output
    assert "数据不足：push-completion的告警条件为低于 90.0%（当前 80.0%）" in text, text
    assert "仅基于本节点 100 条执行记录，少于其 min_n 150" in text, text
