"""One cell of an export read as a label or a number, and cells quoted in messages."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from opsplay.i18n import N_, _
from opsplay.text import joined

SKIP_HINT = N_("or pass --skip-bad-rows to skip such rows")
MAX_EXAMPLES = 5  # bad rows quoted in a skip warning

# A number of the small exports (the query of `small_exports` runs the same patterns)
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
THOUSANDS_PATTERN = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_NUMBER_RE = re.compile(NUMBER_PATTERN, re.ASCII)
_THOUSANDS_RE = re.compile(THOUSANDS_PATTERN, re.ASCII)
_TRUE = frozenset({"true", "yes", "是"})  # 是/否: how Chinese spreadsheets say yes/no
_FALSE = frozenset({"false", "no", "否"})


def normalize_text(text: str) -> str:
    """NFKC-normalise and strip a header, label or number (full-width to half-width)."""
    return unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip()


@lru_cache(maxsize=4096)
def normalize_label(value: str) -> str:
    """`normalize_text` of an arm, period or segment value, cached: they repeat in every chunk."""
    return normalize_text(value)


def parse_number(
    raw: str, *, percent: bool, boolean: bool = False, count: bool = False
) -> float | str:
    """Parse one cell as a number; return the float or a message saying what to write instead.

    `percent` allows `35%` (read as 0.35); `boolean` allows true/false (1/0). Thousands
    separators (`1,234`) and full-width digits are always accepted. `count`: the cell holds a
    number of units, and the example of what to write is a whole number.
    """
    text = normalize_text(raw).replace("\u2212", "-")
    if not text:
        return _("is blank; fill in a value")
    core = text[:-1].rstrip() if text.endswith("%") else text
    is_percent = core is not text
    if _THOUSANDS_RE.match(core):
        core = core.replace(",", "")
    if boolean and not is_percent and core.casefold() in _TRUE | _FALSE:
        return 1.0 if core.casefold() in _TRUE else 0.0
    if not _NUMBER_RE.match(core):
        return not_a_number(raw, count=count)
    if is_percent and not percent:
        return _(
            "{value} is a percentage; unit rows hold each unit's own value "
            "(0 or 1 for a proportion)"
        ).format(value=quote(raw))
    value = float(core)
    if value in (float("inf"), float("-inf")):
        return _("{value} is too large to be a number here").format(value=quote(raw))
    return value / 100.0 if is_percent else value


def not_a_number(raw: str, *, count: bool = False) -> str:
    """`"abc" is not a number; write …`: a count's example is a whole number (20000)."""
    if count:
        return _("{value} is not a number; write a whole number of units such as 20000").format(
            value=quote(raw)
        )
    return _("{value} is not a number; write a plain number such as 12.5").format(value=quote(raw))


def quote(value: str) -> str:
    """A cell as a message shows it: in quotes (“” in Chinese), cut to 40 characters."""
    shown = value if len(value) <= 40 else value[:37] + "..."
    return _('"{cell}"').format(cell=shown)


def date_span(start: dt.date, end: dt.date) -> str:
    """`2026-11-01 to 2026-11-30` (至 in Chinese): a range of the pilot window."""
    return _("{start} to {end}").format(start=start.isoformat(), end=end.isoformat())


def names(values: Sequence[str], limit: int = 12) -> str:
    """`a`, `b`, … (N in all): values listed in a message."""
    shown = joined(f"`{value}`" for value in list(values)[:limit])
    if len(values) > limit:
        shown += _(" … ({count} in all)").format(count=len(values))
    return shown


def close_hint(label: str, values: Sequence[str]) -> str:
    """` (did you mean "x"?)` when one of `values` is close to `label`, else nothing."""
    close = difflib.get_close_matches(normalize_text(label), list(values), n=1, cutoff=0.6)
    return _(' (did you mean "{value}"?)').format(value=close[0]) if close else ""
