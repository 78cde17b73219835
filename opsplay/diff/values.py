"""How values are compared and shown: text with whitespace collapsed, lists as sets, numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

Renames = dict[str, str]  # old id → new id


def norm(value: Any) -> Any:
    """A value as compared: text with whitespace collapsed, dates as ISO text."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def items(values: Iterable[Any] | None) -> tuple[str, ...]:
    """Distinct items as compared, in the order written."""
    return tuple(dict.fromkeys(norm(str(v)) for v in values or ()))


def set_delta(old: Sequence[str], new: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, removed), each in the order written."""
    return tuple(v for v in new if v not in old), tuple(v for v in old if v not in new)


def number(value: float) -> str:
    """A number in its shortest form."""
    return f"{value:g}"


def period(span: Any) -> str | None:
    """A date range as shown."""
    return f"{span.start.isoformat()} – {span.end.isoformat()}" if span is not None else None
