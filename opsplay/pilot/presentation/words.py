"""Pilot results in words, from the message catalogue: labels, verdicts, and one plain
sentence per metric that an operations lead understands ("试点组次日留存率比对照组高 8.6%（真实
提升很可能在 +2.9% 到 +14.2% 之间）；若流程改动毫无作用，出现这么大差异的概率约 0.3%"). Statistician's figures (p-values, intervals, method names) are
worded for the method section, kept apart.

Every function speaks the message language: callers wrap them in
`opsplay.i18n.language(report.lang)`, so pilot results follow the document language.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from opsplay.i18n import N_, _, ngettext
from opsplay.text import fmt_p, p_is, visible  # fmt_p, p_is: said once, for every p

if TYPE_CHECKING:
    from opsplay.pilot.judging import MetricResult

LABELS = {
    "segment": N_("segment"),
    "metric": N_("metric"),
    "role": N_("type"),
    "primary": N_("primary metric"),
    "guardrail": N_("guardrail"),
    "baseline": N_("control group"),
    "pilot": N_("pilot group"),
    "before": N_("before the change"),
    "after": N_("after the change"),
    "abs_diff": N_("change"),
    "rel_diff": N_("deviation rate"),
    "ci_rel": N_("interval of the deviation rate"),
    "p_value": N_("p-value"),
    "p_adjusted": N_("adjusted p-value"),
    "target": N_("target"),
    "attainment": N_("attainment"),
    "verdict": N_("verdict"),
    "overall": N_("all users"),
    "node": N_("node"),
    "count": N_("runs"),
    "completion_rate": N_("completion rate"),
    "fallback_rate": N_("fallback rate"),
    "failure_rate": N_("failure rate"),
    "timeout_rate": N_("timeout rate"),
    "skipped_rate": N_("skipped rate"),
    "sla_compliance": N_("on-time rate"),
    "schedule_adherence": N_("runs on schedule"),  # SPEC 8: 按时执行率
    "p50_s": N_("median duration"),
    "p95_s": N_("95th percentile duration"),
    "sla": N_("time limit"),
    "alerts": N_("alerts fired"),
    "no_alerts": N_("no alert fired"),
    "warnings": N_("warnings"),
    "nodes": N_("node execution"),
    "design": N_("design"),
    "method": N_("how the figures were computed"),
    "srm": N_("sample ratio check"),
    "data": N_("data"),
}

# The comparison in words: people read "告警条件为低于 90.0%", not "< 90.0%".
OPS = {"<": N_("below"), "<=": N_("at most"), ">": N_("above"), ">=": N_("at least")}

VERDICTS = {
    "met": N_("target met"),
    "improved": N_("significantly better"),
    "worse": N_("significantly worse"),
    "no_change": N_("no significant change"),
    "inconclusive": N_("not enough data"),
    "not_testable": N_("cannot be tested with this design"),
    "changed_up": N_("went up (cause not shown)"),
    "changed_down": N_("went down (cause not shown)"),
    "no_change_seen": N_("no clear change"),
}

DESIGNS = {
    "ab": N_("randomised A/B test"),
    "before_after": N_("before/after comparison (not causal)"),
    "did": N_("difference in differences"),
}

SHAPES = {
    "units": N_("unit rows"),
    "stats": N_("sufficient statistics"),
    "summary": N_("dashboard summary"),
    "events": N_("event log"),
}


def label(key: str) -> str:
    """A column, field or section label."""
    return _(LABELS[key])


def verdict_word(verdict: str) -> str:
    """The verdict in words."""
    return _(VERDICTS[verdict])


def row_verdict(row: MetricResult) -> str:
    """The verdict of a row; a dashboard value that cannot be tested says so, not `not enough data`."""
    if row.verdict == "inconclusive" and row.comparison.method == "point":
        return _("cannot be tested (dashboard values)")
    return verdict_word(row.verdict)


def design_word(design: str, cluster: str | None = None) -> str:
    """The pilot design in words; a clustered pilot names what was assigned (区域, 门店)."""
    if cluster and design == "ab":
        return _("pilot assigned by {cluster} (each {cluster} counts as one unit)").format(
            cluster=visible(cluster)
        )
    if cluster and design == "did":
        return _(
            "difference in differences by {cluster} (each {cluster} counts as one unit)"
        ).format(cluster=visible(cluster))
    return _(DESIGNS[design])


def segment_text(segment: tuple[tuple[str, str], ...]) -> str:
    """`region is 上海` / `region为上海`; `all users` for the overall row."""
    if not segment:
        return label("overall")
    return _("; ").join(
        _("{column} is {value}").format(column=visible(c), value=visible(v)) for c, v in segment
    )


def colon() -> str:
    """The label separator: `: `, a full-width `：` in Chinese."""
    return _(": ")


def fmt_value(value: float | None, kind: str, unit: str | None = None) -> str:
    """35.0% for proportions; 4.38分, 156.32元, 12,345元, 0.01234 (and the unit) otherwise."""
    if value is None:
        return "—"
    if kind == "proportion":
        return f"{value:.1%}"
    return _number(value) + _unit(unit)


def _number(value: float, sign: str = "") -> str:
    """Two decimals between 1 and 1,000, so two arms read alike (4.38 beside 4.57, not 4.566)."""
    size = abs(value)
    if size >= 1000:
        return f"{value:{sign},.0f}"
    if size >= 1 or size == 0:
        return f"{value:{sign},.2f}"
    return f"{value:{sign}.3g}"


def _unit(unit: str | None) -> str:
    """元 and 分 follow the number directly; Latin units (CNY, min) after a space."""
    if not unit:
        return ""
    unit = visible(unit)
    return unit if not unit[0].isascii() else f" {unit}"


def fmt_abs(value: float | None, kind: str, unit: str | None = None) -> str:
    """+3.0pp for proportions, +1.23 otherwise."""
    if value is None:
        return "—"
    if math.isinf(value):  # an interval's side that no effect however large reaches
        return _unbounded(value)
    if kind == "proportion":
        return _("{change} pp").format(change=f"{value * 100:+.1f}")
    return _number(value, "+") + _unit(unit)


def fmt_rel(value: float | None) -> str:
    """+8.6%."""
    if value is not None and math.isinf(value):
        return _unbounded(value)
    return "—" if value is None else f"{value:+.1%}"


def _unbounded(value: float) -> str:
    return _("no upper limit") if value > 0 else _("no lower limit")


def fmt_interval(interval: tuple[float, float] | None) -> str:
    """A relative interval: [+3.1%, +14.1%]."""
    if not interval:
        return "—"
    low, high = interval
    return f"[{fmt_rel(low)}, {fmt_rel(high)}]"


def plain_sentence(row: MetricResult, alpha: float, design: str = "ab") -> str:
    """What the result means, in one sentence for an operations lead (no p, no interval)."""
    c = row.comparison
    name = visible(row.name)
    if c.abs_diff is None:
        return _("{metric}: not enough data to compare the two groups").format(metric=name)
    size = fmt_rel(abs(c.rel_diff)).lstrip("+") if c.rel_diff is not None else None
    if size is None:
        size = fmt_abs(abs(c.abs_diff), row.kind, row.unit).lstrip("+")
    if c.abs_diff == 0:
        change = _("{metric} is the same in the pilot group as in the control group").format(
            metric=name
        )
    elif c.before is not None:
        template = (
            # both groups may rise (or fall): the words say how the pilot group came out
            # against the comparison group's change, not which way either moved
            _(
                "net of the comparison group's change, {metric} in the pilot group came out {size} higher"
            )
            if c.abs_diff > 0
            else _(
                "net of the comparison group's change, {metric} in the pilot group came out {size} lower"
            )
        )
        change = template.format(metric=name, size=size)
    elif design == "before_after":
        template = (
            _("{metric} is higher after the change than before by {size}")
            if c.abs_diff > 0
            else _("{metric} is lower after the change than before by {size}")
        )
        change = template.format(metric=name, size=size)
    else:
        template = (
            _("{metric} in the pilot group is higher than in the control group by {size}")
            if c.abs_diff > 0
            else _("{metric} in the pilot group is lower than in the control group by {size}")
        )
        change = template.format(metric=name, size=size)
    if c.variance_reduction is not None:  # CUPED: the change is not the arm values' difference
        change = _("after adjusting for the before period, {change}").format(change=change)
    change += _likely_range(row)
    if row.verdict in ("changed_up", "changed_down", "no_change_seen"):
        judged = _(
            "{change}; this cannot be told apart from other changes in the same period "
            "(season, campaigns); compare with a region without the change (design: did) to "
            "learn what the change did"
        ).format(change=change)
    elif row.verdict == "not_testable":
        judged = _("{change}; {reason}").format(change=change, reason=untestable_reason(row))
    elif row.verdict in ("met", "improved", "worse", "no_change"):
        judged = _("{change}; {chance}").format(change=change, chance=chance_words(row))
    elif row.verdict == "inconclusive" and c.method == "point" and c.unit == "cluster":
        judged = _(
            "{change}; a summary per group cannot tell whether it is chance in a pilot "
            "assigned by clusters (export one row per cluster and group, with its sample size)"
        ).format(change=change)
    elif row.verdict == "inconclusive" and c.method == "point":
        judged = _(
            "{change}; a dashboard summary cannot tell whether it is chance (export the unit "
            "rows, or the sample size of a proportion)"
        ).format(change=change)
    else:
        judged = _("{change}; too little data to tell whether it is chance").format(change=change)
    if row.verdict in ("not_testable", "changed_up", "changed_down", "no_change_seen"):
        return judged  # attainment beside a result that shows no cause would read as credit
    return judged + _target_words(row)


def _likely_range(row: MetricResult) -> str:
    """` (the true change is likely between +2.9% and +14.2%)`: the interval in words."""
    c = row.comparison
    if c.ci_rel:
        low, high = fmt_rel(c.ci_rel[0]), fmt_rel(c.ci_rel[1])
    elif c.ci_abs:
        low, high = (
            fmt_abs(c.ci_abs[0], row.kind, row.unit),
            fmt_abs(c.ci_abs[1], row.kind, row.unit),
        )
    else:
        return ""
    return _(" (the true change is likely between {low} and {high})").format(low=low, high=high)


def chance_words(row: MetricResult) -> str:
    """What the p-value means: how often a difference this large appears when the change did
    nothing (never "95% sure", which misreads it)."""
    p = row.p_adjusted if row.p_adjusted is not None else row.comparison.p_value
    if p is None:
        return ""
    if nearly_every(p):  # "about 100%" reads as a certainty of something
        sentence = _(
            "if the change had no effect, a difference this large would appear in nearly "
            "every pilot"
        )
    else:
        sentence = _(
            "if the change had no effect, a difference this large would appear in {share} of pilots"
        ).format(share=share_of_pilots(p))
    if corrected(row.p_adjusted, row.comparison.p_value):  # the method line shows the raw p
        sentence = _("{sentence} (after correcting for comparing several metrics)").format(
            sentence=sentence
        )
    if row.comparison.sequential:  # an always-valid p (SPEC 11)
        sentence = _("{sentence}, however often the results are looked at").format(
            sentence=sentence
        )
    if row.verdict == "no_change":
        sentence = _("{sentence}, so it may well be chance").format(sentence=sentence)
    return sentence


def nearly_every(p: float) -> bool:
    """Whether a p-value would be shown as "about 100%" (said as "in nearly every pilot")."""
    return p >= 0.995


def corrected(p_adjusted: float | None, p_value: float | None) -> bool:
    """Whether the sentence's p is a corrected one that differs from the raw p shown in the
    method section (Holm over several metrics)."""
    return p_adjusted is not None and fmt_p(p_adjusted) != fmt_p(p_value)


def share_of_pilots(p: float) -> str:
    """A p-value as a share of pilots, as people say it: about 0.3%, about 21%, less than 0.1%."""
    if p < 0.001:
        return _("less than 0.1%")
    percent = p * 100
    return _("about {percent}").format(
        percent=f"{percent:.1f}%" if percent < 10 else f"{percent:.0f}%"
    )


def untestable_reason(row: MetricResult) -> str:
    """Why a clustered comparison has no test (the warning says which design would have one)."""
    counts = row.comparison.clusters or (0, 0)
    if min(counts) <= 1 and row.comparison.min_p is None:
        return _("with one cluster in a group this cannot be tested")
    return _("with this few clusters no result could count as significant")


def _target_words(row: MetricResult) -> str:
    if row.target is None:
        return ""
    target = fmt_value(row.target, row.kind, row.unit)
    if row.verdict == "met":
        return _(" (target {target} reached)").format(target=target)
    if row.attainment is not None:
        return _(" (target {target}, {attainment} of the way there)").format(
            target=target, attainment=f"{row.attainment:.0%}"
        )
    return _(" (target {target})").format(target=target)


def method_words(row: MetricResult, alpha: float) -> str:
    """The statistician's figures of one metric, for the method section."""
    c = row.comparison
    parts = []
    # a segment's interval at its corrected level (Holm's step): 99.4%, not 95%
    confidence = f"{1 - alpha:.0%}" if c.alpha >= alpha else f"{1 - c.alpha:.1%}"
    if c.ci_rel:
        parts.append(
            _("{confidence} interval of the deviation rate {interval}").format(
                confidence=confidence, interval=fmt_interval(c.ci_rel)
            )
        )
    elif c.ci_abs:
        parts.append(
            _("{confidence} interval of the change {low} to {high}").format(
                confidence=confidence,
                low=fmt_abs(c.ci_abs[0], row.kind, row.unit),
                high=fmt_abs(c.ci_abs[1], row.kind, row.unit),
            )
        )
    if c.alpha < alpha and (c.ci_rel or c.ci_abs):
        parts.append(
            _("interval widened for the segments compared, as the verdict is corrected")
            if row.segment
            else _("interval widened for the metrics compared, as the verdict is corrected")
        )
    if c.p_value is not None:
        parts.append(p_is(c.p_value))
    if row.p_adjusted is not None and fmt_p(row.p_adjusted) != fmt_p(c.p_value):
        parts.append(_("adjusted {p}").format(p=p_is(row.p_adjusted)))
    if c.variance_reduction is not None:
        parts.append(
            _("before-period adjustment: variance {reduction} lower").format(
                reduction=f"{c.variance_reduction:.0%}"
            )
        )
    if c.clusters is not None:
        parts.append(
            _("{baseline} + {pilot} clusters").format(baseline=c.clusters[0], pilot=c.clusters[1])
        )
    if c.min_p is not None:
        parts.append(_("smallest p this design can give {p}").format(p=fmt_p(c.min_p)))
    if c.p_value is not None or c.method in ("not-testable", "before-after"):
        parts.append(method_name(c.method))
    else:
        parts.append(_("no test"))
    if c.interval_method == "fieller":  # stats.FIELLER
        parts.append(
            _("deviation rate by the test of the change (Fieller's interval)")
            if c.ci_rel
            else _("deviation rate without a likely range (Fieller's interval has no ends)")
        )
    return _("; ").join(parts)


def method_name(method: str) -> str:
    """The test a comparison used, in words."""
    names: dict[str, Any] = {
        "welch-t": N_("Welch t-test"),
        "z": N_("z-test"),
        "z-pooled": N_("z-test with pooled variance"),
        "did-normal": N_("difference in differences, normal approximation"),
        "point": N_("no test (dashboard values)"),
        "sequential": N_("sequential test (valid at every look)"),
        "cluster-welch-t": N_("clusters as units: ratio of cluster totals, Welch t-test"),
        "cluster-did": N_("clusters as units: difference in differences"),
        "randomisation": N_(
            "clusters as units: randomisation test over re-assignments of clusters (interval: "
            "the changes this test does not reject)"
        ),
        "placebo-in-space": N_(
            "placebo in space: the pilot cluster's change ranked among every comparison cluster's"
        ),
        "not-testable": N_("no test (one cluster in a group)"),
        "before-after": N_("no test (before/after without a comparison group)"),
    }
    return _(names[method]) if method in names else method


def not_enough_words(alert: Any, value: str, threshold: str, watched: str) -> str:
    """The not-enough-data line worded as the alert's condition, never as a fact (告警条件为高于
    12.0%（当前 9.7%）), then what the value stands on: the pilot group's units, a node's rows."""
    n = alert.n if alert.n is not None else 0
    if alert.measure:  # a node alert: rows of the execution log
        basis = ngettext("{n} execution record", "{n} execution records", n).format(n=n)
    else:  # a metric alert: the pilot group's units
        basis = ngettext("{n} unit of the pilot group", "{n} units of the pilot group", n).format(
            n=n
        )
    return _(
        "not enough data: {watched} — the alert condition is {op} {threshold} (now {value}); "
        "it stands on only {basis}, fewer than its min_n {min_n}; neither fired nor passed"
    ).format(
        watched=watched,
        op=_(OPS[alert.op]) if alert.op in OPS else alert.op,
        threshold=threshold,
        value=value,
        basis=basis,
        min_n=alert.min_n,
    )
