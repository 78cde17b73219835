"""OPS209–OPS214, OPS216, OPS307–OPS308: levels, escalation ladders (one, or one per level:
`escalation: {P1: [...], P2: [...]}`, SPEC 12), RACI, fallbacks and business-hour
calendars (SPEC 8 and 12)."""

from __future__ import annotations

from typing import Any

from opsplay.i18n import _
from opsplay.model.duration import Duration, parse_duration
from opsplay.model.process import DEFAULT_LEVEL
from opsplay.rules import PlaybookData, Report, did_you_mean, ident, rule

RACI_LISTS = ("responsible", "consulted", "informed")


def _declare_levels_hint(levels: list[str]) -> str:
    if levels:
        shown = _(", ").join(dict.fromkeys(levels))
        return _("; declared levels: {levels}").format(levels=shown)
    return _("; declare the levels first: `levels: [{id: P1, name: …}]`")


def ladders(pb: PlaybookData, i: int) -> list[tuple[tuple[str | int, ...], Any, str | None]]:
    """(path of the ladder, its key as written, its level) of node `i`'s escalation ladders:
    one for a list (level None), one per key for a mapping of levels to lists."""
    written = pb.get("nodes", i, "escalation")
    if isinstance(written, list):
        return [(("nodes", i, "escalation"), None, None)]
    if isinstance(written, dict):
        return [
            (("nodes", i, "escalation", key), key, ident(key) or str(key))
            for key, steps in written.items()
            if isinstance(steps, list)
        ]
    return []


def ladder_steps(pb: PlaybookData, path: tuple[str | int, ...]) -> list[tuple[int, dict[str, Any]]]:
    """(index, step) of the ladder at `path`."""
    return list(pb.entries(*path))


@rule("OPS209")
def levels_are_declared(pb: PlaybookData, report: Report) -> None:
    """Per-level time limits and level-scoped alerts name levels declared under `levels`."""
    levels = pb.ids("levels")
    for i, node in pb.entries("nodes"):
        limits = node.get("sla")
        if not isinstance(limits, dict):
            continue
        for key in limits:
            level = ident(key) or str(key)
            if level != DEFAULT_LEVEL and level not in levels:
                report(
                    ("nodes", i, "sla", key),
                    _(
                        "level `{level}` has a time limit but is not declared; add it under "
                        "`levels` or write `default:` for every other level{hint}"
                    ).format(level=level, hint=_declare_levels_hint(levels)),
                    key=True,
                )
    for i, _node in pb.entries("nodes"):
        for path, _key, level in ladders(pb, i):
            if level is not None and level != DEFAULT_LEVEL and level not in levels:
                report(
                    path,
                    _(
                        "level `{level}` has an escalation ladder but is not declared; add it "
                        "under `levels` or write `default:` for every other level{hint}"
                    ).format(level=level, hint=_declare_levels_hint(levels)),
                    key=True,
                )
    for i, alert in pb.entries("alerts"):
        level = ident(alert.get("level"))
        if level is not None and level not in levels:
            report(
                ("alerts", i, "level"),
                _("alert level `{level}` is not declared; add it under `levels`{hint}").format(
                    level=level, hint=_declare_levels_hint(levels)
                ),
            )


@rule("OPS210")
def escalation_goes_to_roles(pb: PlaybookData, report: Report) -> None:
    """Each escalation step hands over to a declared role."""
    roles = pb.ids("roles")
    for i, _node in pb.entries("nodes"):
        for path, _key, _level in ladders(pb, i):
            _ladder_roles(pb, path, roles, report)


def _ladder_roles(
    pb: PlaybookData, path: tuple[str | int, ...], roles: list[str], report: Report
) -> None:
    for j, step in ladder_steps(pb, path):
        target = ident(step.get("to"))
        if target is not None and target not in roles:
            report(
                (*path, j, "to"),
                _(
                    "escalation goes to `{to}`, which is not a role id; add the role under "
                    "`roles` or use an existing role id{hint}"
                ).format(to=target, hint=did_you_mean(target, roles)),
            )


@rule("OPS216")
def calendars_are_declared(pb: PlaybookData, report: Report) -> None:
    """A node's `calendar` names a business-hour calendar declared under `calendars`."""
    calendars = pb.ids("calendars")
    for i, node in pb.entries("nodes"):
        calendar = ident(node.get("calendar"))
        if calendar is not None and calendar not in calendars:
            declared = _(", ").join(calendars)
            hint = (
                _("; declared calendars: {calendars}").format(calendars=declared)
                if calendars
                else _(
                    '; declare it first: `calendars: [{id: 客服班次, hours: "09:00-21:00", '
                    "days: 工作日}]`"
                )
            )
            report(
                ("nodes", i, "calendar"),
                _("calendar `{calendar}` is not declared under `calendars`{hint}").format(
                    calendar=calendar, hint=hint
                ),
            )


def _raci_entries(pb: PlaybookData, i: int) -> list[tuple[tuple[str | int, ...], Any]]:
    """(path, value) of every role named in node `i`'s RACI."""
    found: list[tuple[tuple[str | int, ...], Any]] = []
    raci = pb.get("nodes", i, "raci")
    if not isinstance(raci, dict):
        return found
    accountable = raci.get("accountable")
    if isinstance(accountable, list):
        found += [(("nodes", i, "raci", "accountable", k), v) for k, v in enumerate(accountable)]
    elif accountable is not None:
        found.append((("nodes", i, "raci", "accountable"), accountable))
    for name in RACI_LISTS:
        listed = raci.get(name)
        for k, value in enumerate(listed if isinstance(listed, list) else []):
            found.append((("nodes", i, "raci", name, k), value))
    return found


@rule("OPS211")
def raci_names_roles(pb: PlaybookData, report: Report) -> None:
    """Every role in a RACI is a declared role id."""
    roles = pb.ids("roles")
    for i, _node in pb.entries("nodes"):
        for path, value in _raci_entries(pb, i):
            role = ident(value)
            if role is not None and role not in roles:
                report(
                    path,
                    _(
                        "`{role}` in the RACI is not a role id; add it under `roles` or use an "
                        "existing role id{hint}"
                    ).format(role=role, hint=did_you_mean(role, roles)),
                )


@rule("OPS212")
def raci_has_one_accountable(pb: PlaybookData, report: Report) -> None:
    """A RACI names exactly one accountable role."""
    for i, _node in pb.entries("nodes"):
        raci = pb.get("nodes", i, "raci")
        if not isinstance(raci, dict):
            continue
        accountable = raci.get("accountable")
        if accountable is None or accountable == []:
            report(
                ("nodes", i, "raci"),
                _(
                    "the RACI names no accountable role; add `accountable:` with the one role "
                    "that answers for the result"
                ),
                key=True,
            )
        elif isinstance(accountable, list) and len(accountable) > 1:
            listed = _(", ").join(str(ident(v) or v) for v in accountable)
            report(
                ("nodes", i, "raci", "accountable"),
                _(
                    "{count} accountable roles ({roles}); exactly one role answers for a node: "
                    "keep one under `accountable` and move the others to `responsible` or "
                    "`consulted`"
                ).format(count=len(accountable), roles=listed),
            )


@rule("OPS213")
def owner_is_in_the_raci(pb: PlaybookData, report: Report) -> None:
    """The node's owner is its accountable role or one of its responsible roles."""
    for i, node in pb.entries("nodes"):
        raci, owner = node.get("raci"), ident(node.get("owner"))
        if not isinstance(raci, dict) or owner is None:
            continue
        named = {ident(value) for _path, value in _raci_entries(pb, i)}
        doers = {
            ident(value)
            for path, value in _raci_entries(pb, i)
            if path[3] in ("accountable", "responsible")
        }
        if owner not in doers:
            where = _(" (it is only consulted or informed)") if owner in named else ""
            report(
                ("nodes", i, "owner"),
                _(
                    "owner `{owner}` is neither accountable nor responsible in this node's "
                    "RACI{where}; add `{owner}` to `raci.responsible`, or make the owner the "
                    "accountable role"
                ).format(owner=owner, where=where),
            )


@rule("OPS214")
def triggers_handled_once(pb: PlaybookData, report: Report) -> None:
    """A trigger appears in only one of a node's fallbacks (else which action applies?)."""
    for i, _node in pb.entries("nodes"):
        seen: dict[str, tuple[str | int, ...]] = {}
        for path, fallback in pb.fallbacks(i):
            when = fallback.get("when")
            for k, trigger in enumerate(when if isinstance(when, list) else []):
                if not isinstance(trigger, str):
                    continue
                # Twice in one `when` (拒绝, 拒答 are both `rejected`) is one trigger, one action.
                if seen.setdefault(trigger, path) != path:
                    report(
                        (*path, "when", k),
                        _(
                            "`{trigger}` is already handled by the fallback at {first}; give "
                            "each trigger one action (merge the two, or drop `{trigger}` here)"
                        ).format(trigger=trigger, first=_shown_path(seen[trigger])),
                    )


def _shown_path(path: tuple[str | int, ...]) -> str:
    from opsplay.diagnostics import format_path

    return format_path(path)


def _duration(value: Any) -> Duration | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_duration(value)
    except ValueError:
        return None  # OPS105 reports it


def _seconds(duration: Duration | None, realtime: float) -> float | None:
    """Seconds of a fixed limit; None when it has no fixed length (a calendar limit)."""
    if duration is None:
        return None
    try:
        seconds = duration.resolve(realtime)
    except (TypeError, ValueError):
        return None
    return seconds if isinstance(seconds, (int, float)) else None


@rule("OPS307")
def escalation_increases(pb: PlaybookData, report: Report) -> None:
    """Each escalation step waits strictly longer than the one before it."""
    for i, _node in pb.entries("nodes"):
        for path, _key, _level in ladders(pb, i):
            _ladder_increases(pb, path, report)


def _ladder_increases(pb: PlaybookData, path: tuple[str | int, ...], report: Report) -> None:
    previous: tuple[float, str] | None = None
    for j, step in ladder_steps(pb, path):
        written = step.get("after")
        seconds = _seconds(_duration(written), pb.realtime_seconds)
        if seconds is None:
            continue
        if previous is not None and seconds <= previous[0]:
            report(
                (*path, j, "after"),
                _(
                    "this step waits {after}, no longer than the step before it ({before}); "
                    "list the steps from the shortest wait to the longest, each longer "
                    "than the last"
                ).format(after=written, before=previous[1]),
            )
        previous = (seconds, str(written))


@rule("OPS308")
def escalation_starts_in_time(pb: PlaybookData, report: Report) -> None:
    """The first escalation step comes no later than the node's time limit."""
    for i, node in pb.entries("nodes"):
        for path, _key, level in ladders(pb, i):
            first = pb.get(*path, 0, "after")
            wait = _seconds(_duration(first), pb.realtime_seconds)
            sla = node.get("sla")
            if level is not None and isinstance(sla, dict):  # a level's ladder, its own limit
                sla = sla.get(level, sla.get(DEFAULT_LEVEL))
            limit_text, limit = _longest_limit(sla, pb.realtime_seconds)
            if wait is None or limit is None or wait <= limit:
                continue
            _late_first_step(path, first, limit_text, report)


def _late_first_step(
    path: tuple[str | int, ...], first: Any, limit_text: str, report: Report
) -> None:
    report(
        (*path, 0, "after"),
        _(
            "the first escalation waits {after}, longer than the node's time limit "
            "{limit}: the case is already late before anyone is told; escalate at or "
            "before {limit}"
        ).format(after=first, limit=limit_text),
    )


def _longest_limit(sla: Any, realtime: float) -> tuple[str, float | None]:
    """The node's limit as written and in seconds; per level, the longest (no case waits longer)."""
    if isinstance(sla, dict):
        limits = [
            (str(text), seconds)
            for text in sla.values()
            if (seconds := _seconds(_duration(text), realtime)) is not None
        ]
        if not limits:
            return "", None
        return max(limits, key=lambda item: item[1])
    return str(sla), _seconds(_duration(sla), realtime)


@rule("OPS215")
def alert_fits_its_target(pb: PlaybookData, report: Report) -> None:
    """`level` scopes a node measure; `schedule_adherence` watches a scheduled node."""
    scheduled = {
        ident(node.get("id")) for _, node in pb.entries("nodes") if node.get("schedule") is not None
    }
    for i, alert in pb.entries("alerts"):
        node, measure = ident(alert.get("node")), alert.get("measure")
        if alert.get("level") is not None and node is None:
            report(
                ("alerts", i, "level"),
                _(
                    "`level` counts a node's log rows of one level; a metric alert has no "
                    "rows to count: remove `level`, or watch a node with `node:` and `measure:`"
                ),
                key=True,
            )
        if measure == "schedule_adherence" and node is not None and node not in scheduled:
            report(
                ("alerts", i, "measure"),
                _(
                    "node `{node}` has no `schedule`, so it has no occurrences to run on time; "
                    "give the node a `schedule:` (e.g. 工作日 09:00) or watch another measure"
                ).format(node=node),
            )
