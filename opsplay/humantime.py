"""One human format for a length of time, in every output: terminal tables, chat messages,
history, documents (`1小时30分钟`, `8分钟16秒`, `41.5秒` / `1 hour 30 minutes`).

Precision a reader needs: tenths of a second under an hour (a P95 of 120.2 s against a
limit of 120 s must not read as equal), whole minutes beyond; days only from three days on (teams say 24小时 / 48 hours).
Standard library only, so every command can use it.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
_UNITS = {
    "zh": (("天", "天"), ("小时", "小时"), ("分钟", "分钟"), ("秒", "秒")),
    "en": (("day", "days"), ("hour", "hours"), ("minute", "minutes"), ("second", "seconds")),
}
_SIZES = (86400, 3600, 60, 1)


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def duration(seconds: Any, *, lang: str = "en") -> str:
    """A length of time in words: 5400 → `1小时30分钟` / `1 hour 30 minutes`."""
    if seconds is None or (isinstance(seconds, float) and not math.isfinite(seconds)):
        return MISSING
    remaining = float(seconds)
    if remaining >= 3600:
        remaining = math.floor(remaining / 60 + 0.5) * 60.0
    elif remaining >= 1:  # tenths of a second: a P95 of 120.2 s is not shown as its 120 s limit
        remaining = math.floor(remaining * 10 + 0.5) / 10
    if remaining < 1:
        text = _fixed(remaining, 1 if remaining >= 0.1 else 3).rstrip("0").rstrip(".") or "0"
        return f"{text}秒" if lang == "zh" else f"{text} seconds"
    parts = []
    for size, (singular, plural) in zip(
        _SIZES, _UNITS["zh" if lang == "zh" else "en"], strict=True
    ):
        if size == 86400 and remaining < 3 * 86400:
            continue  # operations teams say 24小时 / 48 hours for limits under three days
        count = int(remaining // size)
        remaining -= count * size
        if size == 1 and remaining >= 0.05:  # keep tenths of a second, drop float noise
            whole = _fixed(count + remaining, 1)
            parts.append(f"{whole}{singular}" if lang == "zh" else f"{whole} {plural}")
        elif count:
            word = singular if count == 1 else plural
            parts.append(f"{count}{word}" if lang == "zh" else f"{count} {word}")
    return "".join(parts) if lang == "zh" else " ".join(parts)
