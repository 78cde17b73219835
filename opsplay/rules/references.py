"""OPS201–OPS205: every reference resolves and ids are unique."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opsplay.i18n import _
from opsplay.rules import Path, PlaybookData, Report, did_you_mean, ident, rule

ID_SECTIONS = ("roles", "levels", "metrics", "scenarios", "nodes", "alerts")


@rule("OPS201")
def owners_are_roles(pb: PlaybookData, report: Report) -> None:
    """metadata.owner, node owners and alert owners name declared roles."""
    roles = pb.ids("roles")
    candidates: list[tuple[Path, Any]] = [(("metadata", "owner"), pb.get("metadata", "owner"))]
    candidates += [(("nodes", i, "owner"), node.get("owner")) for i, node in pb.entries("nodes")]
    candidates += [
        (("alerts", i, "owner"), alert.get("owner")) for i, alert in pb.entries("alerts")
    ]
    names = {
        role["name"]: role.get("id")
        for _index, role in pb.entries("roles")
        if isinstance(role.get("name"), str)
    }
    for path, value in candidates:
        owner = ident(value)
        if owner is None or owner in roles:
            continue
        if isinstance(names.get(owner), str):  # the role's name written where its id belongs
            report(
                path,
                _("`{owner}` is the name of role `{role}`; write `owner: {role}`").format(
                    owner=owner, role=names[owner]
                ),
            )
            continue
        report(
            path,
            _(
                "owner `{owner}` is not a role id; add it under `roles` or use an existing role id"
            ).format(owner=owner)
            + did_you_mean(owner, roles),
        )


def _metric_references(pb: PlaybookData) -> Iterator[tuple[Path, Any]]:
    yield ("goal", "metric"), pb.get("goal", "metric")
    for i, _scenario in pb.entries("scenarios"):
        for j, expected in pb.entries("scenarios", i, "expected"):
            yield ("scenarios", i, "expected", j, "metric"), expected.get("metric")
    for section in ("metrics", "guardrails"):
        listed = pb.get("pilot", section)
        for j, metric in enumerate(listed if isinstance(listed, list) else []):
            yield ("pilot", section, j), metric
    for i, finding in pb.entries("review", "findings"):
        yield ("review", "findings", i, "metric"), finding.get("metric")


@rule("OPS202")
def metric_references_resolve(pb: PlaybookData, report: Report) -> None:
    """Goal, scenario expectations, pilot metrics and review findings name declared metrics."""
    metrics = pb.ids("metrics")
    for path, value in _metric_references(pb):
        metric = ident(value)
        if metric is not None and metric not in metrics:
            report(
                path,
                _(
                    "metric `{metric}` is not a metric id; "
                    "declare it under `metrics` or use an existing id"
                ).format(metric=metric)
                + did_you_mean(metric, metrics),
            )


@rule("OPS203")
def node_references_resolve(pb: PlaybookData, report: Report) -> None:
    """`next` and `fallback.goto` name declared nodes."""
    nodes = pb.ids("nodes")
    for i, node in pb.entries("nodes"):
        following = node.get("next")
        for j, value in enumerate(following if isinstance(following, list) else []):
            target = ident(value)
            if target is not None and target not in nodes:
                report(
                    ("nodes", i, "next", j),
                    _("`next` names `{target}`, which is not a node id").format(target=target)
                    + did_you_mean(target, nodes),
                )
        for path, fallback in pb.fallbacks(i):
            goto = ident(fallback.get("goto"))
            if goto is not None and goto not in nodes:
                report(
                    (*path, "goto"),
                    _("`fallback.goto` names `{target}`, which is not a node id").format(
                        target=goto
                    )
                    + did_you_mean(goto, nodes),
                )


@rule("OPS204")
def alerts_name_a_target(pb: PlaybookData, report: Report) -> None:
    """Each alert watches exactly one existing node (with a measure) or metric (without)."""
    nodes, metrics = pb.ids("nodes"), pb.ids("metrics")
    for i, alert in pb.entries("alerts"):
        node, metric, measure = (
            ident(alert.get("node")),
            ident(alert.get("metric")),
            alert.get("measure"),
        )
        path: Path = ("alerts", i)
        if node is not None and metric is not None:
            report(
                path,
                _(
                    "an alert watches either a `node` (with `measure`) or a `metric`, not both; "
                    "split it into two alerts"
                ),
            )
        elif node is None and metric is None:
            report(
                path,
                _(
                    "the alert names nothing to watch; add `node:` with `measure:` "
                    "(e.g. completion_rate) or `metric:` with a metric id"
                ),
            )
        elif node is not None:
            if node not in nodes:
                report(
                    (*path, "node"),
                    _("node `{node}` is not a node id").format(node=node)
                    + did_you_mean(node, nodes),
                )
            if measure is None:
                report(
                    path,
                    _(
                        "a node alert needs `measure:` (completion_rate, fallback_rate, "
                        "failure_rate, timeout_rate, sla_compliance, p50_s, p95_s or "
                        "schedule_adherence)"
                    ),
                )
        else:
            if metric is not None and metric not in metrics:
                report(
                    (*path, "metric"),
                    _("metric `{metric}` is not a metric id").format(metric=metric)
                    + did_you_mean(metric, metrics),
                )
            if measure is not None:
                report(
                    (*path, "measure"),
                    _(
                        "a metric alert compares the metric's value; remove `measure:` "
                        "(measures belong to node alerts)"
                    ),
                    key=True,
                )


@rule("OPS205")
def ids_are_unique(pb: PlaybookData, report: Report) -> None:
    """Ids are unique within roles, metrics, scenarios, nodes and alerts."""
    for section in ID_SECTIONS:
        seen: dict[str, int] = {}
        for i, item in pb.entries(section):
            item_id = ident(item.get("id"))
            if item_id is None:
                continue
            if item_id in seen:
                report(
                    (section, i, "id"),
                    _(
                        "id `{id}` is already used by {section}[{index}]; give each entry its own id"
                    ).format(id=item_id, section=section, index=seen[item_id]),
                )
            else:
                seen[item_id] = i
