"""OPS501–OPS506: what each lifecycle stage needs (steps 3–6 of the method)."""

from __future__ import annotations

import re

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, rule


@rule("OPS501")
def node_has_sla(pb: PlaybookData, report: Report) -> None:
    """Every node has a time limit."""
    for i, node in pb.entries("nodes"):
        if node.get("sla") is None:
            report(
                ("nodes", i),
                _(
                    "node `{node}` has no time limit; add `sla:` (e.g. 2m, 24h, 2分钟内, 实时)"
                ).format(node=node.get("id")),
            )


@rule("OPS502")
def node_has_fallback(pb: PlaybookData, report: Report) -> None:
    """Every node has exception handling."""
    for i, node in pb.entries("nodes"):
        if node.get("fallback") is None:
            report(
                ("nodes", i),
                _(
                    "node `{node}` has no exception handling; add "
                    "`fallback: {{when: [failure, timeout], action: …}}`"
                ).format(node=node.get("id")),
            )


def _status(pb: PlaybookData) -> object:
    return pb.get("metadata", "status")


@rule("OPS503")
def live_playbook_has_alerts(pb: PlaybookData, report: Report) -> None:
    """rollout/active playbooks define monitoring thresholds."""
    if _status(pb) in ("rollout", "active") and not pb.get("alerts"):
        report(
            ("metadata", "status"),
            _(
                "a playbook with status `{status}` needs `alerts` (step 5 monitoring thresholds, "
                "e.g. node completion_rate < 0.9)"
            ).format(status=_status(pb)),
        )


@rule("OPS504")
def live_playbook_has_training(pb: PlaybookData, report: Report) -> None:
    """rollout/active playbooks plan training."""
    if _status(pb) in ("rollout", "active") and not pb.get("rollout", "training"):
        report(
            ("metadata", "status"),
            _(
                "a playbook with status `{status}` needs `rollout.training` (step 5: who is "
                "trained on the process, and how)"
            ).format(status=_status(pb)),
        )


@rule("OPS505")
def pilot_playbook_has_pilot(pb: PlaybookData, report: Report) -> None:
    """pilot playbooks describe their pilot."""
    if _status(pb) == "pilot" and pb.get("pilot") is None:
        report(
            ("metadata", "status"),
            _("a `pilot` playbook needs a `pilot` section (design, arms, metrics)"),
        )


@rule("OPS506")
def settled_playbook_has_review(pb: PlaybookData, report: Report) -> None:
    """active/retired playbooks record their review."""
    if _status(pb) in ("active", "retired") and pb.get("review") is None:
        report(
            ("metadata", "status"),
            _(
                "a playbook with status `{status}` needs a `review` section (step 6: findings, "
                "successes, improvements)"
            ).format(status=_status(pb)),
        )


# The skeleton's placeholders are whole values (`title: <流程名称…>`); text that merely
# contains < and > (金额<50元 & 信用分>600) is business text.
_PLACEHOLDER = re.compile(r"\s*<[^<>\n]{1,80}>\s*")


@rule("OPS507")
def no_placeholders_left(pb: PlaybookData, report: Report) -> None:
    """Text still holding a `<…>` placeholder of the skeleton is reported, one per value."""

    def walk(value: object, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))
        elif isinstance(value, str) and _PLACEHOLDER.fullmatch(value):
            report(
                path,
                _("`{value}` is a placeholder from `opsplay init`; write the real value").format(
                    value=value.strip()
                ),
            )

    walk(pb.data, ())
