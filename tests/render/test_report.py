"""Review reports: the verdict rule, the comparison input, and the offline chart."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from opsplay.errors import InputError
from opsplay.model.playbook import Playbook
from opsplay.render.report import decide, load_comparison, render_report, report_context


def _row(
    metric: str, verdict: str, role: str = "primary", target: float | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "metric": metric,
        "role": role,
        "verdict": verdict,
        "target": target,
        "segment": {},
        "baseline": {"n": 1000, "value": 0.3},
        "pilot": {"n": 1000, "value": 0.33},
        **extra,
    }


@pytest.mark.parametrize(
    ("rows", "srm", "critical", "expected"),
    [
        # every primary met (or improved without a target), guardrails fine → promote
        (
            [
                _row("a", "met", target=0.3),
                _row("b", "improved"),
                _row("g", "no_change", "guardrail"),
            ],
            None,
            [],
            ("met", "promote"),
        ),
        # met but a guardrail got worse → iterate
        (
            [_row("a", "met", target=0.3), _row("g", "worse", "guardrail")],
            None,
            [],
            ("met", "iterate"),
        ),
        # met but a critical alert fired → iterate
        ([_row("a", "met", target=0.3)], None, ["push-completion"], ("met", "iterate")),
        # improved short of the target → partly met, iterate
        (
            [_row("a", "improved", target=0.5), _row("b", "no_change")],
            None,
            [],
            ("partly", "iterate"),
        ),
        # one primary improved, another got worse → partly met, stop
        ([_row("a", "improved"), _row("b", "worse")], None, [], ("partly", "stop")),
        # nothing moved → not met, iterate
        ([_row("a", "no_change"), _row("b", "inconclusive")], None, [], ("not_met", "iterate")),
        # nothing moved and a guardrail got worse → stop
        ([_row("a", "no_change"), _row("g", "worse", "guardrail")], None, [], ("not_met", "stop")),
        # every primary inconclusive → not enough data, iterate
        (
            [_row("a", "inconclusive"), _row("g", "worse", "guardrail")],
            None,
            [],
            ("insufficient", "iterate"),
        ),
        # no primary row at all
        ([_row("g", "no_change", "guardrail")], None, [], ("insufficient", "iterate")),
        # sample ratio mismatch: even a met pilot cannot be trusted, and the fault is the
        # assignment, not the process (the try-out read "iterate" as "change the process")
        (
            [_row("a", "met", target=0.3)],
            {"p_value": 1e-6, "ok": False},
            [],
            ("insufficient", "check_assignment"),
        ),
        # segment rows never decide
        (
            [_row("a", "met", target=0.3), _row("a", "worse", segment={"region": "华东"})],
            None,
            [],
            ("met", "promote"),
        ),
    ],
)
def test_verdict_rule(
    rows: list[dict[str, Any]], srm: Any, critical: list[str], expected: tuple[str, str]
) -> None:
    decision = decide({"design": "ab", "metrics": rows, "srm": srm}, critical)
    assert (decision.conclusion, decision.next_step) == expected


def test_reasons_name_the_metrics() -> None:
    decision = decide(
        {"metrics": [_row("a", "improved", target=0.5), _row("g", "worse", "guardrail")]}, ["x"]
    )
    assert decision.reasons == (
        ("primary_improved", {"metrics": ["a"]}),
        ("guardrail_worse", {"metrics": ["g"]}),
        ("critical_alerts", {"alerts": ["x"]}),
    )


def test_a_primary_without_a_target_is_not_said_to_meet_one() -> None:
    decision = decide({"metrics": [_row("aov", "improved"), _row("cr", "met", target=0.3)]})
    assert decision.conclusion == "met"
    assert decision.reasons == (
        ("primary_achieved", {"metrics": ["cr"]}),
        ("primary_improved_no_target", {"metrics": ["aov"]}),
    )


def test_before_after_is_labelled_not_causal() -> None:
    decision = decide({"design": "before_after", "metrics": [_row("a", "met", target=0.3)]})
    assert ("not_causal", {}) in decision.reasons


def test_report_states_the_rule_it_applied(
    onboarding: Playbook, onboarding_comparison: dict[str, Any]
) -> None:
    text = render_report(onboarding, onboarding_comparison, lang="en")
    assert "Conclusion: partly met; next step: iterate and pilot again." in text
    assert "## How each figure was computed" in text
    assert "Promote: met, no guardrail significantly worse and no critical alert fired." in text


def test_comparison_for_another_playbook_is_refused(
    onboarding: Playbook, onboarding_comparison: dict[str, Any]
) -> None:
    other = {**onboarding_comparison, "playbook": {"id": "member-recall", "version": "1.1.0"}}
    with pytest.raises(InputError, match="for playbook `member-recall`"):
        render_report(onboarding, other)


def test_unknown_metric_is_refused(
    onboarding: Playbook, onboarding_comparison: dict[str, Any]
) -> None:
    broken = copy.deepcopy(onboarding_comparison)
    broken["metrics"][0]["metric"] = "nps"
    with pytest.raises(InputError, match="metric `nps`"):
        render_report(onboarding, broken)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected the output of `opsplay pilot compare --format json`"),
        ({"metrics": "x"}, "`metrics` must be a list"),
        ({"metrics": [{"metric": "d1_retention"}]}, "metrics[0] lacks baseline, pilot"),
        ({"metrics": [], "alerts": {}}, "`alerts` must be a list"),
        (
            {"metrics": [{"metric": "a", "baseline": {}, "pilot": {}, "verdict": "great"}]},
            "verdict `great`",
        ),
        ({"metrics": [], "design": "rct"}, "design `rct` is not one of ab, before_after, did"),
        (
            {"metrics": [{"metric": "a", "baseline": {}, "pilot": {}, "role": "main"}]},
            "role `main`",
        ),
    ],
)
def test_malformed_comparison_is_an_input_error(
    onboarding: Playbook, data: Any, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        render_report(onboarding, data)
    assert message in caught.value.message


def test_saved_json_errors_carry_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "compare.json"
    path.write_text('{"metrics": [\n  oops\n]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"compare\.json:2:3: not valid JSON"):
        load_comparison(path)
    with pytest.raises(InputError, match="no such file"):
        load_comparison(tmp_path / "absent.json")


def test_saved_json_with_bom_and_missing_optional_keys(
    tmp_path: Path, onboarding: Playbook
) -> None:
    minimal = {
        "metrics": [
            {
                "metric": "d1_retention",
                "baseline": {"n": 10, "value": 0.3},
                "pilot": {"n": 10, "value": 0.4},
            }
        ]
    }
    path = tmp_path / "compare.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal).encode())
    text = render_report(onboarding, load_comparison(path), fmt="html")
    assert "数据不足" in text
    assert "None" not in text.split("<main>")[1]


def test_table3_takes_cause_and_action_from_review_findings(
    onboarding: Playbook, onboarding_comparison: dict[str, Any]
) -> None:
    context = report_context(onboarding, onboarding_comparison, lang="zh", fmt="md")
    by_metric = {row["metric"]: row for row in context["overall"]}
    assert by_metric["d1_retention"]["finding"]["action"].startswith("扩大推送内容素材库")
    assert by_metric["first_order"]["finding"] is None
    fired = [a["id"] for a in onboarding_comparison["alerts"] if a["fired"]]
    assert fired and [a["id"] for a in context["fired_alerts"]] == fired


def test_html_report_is_self_contained_and_byte_stable(
    onboarding: Playbook, onboarding_comparison: dict[str, Any]
) -> None:
    first = render_report(onboarding, onboarding_comparison, fmt="html")
    second = render_report(onboarding, copy.deepcopy(onboarding_comparison), fmt="html")
    assert first == second
    assert "<svg" in first and "</svg>" in first
    assert "<script" not in first.lower()
    assert re.findall(r'(?:src|href)="(?:https?:)?//', first) == []
    assert re.findall(r"url\(", first) == []
    assert "次日留存率 · 主要指标 · 显著改善" in first  # Chinese left as text for the browser
    svg = first[first.index("<svg") : first.index("</svg>") + 6]
    assert re.findall(r"https?://[^\"]*", svg) == ["http://www.w3.org/2000/svg"]


def test_chart_escapes_text_from_the_playbook(tmp_path: Path) -> None:
    from opsplay.render.chart import comparison_chart

    row = {
        "metric": "m",
        "metric_name": '<script>"x"&',
        "role": "primary",
        "verdict": "worse",
        "kind": "mean",
        "unit": "<u>",
        "before_value": 1.0,
        "pilot": {"value": 2.0},
        "abs_diff": 1.0,
        "ci_abs": [0.5, 1.5],
        "target": 3.0,
        "direction": "worse",
    }
    svg = str(comparison_chart([row], lang="en"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;u&gt;" in svg


def test_report_vocabulary_is_the_pilots() -> None:
    """The report accepts exactly the verdicts and designs `pilot compare` produces."""
    from typing import get_args

    from opsplay.model.playbook import Pilot
    from opsplay.pilot.judging import Verdict
    from opsplay.render.report import DESIGNS, ROLES, VERDICTS

    assert set(VERDICTS) == set(get_args(Verdict))
    assert set(DESIGNS) == set(get_args(Pilot.model_fields["design"].annotation))
    assert {"primary", "guardrail"} <= set(ROLES)


JARGON = (
    "p =",
    "p=",
    "p 值",
    "p-value",
    "Welch",
    "Holm",
    "α",
    "显著性水平",
    "置信区间",
    "interval",
)


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(
    ("lang", "sentence", "method_heading"),
    [
        (
            "zh",
            "试点组次日留存率比对照组高 {change}（真实变化很可能在 {low} 到 {high} 之间）；"
            "若流程改动毫无作用，出现这么大差异的概率",
            "方法说明",
        ),
        (
            "en",
            "次日留存率 was {change} higher in the pilot arm than in the control arm (the true "
            "change is likely between {low} and {high}); if the change had no effect, a "
            "difference this large would appear in",
            "Method",
        ),
    ],
)
def test_results_in_plain_words_and_statistics_only_in_the_method_section(
    onboarding: Playbook,
    onboarding_comparison: dict[str, Any],
    fmt: str,
    lang: str,
    sentence: str,
    method_heading: str,
) -> None:
    retention = onboarding_comparison["metrics"][0]
    assert retention["metric"] == "d1_retention" and retention["verdict"] in ("met", "improved")
    segmented = copy.deepcopy(onboarding_comparison)
    row = copy.deepcopy(retention)
    row["segment"] = {"地区": "华东"}
    segmented["metrics"].append(row)
    text = render_report(onboarding, segmented, lang=lang, fmt=fmt)
    marker = f"## {method_heading}\n" if fmt == "md" else f"<h2>{method_heading}</h2>"
    main, method = text.split(marker)
    low, high = (f"{v * 100:+.1f}%" for v in retention["ci_rel"])
    assert sentence.format(change=f"{retention['rel_diff'] * 100:.1f}%", low=low, high=high) in main
    assert "把握" not in text and "% sure" not in text
    for word in JARGON:
        assert word not in main, word
    assert "地区=华东" not in text
    assert ("地区为华东" if lang == "zh" else "地区: 华东") in main
    assert "Welch t" in method and "Holm" in method and "α = 0.05" in method
    p_value = retention["p_value"]
    shown = ("&lt;0.0001" if fmt == "html" else "<0.0001") if p_value < 0.0001 else f"{p_value:.4f}"
    assert shown in method  # kept, at the end


@pytest.mark.parametrize(
    ("design", "abs_diff", "significant", "verdict", "zh"),
    [
        (
            "ab",
            -0.02,
            True,
            "worse",
            "试点组转化率比对照组低 6.7%（真实变化很可能在 -10.0% 到 -3.3% 之间）；"
            "若流程改动毫无作用，出现这么大差异的概率约 0.4%：指标变差了。",
        ),
        (
            "ab",
            0.01,
            False,
            "no_change",
            "试点组转化率比对照组高 3.3%（真实变化很可能在 0.0% 到 +6.7% 之间），"
            "但这很可能只是偶然波动：若流程改动毫无作用，出现这么大差异的概率约 40%。",
        ),
        (
            "before_after",
            0.01,
            None,
            "changed_up",
            "试点期间转化率比试点前高 3.3%（真实变化很可能在 0.0% 到 +6.7% 之间）；"
            "这与同期的其他变化无法区分，不能说明流程改动的作用：请与保留原流程的区域对比（设计：双重差分）。",
        ),
        (
            "did",
            0.01,
            True,
            "improved",
            "扣除对照组同期的变化后，试点组转化率相对高了 1.0个百分点（真实变化很可能在 "
            "0.0个百分点 到 +2.0个百分点 之间）；若流程改动毫无作用，出现这么大差异的概率不到 0.1%。",
        ),
        ("ab", None, False, "inconclusive", "转化率：数据还不够，暂时无法判断。"),
    ],
)
def test_each_design_and_direction_reads_as_one_sentence(
    design: str, abs_diff: float | None, significant: bool | None, verdict: str, zh: str
) -> None:
    """The interval as the likely range of the true change, the p-value as how often such a
    difference appears when the change did nothing; before/after never as an effect."""
    from opsplay.render.plain import explain

    p_value = {"worse": 0.004, "no_change": 0.4, "improved": 0.0004}.get(verdict)
    row = {
        "metric": "conv",
        "metric_name": "转化率",
        "kind": "proportion",
        "abs_diff": abs_diff,
        "rel_diff": None if abs_diff is None else abs_diff / 0.3,
        "ci_abs": None if abs_diff is None else [abs_diff - 0.01, abs_diff + 0.01],
        "ci_rel": None if abs_diff is None else [(abs_diff - 0.01) / 0.3, (abs_diff + 0.01) / 0.3],
        "p_value": None if verdict == "changed_up" else p_value,
        "significant": significant,
        "verdict": verdict,
        "target": None,
    }
    assert explain(row, design=design, confidence=0.9, lang="zh") == zh


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_control_characters_never_reach_a_document_raw(
    onboarding: Playbook, onboarding_comparison: dict[str, Any], fmt: str, lang: str
) -> None:
    from opsplay.render.sop import render_sop

    payload = "\x1b]0;pwned\x07\x1b[2J\x9b31m"
    data = onboarding.model_dump(mode="json", by_alias=True)
    data["metrics"][0]["name"] += payload
    data["nodes"][0]["name"] += payload
    data["roles"][0]["name"] += payload
    data["goal"]["statement"] += payload
    hostile = Playbook.model_validate(data)
    comparison = copy.deepcopy(onboarding_comparison)
    comparison["warnings"] = [f"warning {payload}"]
    comparison["metrics"][0]["segment"] = {f"region{payload}": f"east{payload}"}
    for text in (
        render_sop(hostile, lang=lang, fmt=fmt),
        render_report(hostile, comparison, lang=lang, fmt=fmt),
    ):
        for raw in ("\x1b", "\x07", "\x9b"):
            assert raw not in text
        assert "\\x1b" in text


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pasted_invisible_characters_are_shown_in_documents_emoji_kept(
    onboarding: Playbook, onboarding_comparison: dict[str, Any], fmt: str, lang: str
) -> None:
    """U+200B from 钉钉 and a bidi override (Trojan Source) reach SOPs and reports as
    `<U+200B>`, never raw; the report's SVG chart stays well-formed XML around them."""
    import xml.etree.ElementTree as ET

    from opsplay.render.sop import render_sop

    data = onboarding.model_dump(mode="json", by_alias=True)
    data["metrics"][0]["name"] += "\u200b（\u202e元0005\u202c）"
    data["nodes"][0]["name"] += " 👩\u200d💻"
    data["roles"][0]["name"] = "\ufeff" + data["roles"][0]["name"]
    pasted = Playbook.model_validate(data)
    comparison = copy.deepcopy(onboarding_comparison)
    segment = {**comparison["metrics"][0], "segment": {"地区\u200b": "华东"}}
    comparison["metrics"].append(segment)
    report = render_report(pasted, comparison, lang=lang, fmt=fmt)
    for text in (render_sop(pasted, lang=lang, fmt=fmt), report):
        assert not {"\u200b", "\ufeff", "\u202e", "\u202c"} & set(text)
        assert "U+200B&gt;" in text and "U+202E&gt;" in text  # shown, HTML-escaped
        assert "👩\u200d💻" in text
    if fmt == "html":
        charts = re.findall(r"<svg.*?</svg>", report, re.S)
        assert any('class="metric"' in svg and "&lt;U+200B&gt;" in svg for svg in charts)
        for svg in charts:
            ET.fromstring(svg)


def test_the_hand_made_edge_case_comparison_has_todays_shape(
    comparison_files: dict[Path, Path],
) -> None:
    """The edge case's comparison is written by hand (hostile text everywhere); it must keep
    the shape `pilot compare --format json` has today, or its goldens test a stale input."""
    from .conftest import EDGE_COMPARISON, PLAYBOOKS

    real = json.loads(comparison_files[PLAYBOOKS / "new-user-onboarding.yaml"].read_text("utf-8"))
    edge = json.loads(EDGE_COMPARISON.read_text("utf-8"))
    assert set(edge) == set(real)
    for part in ("metrics", "nodes", "alerts", "sources"):
        assert real[part] and edge[part], part
        for item in edge[part]:
            assert set(item) == set(real[part][0]), (part, set(item) ^ set(real[part][0]))
    assert edge["schema_version"] == real["schema_version"]


def test_significance_table_names_the_segment_not_the_pilot_scope(tmp_path: Path) -> None:
    """Issue 20: every row of the significance table repeated the pilot's long scope
    (华东地区新用户…), squeezing the columns; a row names its segment, 全部 for everyone."""
    from typer.testing import CliRunner

    from opsplay.cli import app
    from opsplay.validate import load_playbook

    root = Path(__file__).resolve().parents[2]
    playbook = root / "playbooks" / "new-user-onboarding.yaml"
    units = root / "examples" / "onboarding_units.csv"
    args = ["pilot", "compare", str(playbook), str(units), "--by", "region", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    comparison = json.loads(result.stdout)
    loaded = load_playbook(playbook)
    scope = loaded.pilot.scope if loaded.pilot else None
    assert scope
    text = render_report(loaded, comparison, lang="zh", fmt="md")
    table = text.split("### 显著性与置信区间")[1].split("\n\n")[1]
    rows = [line.split(" | ")[1] for line in table.splitlines()[2:]]
    assert scope not in table, table
    assert "全部" in rows and any(row.startswith("region") for row in rows), rows


@pytest.mark.parametrize(
    ("fmt", "lang", "words"),
    [
        ("md", "zh", "护栏指标 客单价 没有数据，未检查。"),
        ("html", "en", "No data for the guardrail metrics 客单价: they were not checked."),
    ],
)
def test_a_guardrail_without_data_is_not_said_to_be_unset(
    onboarding: Playbook, onboarding_comparison: dict, fmt: str, lang: str, words: str
) -> None:
    """A declared guardrail with no figures (a statistics export of the primaries alone) is
    named as not checked, not `未设置护栏指标` (a re-check: the report said none was set)."""
    data = copy.deepcopy(onboarding_comparison)
    data["metrics"] = [m for m in data["metrics"] if m["metric"] != "aov"]
    text = render_report(onboarding, data, fmt=fmt, lang=lang)
    assert words in text and "No guardrail metrics set" not in text and "未设置护栏" not in text
