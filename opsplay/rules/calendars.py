"""OPS217, OPS512: calendars a playbook seems to mean but does not get (SPEC 6, 8 and 12).

A node's business-hour `calendar` does nothing when its every limit falls due at a time of
day (`次日12点前`, `T+1`, `3个工作日`); a cron schedule on Monday–Friday runs on holidays and
skips the make-up working days (调休) that `工作日 HH:MM` follows.
"""

from __future__ import annotations

from typing import Any

from opsplay.diagnostics import words
from opsplay.i18n import _
from opsplay.model.duration import parse_duration
from opsplay.model.schedule import parse_schedule
from opsplay.rules import PlaybookData, Report, ident, rule

_MONDAY_TO_FRIDAY = [1, 2, 3, 4, 5]  # cron's day-of-week numbers (0 and 7 are Sunday)


def _is_calendar_limit(written: Any) -> bool | None:
    """Whether a limit as written is a calendar form; None when it is no limit at all."""
    if not isinstance(written, str):
        return None
    try:
        return parse_duration(written).is_calendar
    except ValueError:
        return None  # OPS105 reports it


@rule("OPS217")
def business_hours_have_a_length_to_count(pb: PlaybookData, report: Report) -> None:
    """A node with a business-hour `calendar` has at least one length limit to count in it."""
    for i, node in pb.entries("nodes"):
        calendar = ident(node.get("calendar"))
        sla = node.get("sla")
        written = list(sla.values()) if isinstance(sla, dict) else [sla]
        kinds = [_is_calendar_limit(limit) for limit in written]
        if calendar is None or not kinds or None in kinds or not all(kinds):
            continue
        report(
            ("nodes", i, "calendar"),
            _(
                "`calendar: {calendar}` has no effect on node `{node}`: its time limits ({limits}) "
                "fall due at a time of day, whatever the business hours; remove `calendar:`, or "
                "write the limit as a length counted in those hours (e.g. 4小时)"
            ).format(
                calendar=calendar,
                node=ident(node.get("id")),
                limits=words(list(dict.fromkeys(str(limit) for limit in written))),
            ),
        )


@rule("OPS512")
def working_days_not_weekdays(pb: PlaybookData, report: Report) -> None:
    """A cron schedule on Monday–Friday: suggest `工作日 HH:MM` (holidays and 调休 included)."""
    if pb.calendar == "weekdays":
        return  # the project counts Monday–Friday as its working days: the two agree
    for i, node in pb.entries("nodes"):
        written = node.get("schedule")
        if not isinstance(written, str):
            continue
        try:
            schedule = parse_schedule(written)
        except ValueError:
            continue  # OPS107 reports it
        if schedule.kind != "cron":
            continue
        from croniter import croniter

        minutes, hours, days, _months, weekdays = croniter.expand(schedule.text)[0]
        if weekdays != _MONDAY_TO_FRIDAY or days != ["*"]:
            continue
        if len(minutes) == 1 and len(hours) == 1:
            fix = _("write `schedule: 工作日 {time}`").format(
                time=f"{hours[0]:02d}:{minutes[0]:02d}"
            )
        else:
            fix = _(
                "`工作日 HH:MM` runs once a day: give each time of day its own node "
                "(e.g. `schedule: 工作日 09:00`)"
            )
        report(
            ("nodes", i, "schedule"),
            _(
                "`{schedule}` runs Monday to Friday, public holidays included and make-up working "
                "days (调休) left out: over 国庆 it expects runs nobody does, on a 调休 Saturday "
                "none; `工作日` follows mainland China's working days: {fix}"
            ).format(schedule=written.strip(), fix=fix),
        )
