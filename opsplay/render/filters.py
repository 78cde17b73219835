"""Filters templates use: numbers, durations, dates, and escapers for Markdown, Mermaid, YAML.

Plain functions of plain values, tested on their own; `environment` binds the language.
A value that is missing (None) is shown as an em dash, never as `None`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from opsplay.labels import (  # the playbook's words, shared with pilot and watch messages
    MISSING,
    duration,
    is_missing,
    label,
    listing,
    op,
    sla,
    sla_parts,
    triggers,
    wait,
)
from opsplay.text import (
    MD_LINK,
    TEMPLATE_OPENER,
    char_width,
    fmt_p,
    md_line,
    theme_safe,
    visible,
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    # -0.0 reads as a tiny loss that is not there; show it as 0.0.
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _signed(value: float, digits: int) -> str:
    text = _fixed(value, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def text(value: Any) -> str:
    """A value as text (control characters shown escaped), a missing one (None) as an em dash."""
    return MISSING if is_missing(value) else visible(str(value))


def percent(value: Any, digits: int = 1) -> str:
    """A share as a percentage: 0.3512 → `35.1%`."""
    if is_missing(value):
        return MISSING
    return _fixed(float(value) * 100, digits) + "%"


def signed_percent(value: Any, digits: int = 1) -> str:
    """A relative change with its sign: 0.0857 → `+8.6%`."""
    if is_missing(value):
        return MISSING
    return _signed(float(value) * 100, digits) + "%"


def points(value: Any, digits: int = 1, *, lang: str = "en") -> str:
    """A difference of two shares in percentage points: 0.03 → `+3.0 pp` / `+3.0个百分点`."""
    if is_missing(value):
        return MISSING
    number = _signed(float(value) * 100, digits)
    return f"{number}个百分点" if lang == "zh" else f"{number} pp"


def number(value: Any, digits: int = 2, unit: str | None = None, signed: bool = False) -> str:
    """A plain number with fixed decimals and an optional unit: `68.20 元`."""
    if is_missing(value):
        return MISSING
    text = _signed(float(value), digits) if signed else _fixed(float(value), digits)
    return f"{text} {unit}" if unit else text


def count(value: Any) -> str:
    """A count with thousands separators: `12,480` (a count is never fractional)."""
    if is_missing(value):
        return MISSING
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):  # a saved comparison edited by hand
        return str(value)


def pvalue(value: Any) -> str:
    """A p-value as the terminal writes it (opsplay.text.fmt_p): four decimals, or
    `<0.0001` — with three, 0.0496 read 0.050 beside 显著."""
    if is_missing(value):
        return MISSING
    return fmt_p(float(value))


def date(value: Any, *, lang: str = "en") -> str:
    """An ISO date in words: `2024-08-01` → `2024年8月1日` / `1 Aug 2024`."""
    if is_missing(value):
        return MISSING
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def period(value: Any, *, lang: str = "en") -> str:
    """A `{start, end}` period: `2024年8月1日 至 2024年8月31日` / `1 Aug 2024 – 31 Aug 2024`."""
    if is_missing(value):
        return MISSING
    joiner = " 至 " if lang == "zh" else " – "
    return date(value["start"], lang=lang) + joiner + date(value["end"], lang=lang)


_MD_ESCAPED = re.compile(r"([\\`*_])")
# What starts a heading or a list item when it opens a line.
_MD_LINE_START = re.compile(r"^(#|[-+](?=\s|$)|\d+(?=[.)](?:\s|$)))")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def markdown(value: Any) -> str:
    """Text safe inline in Markdown: no emphasis, links, HTML, control characters or
    line-start markers; newlines become `<br>`.

    HTML, `|`, `{` (attribute lists, macros) and control characters follow the one rule of
    every Markdown output opsplay writes (`opsplay.text.md_line`); this adds what only a
    document needs: Markdown's own markers escaped, and line breaks kept.
    """
    if is_missing(value):
        return MISSING
    text = str(value).strip()
    text = _MD_ESCAPED.sub(r"\\\1", text)
    if MD_LINK.search(text):  # brackets alone are plain text; escape them only where they link
        text = text.replace("[", "\\[").replace("]", "\\]")
    text = _MD_LINE_START.sub(
        lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), text
    )
    return "<br>".join(md_line(line) for line in _NEWLINES.split(text))


def _code_parts(value: Any) -> list[str] | None:
    """A printed message split at its backticks (odd parts are ids, options, names), or None
    when the backticks do not pair up or a quoted part spans lines."""
    parts = str(value).strip().split("`")
    if len(parts) < 3 or len(parts) % 2 == 0:
        return None
    if any(not part or _NEWLINES.search(part) for part in parts[1::2]):
        return None
    return parts


def message_md(value: Any) -> str:
    """A message opsplay printed, in Markdown: its `quoted` ids as code, the rest as `markdown`."""
    parts = None if is_missing(value) else _code_parts(value)
    if parts is None or any(TEMPLATE_OPENER.search(part) for part in parts[1::2]):
        return markdown(value)  # a code span cannot hide `{{` (it shows entities as written)
    # a code span shows its content literally (no HTML, no markers): only control characters
    return "".join(
        "`" + visible(part) + "`" if index % 2 else _inline_md(part)
        for index, part in enumerate(parts)
    )


def _inline_md(part: str) -> str:
    """A piece of a sentence in Markdown, the spaces around it kept."""
    core = part.strip()
    if not core:
        return part
    start = part[: len(part) - len(part.lstrip())]
    end = part[len(part.rstrip()) :]
    return start + markdown(core) + end


def message_html(value: Any) -> Markup:
    """A message opsplay printed, in HTML: its `quoted` ids as `<code>`, newlines as `<br>`."""
    parts = None if is_missing(value) else _code_parts(value)
    if parts is None:
        return lines(value)
    return Markup("").join(
        Markup("<code>%s</code>") % visible(part)
        if index % 2
        else Markup("<br>").join(escape(visible(line)) for line in _NEWLINES.split(part))
        for index, part in enumerate(parts)
    )


def markdown_cell(value: Any) -> str:
    """Text safe in a Markdown table cell (`markdown` already escapes `|`)."""
    return markdown(value)


def mermaid(value: Any, limit: int | None = None) -> str:
    """Text safe inside a quoted Mermaid label (`"…"`), optionally cut to a display width `limit`.

    Mermaid reads `#…;` as an entity and ends a label at `"`, so `#` is escaped first,
    then quotes, angle brackets, backticks (markdown strings) and `|` (edge labels).
    """
    if is_missing(value):
        return MISSING
    text = " ".join(str(value).split()) if limit else str(value).strip()
    if limit:
        text = _truncate(text, limit)
    text = text.replace("#", "#35;").replace('"', "#quot;")
    text = text.replace("<", "#lt;").replace(">", "#gt;").replace("`", "#96;").replace("|", "#124;")
    text = TEMPLATE_OPENER.sub("#123;", text)  # `{{` / `{%` / `{#` (mkdocs-macros)
    return _NEWLINES.sub("<br>", text)


def _truncate(text: str, width: int) -> str:
    """Cut text to a display width (Chinese characters count twice), ending with `…`."""
    widths = [char_width(ch) for ch in text]
    if sum(widths) <= width:
        return text
    used = 0
    for index, ch_width in enumerate(widths):
        if used + ch_width > width - 1:
            return text[:index].rstrip() + "…"
        used += ch_width
    return text  # pragma: no cover - the loop always returns


_YAML_UNSAFE = re.compile("[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _theme_safe(value: Any) -> Any:
    """Front-matter strings no theme reads as HTML or template code (mkdocs-macros): themes
    put them into `<title>`, the navigation and `<meta content="…">` unescaped, and
    `striptags` turns entities back into tags (`opsplay.text.theme_safe`)."""
    if isinstance(value, str):
        return value if _ISO_DATE.fullmatch(value) else theme_safe(value)
    if isinstance(value, list):
        return [_theme_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _theme_safe(item) for key, item in value.items()}
    return value


def yaml(value: Any) -> str:
    """A front-matter value on one line, Chinese kept as is (the built-in `tojson` escapes it).

    JSON is YAML, so strings are JSON-quoted; characters YAML readers reject or read as
    line breaks are written as `\\uXXXX`. ISO dates stay bare so they load as dates.
    """
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    text = json.dumps(_theme_safe(value), ensure_ascii=False, allow_nan=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def lines(value: Any) -> Markup:
    """HTML-escaped text with its newlines as `<br>` (for HTML templates)."""
    if is_missing(value):
        return Markup(MISSING)
    parts = _NEWLINES.split(str(value).strip())
    return Markup("<br>").join(escape(part) for part in parts)


def decimals(*values: Any) -> int:
    """Decimals that show a number's first three significant digits when it is below 0.1
    (a refund rate of 0.0561 is not `0.06`), two otherwise."""
    sizes = [abs(float(v)) for v in values if not is_missing(v) and float(v) != 0]
    largest = max(sizes, default=1.0)
    if largest >= 0.1 or not math.isfinite(largest):
        return 2
    return min(8, 2 - math.floor(math.log10(largest)))


def value_as(value: Any, kind: str | None, unit: str | None = None, *, lang: str = "en") -> str:
    """A value shown by what it is: rates and proportions as %, seconds in words, else a number."""
    if kind in ("proportion", "rate"):
        return percent(value)
    if kind == "seconds":
        return duration(value, lang=lang)
    return number(value, decimals(value), unit)


def change_as(value: Any, kind: str | None, unit: str | None = None, *, lang: str = "en") -> str:
    """An absolute change: percentage points for proportions, signed units otherwise."""
    if kind in ("proportion", "rate"):
        return points(value, lang=lang)
    return number(value, decimals(value), unit, signed=True)


def interval(
    bounds: Any, kind: str | None = None, unit: str | None = None, *, lang: str = "en"
) -> str:
    """A confidence interval: `[+0.9, +5.1] pp`; `[+1.2%, +16.0%]` with kind `relative`."""
    if not bounds or any(is_missing(b) for b in bounds):
        return MISSING
    low, high = bounds
    if kind == "relative":
        return f"[{signed_percent(low)}, {signed_percent(high)}]"
    if kind in ("proportion", "rate"):
        inner = f"{_signed(low * 100, 1)}, {_signed(high * 100, 1)}"
        return f"[{inner}]个百分点" if lang == "zh" else f"[{inner}] pp"
    digits = decimals(low, high)
    inner = f"{_signed(low, digits)}, {_signed(high, digits)}"
    return f"[{inner}] {unit}" if unit else f"[{inner}]"


def bind(lang: str) -> dict[str, Callable[..., Any]]:
    """Every filter by its template name, with the document language bound where it matters."""

    def with_lang(function: Callable[..., Any]) -> Callable[..., Any]:
        def bound(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("lang", lang)
            return function(*args, **kwargs)

        bound.__name__ = function.__name__
        bound.__doc__ = function.__doc__
        return bound

    return {
        "text": text,
        "percent": percent,
        "signed_percent": signed_percent,
        "points": with_lang(points),
        "number": number,
        "count": count,
        "pvalue": pvalue,
        "duration": with_lang(duration),
        "date": with_lang(date),
        "period": with_lang(period),
        "listing": with_lang(listing),
        "md": markdown,
        "md_cell": markdown_cell,
        "message_md": message_md,
        "message_html": message_html,
        "mermaid": mermaid,
        "yaml": yaml,
        "lines": lines,
        "value_as": with_lang(value_as),
        "change_as": with_lang(change_as),
        "interval": with_lang(interval),
        "sla": with_lang(sla),
        "sla_parts": with_lang(sla_parts),
        "label": with_lang(label),
        "op": op,
        "triggers": with_lang(triggers),
        "wait": with_lang(wait),
    }
