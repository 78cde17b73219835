"""OPS316, OPS511: a pilot assigned per cluster (`pilot.cluster`, SPEC 11) that can be tested."""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.model.aliases import canonical
from opsplay.rules import PlaybookData, Report, rule


@rule("OPS316")
def cluster_is_its_own_column(pb: PlaybookData, report: Report) -> None:
    """`pilot.cluster` is not the column of the groups, the periods or the dates."""
    cluster = pb.get("pilot", "cluster")
    if not isinstance(cluster, str):
        return
    roles = {
        "arm_column": pb.get("pilot", "arm_column") or "group",
        "period_column": pb.get("pilot", "period_column") or "period",
        "date_column": pb.get("pilot", "date_column"),
    }
    for field, column in roles.items():
        if column == cluster:
            report(
                ("pilot", "cluster"),
                _(
                    "`pilot.cluster` is `{column}`, the same column as `pilot.{field}`: each "
                    "group would then be a single cluster, with nothing to test it against. "
                    "Keep the column of the groups (试点/对照) in `pilot.arm_column` and name the "
                    "column of the regions or stores they were drawn by (such as 区域) in "
                    "`pilot.cluster`"
                ).format(column=column, field=field),
            )


@rule("OPS511")
def clustered_pilot_has_a_comparison(pb: PlaybookData, report: Report) -> None:
    """A clustered before/after pilot has no comparison clusters: nothing can be tested."""
    design = pb.get("pilot", "design")
    design = canonical("design", design) if isinstance(design, str) else design
    if pb.get("pilot", "cluster") is not None and design == "before_after":
        report(
            ("pilot", "design"),
            _(
                "a before/after pilot of `{cluster}` has no `{cluster}` without the change to "
                "compare with, so no result can be told apart from other changes in the same "
                "period. Keep some `{cluster}` values on the old process and write `design: did` "
                "(双重差分); with one pilot `{cluster}`, at least 19 comparison values make a "
                "test possible"
            ).format(cluster=pb.get("pilot", "cluster")),
        )
