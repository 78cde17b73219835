"""Small text helpers shared by every output: display width of CJK text, Markdown cells,
and the neutralising of text that comes from playbooks and exports (untrusted input)."""

from __future__ import annotations

import html
import re
import unicodedata

# C0 controls except tab and newline, DEL, and C1 controls (ESC starts terminal escapes;
# OSC/CSI sequences can retitle a terminal or clear it).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def char_width(ch: str) -> int:
    """Terminal columns one character takes: two for wide (Chinese) characters."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns a text takes."""
    return sum(char_width(ch) for ch in text)


def has_control(text: str) -> bool:
    """Whether text holds a control character other than tab and newline."""
    return _CONTROL.search(text) is not None


def visible(text: str) -> str:
    """Text safe to print: control characters shown as `\\x1b`-style escapes, never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, `|` escaped, one line.

    The one escaping rule of every Markdown output opsplay writes: raw HTML from a
    playbook or an export (`<img onerror=…>`) must reach a reader as text.
    """
    escaped = html.escape(visible(text), quote=False)
    return escaped.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection).

    Text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`; numbers stay
    numbers (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
