"""Judging comparisons: targets, attainment, multiple-testing correction, verdicts, alerts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from opsplay.i18n import N_, language, translate
from opsplay.model.playbook import COMPARATORS, Playbook
from opsplay.pilot import stats
from opsplay.pilot.clusters import FLOOR_ABOVE_ALPHA, ONE_CLUSTER
from opsplay.pilot.designs import Segment
from opsplay.text import joined, visible

Verdict = Literal[
    "met",
    "improved",
    "worse",
    "no_change",
    "inconclusive",
    # no comparison group can be tested: one cluster in an arm (SPEC 11)
    "not_testable",
    # before/after without a comparison group: a description, never a cause (SPEC 11)
    "changed_up",
    "changed_down",
    "no_change_seen",
]
# Verdicts of designs that cannot tell what the change did (SPEC 11): never a promotion.
UNTESTED_VERDICTS = ("not_testable", "changed_up", "changed_down", "no_change_seen")


@dataclass(frozen=True)
class MetricResult:
    """One metric in one segment, judged."""

    metric: str
    name: str
    kind: str
    better: str
    unit: str | None
    role: Literal["primary", "guardrail"]
    segment: Segment
    comparison: stats.Comparison
    p_adjusted: float | None
    significant: bool | None  # None: the design cannot tell (before/after, one cluster)
    target: float | None
    attainment: float | None
    verdict: Verdict


@dataclass(frozen=True)
class AlertResult:
    """One alert of the playbook evaluated on the pilot's figures."""

    id: str
    target: str  # node or metric id
    measure: str | None
    value: float | None
    op: str
    threshold: float
    severity: str
    fired: bool
    # Evidence (SPEC 11 "Repeated looks"): `status` is fired | pending (the condition holds,
    # but not yet on `runs_needed` consecutive looks) | ok | not_enough_data (fewer than
    # `min_n` rows or units: never fired, never passed) | not_evaluated (no value).
    status: str = "ok"
    n: int | None = None  # the rows or units the value stands on
    min_n: int | None = None
    runs_needed: int = 1  # `for:`
    held: int = 0  # consecutive looks on which the condition held, this one included


def _target(playbook: Playbook, metric_id: str) -> tuple[float | None, float | None]:
    """(target, baseline the target was set against): the goal's, else a scenario expectation's."""
    if playbook.goal.metric == metric_id:
        return playbook.goal.target, playbook.goal.baseline
    for scenario in playbook.scenarios:
        for expected in scenario.expected:
            if expected.metric == metric_id:
                return expected.value, None
    return None, None


def judge(
    playbook: Playbook,
    metric: Any,
    role: str,
    segment: Segment,
    comparison: stats.Comparison,
) -> MetricResult:
    """A metric's comparison with its target and attainment (verdict decided by `adjust`)."""
    target, goal_baseline = _target(playbook, metric.id)
    reference = goal_baseline if goal_baseline is not None else comparison.baseline_value
    attainment = None
    # Attainment measures the way from the reference to the target; when the reference
    # already meets a scenario's target there is no way to go, and no attainment.
    gap = None if target is None or reference is None else target - reference
    if gap and comparison.pilot_value is not None and (gap > 0) == (metric.better == "higher"):
        attainment = (comparison.pilot_value - reference) / gap
    if playbook.pilot is not None and playbook.pilot.design == "before_after":
        # A period shock moves the metric as much as the change: no p-value can say which
        # did it, so none is given; the interval stays, as the range of the change seen.
        comparison = replace(comparison, p_value=None, p_value_abs=None, method="before-after")
    return MetricResult(
        metric=metric.id,
        name=metric.name,
        kind=metric.kind,
        better=metric.better,
        unit=metric.unit,
        role=role,  # type: ignore[arg-type]
        segment=segment,
        comparison=comparison,
        p_adjusted=comparison.p_value,
        significant=False,
        target=target,
        attainment=attainment,
        verdict="inconclusive",
    )


def adjust(
    rows: list[MetricResult], correction: stats.Correction, alpha: float
) -> list[MetricResult]:
    """Correct across metrics × segments, then decide significance and verdicts.

    Primary metrics and guardrails are corrected apart (SPEC 11: a guardrail does not
    weaken the headline, and several guardrails do not multiply false alarms). Within
    each, the overall rows form one family and the per-segment rows another, so looking
    at segments (--by) does not weaken the overall result.
    """
    p_adjusted: dict[int, float | None] = {}
    for role in ("primary", "guardrail"):
        for overall in (True, False):
            family = [
                i for i, row in enumerate(rows) if row.role == role and (not row.segment) == overall
            ]
            adjusted = stats.adjust_p_values(
                [rows[i].comparison.p_value for i in family], correction
            )
            p_adjusted.update(zip(family, adjusted, strict=True))
    judged = []
    for i, row in enumerate(rows):
        p = p_adjusted.get(i, row.comparison.p_value)
        significant: bool | None = p is not None and p < alpha
        if (
            row.comparison.method in UNTESTABLE_METHODS
            or FLOOR_ABOVE_ALPHA in row.comparison.issues
        ):
            significant = None  # the design cannot give a significant result at all
        judged.append(
            replace(row, p_adjusted=p, significant=significant, verdict=_verdict(row, significant))
        )
    return judged


def corrected_interval_alphas(
    rows: Sequence[MetricResult], correction: stats.Correction, alpha: float
) -> dict[int, float]:
    """The level of each row's interval that agrees with its corrected verdict: the interval
    excludes 0 exactly when the corrected p is below alpha.

    Holm: the row ranked j (by p, as the correction ranks them) is tested at alpha/(m − j + 1)
    if every row before it was rejected; the rows from the first one kept onwards all at that
    first kept row's level (their p is no smaller, so their intervals hold 0, as their verdict
    says). Benjamini–Hochberg: every row at R·alpha/m, R the rows rejected (the FCR-adjusted
    intervals of Benjamini & Yekutieli 2005; alpha/m when none is). Rows of `rows` by index;
    families as `adjust` forms them (several primary metrics overall, segments × metrics); a
    family of one row keeps alpha."""
    if correction == "none":
        return {}
    out: dict[int, float] = {}
    for role in ("primary", "guardrail"):
        for overall in (True, False):
            family = [
                i
                for i, row in enumerate(rows)
                if row.role == role
                and (not row.segment) == overall
                and row.comparison.p_value is not None
            ]
            m = len(family)
            if m < 2:
                continue
            ordered = sorted(family, key=lambda i: rows[i].comparison.p_value)  # type: ignore[arg-type, return-value]
            rejected = [
                rows[i].p_adjusted is not None and rows[i].p_adjusted < alpha for i in ordered
            ]
            if correction == "bh":
                level = max(sum(rejected), 1) * alpha / m
                out.update({i: level for i in ordered})
                continue
            kept = next((rank for rank, r in enumerate(rejected) if not r), m)
            for rank, index in enumerate(ordered):
                out[index] = alpha / (m - min(rank, kept))
    return out


# Methods whose result is no significance test: before/after without a comparison group, and
# an arm of one cluster with nothing to compare it with.
UNTESTABLE_METHODS = ("before-after", "not-testable")


def _verdict(row: MetricResult, significant: bool | None) -> Verdict:
    comparison = row.comparison
    if comparison.method == "before-after":
        low, high = comparison.ci_abs or (None, None)
        if comparison.abs_diff is None or low is None or high is None:
            return "not_testable" if ONE_CLUSTER in comparison.issues else "inconclusive"
        if low > 0:
            return "changed_up"
        if high < 0:
            return "changed_down"
        return "no_change_seen"
    if comparison.method == "not-testable" or FLOOR_ABOVE_ALPHA in comparison.issues:
        return "not_testable"  # one cluster, or so few that no p-value can fall below α
    if comparison.p_value is None or comparison.abs_diff is None:
        return "inconclusive"
    if not significant:
        return "no_change"
    better = (comparison.abs_diff > 0) == (row.better == "higher")
    if not better:
        return "worse"
    if reaches_target(row):
        return "met"
    return "improved"


def reaches_target(row: MetricResult) -> bool:
    """Whether the pilot's value reaches the metric's target (in its better direction)."""
    value = row.comparison.pilot_value
    if value is None or row.target is None:
        return False
    return value >= row.target if row.better == "higher" else value <= row.target


def evaluate_alerts(
    playbook: Playbook,
    rows: Sequence[MetricResult],
    nodes: Sequence[Any],
    lang: str,
    warnings: list[str],
    *,
    has_events: bool,
    values: Mapping[str, float | None] | None = None,
    nothing_due: frozenset[str] = frozenset(),
    counts: Mapping[str, int | None] | None = None,
) -> list[AlertResult]:
    """Every alert against the node figures and the pilot's overall metric values.

    `values` holds alert values computed elsewhere (level-scoped and schedule alerts), and
    `counts` the rows they stand on; `nothing_due` the scheduled nodes with no occurrence on
    the log's days. This is one look: an alert with `for: N` (N > 1) whose condition holds
    is `pending` (1/N) here; `watch` counts the looks in its state file.
    """
    figures = {figure.node: figure for figure in nodes}
    overall = {row.metric: row.comparison.pilot_value for row in rows if not row.segment}
    units = {row.metric: row.comparison.pilot_n for row in rows if not row.segment}
    results = []
    node_alerts_unmeasured = []
    for alert in playbook.alerts:
        if alert.node is not None:
            figure = figures.get(alert.node)
            value = getattr(figure, alert.measure or "", None) if figure is not None else None
            n = figure.count if figure is not None else None
            if values is not None and alert.id in values:
                value = values[alert.id]
                n = (counts or {}).get(alert.id)
            if not has_events:
                node_alerts_unmeasured.append(alert.id)
            elif alert.measure == "schedule_adherence" and alert.node in nothing_due:
                warnings.append(
                    translate(
                        N_(
                            "alert `{alert}`: nothing was due for node `{node}` in the log's "
                            "days, so it was not evaluated"
                        ),
                        lang,
                    ).format(alert=visible(alert.id), node=visible(alert.node))
                )
            elif figure is None:
                warnings.append(
                    translate(
                        N_("alert `{alert}`: the execution log has no rows for node `{node}`"),
                        lang,
                    ).format(alert=visible(alert.id), node=visible(alert.node))
                )
            target = alert.node
        else:
            target = alert.metric or ""
            value = overall.get(target)
            n = units.get(target)
            if value is None:  # not in the data, or no unit has a value (all cells blank)
                compared = playbook.pilot is not None and target in (
                    *playbook.pilot.metrics,
                    *playbook.pilot.guardrails,
                )
                message = (
                    N_(
                        "alert `{alert}`: the data has no overall value of metric `{metric}`; not evaluated"
                    )
                    if compared
                    else N_(
                        "alert `{alert}`: metric `{metric}` is not in pilot.metrics or "
                        "pilot.guardrails, so it was not measured and the alert not evaluated; "
                        "add it to pilot.guardrails"
                    )
                )
                warnings.append(
                    translate(message, lang).format(alert=visible(alert.id), metric=visible(target))
                )
        results.append(_looked(alert, target, value, n))
    if node_alerts_unmeasured:
        warnings.append(
            translate(
                N_(
                    "node alerts {alerts} are evaluated from the execution log; pass it with "
                    "--events"
                ),
                lang,
            ).format(alerts=_listing([f"`{visible(a)}`" for a in node_alerts_unmeasured], lang))
        )
    return results


def _looked(alert: Any, target: str, value: float | None, n: int | None) -> AlertResult:
    """One look at an alert: its status before any earlier look is counted."""
    measured = value is not None and not math.isnan(value)
    enough = alert.min_n is None or (n is not None and n >= alert.min_n)
    holds = measured and enough and COMPARATORS[alert.op](value, alert.threshold)
    needed = alert.runs_needed
    if not measured:
        status = "not_evaluated"
    elif not enough:
        status = "not_enough_data"
    elif not holds:
        status = "ok"
    else:
        status = "fired" if needed <= 1 else "pending"
    return AlertResult(
        alert.id,
        target,
        alert.measure,
        value,
        alert.op,
        alert.threshold,
        alert.severity,
        status == "fired",
        status=status,
        n=n,
        min_n=alert.min_n,
        runs_needed=needed,
        held=1 if holds else 0,
    )


def _listing(items: list[str], lang: str) -> str:
    with language(lang):
        return joined(items)
