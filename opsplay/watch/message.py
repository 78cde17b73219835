"""The words of an alert change, in the playbook's language: what fired, where, by how much,
which cases breached, what the playbook says to do, and who is @-mentioned (SPEC 12: the
alert's owner and the node's owner, from `roles[].contacts`)."""

from __future__ import annotations

from typing import Any

from opsplay.i18n import N_, _, language
from opsplay.pilot.presentation.words import OPS

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
# The measure over one level's rows (an alert with `level` counts only them, SPEC 8).
LEVEL_MEASURES = {
    "completion_rate": N_("level {level} completion rate"),
    "fallback_rate": N_("level {level} fallback rate"),
    "failure_rate": N_("level {level} failure rate"),
    "timeout_rate": N_("level {level} timeout rate"),
    "schedule_adherence": N_("level {level} on-schedule rate"),
    "sla_compliance": N_("level {level} time-limit compliance"),
    "p50_s": N_("level {level} median duration"),
    "p95_s": N_("level {level} 95th-percentile duration"),
}
SEVERITIES = {
    "critical": N_("alert level: critical"),
    "warning": N_("alert level: warning"),
    "info": N_("alert level: info"),
}


def shown_value(value: float | None, alert: Any, playbook: Any) -> str:
    """A value as the alert's readers think of it: 87.0%, 120.2s, 55元."""
    from opsplay.pilot.presentation.formats import _seconds, fmt_value

    if alert.measure in ("p50_s", "p95_s"):
        return _seconds(value)
    if alert.measure is not None:
        return fmt_value(value, "proportion")
    metric = next((m for m in playbook.metrics if m.id == alert.metric), None)
    if metric is None:
        return fmt_value(value, "mean")
    return fmt_value(value, metric.kind, metric.unit)


def _fallback_lines(node: Any, lang: str) -> list[str]:
    """`异常处理（超时时）：切换备用通道`: each fallback of the node with the triggers it is
    for, so that a node with one per trigger says which applies (none: the action alone)."""
    from opsplay.labels import triggers

    found = getattr(node, "fallback", None)
    items = found if isinstance(found, list) else [found] if found is not None else []
    lines = []
    for item in items:
        action = getattr(item, "action", None)
        if not action:
            continue
        when = getattr(item, "when", None) or []
        if when:
            words = triggers([getattr(w, "value", w) for w in when], lang=lang)
            lines.append(_("Fallback on {when}: {action}").format(when=words, action=action))
        else:
            lines.append(_("Fallback: {action}").format(action=action))
    return lines


def _limit_line(alert: Any, node: Any, lang: str) -> list[str]:
    """`时限：30分钟` beside a time-limit alert: the limit as written (the alert's level's
    when it has one), naming its business-hour calendar, as the SOP shows it."""
    if node is None or alert.measure != "sla_compliance" or node.sla is None:
        return []
    from opsplay.labels import in_business_hours, listing, sla_parts
    from opsplay.model.process import level_limit
    from opsplay.pilot.compare import written_limit

    if alert.level is not None:
        limit = level_limit(node.sla, alert.level)
        if limit is None:
            return []
        shown = in_business_hours(limit.as_written, node.calendar, lang=lang)
        return [_("Time limit of level {level}: {limit}").format(level=alert.level, limit=shown)]
    # as written: `实时` without the configured length, which the message does not know
    written = {**written_limit(node), "sla_realtime": False}
    shown = listing(sla_parts(written, lang=lang), lang=lang)
    return [_("Time limit: {limit}").format(limit=shown)]


def _escalation(roles: dict[str, str], *owners: Any) -> list[str]:
    """The escalation ladder the model carries on the alert or node, one line per step."""
    for owner in owners:
        found = getattr(owner, "escalation", None)
        if not found:
            continue
        if isinstance(found, str):
            return [found]
        if isinstance(found, dict):  # per level (SPEC 12): the ladder of the alert's level
            level = getattr(owners[0], "level", None)
            found = found.get(level) or found.get("default") or []
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


def mentions(playbook: Any, *role_ids: str | None) -> dict[str, list[str]]:
    """Who a firing message @-mentions: the contacts of these roles, each kind de-duplicated
    (`mobiles` for DingTalk atMobiles and WeCom mentioned_mobile_list; `dingtalk`, `feishu`,
    `wecom` user ids); {} when none of them has contacts."""
    found: dict[str, list[str]] = {"mobiles": [], "dingtalk": [], "feishu": [], "wecom": []}
    for role_id in dict.fromkeys(r for r in role_ids if r):
        role = next((r for r in playbook.roles if r.id == role_id), None)
        contacts = getattr(role, "contacts", None)
        if contacts is None:
            continue
        for kind, value in (
            ("mobiles", contacts.mobile),
            ("dingtalk", contacts.dingtalk),
            ("feishu", contacts.feishu),
            ("wecom", contacts.wecom),
        ):
            if value and value not in found[kind]:
                found[kind].append(str(value))
    return {kind: values for kind, values in found.items() if values}


def _case_lines(alert: Any, figures: Any, event: str, process: Any = None) -> list[str]:
    """Open cases as of the evaluation time, and the cases that breached (first ten, count);
    an alert with `level` counts that level's cases only."""
    from opsplay.pilot.presentation.cells import open_cases

    lines = []
    if not isinstance(figures, dict):
        return lines
    if alert.level is not None:
        levels = ((process or {}).get("open_by_level") or {}).get(alert.node) or {}
        scoped = levels.get(alert.level) or {}
        if scoped.get("open"):
            figure = open_cases({**scoped, "as_of": figures.get("as_of")}, _)
            lines.append(_("Level {level}: {figure}").format(level=alert.level, figure=figure))
    elif figures.get("open"):
        lines.append(open_cases(figures, _))
    missed = (figures.get("missed_cases") or {}).get(alert.level or "all")
    if event == "firing" and alert.measure == "sla_compliance" and missed:
        from opsplay.text import joined

        more = " …" if missed["count"] > len(missed["first"]) else ""
        still_open = set(missed.get("first_open") or ())  # (a result saved before: none)
        cases = (
            _("{case} (still open)").format(case=case) if case in still_open else case
            for case in missed["first"]
        )
        lines.append(  # the first ten ids and the count (SPEC 12); open ones need acting on
            _("Cases past the limit ({count}): {cases}").format(
                count=f"{missed['count']:,}", cases=joined(cases) + more
            )
        )
    return lines


def _first_ten(items: Any, count: int) -> str:
    """Scheduled runs `a、b、c`, or `a、b、c …（共 25 次）` when there are more than shown."""
    from opsplay.text import joined

    shown = joined(str(item) for item in items)
    if count > len(items):
        shown = _("{runs} … ({count} runs in all)").format(runs=shown, count=f"{count:,}")
    return shown


def _schedule_lines(
    alert: Any, figures: Any, process: Any, zone: Any, event: str = "firing"
) -> list[str]:
    """A schedule alert's occurrences as of the evaluation time: how many were due and on
    time, how many are not due yet, and (firing) the ones not met, the first ten and the
    count, as the cases past their limit are named."""
    from datetime import datetime

    from opsplay.pilot.presentation.cells import schedule_figure, shown_time
    from opsplay.zones import zone_name

    found = (process or {}).get("schedule_occurrences") or {}
    if alert.node not in found:
        return []
    figure = schedule_figure(
        ((process or {}).get("schedule_adherence") or {}).get(alert.node), found[alert.node], _
    )
    as_of = shown_time((figures or {}).get("as_of"), _)
    lines = [_("As of {as_of}: {figure}").format(as_of=as_of, figure=figure)]
    missed = ((process or {}).get("schedule_missed") or {}).get(alert.node) or {}
    if event != "firing" or not missed.get("count"):
        return lines
    items = []
    for entry in missed["first"]:
        at = datetime.fromisoformat(entry["at"])
        if entry.get("finished"):
            finished = datetime.fromisoformat(entry["finished"])
            pattern = "%H:%M" if finished.date() == at.date() else "%Y-%m-%d %H:%M"
            items.append(
                _("{time} (finished late at {finished})").format(
                    time=at.strftime("%Y-%m-%d %H:%M"), finished=finished.strftime(pattern)
                )
            )
        else:
            items.append(_("{time} (not done)").format(time=at.strftime("%Y-%m-%d %H:%M")))
    where = zone if zone is not None else datetime.fromisoformat(missed["first"][0]["at"]).tzinfo
    lines.append(
        _("Not run on time ({zone}): {runs}").format(
            zone=zone_name(where) if where is not None else "—",
            runs=_first_ten(items, missed["count"]),
        )
    )
    return lines


def compose(
    event: str,
    result: Any,
    playbook: Any,
    lang: str,
    moment: str,
    figures: Any = None,
    again: str | None = None,
    process: Any = None,
    zone: Any = None,
) -> dict[str, Any]:
    """The message of one change (`firing` or `resolved`) of one alert, as stored in the outbox;
    `moment`: the evaluation time as shown; `figures`: node id -> the node's figures in the
    result JSON, `process` its `process` part (levels, schedules); `again`: why a message of
    an alert still firing is sent again ("renotify" or "severity"); `zone`: the project's."""
    alert = next(a for a in playbook.alerts if a.id == result.id)
    node = next((n for n in playbook.nodes if n.id == alert.node), None)
    roles = {role.id: role.name for role in playbook.roles}
    meta = playbook.metadata
    value = shown_value(result.value, alert, playbook)
    threshold = shown_value(alert.threshold, alert, playbook)
    acting = alert.owner or (node.owner if node else None) or meta.owner
    with language(lang):
        op = _(OPS[alert.op]) if alert.op in OPS else alert.op
        if event == "firing" and again:
            title = _("[Still firing] {playbook}: {alert}").format(
                playbook=meta.title, alert=alert.id
            )
        elif event == "firing":
            title = _("[Alert] {playbook}: {alert}").format(playbook=meta.title, alert=alert.id)
        else:
            title = _("[Resolved] {playbook}: {alert}").format(playbook=meta.title, alert=alert.id)
        lines = [_(SEVERITIES[alert.severity])]
        if again == "severity":
            lines.append(_("Its severity rose since the last message: sent again at once"))
        elif again == "renotify" and alert.renotify is not None and alert.renotify.is_calendar:
            lines.append(  # `下一个工作日9点前` is a time reached, not a length passed
                _(
                    "Still firing: reminded again at {renotify}, counted from the last message"
                ).format(renotify=alert.renotify.as_written)
            )
        elif again == "renotify":
            lines.append(
                _("Still firing {renotify} or more after the last message").format(
                    renotify=alert.renotify.as_written if alert.renotify else ""
                )
            )
        if node is not None:
            where = _("Node: {name} ({id})").format(name=node.name, id=node.id)
            measure = _(MEASURES[alert.measure or ""]) if alert.measure in MEASURES else ""
            if alert.level is not None and alert.measure in LEVEL_MEASURES:
                measure = _(LEVEL_MEASURES[alert.measure]).format(level=alert.level)
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
        if event == "firing" and alert.runs_needed > 1:  # `for:` (SPEC 11): why only now
            # in words: a chat robot's Markdown would show a look-alike of the backticks
            lines.append(
                _(
                    "The condition held on {held} consecutive runs (it fires once it holds on "
                    "{runs} consecutive runs)"
                ).format(held=getattr(result, "held", alert.runs_needed), runs=alert.runs_needed)
            )
        lines += _limit_line(alert, node, lang)
        if node is not None and isinstance(figures, dict):
            lines += _case_lines(alert, figures.get(node.id), event, process)
        if node is not None and alert.measure == "schedule_adherence":
            found = figures.get(node.id) if isinstance(figures, dict) else None
            lines += _schedule_lines(alert, found, process, zone, event)
        lines.append(
            _("Playbook: {title} ({id}), version {version}").format(
                title=meta.title, id=meta.id, version=meta.version
            )
        )
        if event == "firing":
            lines.append(_("Acting: {role}").format(role=roles.get(acting, acting)))
            if alert.action:
                lines.append(_("What to do: {action}").format(action=alert.action))
            lines += _fallback_lines(node, lang)
            for step in _escalation(roles, alert, node):
                lines.append(_("Escalation: {escalation}").format(escalation=step))
        lines.append(_("Checked at {time}").format(time=moment))
    mentioned = mentions(playbook, alert.owner, node.owner if node else None)
    return {
        "event": event,
        "title": title,
        "lines": lines,
        "lang": lang,
        # @-mentions of a firing message (notify.payload puts them where each robot wants them)
        "mentions": mentioned if event == "firing" else {},
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


WECOM_TEXT_LIMIT = 2048  # bytes of a WeCom text message


def with_mentions(kind: str, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The robot body with the message's @-mentions where each robot reads them: DingTalk
    `at.atMobiles` / `at.atUserIds` (and the @s in the text, which DingTalk needs to show
    them), Feishu `at` elements (`<at user_id=…>`) in a last row, WeCom a text message with
    `mentioned_list` / `mentioned_mobile_list` (its markdown messages cannot mention), the
    `json+` gateway a `mentions` field."""
    mentioned = message.get("mentions") or {}
    if not mentioned:
        return body
    mobiles, dingtalk = mentioned.get("mobiles", []), mentioned.get("dingtalk", [])
    if kind == "dingtalk" and (mobiles or dingtalk):
        text = body["markdown"]["text"] + "\n\n" + " ".join(f"@{who}" for who in mobiles + dingtalk)
        return {
            **body,
            "markdown": {**body["markdown"], "text": text},
            "at": {"atMobiles": mobiles, "atUserIds": dingtalk, "isAtAll": False},
        }
    if kind == "feishu" and mentioned.get("feishu"):
        post = body["content"]["post"]
        locale = next(iter(post))
        row = [{"tag": "at", "user_id": who} for who in mentioned["feishu"]]
        content = [*post[locale]["content"], row]
        return {**body, "content": {"post": {locale: {**post[locale], "content": content}}}}
    if kind == "wecom" and (mentioned.get("wecom") or mobiles):
        text = "\n".join([message["title"], *message["lines"]])
        while len(text.encode("utf-8")) > WECOM_TEXT_LIMIT:
            text = text[: -max(1, len(text) // 10)]
        return {
            "msgtype": "text",
            "text": {
                "content": text,
                "mentioned_list": mentioned.get("wecom", []),
                "mentioned_mobile_list": mobiles,
            },
        }
    if kind == "json":
        return {**body, "mentions": mentioned}
    return body
