"""Filters templates use: numbers, durations, dates, and escapers for Markdown, Mermaid, YAML.

Plain functions of plain values, tested on their own; `environment` binds the language.
A value that is missing (None) is shown as an em dash, never as `None`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape

from opsplay.i18n import N_, translate
from opsplay.render.labels import OPERATORS, label_of
from opsplay.text import (
    MD_LINK,
    TEMPLATE_OPENER,
    char_width,
    fmt_p,
    md_line,
    theme_safe,
    visible,
)

MISSING = "—"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    # -0.0 reads as a tiny loss that is not there; show it as 0.0.
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _signed(value: float, digits: int) -> str:
    text = _fixed(value, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def text(value: Any) -> str:
    """A value as text (control characters shown escaped), a missing one (None) as an em dash."""
    return MISSING if _missing(value) else visible(str(value))


def percent(value: Any, digits: int = 1) -> str:
    """A share as a percentage: 0.3512 → `35.1%`."""
    if _missing(value):
        return MISSING
    return _fixed(float(value) * 100, digits) + "%"


def signed_percent(value: Any, digits: int = 1) -> str:
    """A relative change with its sign: 0.0857 → `+8.6%`."""
    if _missing(value):
        return MISSING
    return _signed(float(value) * 100, digits) + "%"


def points(value: Any, digits: int = 1, *, lang: str = "en") -> str:
    """A difference of two shares in percentage points: 0.03 → `+3.0 pp` / `+3.0个百分点`."""
    if _missing(value):
        return MISSING
    number = _signed(float(value) * 100, digits)
    return f"{number}个百分点" if lang == "zh" else f"{number} pp"


def number(value: Any, digits: int = 2, unit: str | None = None, signed: bool = False) -> str:
    """A plain number with fixed decimals and an optional unit: `68.20 元`."""
    if _missing(value):
        return MISSING
    text = _signed(float(value), digits) if signed else _fixed(float(value), digits)
    return f"{text} {unit}" if unit else text


def count(value: Any) -> str:
    """A count with thousands separators: `12,480` (a count is never fractional)."""
    if _missing(value):
        return MISSING
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):  # a saved comparison edited by hand
        return str(value)


def pvalue(value: Any) -> str:
    """A p-value as the terminal writes it (opsplay.text.fmt_p): four decimals, or
    `<0.0001` — with three, 0.0496 read 0.050 beside 显著."""
    if _missing(value):
        return MISSING
    return fmt_p(float(value))


def duration(seconds: Any, *, lang: str = "en") -> str:
    """A length of time in words: 5400 → `1小时30分钟` / `1 hour 30 minutes` (one format for
    every output: opsplay.humantime)."""
    from opsplay.humantime import duration as human_duration

    return human_duration(seconds, lang=lang)


def date(value: Any, *, lang: str = "en") -> str:
    """An ISO date in words: `2024-08-01` → `2024年8月1日` / `1 Aug 2024`."""
    if _missing(value):
        return MISSING
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def period(value: Any, *, lang: str = "en") -> str:
    """A `{start, end}` period: `2024年8月1日 至 2024年8月31日` / `1 Aug 2024 – 31 Aug 2024`."""
    if _missing(value):
        return MISSING
    joiner = " 至 " if lang == "zh" else " – "
    return date(value["start"], lang=lang) + joiner + date(value["end"], lang=lang)


def listing(values: Iterable[Any] | None, *, lang: str = "en") -> str:
    """Items of a list as text: `、` between Chinese items, `, ` between English ones."""
    items = [str(v) for v in values or []]
    if not items:
        return MISSING
    return ("、" if lang == "zh" else ", ").join(items)


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
    if _missing(value):
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
    parts = None if _missing(value) else _code_parts(value)
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
    parts = None if _missing(value) else _code_parts(value)
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
    if _missing(value):
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
    if _missing(value):
        return Markup(MISSING)
    parts = _NEWLINES.split(str(value).strip())
    return Markup("<br>").join(escape(part) for part in parts)


def decimals(*values: Any) -> int:
    """Decimals that show a number's first three significant digits when it is below 0.1
    (a refund rate of 0.0561 is not `0.06`), two otherwise."""
    sizes = [abs(float(v)) for v in values if not _missing(v) and float(v) != 0]
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
    if not bounds or any(_missing(b) for b in bounds):
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


def sla(node: Any, *, lang: str = "en") -> str:
    """A node's time limit as the user wrote it (`2天`, `30分钟内`, `T+1`), never normalised;
    `realtime` adds the configured limit: `实时（1秒内）`; a length counted in a business-hour
    calendar names it: `2小时（客服班次）`. Per level: `P1 5分钟、P2 30分钟内、其他级别 2小时`."""
    parts = sla_parts(node, lang=lang)
    return listing(parts, lang=lang) if parts else MISSING


def sla_parts(node: Any, *, lang: str = "en") -> list[str]:
    """Each limit of a node as `sla` shows it (`P1 5分钟`, `P2 次日12点前`, `2小时（客服班次）`),
    for a table cell with one line per level, or a drawing that must not break one; [] when
    the node has no limit."""
    if not node or _missing(node.get("sla")) or not str(node["sla"]).strip():
        return []
    calendar = node.get("calendar")
    if isinstance(node["sla"], dict):  # a limit per level
        return [
            f"{translate(N_('other levels'), lang) if level == 'default' else level} "
            f"{in_business_hours(str(limit).strip(), calendar, lang=lang)}"
            for level, limit in node["sla"].items()
        ]
    written = str(node["sla"]).strip()
    if node.get("sla_realtime") and not _missing(node.get("sla_seconds")):
        limit = duration(node["sla_seconds"], lang=lang)
        written = translate(N_("{written} (within {limit})"), lang).format(
            written=written, limit=limit
        )
    return [in_business_hours(written, calendar, lang=lang, limit=str(node["sla"]).strip())]


def in_business_hours(
    shown: str, calendar: Any, *, lang: str = "en", limit: str | None = None
) -> str:
    """A limit as shown, naming the business-hour calendar its length counts in
    (`2小时（客服班次）`); unchanged without a calendar, or for a limit due at a time of day
    (`T+1`, `次日12点前`), which business hours do not touch. `limit`: the limit as written
    when `shown` adds to it."""
    if _missing(calendar) or not str(calendar).strip():
        return shown
    from opsplay.model.duration import parse_duration

    try:
        if parse_duration(limit or shown).is_calendar:
            return shown
    except ValueError:
        return shown
    # TRANSLATORS: a time limit counted only in a business-hour calendar's hours: 2小时（客服班次）
    return translate(N_("{limit} ({calendar})"), lang).format(limit=shown, calendar=calendar)


def label(value: Any, group: str, *, lang: str = "en") -> str:
    """A fixed value of the playbook in the document's language: `pilot` → `试点`."""
    return MISSING if _missing(value) else label_of(group, value, lang)


def triggers(values: Iterable[Any] | None, *, lang: str = "en") -> str:
    """The triggers of an exception handling in words: `超时或无响应` / `timeout / no response`."""
    words = [label_of("trigger", v, lang) for v in values or []]
    if not words:
        return MISSING
    text = words[0]
    for word in words[1:-1]:
        text = translate(N_("{a}, {b}"), lang).format(a=text, b=word)
    if len(words) > 1:
        # TRANSLATORS: the last of the triggers of one exception handling; any one sets it off.
        text = translate(N_("{a} or {b}"), lang).format(a=text, b=words[-1])
    return text


def level_words(level: Any, *, lang: str = "en") -> str:
    """The level an escalation ladder is for, as a sentence starts with it: `P1 级` /
    `at level P1`, `其他级别` / `at other levels` for `default` (never the key itself)."""
    if str(level) == "default":
        return translate(N_("at other levels"), lang)
    # TRANSLATORS: the level (P1, SEV2…) an escalation ladder is for; a sentence follows it.
    return translate(N_("at level {level}"), lang).format(level=level)


def wait(edge: Any, *, lang: str = "en") -> str:
    """The label of an escalation edge: its wait, led by its level when the ladder is one of
    several (`P1：30分钟`, `其他级别：4小时`), never the `default` key."""
    after = str(edge.get("after") or "")
    level = edge.get("level")
    if not level:
        return after
    shown = translate(N_("other levels"), lang) if str(level) == "default" else str(level)
    return translate(N_("{level}: {after}"), lang).format(level=shown, after=after)


def op(value: Any) -> str:
    """A comparison sign as printed: `<=` → `≤`."""
    return OPERATORS.get(str(value), str(value))


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
