"""Compare two parsed playbooks section by section and list what changed, unclassified.

Items are matched by id. Reordering, formatting, comments and whitespace inside text
are not changes: lists of text compare as sets, text compares with runs of whitespace
collapsed, time limits compare by length. An id that disappears while an item with the
same name appears under a new id is one rename, and references to it (owners, next,
goto, alert targets, goal metric…) follow the rename instead of reporting a cascade.

Floor: the differ, above the section comparers. May import the model and `opsplay.diff`'s
`changes`, `values`, `sections` and `process`; these take the `Differ` protocol
(`opsplay.diff.differ`) that `Comparison` satisfies, and never import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opsplay.diff import process, sections
from opsplay.diff.changes import Change, format_numbers
from opsplay.diff.values import Renames, norm
from opsplay.diff.values import items as _items
from opsplay.diff.values import number as _number
from opsplay.diff.values import set_delta as _set_delta
from opsplay.model.playbook import Alert, Node, Playbook

_SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


def compare(old: Playbook, new: Playbook, *, realtime_seconds: float = 1.0) -> list[Change]:
    """Every semantic change from `old` to `new` (levels not yet assigned)."""
    return Comparison(old, new, realtime_seconds).run()


class Comparison:
    """One comparison: the two playbooks, the renames found, and the changes collected.

    It is the `opsplay.diff.differ.Differ` the section comparers record on."""

    def __init__(self, old: Playbook, new: Playbook, realtime_seconds: float) -> None:
        self.old, self.new, self.realtime = old, new, realtime_seconds
        self.changes: list[Change] = []
        self.roles = _renames(old.roles, new.roles, _name)
        self.metrics = _renames(old.metrics, new.metrics, _name)
        self.nodes = _renames(old.nodes, new.nodes, _name)
        self.scenarios = _renames(old.scenarios, new.scenarios, _name)
        self.alerts = _renames(old.alerts, new.alerts, _alert_condition)

    def run(self) -> list[Change]:
        """Compare every section, in the order of the playbook, and return the changes."""
        sections.compare_metadata(self)
        sections.compare_goal(self)
        sections.compare_scope(self)
        self._list("roles", "role", self.old.roles, self.new.roles, self.roles, self._role)
        self._list(
            "metrics", "metric", self.old.metrics, self.new.metrics, self.metrics, self._metric
        )
        self._list(
            "scenarios",
            "scenario",
            self.old.scenarios,
            self.new.scenarios,
            self.scenarios,
            self._scenario,
        )
        process.compare_levels(self)
        self._list("nodes", "node", self.old.nodes, self.new.nodes, self.nodes, self._node)
        self._flow()
        self._list("alerts", "alert", self.old.alerts, self.new.alerts, self.alerts, self._alert)
        sections.compare_pilot(self)
        sections.compare_rollout(self)
        sections.compare_review(self)
        return self.changes

    # helpers -------------------------------------------------------------------------------

    def add(self, kind: str, section: str, **details: Any) -> None:
        """Record one change."""
        self.changes.append(Change(kind, section, **details))

    def scalar(
        self, kind: str, section: str, field: str, old: Any, new: Any, **details: Any
    ) -> None:
        """Record a change of one value when it differs once whitespace and dates are normalised."""
        if norm(old) != norm(new):
            self.add(kind, section, field=field, old=norm(old), new=norm(new), **details)

    def items(
        self,
        kind: str,
        section: str,
        field: str,
        old: Iterable[Any] | None,
        new: Iterable[Any] | None,
        **details: Any,
    ) -> None:
        """Record the items added to and removed from a list compared as a set."""
        added, removed = _set_delta(_items(old), _items(new))
        if added or removed:
            self.add(kind, section, field=field, added=added, removed=removed, **details)

    def _list(
        self,
        section: str,
        noun: str,
        old: Sequence[Any],
        new: Sequence[Any],
        renames: Renames,
        compare_item: Callable[[Any, Any, dict[str, Any]], None],
    ) -> None:
        old_by_id = {item.id: item for item in old}
        new_ids = {item.id for item in new}
        matched_old = {renames.get(i, i): i for i in old_by_id}
        for item in old:
            if item.id not in new_ids and item.id not in renames:
                self.add(f"{noun}.removed", section, item=item.id, name=_name(item))
        for item in new:
            old_id = matched_old.get(item.id)
            if old_id is None:
                self.add(
                    f"{noun}.added",
                    section,
                    item=item.id,
                    name=_name(item),
                    new=_alert_condition(item) if noun == "alert" else None,
                )
                continue
            context = {"item": item.id, "name": _name(item)}
            if old_id != item.id:
                self.add(f"{noun}.renamed", section, old=old_id, new=item.id, **context)
            compare_item(old_by_id[old_id], item, context)

    # sections ------------------------------------------------------------------------------

    def _role(self, old: Any, new: Any, context: dict[str, Any]) -> None:
        self.scalar("role.text", "roles", "name", old.name, new.name, **context)
        self.items("role.text", "roles", "duties", old.duties, new.duties, **context)

    def _metric(self, old: Any, new: Any, context: dict[str, Any]) -> None:
        self.scalar("metric.name", "metrics", "name", old.name, new.name, **context)
        for field in ("kind", "column", "numerator", "denominator", "better", "unit"):
            self.scalar(
                "metric.definition",
                "metrics",
                field,
                getattr(old, field, None),
                getattr(new, field, None),
                **context,
            )
        self.scalar("metric.weight", "metrics", "weight", old.weight, new.weight, **context)

    def _scenario(self, old: Any, new: Any, context: dict[str, Any]) -> None:
        for field in ("name", "persona", "trigger", "behavior", "defect", "demand"):
            self.scalar(
                "scenario.text",
                "scenarios",
                field,
                getattr(old, field),
                getattr(new, field),
                **context,
            )
        old_expected = {(self.metrics.get(e.metric, e.metric), e.op): e.value for e in old.expected}
        new_expected = {(e.metric, e.op): e.value for e in new.expected}
        for (metric, op), value in new_expected.items():
            if (metric, op) in old_expected and old_expected[(metric, op)] != value:
                before, after = format_numbers(old_expected[(metric, op)], value)
                self.add(
                    "scenario.expected",
                    "scenarios",
                    field="expected",
                    old=f"{metric} {op} {before}",
                    new=f"{metric} {op} {after}",
                    **context,
                )
        added = tuple(
            f"{m} {op} {_number(v)}"
            for (m, op), v in new_expected.items()
            if (m, op) not in old_expected
        )
        removed = tuple(
            f"{m} {op} {_number(v)}"
            for (m, op), v in old_expected.items()
            if (m, op) not in new_expected
        )
        if added or removed:
            self.add(
                "scenario.expected",
                "scenarios",
                field="expected",
                added=added,
                removed=removed,
                **context,
            )

    def _node(self, old: Node, new: Node, context: dict[str, Any]) -> None:
        self.scalar(
            "node.owner",
            "nodes",
            "owner",
            self.roles.get(old.owner, old.owner),
            new.owner,
            **context,
        )
        if process.per_level(old.sla) or process.per_level(new.sla):
            process.compare_sla(self, old, new, context)
        else:
            self._sla(old, new, context)
        if isinstance(old.fallback, list) or isinstance(new.fallback, list):
            process.compare_fallbacks(self, old, new, context)
        else:
            self._fallback(old, new, context)
        process.compare_escalation(self, old, new, context)
        process.compare_raci(self, old, new, context)
        process.compare_schedule(self, old, new, context)
        for field in ("name", "stage", "standard"):
            self.scalar(
                "node.text", "nodes", field, getattr(old, field), getattr(new, field), **context
            )
        for field in ("inputs", "outputs", "tools"):
            self.items(
                "node.items", "nodes", field, getattr(old, field), getattr(new, field), **context
            )

    def _sla(self, old: Node, new: Node, context: dict[str, Any]) -> None:
        if old.sla is None and new.sla is None:
            return
        if old.sla is None or new.sla is None:
            kind = "node.sla.tightened" if old.sla is None else "node.sla.loosened"
            self.add(
                kind,
                "nodes",
                field="sla",
                old=old.sla and old.sla.text,
                new=new.sla and new.sla.text,
                note="added" if old.sla is None else "removed",
                **context,
            )
            return
        before, after = old.sla.resolve(self.realtime), new.sla.resolve(self.realtime)
        if before != after:
            tighter = after < before
            self.add(
                "node.sla.tightened" if tighter else "node.sla.loosened",
                "nodes",
                field="sla",
                old=old.sla.text,
                new=new.sla.text,
                note="tightened" if tighter else "loosened",
                **context,
            )

    def _fallback(self, old: Node, new: Node, context: dict[str, Any]) -> None:
        before, after = old.fallback, new.fallback
        if before is None and after is None:
            return
        if before is None or after is None:
            kind = "node.fallback.added" if before is None else "node.fallback.removed"
            self.add(
                kind,
                "nodes",
                field="fallback",
                old=before and norm(before.action),
                new=after and norm(after.action),
                **context,
            )
            return
        added, removed = _set_delta(_items(before.when), _items(after.when))
        if removed or added:
            self.add(
                "node.fallback.narrowed" if removed else "node.fallback.widened",
                "nodes",
                field="when",
                old=tuple(before.when),
                new=tuple(after.when),
                added=added,
                removed=removed,
                note="narrowed" if removed else "widened",
                **context,
            )
        self.scalar(
            "node.fallback.goto",
            "nodes",
            "goto",
            self.nodes.get(before.goto or "", before.goto),
            after.goto,
            **context,
        )
        self.scalar(
            "node.fallback.action", "nodes", "action", before.action, after.action, **context
        )

    def _flow(self) -> None:
        old_start = self.nodes.get(self.old.nodes[0].id, self.old.nodes[0].id)
        if old_start != self.new.nodes[0].id:
            self.add("node.flow", "nodes", field="start", old=old_start, new=self.new.nodes[0].id)
        before = {
            self.nodes.get(k, k): tuple(self.nodes.get(n, n) for n in v)
            for k, v in _successors(self.old.nodes).items()
        }
        for node_id, after in _successors(self.new.nodes).items():
            if node_id in before and set(before[node_id]) != set(after):
                node = self.new.node(node_id)
                self.add(
                    "node.flow",
                    "nodes",
                    item=node_id,
                    name=node and node.name,
                    field="next",
                    old=before[node_id],
                    new=after,
                )

    def _alert(self, old: Alert, new: Alert, context: dict[str, Any]) -> None:
        condition_fields = {
            "node": (self.nodes.get(old.node or "", old.node), new.node),
            "measure": (old.measure, new.measure),
            "metric": (self.metrics.get(old.metric or "", old.metric), new.metric),
            "op": (old.op, new.op),
            "level": (old.level, new.level),
        }
        for field, (before, after) in condition_fields.items():
            self.scalar("alert.condition", "alerts", field, before, after, **context)
        if old.threshold != new.threshold:
            if old.op != new.op:
                self.add(
                    "alert.condition",
                    "alerts",
                    field="threshold",
                    old=old.threshold,
                    new=new.threshold,
                    **context,
                )
            else:
                sooner = (
                    new.threshold > old.threshold
                    if new.op in ("<", "<=")
                    else new.threshold < old.threshold
                )
                self.add(
                    "alert.tightened" if sooner else "alert.loosened",
                    "alerts",
                    field="threshold",
                    old=old.threshold,
                    new=new.threshold,
                    note="tightened" if sooner else "loosened",
                    **context,
                )
        # Waiting for evidence (SPEC 11): more runs (`for`) or more rows (`min_n`) before an
        # alert can fire is a looser alert (fires later, as a threshold moved away); fewer is
        # a tighter one. No `for` is 1 run; no `min_n` asks for no rows.
        for field, before, after in (
            ("for", old.runs_needed, new.runs_needed),
            ("min_n", old.min_n or 0, new.min_n or 0),
        ):
            if before != after:
                later = after > before
                self.add(
                    "alert.loosened" if later else "alert.tightened",
                    "alerts",
                    field=field,
                    old=getattr(old, "for_runs" if field == "for" else field),
                    new=getattr(new, "for_runs" if field == "for" else field),
                    note="loosened" if later else "tightened",
                    **context,
                )
        if old.severity != new.severity:
            raised = _SEVERITY_ORDER[new.severity] > _SEVERITY_ORDER[old.severity]
            self.add(
                "alert.severity",
                "alerts",
                field="severity",
                old=old.severity,
                new=new.severity,
                note="raised" if raised else "lowered",
                **context,
            )
        self.scalar(
            "alert.owner",
            "alerts",
            "owner",
            self.roles.get(old.owner or "", old.owner),
            new.owner,
            **context,
        )
        self.scalar("alert.action", "alerts", "action", old.action, new.action, **context)


def _name(item: Any) -> str | None:
    name = getattr(item, "name", None)
    return norm(name) if isinstance(name, str) else None


def _alert_condition(alert: Any) -> str | None:
    if not isinstance(alert, Alert):
        return None
    target = f"{alert.node} {alert.measure}" if alert.node else str(alert.metric)
    return f"{target} {alert.op} {_number(alert.threshold)}"


def _renames(old: Sequence[Any], new: Sequence[Any], signature: Callable[[Any], Any]) -> Renames:
    """Old id → new id for items gone under one id and new under another, same signature."""
    old_ids, new_ids = {i.id for i in old}, {i.id for i in new}
    gone = [i for i in old if i.id not in new_ids]
    fresh = [i for i in new if i.id not in old_ids]
    renames: Renames = {}
    for item in gone:
        key = signature(item)
        if key is None:
            continue
        candidates = [f for f in fresh if signature(f) == key]
        rivals = [g for g in gone if signature(g) == key]
        if len(candidates) == 1 and len(rivals) == 1:
            renames[item.id] = candidates[0].id
    return renames


def _successors(nodes: Sequence[Node]) -> dict[str, tuple[str, ...]]:
    """Each node's next nodes as the process runs them: `next`, else the following node."""
    flow: dict[str, tuple[str, ...]] = {}
    for index, node in enumerate(nodes):
        if node.next is not None:
            flow[node.id] = tuple(dict.fromkeys(node.next))
        else:
            flow[node.id] = (nodes[index + 1].id,) if index + 1 < len(nodes) else ()
    return flow
