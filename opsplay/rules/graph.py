"""OPS207–OPS208: the node graph starts at the first node (and at every `entry: true` or
scheduled node), reaches all, loops only by retry."""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.rules import Path, PlaybookData, Report, ident, rule


def successors(pb: PlaybookData) -> dict[str, list[tuple[str, Path]]]:
    """Each node's normal successors (explicit `next`, else the following node), with edge paths."""
    order = [
        (i, node_id)
        for i, node in pb.entries("nodes")
        if (node_id := ident(node.get("id"))) is not None
    ]
    edges: dict[str, list[tuple[str, Path]]] = {}
    for position, (i, node_id) in enumerate(order):
        following = pb.get("nodes", i, "next")
        if isinstance(following, list):
            edges[node_id] = [
                (target, ("nodes", i, "next", j))
                for j, value in enumerate(following)
                if (target := ident(value)) is not None
            ]
        elif position + 1 < len(order):
            edges[node_id] = [(order[position + 1][1], ("nodes", i))]
        else:
            edges[node_id] = []
    return edges


def retry_edges(pb: PlaybookData) -> dict[str, list[str]]:
    """node id → its `fallback.goto` targets (a node may have several fallbacks)."""
    edges: dict[str, list[str]] = {}
    for i, node in pb.entries("nodes"):
        node_id = ident(node.get("id"))
        for _path, fallback in pb.fallbacks(i):
            goto = ident(fallback.get("goto"))
            if node_id is not None and goto is not None:
                edges.setdefault(node_id, []).append(goto)
    return edges


@rule("OPS207")
def every_node_reachable(pb: PlaybookData, report: Report) -> None:
    """Every node is reachable from the first one (or a scheduled node) through next, default
    next or fallback.goto."""
    edges, retries = successors(pb), retry_edges(pb)
    if not edges:
        return
    start = next(iter(edges))
    # A scheduled node starts on its own clock (SPEC 8), and `entry: true` marks another
    # entry point (an incoming 报警 beside a scheduled 巡检, SPEC 12): both start the process.
    scheduled = [
        node_id
        for _, node in pb.entries("nodes")
        if node.get("schedule") is not None and (node_id := ident(node.get("id"))) in edges
    ]
    entries = [
        node_id
        for _, node in pb.entries("nodes")
        if node.get("entry") is True and (node_id := ident(node.get("id"))) in edges
    ]
    reached, queue = {start, *scheduled, *entries}, [start, *scheduled, *entries]
    while queue:
        current = queue.pop()
        targets = [target for target, _path in edges.get(current, [])]
        targets += retries.get(current, [])
        for target in targets:
            if target in edges and target not in reached:
                reached.add(target)
                queue.append(target)
    # each entry once: the first node may be marked `entry: true` as well
    starts = list(dict.fromkeys([start, *entries]))
    for i, node in pb.entries("nodes"):
        node_id = ident(node.get("id"))
        if node_id is not None and node_id not in reached and entries:
            report(
                ("nodes", i),
                _(
                    "node `{node}` cannot be reached from any entry node ({entries}); add it "
                    "to a `next` list or a `fallback.goto`, mark it `entry: true` if the "
                    "process can start there, or remove it"
                ).format(node=node_id, entries=_(", ").join(starts)),
            )
        elif node_id is not None and node_id not in reached:
            report(
                ("nodes", i),
                _(
                    "node `{node}` cannot be reached from the first node `{start}`; "
                    "add it to a `next` list or a `fallback.goto`, mark it `entry: true` if "
                    "the process can start there, or remove it"
                ).format(node=node_id, start=start),
            )


@rule("OPS208")
def loops_only_by_retry(pb: PlaybookData, report: Report) -> None:
    """A cycle through `next` edges alone is an error; a retry loop uses fallback.goto."""
    edges = successors(pb)
    state: dict[str, str] = {}  # "active" while on the depth-first path, then "done"
    for root in edges:
        if root in state:
            continue
        # An explicit stack, not recursion: a process may have thousands of nodes.
        trail = [root]
        pending = [iter(edges.get(root, []))]
        state[root] = "active"
        while pending:
            node_id = trail[-1]
            step = next(pending[-1], None)
            if step is None:
                state[node_id] = "done"
                trail.pop()
                pending.pop()
                continue
            target, path = step
            if state.get(target) == "active":
                loop = " → ".join([*trail[trail.index(target) :], target])
                report(
                    path,
                    _(
                        "`next` of `{node}` loops back to `{target}` ({loop}) without a "
                        "fallback.goto; make the retry explicit with `fallback: {{goto: {target}}}` "
                        "or end the branch with `next: []`"
                    ).format(node=node_id, target=target, loop=loop),
                )
            elif target in edges and target not in state:
                state[target] = "active"
                trail.append(target)
                pending.append(iter(edges.get(target, [])))
