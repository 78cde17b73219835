"""Printed SQL folded for a reviewer: no line wider than a terminal's 100 columns.

Only whitespace moves: a code line is broken at spaces outside quoted strings and names,
its continuation lines indented four more; a comment line goes on as comment lines. Whether
the query means the same is the engines' tests' to show (they run the folded text).
May import: opsplay.text.
"""

from __future__ import annotations

from opsplay.text import char_width, display_width

WIDTH = 100


def fold_sql(sql: str, width: int = WIDTH) -> str:
    """`sql` with every line over `width` columns folded (a Chinese character counts two)."""
    return "\n".join(piece for line in sql.split("\n") for piece in _fold_line(line, width))


def _fold_line(line: str, width: int) -> list[str]:
    if display_width(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    body = line[len(indent) :]
    if body.startswith("--"):
        room = width - len(indent) - 3
        return [f"{indent}-- {part}" for part in _comment_parts(body[2:].strip(), room)]
    words = _code_words(body)
    if words is None:  # a comment after the code, or an open quote: left as it is
        return [line]
    return _packed(words, indent, indent + "    ", width)


def _code_words(body: str) -> list[str] | None:
    """The code split at spaces outside quotes ('…' strings, "…" and `…` names)."""
    words, current, quote = [], [], ""
    i = 0
    while i < len(body):
        ch = body[i]
        if quote:
            current.append(ch)
            if ch == quote:
                if body[i + 1 : i + 2] == quote:  # a doubled quote inside
                    current.append(quote)
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif body.startswith("--", i):
            return None
        elif ch == " ":
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if quote:
        return None
    if current:
        words.append("".join(current))
    return words


def _packed(words: list[str], first: str, rest: str, width: int) -> list[str]:
    """Words in lines of at most `width` columns, the first line starting with `first`, the
    others with `rest` (a word wider than a line has a line of its own)."""
    lines, current, empty = [], first, True
    for word in words:
        longer = current + ("" if empty else " ") + word
        if not empty and display_width(longer) > width:
            lines.append(current)
            current = rest + word
        else:
            current = longer
        empty = False
    lines.append(current)
    return lines


# Chinese punctuation a line does not start with
_NO_BREAK_BEFORE = set("，。；：、？！）】」』》")


def _comment_parts(text: str, width: int) -> list[str]:
    """A comment's text in parts of at most `width` columns: broken at spaces, and between
    Chinese characters (Chinese text has no spaces to break at)."""
    parts = []
    while display_width(text) > width:
        cut = _break_at(text, width)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _break_at(text: str, width: int) -> int:
    """Where to break `text`: the last space or Chinese character boundary within `width`
    columns (at `width` itself when there is none)."""
    used, best = 0, 0
    for i, ch in enumerate(text):
        if used + char_width(ch) > width:
            return best or i
        wide_edge = char_width(ch) == 2 or (i > 0 and char_width(text[i - 1]) == 2)
        if i > 0 and (ch == " " or wide_edge) and ch not in _NO_BREAK_BEFORE:
            best = i
        used += char_width(ch)
    return len(text)
