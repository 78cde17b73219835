"""The time zone times are read and shown in (SPEC 12).

`timezone` in `[tool.opsplay]` names an IANA zone; without it a Chinese playbook's times
are Beijing time (`Asia/Shanghai`) and any other playbook's the machine's zone. Naive
timestamps in logs are read in that zone, and every time shown to a person carries it:
`14:43（北京时间）`, `14:43 (Beijing time)`, `09:43 (Europe/Berlin)`. Floor: model (imports
only the standard library and opsplay.i18n).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache

from opsplay.i18n import _

CHINA = "Asia/Shanghai"
# Zones whose clocks are Beijing time; shown as 北京时间 rather than by their IANA name.
_BEIJING = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"}


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows."""
    try:
        _zone_info(name)
    except (ValueError, KeyError, OSError):
        return False
    return True


@cache
def _zone_info(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as missing:
        raise KeyError(name) from missing


def zone(name: str | None, lang: str | None) -> tzinfo:
    """The zone of `timezone = name`, else Beijing time for Chinese playbooks (`lang` zh),
    else the machine's zone."""
    if name:
        return _zone_info(name)
    if lang == "zh":
        return _zone_info(CHINA)
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else _zone_info("UTC")


def zone_name(where: tzinfo, moment: datetime | None = None) -> str:
    """北京时间 / Beijing time for China's zone, else the IANA name, else UTC±hh:mm."""
    key = getattr(where, "key", None)
    if key in _BEIJING:
        return _("Beijing time")
    if key:
        return str(key)
    offset = (moment or datetime.now(where)).utcoffset() or datetime.now(where).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def shown(moment: datetime, where: tzinfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """`2026-12-07 14:43（北京时间）`: `moment` on the zone's clock, the zone named."""
    local = moment.astimezone(where) if moment.tzinfo is not None else moment
    return _("{time} ({zone})").format(
        time=local.strftime(pattern), zone=zone_name(where, local.replace(tzinfo=where))
    )


def wall_clock(moment: datetime, where: tzinfo) -> datetime:
    """`moment` as a naive time on the zone's clock (a naive `moment` is already on it)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(where).replace(tzinfo=None)
