"""OPS315, OPS318: a metric's `pre_column` (CUPED) and `pilot.sequential` where they hold (SPEC 11)."""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.model.aliases import canonical
from opsplay.rules import PlaybookData, Report, ident, rule


@rule("OPS315")
def pre_column_fits(pb: PlaybookData, report: Report) -> None:
    """`pre_column` only on proportion and mean metrics, and not the metric's own column."""
    for i, metric in pb.entries("metrics"):
        pre = metric.get("pre_column")
        if pre is None:
            continue
        kind = metric.get("kind")
        kind = canonical("kind", kind) if isinstance(kind, str) else kind
        if kind == "ratio":
            report(
                ("metrics", i, "pre_column"),
                _(
                    "`{metric}` is a ratio metric; the before-period adjustment (pre_column) "
                    "works for proportion and mean metrics only. Remove `pre_column`, or "
                    "measure the metric per unit (a mean) to use it"
                ).format(metric=ident(metric.get("id")) or i),
            )
        elif isinstance(pre, str) and pre == metric.get("column"):
            report(
                ("metrics", i, "pre_column"),
                _(
                    "`pre_column` names the metric's own column `{column}`; name the column "
                    "holding the same metric per unit before the pilot"
                ).format(column=pre),
            )


@rule("OPS318")
def sequential_fits_the_design(pb: PlaybookData, report: Report) -> None:
    """`pilot.sequential: true` only where the sequential test holds (ab pilots of units)."""
    if pb.get("pilot", "sequential") is not True:
        return
    design = pb.get("pilot", "design")
    design = canonical("design", design) if isinstance(design, str) else design
    if pb.get("pilot", "cluster"):
        why = _("a clustered pilot (pilot.cluster): its tests count clusters")
    elif design in ("did", "before_after"):
        why = _("a {design} pilot: its before period is measured once").format(design=design)
    else:
        return
    report(
        ("pilot", "sequential"),
        _(
            "`pilot.sequential: true` does not apply to {why}, so `pilot compare` refuses it; "
            "remove it and judge the pilot once, at the end of its period"
        ).format(why=why),
    )
