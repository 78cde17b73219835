"""Words for pilot results in Chinese and English: warnings, verdicts, conclusions."""

from __future__ import annotations

from typing import Any

ISSUES: dict[str, dict[str, str]] = {
    "no_units": {
        "zh": "某一组没有任何样本，无法计算",
        "en": "an arm has no units; nothing to compute",
    },
    "too_few_units": {
        "zh": "样本量少于 min_n（{min_n}），不做检验，结论为“数据不足”",
        "en": "fewer units than min_n ({min_n}) in an arm; no test, verdict inconclusive",
    },
    "zero_variance": {
        "zh": "某一组取值完全相同（方差为0，如0%或100%），无法检验",
        "en": "all units of an arm have the same value (zero variance, e.g. 0% or 100%); no test",
    },
    "zero_denominator": {
        "zh": "比率指标的分母合计为0，无法计算",
        "en": "the ratio metric's denominator sums to 0; nothing to compute",
    },
    "zero_baseline": {
        "zh": "基线为0，偏差率无定义；p值改用绝对差",
        "en": "the baseline is 0, so the relative change is undefined; the p-value uses the absolute difference",
    },
    "nonpositive_mean": {
        "zh": "存在非正均值，相对DiD无定义",
        "en": "a group mean is not positive; the relative DiD is undefined",
    },
    "pooled_not_applicable": {
        "zh": "--variance pooled 只适用于比例指标，此处用非合并方差",
        "en": "--variance pooled applies to proportions only; unpooled variance used here",
    },
    "before_after_not_causal": {
        "zh": "前后对比（before_after）无法区分流程改动与季节性等同期变化，结论不代表因果",
        "en": "before/after cannot separate the change from seasonality or other concurrent changes; "
        "the result is not causal",
    },
    "srm": {
        "zh": "样本比例失衡（SRM）：基线 {n_baseline}、试点 {n_pilot}，计划试点占比 {split}，p={p:.2g}；"
        "请先检查分流，再看结果",
        "en": "sample ratio mismatch: baseline {n_baseline}, pilot {n_pilot} against a planned pilot share of "
        "{split} (p={p:.2g}); check the assignment before trusting the results",
    },
    "missing_period": {
        "zh": "没有“{period}”期的数据",
        "en": "no data for period `{period}`",
    },
    "missing_cell": {
        "zh": "DiD 需要两组 × 前后两期的数据，有缺失",
        "en": "difference in differences needs both groups in both periods; a cell is missing",
    },
    "summary_no_test": {
        "zh": "看板汇总数据只能计算偏差，无法做显著性检验（比例指标提供 n 才可检验）",
        "en": "a dashboard summary gives the deviation only; a test needs n (proportions only)",
    },
    "arm_not_found": {
        "zh": "数据中没有组别“{arm}”；找到的组别：{found}。请检查 pilot.arms 或用 --baseline/--pilot 指定",
        "en": "arm `{arm}` is not in the data; arms found: {found}. Check pilot.arms or pass --baseline/--pilot",
    },
    "summary_no_overall": {
        "zh": "看板汇总只有分群的数值，没有整体数值；整体行略过",
        "en": "the dashboard summary has values per segment only, no overall value; the overall row is left out",
    },
    "segment_one_arm": {
        "zh": "该分群只有一组数据（缺少“{arm}”），跳过",
        "en": "this segment has data in one arm only (no `{arm}`); skipped",
    },
    "alert_metric_unmeasured": {
        "zh": "告警 {alert}：指标 {metric} 不在 pilot.metrics 或 pilot.guardrails 中，未计算，未评估；"
        "把它加入 pilot.guardrails",
        "en": "alert {alert}: metric {metric} is not in pilot.metrics or pilot.guardrails, so it "
        "was not measured and the alert not evaluated; add it to pilot.guardrails",
    },
    "alert_metric_no_data": {
        "zh": "告警 {alert}：数据中没有指标 {metric} 的整体数值，未评估",
        "en": "alert {alert}: the data has no overall value of metric {metric}; not evaluated",
    },
    "alert_needs_events": {
        "zh": "节点告警 {alerts} 需要执行日志才能评估；用 --events 传入节点执行日志",
        "en": "node alerts {alerts} are evaluated from the execution log; pass it with --events",
    },
    "alert_no_events": {
        "zh": "告警 {alert}：执行日志中没有节点 {node} 的记录",
        "en": "alert {alert}: the execution log has no rows for node {node}",
    },
}

VERDICTS = {
    "met": {"zh": "达成目标", "en": "target met"},
    "improved": {"zh": "显著改善", "en": "improved"},
    "worse": {"zh": "显著变差", "en": "worse"},
    "no_change": {"zh": "无显著变化", "en": "no significant change"},
    "inconclusive": {"zh": "数据不足", "en": "inconclusive"},
}

LABELS = {
    "metric": {"zh": "指标", "en": "metric"},
    "segment": {"zh": "分群", "en": "segment"},
    "role": {"zh": "类型", "en": "role"},
    "primary": {"zh": "主指标", "en": "primary"},
    "guardrail": {"zh": "护栏", "en": "guardrail"},
    "baseline": {"zh": "基线", "en": "baseline"},
    "pilot": {"zh": "试点", "en": "pilot"},
    "before": {"zh": "改动前", "en": "before"},
    "abs_diff": {"zh": "绝对差", "en": "abs. change"},
    "rel_diff": {"zh": "偏差率", "en": "rel. change"},
    "ci_rel": {"zh": "偏差率区间", "en": "rel. CI"},
    "p_value": {"zh": "p值", "en": "p-value"},
    "p_adjusted": {"zh": "校正p值", "en": "adj. p"},
    "target": {"zh": "目标", "en": "target"},
    "attainment": {"zh": "达成度", "en": "attainment"},
    "verdict": {"zh": "结论", "en": "verdict"},
    "overall": {"zh": "全部", "en": "all"},
    "node": {"zh": "节点", "en": "node"},
    "count": {"zh": "执行次数", "en": "count"},
    "completion_rate": {"zh": "完成率", "en": "completion"},
    "fallback_rate": {"zh": "兜底率", "en": "fallback"},
    "failure_rate": {"zh": "失败率", "en": "failure"},
    "sla": {"zh": "时限", "en": "SLA"},
    "sla_compliance": {"zh": "时限达标率", "en": "SLA compliance"},
    "alerts": {"zh": "告警", "en": "fired alerts"},
    "no_alerts": {"zh": "未触发", "en": "no alert fired"},
    "warnings": {"zh": "提示", "en": "warnings"},
    "nodes": {"zh": "节点执行情况", "en": "node execution"},
    "design": {"zh": "设计", "en": "design"},
    "srm": {"zh": "样本比例检验", "en": "sample ratio check"},
}

DESIGNS = {
    "ab": {"zh": "随机对照（A/B）", "en": "randomised A/B"},
    "before_after": {"zh": "前后对比（非因果）", "en": "before/after (not causal)"},
    "did": {"zh": "双重差分（DiD）", "en": "difference in differences"},
}


def describe_issue(code: str, lang: str, **values: Any) -> str:
    """A warning in the user's language for an issue code."""
    template = ISSUES.get(code, {}).get(lang) or ISSUES.get(code, {}).get("en") or code
    try:
        return template.format(**values)
    except (KeyError, ValueError):
        return template


def label(key: str, lang: str) -> str:
    """A column or section label."""
    return LABELS[key][lang]


def verdict_word(verdict: str, lang: str) -> str:
    """The verdict in words."""
    return VERDICTS[verdict][lang]
