"""`opsplay watch` results as text or JSON, looked up by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opsplay.i18n import _, language, ngettext
from opsplay.pilot.presentation.formats import alert_json
from opsplay.registry import registrar
from opsplay.text import joined
from opsplay.watch.run import WatchResult, finite

FORMATTERS: dict[str, Callable[[WatchResult, Any], str]] = {}


formatter = registrar(FORMATTERS)


@formatter("text")
def format_text(result: WatchResult, playbook: Any) -> str:
    """Which alerts fire, what changed, what was sent."""
    from opsplay.watch.message import OPS, shown_value

    definitions = {a.id: a for a in playbook.alerts}
    values = {a.id: a.value for a in result.alerts}

    def status(alert_id: str, resolved: bool = False) -> str:
        alert = definitions[alert_id]
        shown = shown_value(values.get(alert_id), alert, playbook)
        threshold = shown_value(alert.threshold, alert, playbook)
        if resolved:  # `100.0% < 90.0%` would read as a false statement
            return _("{alert} (now {value}; the alert fires when it is {op} {threshold})").format(
                alert=alert_id, value=shown, op=_(OPS.get(alert.op, alert.op)), threshold=threshold
            )
        return _("{alert} ({value} {op} {threshold})").format(
            alert=alert_id, value=shown, op=alert.op, threshold=threshold
        )

    # The process as people call it (售后退款工单处理), its id beside it for the files.
    title = playbook.metadata.title
    with language(result.lang):
        name = _("{title} ({id})").format(title=title, id=result.playbook_id) if title else ""
        name = name or result.playbook_id
        lines = []
        if result.firing:
            lines.append(
                ngettext(
                    "{id} {version}: {count} alert firing: {alerts}",
                    "{id} {version}: {count} alerts firing: {alerts}",
                    len(result.firing),
                ).format(
                    id=name,
                    version=result.version,
                    count=len(result.firing),
                    alerts=joined([status(a) for a in result.firing]),
                )
            )
        else:
            lines.append(
                _("{id} {version}: no alert firing").format(id=name, version=result.version)
            )
        lines += evaluation_lines(result, playbook)
        for change in result.changes:
            if change.event == "firing":
                lines.append(_("started firing: {alert}").format(alert=status(change.alert)))
            else:
                lines.append(_("resolved: {alert}").format(alert=status(change.alert, True)))
        for alert_id, why in result.resent:
            lines.append(resent_line(alert_id, why, status(alert_id), definitions))
        lines += waiting_lines(result.alerts, status, playbook, result.uncounted)
        if not result.changes and not result.resent:
            if result.first:
                lines.append(
                    _(
                        "first run for this playbook: the alerts' states are kept; nothing to "
                        "announce"
                    )
                )
            elif result.sent:  # messages an earlier run queued (a robot was down then)
                lines.append(
                    _("no change since the last run; the messages sent were queued by earlier runs")
                )
            else:
                lines.append(_("no change since the last run; nothing to announce"))
        lines.append(
            _("messages sent: {sent}; still queued: {queued}").format(
                sent=result.sent, queued=result.queued
            )
        )
    return "\n".join(lines) + "\n"


def evaluation_lines(result: WatchResult, playbook: Any) -> list[str]:
    """The evaluation time with its zone, each node's open cases (open, past the deadline,
    not yet due) and each schedule's occurrences, as `pilot compare` shows them (SPEC 12)."""
    from opsplay.pilot.compare import written_limit
    from opsplay.pilot.presentation.cells import (
        misread_levels,
        open_case_lines,
        schedule_lines,
        shown_time,
    )
    from opsplay.text import visible

    names = {node.id: node.name for node in playbook.nodes}

    def name(node: str) -> str:
        return visible(names.get(node, node))

    lines = [_("evaluated as of {time}").format(time=shown_time(result.as_of, _))]
    lines += open_case_lines(list(result.nodes), name, _)
    if result.process:
        lines += schedule_lines(result.process, name, _)
        written = {node.id: written_limit(node) for node in playbook.nodes}
        for node, level, meant in misread_levels(result.process, written):
            lines.append(
                _(
                    "{node}: level {level} of the log is not counted as {meant} (nor in its "
                    "alerts) but judged by the limit for other levels; if it means {meant}, "
                    "write {meant} in the log"
                ).format(node=name(node), level=visible(level), meant=visible(meant))
            )
    return lines


def resent_line(alert_id: str, why: str, shown: str, definitions: Any) -> str:
    """Why the message of an alert still firing was sent again this run."""
    if why == "severity":
        return _("still firing, sent again at once as its severity rose: {alert}").format(
            alert=shown
        )
    renotify = definitions[alert_id].renotify if why == "renotify" else None
    if renotify is not None and renotify.is_calendar:
        return _(
            "still firing, reminded again at {renotify} counted from the last message: {alert}"
        ).format(alert=shown, renotify=renotify.as_written)
    if why == "renotify":
        return _(
            "still firing, sent again as {renotify} or more passed since the last message: {alert}"
        ).format(alert=shown, renotify=renotify.as_written if renotify else "")
    return _("still firing, told to robots that had not heard of it: {alert}").format(alert=shown)


def waiting_lines(
    alerts: Any, status: Callable[[str], str], playbook: Any, uncounted: Any = ()
) -> list[str]:
    """Alerts waiting for evidence: pending `for:` runs, or below `min_n` (SPEC 11); a pending
    alert whose count this run left as it was (the same data again) says so."""
    from opsplay.pilot.presentation.words import not_enough_words
    from opsplay.watch.message import shown_value

    definitions = {a.id: a for a in playbook.alerts}
    lines = []
    for alert in alerts:
        if alert.status == "pending" and alert.id in uncounted:
            lines.append(
                _(
                    "{alert}: the data is the same as last time, not counted for `for` (still "
                    "held on {held}/{needed} consecutive runs)"
                ).format(alert=status(alert.id), held=alert.held, needed=alert.runs_needed)
            )
        elif alert.status == "pending":
            lines.append(
                _(
                    "pending (held on {held}/{needed} consecutive runs): {alert}; it fires once "
                    "{needed} consecutive runs meet the condition"
                ).format(alert=status(alert.id), held=alert.held, needed=alert.runs_needed)
            )
        elif alert.status == "not_enough_data":
            definition = definitions[alert.id]
            lines.append(
                not_enough_words(
                    alert,
                    shown_value(alert.value, definition, playbook),
                    shown_value(alert.threshold, definition, playbook),
                    alert.id,
                )
            )
    return lines


@formatter("json")
def format_json(result: WatchResult, playbook: Any) -> str:
    """Full precision; `changes` lists this run's transitions."""
    document = {
        "playbook": {"id": result.playbook_id, "version": result.version},
        "alerts": [
            # counted: false when the data was the same as on the last counted run (`for:`)
            {
                **alert_json(a),
                "firing": a.id in result.firing,
                "counted": a.id not in result.uncounted,
            }
            for a in result.alerts
        ],
        # the evaluation time (SPEC 12), and the node figures as `pilot compare` gives them
        "as_of": result.as_of,
        "nodes": list(result.nodes),
        **({"process": result.process} if result.process else {}),
        "changes": [{"alert": c.alert, "event": c.event, "value": c.value} for c in result.changes],
        # still firing, sent again: why is "renotify", "severity" or "newcomer" (a robot that
        # had not been told)
        "resent": [{"alert": alert, "why": why} for alert, why in result.resent],
        "firing": list(result.firing),
        "sent": result.sent,
        "queued": result.queued,
        "failures": [
            {
                "target": f.target,
                "playbook": f.playbook,
                "alert": f.alert,
                "event": f.event,
                "reason": f.reason,
                "status": f.status,  # queued | dead (given up) | maybe (sent, no answer)
                "message_id": f.message_id,
            }
            for f in result.failures
        ],
        "run": result.run_id,
        "warnings": list(result.warnings),
    }
    return json.dumps(finite(document), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
