"""`pilot plan` and `pilot sql`: the playbook-facing side of the sizing and of the query.

The goal and pilot sections turned into a sample or cluster plan (`opsplay.pilot.sizing` holds
the pure computation), a before-period export read for its ICC, the plan in words or JSON,
and the playbook's metrics turned into the printed query (`opsplay.query.units`).

Floor: orchestration beside `pilot compare`, below the CLI. May import the model, the engine
(`sql`, `readers`), `sizing`, the words (`plain`, `opsplay.text`) and `pilot.compare`'s
window; only the CLI imports it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from opsplay.errors import UsageError
from opsplay.i18n import _, language, ngettext
from opsplay.text import visible

if TYPE_CHECKING:
    from opsplay.model.playbook import Playbook
    from opsplay.pilot.sizing import ClusterPlan, SamplePlan


FORMATS = ("text", "json")


def plan_for_playbook(
    playbook: Playbook,
    *,
    mde: float | None,
    power: float,
    daily: float | None,
    sd: float | None,
    correction: str = "holm",
) -> SamplePlan:
    """Sample size to detect the goal's change (baseline → target, or baseline + --mde), at the
    level `pilot compare` holds the goal metric to: with several primary metrics (or
    guardrails) corrected together, Holm's and BH's first step is alpha over their number, so
    a plan at alpha alone would leave the pilot short of its power (Bonferroni's level: the
    power is at least as planned at every step)."""
    from dataclasses import replace

    from opsplay.pilot.sizing import sample_size, target_from_mde

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
    family = corrected_together(playbook, correction)
    plan = sample_size(
        kind,
        goal.baseline,
        target,
        sd=sd,
        alpha=(pilot.alpha if pilot else 0.05) / family,
        power=power,
        split=pilot.split if pilot else 0.5,
        daily=daily,
    )
    return replace(plan, metric=definition.name, unit=definition.unit, family=family)


def corrected_together(playbook: Playbook, correction: str) -> int:
    """How many metrics `pilot compare` corrects together with the goal metric: the primary
    metrics when it is one of them, else the guardrails when it is one of those; 1 without a
    correction or a test."""
    pilot = playbook.pilot
    if pilot is None or correction == "none" or pilot.design == "before_after":
        return 1  # (a before/after comparison is described, not tested: nothing is corrected)
    for group in (pilot.metrics, pilot.guardrails):
        if playbook.goal.metric in group:
            return len(group)
    return 1


@dataclass(frozen=True)
class BeforePeriod:
    """What a before-period export tells a clustered plan (`pilot plan --from`)."""

    icc: float
    cluster_size: float  # n0: the mean size, corrected for unequal sizes
    clusters: int
    sd: float  # the goal metric's per-unit standard deviation


def before_period(
    playbook: Playbook, paths: Sequence[Path], sheet: str | None = None
) -> BeforePeriod:
    """ICC, cluster size, cluster count and standard deviation of the goal metric in the before
    period's unit rows: the same query as `pilot compare`, the cluster column as the arm."""
    from dataclasses import replace

    from opsplay.pilot.sizing import estimate_icc
    from opsplay.readers import MetricColumns, ReadOptions, read_exports

    pilot = playbook.pilot
    column = pilot.cluster if pilot else None
    if not column:
        raise UsageError(
            _(
                "--from needs the cluster column: declare `pilot.cluster` (the column the "
                "groups were assigned by, such as 区域) in the playbook"
            )
        )
    metric = playbook.metric(playbook.goal.metric)
    if metric is None or metric.kind == "ratio":
        raise UsageError(
            _(
                "--from estimates the intra-cluster correlation of proportion and mean metrics; "
                "`{metric}` is not one: pass --icc"
            ).format(metric=visible(playbook.goal.metric))
        )
    read = read_exports(
        list(paths),
        ReadOptions(
            # the metric alone: a clustered pilot is not adjusted by a pre_column (yet), so the
            # before export need not have that column
            metrics=(replace(MetricColumns.of(metric), pre_column=None),),
            arm_column=column,
            input_format="units",
            sheet=sheet,
        ),
    )
    cells = [(s.n, s.sum, s.sum_sq) for s in read.stats.values()]
    icc, n0 = estimate_icc(cells)
    total = sum(n for n, _s, _q in cells)
    mean = sum(s for _n, s, _q in cells) / total
    variance = (sum(q for _n, _s, q in cells) - total * mean * mean) / (total - 1)
    return BeforePeriod(icc, n0, len(cells), math.sqrt(max(variance, 0.0)))


def clusters_for_playbook(
    playbook: Playbook,
    plan: SamplePlan,
    *,
    icc: float | None,
    cluster_size: float | None,
    clusters: int | None,
    before: BeforePeriod | None = None,
) -> ClusterPlan | None:
    """The clusters a clustered pilot needs (SPEC 11): from --icc with --cluster-size or
    --clusters, or from the before period (--from). None for a pilot of independent units; an
    error saying what is missing when `pilot.cluster` asks for a clustered plan without the
    figures it needs."""
    from opsplay.pilot.sizing import cluster_plan

    pilot = playbook.pilot
    column = pilot.cluster if pilot else None
    if before is not None:
        return cluster_plan(
            plan,
            before.icc if icc is None else icc,
            cluster_size=cluster_size
            if cluster_size is not None or clusters
            else before.cluster_size,
            clusters=clusters,
            icc_source="estimated" if icc is None else "given",
            clusters_in_export=before.clusters,
        )
    if not column and icc is None and cluster_size is None and clusters is None:
        return None
    if icc is None or (cluster_size is None and clusters is None):
        name = visible(column) if column else _("cluster")
        raise UsageError(
            _(
                "this pilot is assigned by `{cluster}`, so it is planned in `{cluster}` units: "
                "pass --icc (how alike units of one `{cluster}` are; 0.01–0.05 is common) with "
                "--cluster-size (units per `{cluster}` over the pilot) or --clusters (how many "
                "`{cluster}` each group can have), or --from a before-period export with the "
                "`{cluster}` column to estimate them"
            ).format(cluster=name)
        )
    return cluster_plan(plan, icc, cluster_size=cluster_size, clusters=clusters)


def format_plan(
    plan: SamplePlan,
    output_format: str,
    lang: str = "en",
    design: str = "ab",
    clusters: ClusterPlan | None = None,
    cluster_column: str | None = None,
) -> str:
    """The plan as text (in `lang`) or JSON."""
    if output_format == "json":
        document = {**asdict(plan), "design": design}
        if clusters is not None:
            document["cluster"] = {"column": cluster_column, **asdict(clusters)}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    with language(lang):
        # days of independent units mean nothing when no number of days reaches the power
        if clusters is not None and not clusters.reachable:
            plan = replace(plan, days=None)
        text = _plan_text(plan, design)
        if clusters is not None:
            text = _cluster_text(clusters, cluster_column, plan) + text
        return text


def _cluster_text(plan: ClusterPlan, column: str | None, units: SamplePlan) -> str:
    """What a clustered pilot needs, ahead of the independent-units figures it builds on."""
    from opsplay.pilot.sizing import SMALL_SAMPLE_CLUSTERS

    name = visible(column) if column else _("cluster")
    lines = []
    if plan.icc_source == "estimated":
        lines.append(
            _(
                "from the before period: {count} `{cluster}` values, intra-cluster correlation "
                "{icc}, about {size} units per `{cluster}`"
            ).format(
                count=plan.clusters_in_export,
                cluster=name,
                icc=f"{plan.icc:.3f}",
                size=f"{plan.cluster_size:,.0f}",
            )
        )
    if not plan.reachable:
        lines.append(
            _(
                "with {clusters} `{cluster}` per group no number of units or days reaches the "
                "power: more days make each `{cluster}` larger, not more numerous, and units of "
                "one `{cluster}` are alike (intra-cluster correlation {icc}). Add `{cluster}` "
                "values to the pilot, or aim for a larger change (--mde)"
            ).format(clusters=plan.clusters_available, cluster=name, icc=f"{plan.icc:g}")
        )
    elif plan.clusters_baseline is not None:
        lines.append(
            _(
                "`{cluster}` needed: control group {baseline}, pilot group {pilot} (about {size} "
                "units each, intra-cluster correlation {icc})"
            ).format(
                cluster=name,
                baseline=plan.clusters_baseline,
                pilot=plan.clusters_pilot,
                size=f"{plan.cluster_size:,.0f}",
                icc=f"{plan.icc:.3g}",
            )
        )
        if plan.clusters_available is not None and plan.cluster_size_needed is not None:
            lines.append(
                _(
                    "with {clusters} `{cluster}` per group, each `{cluster}` needs at least "
                    "{size} units in the pilot"
                ).format(
                    clusters=plan.clusters_available,
                    cluster=name,
                    size=f"{math.ceil(plan.cluster_size_needed):,}",
                )
            )
    if plan.clusters_available is not None:
        from opsplay.pilot.presentation.words import fmt_value

        if plan.detectable_target is None:
            lines.append(
                _("{clusters} `{cluster}` per group cannot detect any change at this power").format(
                    clusters=plan.clusters_available, cluster=name
                )
            )
        else:
            lines.append(
                _(
                    "the smallest change {clusters} `{cluster}` per group can detect: {baseline} "
                    "→ {target}{size}"
                ).format(
                    clusters=plan.clusters_available,
                    cluster=name,
                    baseline=fmt_value(units.baseline, units.kind, units.unit),
                    target=fmt_value(plan.detectable_target, units.kind, units.unit),
                    size=_(" (at {size} units per `{cluster}`)").format(
                        size=f"{plan.cluster_size:,.0f}", cluster=name
                    )
                    if plan.power_available is not None and plan.cluster_size
                    else _(" (however many units each `{cluster}` has)").format(cluster=name),
                )
            )
    if plan.power_available is not None:
        lines.append(
            _("power with {clusters} `{cluster}` per group of {size} units: {power}").format(
                clusters=plan.clusters_available,
                cluster=name,
                size=f"{plan.cluster_size:,.0f}" if plan.cluster_size else "—",
                power=f"{plan.power_available:.0%}",
            )
        )
    if plan.days is not None:
        lines.append(
            _("at the daily inflow: {days}").format(
                days=ngettext("{n} day", "{n} days", plan.days).format(n=f"{plan.days:,}")
            )
        )
    if plan.design_effect is not None:
        lines.append(
            _(
                "how the figures were computed: design effect 1 + (M − 1) × ICC = {effect} "
                "(each `{cluster}` counts as {worth} independent units); {baseline} + {pilot} "
                "`{cluster}` by the design effect, plus {extra} per group for a t test on few "
                "clusters (Hemming et al. 2011)"
            ).format(
                effect=f"{plan.design_effect:.2f}",
                cluster=name,
                worth=f"{(plan.cluster_size or 1) / plan.design_effect:,.1f}",
                baseline=plan.clusters_baseline_design_effect,
                pilot=plan.clusters_pilot_design_effect,
                extra=SMALL_SAMPLE_CLUSTERS,
            )
        )
    lines.append(_("the figures for independent units, which the above builds on:"))
    return "\n".join(lines) + "\n"


# A pilot longer than this is not a pilot any more: the plan says what to change.
LONG_PILOT_DAYS = 90


def _plan_text(plan: SamplePlan, design: str) -> str:
    from opsplay.pilot.presentation.words import fmt_value

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
    level = _("significance level {alpha} (two-sided), power {power}, pilot share {split}")
    if plan.family > 1:
        level = _(
            "significance level {alpha} (two-sided: {pilot_alpha} over the {count} metrics "
            "`pilot compare` corrects together), power {power}, pilot share {split}"
        )
    method += _("; ") + level.format(
        alpha=f"{plan.alpha:.4g}",
        pilot_alpha=f"{plan.alpha * plan.family:.4g}",
        count=plan.family,
        power=f"{plan.power:g}",
        split=f"{plan.split:g}",
    )
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
    from opsplay.query.units import generate_sql
    from opsplay.readers import MetricColumns

    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(
            _("playbook `{id}` has no `pilot` section").format(id=visible(playbook.metadata.id))
        )
    wanted = [*pilot.metrics, *pilot.guardrails]
    metrics = [MetricColumns.of(m) for m in playbook.metrics if m.id in wanted]
    period = None if pilot.design == "ab" else pilot.period_column
    from opsplay.pilot.compare import _window, refuse_by_cluster

    refuse_by_cluster(pilot, by)
    window = _window(pilot, period)
    if window is not None and window.derive_period:
        period = None  # before/after come from pilot.date_column (SPEC 7)
    if pilot.cluster and pilot.cluster not in by:
        by = [*by, pilot.cluster]  # per (arm, cluster[, period][, segment]) statistics (SPEC 11)
    try:
        if db is None:
            return generate_sql(metrics, table, pilot.arm_column, period, by, dialect, window)  # type: ignore[arg-type]
        from opsplay.query.units import sql_for_plan
        from opsplay.readers import ReadOptions
        from opsplay.readers.chunks import Progress
        from opsplay.readers.units import UnitsReader

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
