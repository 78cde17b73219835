"""OPS508–OPS510: the method's cautions as warnings, limits in `[tool.opsplay.hygiene]`.

"避免为流程而流程" (no process for its own sake): too many nodes, or too many hand-overs
between owners along the main path. "数据驱动与用户反馈并重" (data and user feedback
alike): a piloted or live playbook names its qualitative feedback channels.
"""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, ident, rule
from opsplay.rules.graph import successors


@rule("OPS508")
def few_enough_nodes(pb: PlaybookData, report: Report) -> None:
    """A process has at most `max_nodes` nodes."""
    count, limit = len(list(pb.entries("nodes"))), pb.hygiene.max_nodes
    if count > limit:
        report(
            ("nodes",),
            _(
                "the process has {count} nodes, more than {limit} (避免为流程而流程); merge "
                "steps one role does in one go, move checklists into `standard`, or raise "
                "`max_nodes` under [tool.opsplay.hygiene]"
            ).format(count=count, limit=limit),
            key=True,
        )


def main_path(pb: PlaybookData) -> list[int]:
    """Indexes of the nodes along the main path: from the first node, each first successor."""
    index = {node_id: i for i, node in pb.entries("nodes") if (node_id := ident(node.get("id")))}
    edges = successors(pb)
    path: list[int] = []
    current = next(iter(edges), None)
    while current is not None and current in index and index[current] not in path:
        path.append(index[current])
        following = edges.get(current, [])
        current = following[0][0] if following else None
    return path


@rule("OPS509")
def few_enough_handovers(pb: PlaybookData, report: Report) -> None:
    """The main path changes owner at most `max_handovers` times."""
    limit = pb.hygiene.max_handovers
    owners = [(i, ident(pb.get("nodes", i, "owner"))) for i in main_path(pb)]
    handovers = [
        i for (_, before), (i, after) in zip(owners, owners[1:], strict=False) if before != after
    ]
    if len(handovers) > limit:
        chain = " → ".join(str(owner) for _, owner in owners)
        report(
            ("nodes", handovers[limit]),
            _(
                "the main path hands over between owners {count} times, more than {limit} "
                "(避免为流程而流程): {chain}; let one role do consecutive steps, or raise "
                "`max_handovers` under [tool.opsplay.hygiene]"
            ).format(count=len(handovers), limit=limit, chain=chain),
        )


@rule("OPS510")
def feedback_beside_data(pb: PlaybookData, report: Report) -> None:
    """A pilot, rollout or active playbook lists qualitative feedback channels."""
    status = pb.get("metadata", "status")
    if status not in ("pilot", "rollout", "active") or pb.get("pilot", "feedback"):
        return
    if pb.get("pilot") is None and status == "pilot":
        return  # OPS505 asks for the whole pilot section first
    where: tuple[str | int, ...] = (
        ("pilot",) if pb.get("pilot") is not None else ("metadata", "status")
    )
    # the status as the author wrote it (`推广`), not the English value it is read as
    metadata = pb.loaded.data.get("metadata") if isinstance(pb.loaded.data, dict) else None
    written = metadata.get("status") if isinstance(metadata, dict) else None
    report(
        where,
        _(
            "a playbook in status `{status}` needs `pilot.feedback` (数据驱动与用户反馈并重): list the "
            "qualitative channels beside the metrics, e.g. `feedback: [用户访谈, 满意度问卷, "
            "工单分析]`"
        ).format(status=written if isinstance(written, str) and written.strip() else status),
        key=where == ("pilot",),
    )
