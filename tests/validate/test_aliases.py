"""Chinese values of enumerated fields (SPEC 6): read as the English value, listed by the
schema for editors, and no change at all to `opsplay diff`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsplay.model.aliases import CHOICES, canonical
from opsplay.schema import playbook_schema

from .conftest import Cli
from .support import CASES

CHINESE = CASES / "valid" / "zh-only-chinese-values.yaml"
ENGLISH_VALUES = {
    "status: 生效": "status: active",
    "lang: 中文": "lang: zh",
    "kind: 平均值": "kind: mean",
    "kind: 占比": "kind: proportion",
    "kind: 比值": "kind: ratio",
    "better: 越低越好": "better: lower",
    "better: 越高越好": "better: higher",
    "better: 降低": "better: lower",
    "[超时, 无响应]": "[timeout, no_response]",
    "[被拒绝, 失败]": "[rejected, failure]",
    "[拒答, 未响应, 拒绝]": "[rejected, no_response, rejected]",
    "measure: 完成率": "measure: completion_rate",
    "measure: 及时率": "measure: sla_compliance",
    "measure: 时限达标率": "measure: sla_compliance",
    "measure: 失败率": "measure: failure_rate",
    "measure: 兜底率": "measure: fallback_rate",
    "measure: 耗时中位数": "measure: p50_s",
    "measure: 耗时P95": "measure: p95_s",
    "severity: 严重": "severity: critical",
    "severity: 警告": "severity: warning",
    "severity: 紧急": "severity: critical",
    "severity: 提示": "severity: info",
    "design: 前后对比": "design: before_after",
}


# The measures that came with event timeouts and schedules, in Chinese.
NEW_MEASURES = (
    '  - {id: 打款超时率, node: 打款, measure: 超时率, op: ">", threshold: 0.05}\n'
    '  - {id: 受理按时, node: 受理, measure: 按时执行率, op: "<", threshold: 0.9}\n'
)


def _english_twin(folder: Path) -> Path:
    text = CHINESE.read_text(encoding="utf-8")
    for chinese, english in ENGLISH_VALUES.items():
        assert chinese in text, chinese
        text = text.replace(chinese, english)
    path = folder / "english.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_alias_is_stored_as_its_english_value() -> None:
    for field, table in CHOICES.items():
        for english, aliases in table.items():
            assert all(canonical(field, alias) == english for alias in aliases)
    data = {"metadata": {"status": "废弃"}}
    from opsplay.loader import load_file
    from opsplay.schema_check import check_schema

    text = CHINESE.read_text(encoding="utf-8").replace(
        "\npilot:", "\n" + NEW_MEASURES + "pilot:", 1
    )
    loaded = load_file(text.encode("utf-8"), "zh.yaml")
    playbook = check_schema(loaded)
    assert playbook is not None, loaded.diagnostics
    assert playbook.metadata.status == "active" and playbook.metadata.lang == "zh"
    assert [m.kind for m in playbook.metrics] == ["mean", "proportion", "ratio"]
    assert playbook.nodes[0].fallback is not None
    assert playbook.nodes[0].fallback.when == ["timeout", "no_response"]
    assert playbook.pilot is not None and playbook.pilot.design == "before_after"
    assert {a.measure for a in playbook.alerts if a.measure} == set(CHOICES["measure"])
    assert data["metadata"]["status"] == "废弃"  # the raw data is not rewritten


@pytest.mark.parametrize("design", ["A/B测试", "AB测试", "随机对照", "双重差分"])
def test_pilot_designs_in_chinese(design: str) -> None:
    from opsplay.loader import load_file
    from opsplay.schema_check import check_schema

    text = CHINESE.read_text(encoding="utf-8").replace("design: 前后对比", f"design: {design}")
    playbook = check_schema(load_file(text.encode(), "x.yaml"))
    assert playbook is not None and playbook.pilot is not None
    assert playbook.pilot.design == ("did" if design == "双重差分" else "ab")


def test_the_schema_lists_english_and_chinese_words() -> None:
    schema = playbook_schema()
    definitions = schema["definitions"]
    assert definitions["Metadata"]["properties"]["status"]["enum"][:5] == list(CHOICES["status"])
    assert "试点" in definitions["Metadata"]["properties"]["status"]["enum"]
    assert "越高越好" in definitions["ProportionMetric"]["properties"]["better"]["enum"]
    assert definitions["MeanMetric"]["properties"]["kind"]["enum"] == ["mean", "均值", "平均值"]
    measure = definitions["Alert"]["properties"]["measure"]["anyOf"][0]["enum"]
    assert {"timeout_rate", "schedule_adherence", "超时率", "按时执行率"} <= set(measure)
    assert "双重差分" in definitions["Pilot"]["properties"]["design"]["enum"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_editors_accept_the_chinese_playbook_by_the_schema(tmp_path: Path, lang: str) -> None:
    """check-jsonschema: the schema passes the draft-07 metaschema and accepts the playbook."""
    import yaml

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(playbook_schema(lang), ensure_ascii=False), encoding="utf-8")
    document = tmp_path / "zh.json"
    data = yaml.safe_load(CHINESE.read_text(encoding="utf-8"))
    document.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    for args in (["--check-metaschema", str(schema)], ["--schemafile", str(schema), str(document)]):
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_an_alias_change_is_no_change_to_diff(cli: Cli, project: Path) -> None:
    english = _english_twin(project)
    checked = cli("validate", "--strict", str(english), str(CHINESE), "--format", "json")
    assert checked.exit_code == 1, checked.output  # --strict: the warning fails the run
    # the twin is clean English; the only finding is the metadata.id the two share
    assert [d["rule"] for d in json.loads(checked.stdout)["diagnostics"]] == ["OPS206"]
    result = cli("diff", str(CHINESE), str(english), "--exit-code")
    assert result.exit_code == 0, result.output


def test_the_chinese_playbook_is_clean_under_strict(cli: Cli, project: Path) -> None:
    # 按时执行率 watches a recurring node (OPS215): 受理 runs on a schedule here
    text = (
        CHINESE.read_text(encoding="utf-8")
        .replace("\npilot:", "\n" + NEW_MEASURES + "pilot:", 1)
        .replace(
            "    name: 受理退款申请\n", "    name: 受理退款申请\n    schedule: 工作日 09:00\n", 1
        )
    )
    (project / "zh.yaml").write_text(text, encoding="utf-8")
    for path in (str(CHINESE), "zh.yaml"):
        result = cli("validate", "--strict", path, "--format", "json")
        assert result.exit_code == 0, result.stdout
        assert json.loads(result.stdout)["diagnostics"] == []


def test_the_schema_describes_each_field_in_the_message_language(cli: Cli) -> None:
    """Editors show the descriptions on hover: `opsplay schema` writes them in Chinese for a
    Chinese team (from the one catalogue), in English otherwise."""
    from opsplay.schema import descriptions

    chinese = json.loads(cli("schema", "--lang", "zh").stdout)
    english = json.loads(cli("schema", "--lang", "en").stdout)
    texts_zh = [h["description"] for h in descriptions(chinese)]
    texts_en = [h["description"] for h in descriptions(english)]
    assert len(texts_zh) == len(texts_en) > 100
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in texts_zh), [
        t for t in texts_zh if not re.search(r"[\u4e00-\u9fff]", t)
    ]
    assert "第一步：SMART 目标。" in texts_zh and "Step 1: the SMART goal." in texts_en
    for holder in descriptions(chinese):  # only the words differ
        holder.pop("description")
    for holder in descriptions(english):
        holder.pop("description")
    assert chinese == english


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("试点中", "did you mean `试点`?"),
        ("进行中", "write one of: draft (草稿), pilot (试点), rollout (推广)"),
    ],
)
def test_a_wrong_chinese_status_is_answered_with_the_chinese_words(
    cli: Cli, tmp_path: Path, written: str, hint: str
) -> None:
    text = CHINESE.read_text(encoding="utf-8")
    playbook = tmp_path / "status.yaml"
    playbook.write_text(re.sub(r"status: \S+", f"status: {written}", text, count=1), "utf-8")
    result = cli("validate", str(playbook), "--lang", "en")
    assert result.exit_code == 1 and "OPS104" in result.stdout and hint in result.stdout
