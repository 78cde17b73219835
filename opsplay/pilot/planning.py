"""`pilot plan` and `pilot sql`: the playbook-facing side of the planner and the SQL generator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from opsplay.errors import UsageError
from opsplay.i18n import _, language, ngettext
from opsplay.text import visible

if TYPE_CHECKING:
    from opsplay.model.playbook import Playbook
    from opsplay.pilot.plan import SamplePlan


FORMATS = ("text", "json")


def plan_for_playbook(
    playbook: Playbook, *, mde: float | None, power: float, daily: float | None, sd: float | None
) -> SamplePlan:
    """Sample size to detect the goal's change (baseline → target, or baseline + --mde)."""
    from dataclasses import replace

    from opsplay.pilot.plan import sample_size, target_from_mde

    goal = playbook.goal
    definition = playbook.metric(goal.metric)
    if definition is None:
        raise UsageError(
            _("the goal's metric `{metric}` is not declared under metrics").format(
                metric=visible(goal.metric)
            )
        )
    kind = definition.kind
    if kind != "proportion" and sd is None:
        raise UsageError(
            _(
                "`{metric}` is not a proportion; pass its per-user standard deviation from "
                "historical data with --sd"
            ).format(metric=visible(goal.metric))
        )
    if kind == "ratio":
        kind = "mean"  # with a per-unit sd (delta method), a ratio is planned as a mean
    target = goal.target if mde is None else target_from_mde(goal.baseline, mde)
    pilot = playbook.pilot
    plan = sample_size(
        kind,
        goal.baseline,
        target,
        sd=sd,
        alpha=pilot.alpha if pilot else 0.05,
        power=power,
        split=pilot.split if pilot else 0.5,
        daily=daily,
    )
    return replace(plan, metric=definition.name, unit=definition.unit)


def format_plan(plan: SamplePlan, output_format: str, lang: str = "en", design: str = "ab") -> str:
    """The plan as text (in `lang`) or JSON."""
    if output_format == "json":
        return json.dumps({**asdict(plan), "design": design}, ensure_ascii=False, indent=2) + "\n"
    with language(lang):
        return _plan_text(plan, design)


# A pilot longer than this is not a pilot any more: the plan says what to change.
LONG_PILOT_DAYS = 90


def _plan_text(plan: SamplePlan, design: str) -> str:
    from opsplay.pilot.plain import fmt_value

    kind = _("proportion") if plan.kind == "proportion" else _("mean")
    effect = (
        _("effect size (Cohen's h)") if plan.kind == "proportion" else _("effect size (Cohen's d)")
    )
    lines = [
        # What the team wants to see, in its own words and units: 48小时办结率：70.0% → 85.0%.
        _("{metric}: from {baseline} to {target}").format(
            metric=visible(plan.metric or kind),
            baseline=fmt_value(plan.baseline, plan.kind, plan.unit),
            target=fmt_value(plan.target, plan.kind, plan.unit),
        ),
        _("units needed: control group {base}, pilot group {pilot}, total {total}").format(
            base=f"{plan.n_baseline:,}", pilot=f"{plan.n_pilot:,}", total=f"{plan.n_total:,}"
        ),
    ]
    if plan.days is not None:
        lines.append(
            _("at {daily} units per day: {days}").format(
                daily=f"{plan.daily:g}",
                days=ngettext("{n} day", "{n} days", plan.days).format(n=f"{plan.days:,}"),
            )
        )
        if plan.days > LONG_PILOT_DAYS:
            lines.append(
                _(
                    "more than {limit} days is too long for a pilot: aim for a larger change "
                    "(--mde), or let more units into the pilot each day"
                ).format(limit=LONG_PILOT_DAYS)
            )
    if design == "did":
        lines.append(
            _(
                "difference in differences needs this many units in each group both before and "
                "after the change (four cells); treat it as a lower bound"
            )
        )
    elif design == "before_after":
        lines.append(
            _(
                "a before/after comparison needs this many units before and after the change; "
                "it cannot rule out seasonality"
            )
        )
    # The statistician's inputs last, labelled as the method, as in `pilot compare`.
    method = _("{kind}: {baseline} → {target} ({effect} {size})").format(
        kind=kind,
        baseline=f"{plan.baseline:g}",
        target=f"{plan.target:g}",
        effect=effect,
        size=f"{plan.effect_size:.4f}",
    )
    method += _("; ") + _(
        "significance level {alpha} (two-sided), power {power}, pilot share {split}"
    ).format(alpha=f"{plan.alpha:g}", power=f"{plan.power:g}", split=f"{plan.split:g}")
    lines.append(_("how the figures were computed") + _(": ") + method)
    return "\n".join(lines) + "\n"


def sql_for_playbook(
    playbook: Playbook,
    *,
    table: str,
    dialect: str,
    by: list[str],
    db: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """Warehouse SQL producing the sufficient-statistics export for the pilot's metrics; with
    `db`, the names are those of the table there (组别 for `group`, as `pilot compare --db`),
    and what the table lacks (a guardrail's column) goes to `warn`."""
    from opsplay.pilot.readers import MetricColumns
    from opsplay.pilot.sql import generate_sql

    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(
            _("playbook `{id}` has no `pilot` section").format(id=visible(playbook.metadata.id))
        )
    wanted = [*pilot.metrics, *pilot.guardrails]
    metrics = [MetricColumns.of(m) for m in playbook.metrics if m.id in wanted]
    period = None if pilot.design == "ab" else pilot.period_column
    from opsplay.pilot.compare import _window

    window = _window(pilot, period)
    if window is not None and window.derive_period:
        period = None  # before/after come from pilot.date_column (SPEC 7)
    try:
        if db is None:
            return generate_sql(metrics, table, pilot.arm_column, period, by, dialect, window)  # type: ignore[arg-type]
        from opsplay.pilot.readers import ReadOptions
        from opsplay.pilot.readers.chunks import Progress
        from opsplay.pilot.readers.units import UnitsReader
        from opsplay.pilot.sql import sql_for_plan

        options = ReadOptions(
            metrics=tuple(metrics),
            arm_column=pilot.arm_column,
            period_column=period,
            segment_columns=tuple(by),
            window=window,
        )
        reader = UnitsReader(options, Progress(None))
        plan = reader.plan_for_table(db, table)
        for warning in reader.warnings:
            if warn is not None:
                warn(warning)
        return sql_for_plan(plan, table, dialect)
    except ValueError as error:
        raise UsageError(str(error)) from None
