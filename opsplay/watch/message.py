"""The words of an alert change, in the playbook's language: what fired, where, by how much,
and what the playbook says to do."""

from __future__ import annotations

from typing import Any

from opsplay.i18n import N_, _, language
from opsplay.pilot.plain import OPS

MEASURES = {
    "completion_rate": N_("node completion rate"),
    "fallback_rate": N_("node fallback rate"),
    "failure_rate": N_("node failure rate"),
    "timeout_rate": N_("node timeout rate"),
    "schedule_adherence": N_("node on-schedule rate"),
    "sla_compliance": N_("node time-limit compliance"),
    "p50_s": N_("node median duration"),
    "p95_s": N_("node 95th-percentile duration"),
}
SEVERITIES = {
    "critical": N_("alert level: critical"),
    "warning": N_("alert level: warning"),
    "info": N_("alert level: info"),
}


def shown_value(value: float | None, alert: Any, playbook: Any) -> str:
    """A value as the alert's readers think of it: 87.0%, 120.2s, 55元."""
    from opsplay.pilot.present import _seconds, fmt_value

    if alert.measure in ("p50_s", "p95_s"):
        return _seconds(value)
    if alert.measure is not None:
        return fmt_value(value, "proportion")
    metric = next((m for m in playbook.metrics if m.id == alert.metric), None)
    if metric is None:
        return fmt_value(value, "mean")
    return fmt_value(value, metric.kind, metric.unit)


def _fallbacks(node: Any) -> list[str]:
    """The node's fallback actions (one fallback, or a list with one per trigger)."""
    found = getattr(node, "fallback", None)
    items = found if isinstance(found, list) else [found] if found is not None else []
    return [str(item.action) for item in items if getattr(item, "action", None)]


def _escalation(roles: dict[str, str], *owners: Any) -> list[str]:
    """The escalation ladder the model carries on the alert or node, one line per step."""
    for owner in owners:
        found = getattr(owner, "escalation", None)
        if not found:
            continue
        if isinstance(found, str):
            return [found]
        steps = found if isinstance(found, list) else [found]
        lines = []
        for step in steps:
            if isinstance(step, str):
                lines.append(step)
                continue
            data = step.model_dump(mode="json") if hasattr(step, "model_dump") else {}
            role = data.get("to")
            lines.append(
                _("after {after}: {role} — {action}").format(
                    after=data.get("after", ""),
                    role=roles.get(role, role) if role else "",
                    action=data.get("action", ""),
                )
            )
        return lines
    return []


def compose(event: str, result: Any, playbook: Any, lang: str, moment: str) -> dict[str, Any]:
    """The message of one change (`firing` or `resolved`) of one alert, as stored in the outbox."""
    alert = next(a for a in playbook.alerts if a.id == result.id)
    node = next((n for n in playbook.nodes if n.id == alert.node), None)
    roles = {role.id: role.name for role in playbook.roles}
    meta = playbook.metadata
    value = shown_value(result.value, alert, playbook)
    threshold = shown_value(alert.threshold, alert, playbook)
    acting = alert.owner or (node.owner if node else None) or meta.owner
    with language(lang):
        op = _(OPS[alert.op]) if alert.op in OPS else alert.op
        if event == "firing":
            title = _("[Alert] {playbook}: {alert}").format(playbook=meta.title, alert=alert.id)
        else:
            title = _("[Resolved] {playbook}: {alert}").format(playbook=meta.title, alert=alert.id)
        lines = [_(SEVERITIES[alert.severity])]
        if node is not None:
            where = _("Node: {name} ({id})").format(name=node.name, id=node.id)
            measure = _(MEASURES[alert.measure or ""]) if alert.measure in MEASURES else ""
        else:
            metric = next((m for m in playbook.metrics if m.id == alert.metric), None)
            where = _("Metric: {name} ({id})").format(
                name=metric.name if metric else alert.metric, id=alert.metric
            )
            measure = metric.name if metric else (alert.metric or "")
        lines.append(where)
        if event == "firing":
            lines.append(
                _("{measure} is {value}; the alert fires when it is {op} {threshold}").format(
                    measure=measure, value=value, op=op, threshold=threshold
                )
            )
        else:
            lines.append(
                _(
                    "{measure} is back to {value}; the alert fires when it is {op} {threshold}"
                ).format(measure=measure, value=value, op=op, threshold=threshold)
            )
        lines.append(
            _("Playbook: {title} ({id}), version {version}").format(
                title=meta.title, id=meta.id, version=meta.version
            )
        )
        if event == "firing":
            lines.append(_("Acting: {role}").format(role=roles.get(acting, acting)))
            if alert.action:
                lines.append(_("What to do: {action}").format(action=alert.action))
            for action in _fallbacks(node):
                lines.append(_("Fallback: {action}").format(action=action))
            for step in _escalation(roles, alert, node):
                lines.append(_("Escalation: {escalation}").format(escalation=step))
        lines.append(_("Checked at {time}").format(time=moment))
    return {
        "event": event,
        "title": title,
        "lines": lines,
        "lang": lang,
        "data": {
            "event": event,
            "playbook": {"id": meta.id, "version": meta.version},
            "alert": alert.id,
            "severity": alert.severity,
            "node": alert.node,
            "measure": alert.measure,
            "metric": alert.metric,
            "value": result.value,
            "op": alert.op,
            "threshold": alert.threshold,
            "checked": moment,
        },
    }
