"""Words and sizes of the flowchart's boxes and arrows, for the drawing and the Word steps.

Sizes are estimated from the text (a wide, Chinese character takes one em, other
characters about 0.62 em), so the layout needs no font and stays byte-stable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from opsplay.i18n import N_, translate
from opsplay.labels import triggers as trigger_words
from opsplay.labels import wait
from opsplay.text import visible

NAME_SIZE = 13  # px, the node name
NOTE_SIZE = 11  # px, owner and time limit under the name
LINE = 1.35  # line height, in font sizes
PAD_X, PAD_Y = 12, 8
MAX_TEXT = 180  # px of text per line before it wraps
MAX_LINES = 3
_NO_LINE_START = set("，。、；：？！）」』”’》〉】…%,.;:?!)]}")


# A number and its unit are not split across lines (CLREQ): 30分钟内, 3个工作日, 1.5小时.
_NUMBER_UNIT = re.compile(
    r"[0-9]+(?:[.:][0-9]+)*(?:个工作日|工作日|个小时|小时|分钟|秒钟|钟头|星期|个月|[秒分时天日周月年次个元人单])"
    r"(?:以内|之内|内)?"
)


# Stands for a space inside a phrase kept whole (`P2 15分钟`) while the text is cut at spaces.
_JOINED_SPACE = "\ue000"


def _keep_units(part: str, keep: Sequence[str] = ()) -> list[str]:
    """The characters of `part`, each phrase of `keep` and each number with its unit as one
    item (a kept phrase's spaces written as _JOINED_SPACE)."""
    items: list[str] = []
    last = 0
    kept = "|".join(re.escape(phrase) for phrase in sorted(keep, key=len, reverse=True))
    pattern = re.compile(f"{kept}|{_NUMBER_UNIT.pattern}" if kept else _NUMBER_UNIT.pattern)
    for match in pattern.finditer(part):
        items += [*part[last : match.start()], match.group(0)]
        last = match.end()
    return items + list(part[last:])


def text_width(text: str, size: float) -> float:
    """Width a line takes in px: wide (Chinese) characters one em, others about 0.62 em."""
    return sum(
        size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.62 for ch in text
    )


def wrap(
    text: str,
    size: float,
    limit: float = MAX_TEXT,
    max_lines: int = MAX_LINES,
    keep: Sequence[str] = (),
) -> list[str]:
    """Lines of at most `limit` px: Chinese breaks between characters, other text at spaces;
    never inside a phrase of `keep` that fits on a line (a time limit, `次日12点前`, `P2 15分钟`)."""
    text = visible(" ".join(text.split()))
    joined = []
    for phrase in keep:
        phrase = visible(" ".join(str(phrase).split()))
        if phrase and text_width(phrase, size) <= limit and phrase in text:
            text = text.replace(phrase, phrase.replace(" ", _JOINED_SPACE))
            joined.append(phrase.replace(" ", _JOINED_SPACE))
    words: list[str] = []
    for part in text.split(" "):
        word = ""
        for ch in _keep_units(part, joined):  # a wide character is a word of its own; long
            # Latin words are cut; a number keeps its unit (30分钟内), marked by _keep_units
            if len(ch) > 1:
                if word:
                    words.append(word)
                words.append(ch.replace(_JOINED_SPACE, " "))
                word = ""
            elif ch in _NO_LINE_START and (word or words):  # ，。） never start a line
                if word:
                    word += ch
                else:
                    words[-1] += ch
            elif unicodedata.east_asian_width(ch) in ("W", "F"):
                if word:
                    words.append(word)
                words.append(ch)
                word = ""
            elif text_width(word + ch, size) > limit:
                words.append(word)
                word = ch
            else:
                word += ch
        if word:
            words.append(word)
        words.append(" ")
    lines: list[str] = []
    current = ""
    for word in words[:-1]:
        candidate = current + word
        if current and text_width(candidate.rstrip(), size) > limit:
            lines.append(current.rstrip())
            current = "" if word == " " else word
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size) > limit:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


def box_texts(item: dict[str, Any], lang: str) -> tuple[str, list[str], list[str]]:
    """Title (full text), wrapped name lines and note lines of one box of the graph."""
    from opsplay.labels import sla, sla_parts

    shape = item.get("shape", "process")
    if shape == "end":
        title = translate(N_("End of the process"), lang)
        return title, [title], []
    text = visible(str(item.get("text") or ""))
    if shape == "process":
        node = item.get("node") or {}
        notes = [n for n in (node.get("owner_name"), sla(node, lang=lang)) if n]
        note = " · ".join(str(n) for n in notes)
        lines = wrap(text, NAME_SIZE)
        room = max([MAX_TEXT, *(text_width(line, NAME_SIZE) for line in lines)])
        # the owner and each limit stay whole: `次日12点前`, `P2 15分钟`, `2小时（客服班次）`
        whole = [str(node.get("owner_name") or ""), *sla_parts(node, lang=lang)]
        return (
            text,
            lines,
            wrap(note, NOTE_SIZE, limit=room, max_lines=3, keep=whole) if note else [],
        )
    label = (
        translate(N_("Escalation: {action}"), lang)
        if shape == "escalation"
        else translate(N_("Exception handling: {action}"), lang)
    ).format(action=text)
    return label, wrap(label, NOTE_SIZE), []


def box_size(lines: Sequence[str], notes: Sequence[str], kind: str) -> tuple[float, float]:
    """Width and height of a box holding these lines (padding included)."""
    size = NAME_SIZE if kind == "process" else NOTE_SIZE
    widths = [text_width(line, size) for line in lines] + [
        text_width(note, NOTE_SIZE) for note in notes
    ]
    width = max(widths or [0.0]) + 2 * PAD_X
    height = len(lines) * size * LINE + len(notes) * NOTE_SIZE * LINE + 2 * PAD_Y
    return round(max(width, 64.0)), round(height)


def edge_label(edge: dict[str, Any], lang: str) -> str:
    """The triggers of a fallback edge in words (`timeout / failure`), else its own label."""
    words = [str(t) for t in edge.get("triggers") or []]
    # other dashed kinds (an escalation step, say) may carry their own label or delay
    if words:
        return visible(trigger_words(words, lang=lang))
    return visible(str(edge.get("label") or wait(edge, lang=lang)))
