"""Small text helpers shared by every output: display width of CJK text, Markdown cells."""

from __future__ import annotations

import unicodedata


def char_width(ch: str) -> int:
    """Terminal columns one character takes: two for wide (Chinese) characters."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns a text takes."""
    return sum(char_width(ch) for ch in text)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: `|` escaped, one line."""
    return text.replace("|", "\\|").replace("\n", " ")
