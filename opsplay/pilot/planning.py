"""`pilot plan` and `pilot sql`: the playbook-facing side of the planner and the SQL generator."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from opsplay.errors import UsageError

if TYPE_CHECKING:
    from opsplay.model.playbook import Playbook
    from opsplay.pilot.plan import SamplePlan


FORMATS = ("text", "json")


def plan_for_playbook(
    playbook: Playbook, *, mde: float | None, power: float, daily: float | None, sd: float | None
) -> SamplePlan:
    """Sample size to detect the goal's change (baseline → target, or baseline + --mde)."""
    from opsplay.pilot.plan import sample_size, target_from_mde

    goal = playbook.goal
    definition = playbook.metric(goal.metric)
    if definition is None:
        raise UsageError(f"the goal's metric `{goal.metric}` is not declared under metrics")
    kind = definition.kind
    if kind != "proportion" and sd is None:
        raise UsageError(
            f"`{goal.metric}` is a {kind} metric; pass its per-unit standard deviation from "
            "historical data with --sd"
        )
    if kind == "ratio":
        kind = "mean"  # with a per-unit sd (delta method), a ratio is planned as a mean
    target = goal.target if mde is None else target_from_mde(goal.baseline, mde)
    pilot = playbook.pilot
    return sample_size(
        kind,
        goal.baseline,
        target,
        sd=sd,
        alpha=pilot.alpha if pilot else 0.05,
        power=power,
        split=pilot.split if pilot else 0.5,
        daily=daily,
    )


_WORDS = {
    "zh": {
        "effect": "效应量",
        "alpha": "显著性水平 {alpha:g}（双侧），检验功效 {power:g}，试点占比 {split:g}",
        "units": "所需样本：基线组 {base:,}，试点组 {pilot:,}，合计 {total:,}",
        "days": "按每天 {daily:g} 个样本进入试点：需 {days} 天",
        "did": "双重差分（did）：两组在改动前、改动后各需这么多样本（共四格）；这是下限，请留余量",
        "before_after": "前后对比（before_after）：改动前、改动后各需这么多样本；季节性无法排除",
    },
    "en": {
        "effect": "effect size",
        "alpha": "alpha {alpha:g} (two-sided), power {power:g}, pilot share {split:g}",
        "units": "units needed: baseline {base:,}, pilot {pilot:,}, total {total:,}",
        "days": "at {daily:g} units per day: {days} day(s)",
        "did": "difference in differences needs this many units in each group both before and "
        "after the change (four cells); treat it as a lower bound",
        "before_after": "before/after needs this many units before and after the change; it "
        "cannot rule out seasonality",
    },
}


def format_plan(plan: SamplePlan, output_format: str, lang: str = "en", design: str = "ab") -> str:
    """The plan as text (zh or en) or JSON."""
    if output_format == "json":
        return json.dumps({**asdict(plan), "design": design}, ensure_ascii=False, indent=2) + "\n"
    words = _WORDS[lang]
    lines = [
        f"{plan.kind}: {plan.baseline:g} → {plan.target:g} "
        f"({words['effect']} {plan.effect_size:.4f}, {plan.method})",
        words["alpha"].format(alpha=plan.alpha, power=plan.power, split=plan.split),
        words["units"].format(base=plan.n_baseline, pilot=plan.n_pilot, total=plan.n_total),
    ]
    if plan.days is not None:
        lines.append(words["days"].format(daily=plan.daily, days=plan.days))
    if design in ("did", "before_after"):
        lines.append(words[design])
    return "\n".join(lines) + "\n"


def sql_for_playbook(playbook: Playbook, *, table: str, dialect: str, by: list[str]) -> str:
    """Warehouse SQL producing the sufficient-statistics export for the pilot's metrics."""
    from opsplay.pilot.readers import MetricColumns
    from opsplay.pilot.sql import generate_sql

    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(f"playbook `{playbook.metadata.id}` has no `pilot` section")
    wanted = [*pilot.metrics, *pilot.guardrails]
    metrics = [MetricColumns.of(m) for m in playbook.metrics if m.id in wanted]
    period = None if pilot.design == "ab" else pilot.period_column
    from opsplay.pilot.compare import _window

    window = _window(pilot, period)
    if window is not None and window.derive_period:
        period = None  # before/after come from pilot.date_column (SPEC 7)
    try:
        return generate_sql(metrics, table, pilot.arm_column, period, by, dialect, window)  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(str(error)) from None
