"""Small text helpers shared by every output: display width of CJK text, Markdown cells,
and the neutralising of text that comes from playbooks and exports (untrusted input)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from opsplay.i18n import _

# C0 controls except tab and newline, DEL, and C1 controls (ESC starts terminal escapes;
# OSC/CSI sequences can retitle a terminal or clear it).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible format characters (Unicode category Cf) that chat apps and Word paste into text:
# zero-width space and joiners, the byte order mark, soft hyphen, direction marks, and the
# bidirectional embeddings, overrides and isolates of the "Trojan Source" trick. Left out:
# the Arabic number signs (U+0600–U+0605 and the like), which are drawn. A test checks the
# list against the running Python's Unicode data.
INVISIBLE_CLASS = (
    "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")
# Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZWJ, _ZWNJ, _BLACK_FLAG = "\u200d", "\u200c", "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)
_EMOJI_MODIFIERS = frozenset("\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")
# `{{`, `{%`, `{#`: a site built with mkdocs-macros (or any Jinja pass) would run what follows.
# The `{` is written as an entity (Markdown/HTML) or a look-alike, so a reader still sees it.
TEMPLATE_OPENER = re.compile(r"\{(?=[{%#])")
# `[text](url)`, `[text][ref]`, `[ref]: url`: brackets that make a link (alone they are text).
MD_LINK = re.compile(r"\]\s*[\[(:]")
_BRACKET = re.compile(r"(\\*)([\[\]])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # `&lt;`, `&#60;`: read as a character
_MD_TAG_START = re.compile(r"<(?=[A-Za-z/!?]|[^\s<>]*>)")  # a tag's start, or a link
# What themes (MkDocs, Material, Docusaurus) print raw from front matter and nav titles, and
# `striptags` turns back from entities: replaced by full-width look-alikes a reader still reads.
_THEME_UNSAFE = str.maketrans({"<": "＜", ">": "＞", "&": "＆", '"': "＂", "'": "＇"})
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


def invisible_characters(text: str) -> list[int]:
    """Indexes of the invisible format characters in text that are not part of its spelling.

    Kept: the zero-width joiner inside an emoji sequence (👩‍💻), the tags of a flag
    (🏴 England), and the joiners between letters of the scripts that need them (Persian,
    Hindi). Everything else (U+200B from a chat app, U+FEFF, bidi controls) is listed.
    """
    return [m.start() for m in _INVISIBLE.finditer(text) if not _spelling(text, m.start())]


def _spelling(text: str, index: int) -> bool:
    """Whether the format character at `index` belongs to an emoji or a joining script."""
    ch = text[index]
    if (
        ch in (_ZWJ, _ZWNJ)
        and _joining_letter(text, index - 1)
        and _joining_letter(text, index + 1)
    ):
        return True
    if ch == _ZWJ:
        before = index - 1
        while before >= 0 and text[before] in _EMOJI_MODIFIERS:
            before -= 1
        return (
            before >= 0
            and _emoji(text[before])
            and index + 1 < len(text)
            and _emoji(text[index + 1])
        )
    if ord(ch) in _TAGS:
        start, end = index, index
        while start > 0 and ord(text[start - 1]) in _TAGS:
            start -= 1
        while end + 1 < len(text) and ord(text[end + 1]) in _TAGS:
            end += 1
        return start > 0 and text[start - 1] == _BLACK_FLAG and text[end] == "\U000e007f"
    return False


def _emoji(ch: str) -> bool:
    return ord(ch) > 0x7F and unicodedata.category(ch) == "So"


def _joining_letter(text: str, index: int) -> bool:
    """A letter or mark of a script written with joiners: not Latin, not wide (CJK, Hangul)."""
    if not 0 <= index < len(text):
        return False
    ch = text[index]
    return ord(ch) > 0x24F and unicodedata.category(ch)[0] in "LM" and char_width(ch) == 1


def code_point(ch: str) -> str:
    """A character as its code point, as editors search for it: `U+200B`."""
    return f"U+{ord(ch):04X}"


def visible(text: str) -> str:
    """Text safe to print: control characters shown as `\\x1b`-style escapes and invisible
    format characters as `<U+200B>`, never sent raw (an emoji sequence stays whole)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if _INVISIBLE.search(text) is None:
        return text
    hidden = set(invisible_characters(text))
    return "".join(f"<{code_point(ch)}>" if i in hidden else ch for i, ch in enumerate(text))


def needs_visible(text: str) -> bool:
    """Whether `visible` would change text (a quick test before copying it)."""
    return has_control(text) or bool(invisible_characters(text))


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, `|` escaped, one line, no link.

    The one escaping rule of every Markdown output opsplay writes: raw HTML from a
    playbook or an export (`<img onerror=…>`) must reach a reader as text, and so must
    `[点我](javascript:…)` (its brackets escaped where they would make a link).
    """
    return link_brackets(md_line(text))


def md_line(text: str) -> str:
    """`md_cell` for text whose brackets the caller has escaped (with Markdown's other
    markers): HTML escaped, `|` escaped, one line, every `{` as `&#123;`.

    `{` opens an attribute list for MkDocs' `attr_list` extension (`{: onfocus=… }`,
    `{#id}`, `{.class}`, even `{onfocus=…}`) at the end of a heading, cell or list item,
    and a template for mkdocs-macros (`{{`, `{%`, `{#`): it is written as an entity (no
    backslash before it undoes that), which a reader still sees as `{`.
    """
    escaped = _md_html(visible(text))
    escaped = escaped.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return escaped.replace("{", "&#123;")


def _md_html(text: str) -> str:
    """Text with every HTML tag, comment, link and entity Markdown could read in it escaped,
    and the rest as written: `p<0.0001`, `A & B`, `n > 30` stay so when a reader pastes them.

    Markdown (CommonMark, Python-Markdown) reads `<` as HTML only before a letter, `/`, `!` or
    `?`, and as a link (`<a@b.cn>`, `<http://…>`) only with a `>` after it and no space
    between; `&` only before a name or number and `;`; `>` only first on a line (a quote).
    Text holding a tag or a link is escaped whole.
    """
    if _MD_TAG_START.search(text):
        return html.escape(text, quote=False)  # the tag or link shown whole as text
    text = _MD_ENTITY.sub("&amp;", text)
    stripped = text.lstrip()
    if stripped.startswith(">"):
        return text[: len(text) - len(stripped)] + "&gt;" + stripped[1:]
    return text


def link_brackets(text: str, *, always: bool = False) -> str:
    """Markdown text with `[` and `]` escaped where they would make a link (`[text](url)`,
    `[text][ref]`, `[ref]: url`), or everywhere with `always` (text inside `[…](…)`).

    Backslashes just before a bracket are doubled first, so `\\](javascript:…)` cannot
    turn the escape back into a bracket.
    """
    if not always and MD_LINK.search(text) is None:
        return text  # brackets alone are plain text: `[1]`, `data[1].csv` stay as written
    return _BRACKET.sub(lambda m: "\\" * (2 * len(m.group(1)) + 1) + m.group(2), text)


def theme_safe(text: str) -> str:
    """A title or front-matter string no theme reads as HTML or template code: `<>&"'` as
    full-width look-alikes, the `{` of `{{`, `{%`, `{#` as `｛`."""
    return TEMPLATE_OPENER.sub("｛", text.translate(_THEME_UNSAFE))


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection).

    Text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`; numbers stay
    numbers (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def joined(items: Iterable[str]) -> str:
    """Items listed as the message language lists them: `a, b, c` / `a、b、c`."""
    shown = ""
    for item in items:
        shown = _("{items}, {item}").format(items=shown, item=item) if shown else item
    return shown


def by_pinyin(text: str) -> tuple[str, ...]:
    """Sort key of a title or label as Chinese readers order it: by pinyin (会员 hui before
    售后 shou), Latin letters and digits as they are, case-insensitive."""
    from pypinyin import lazy_pinyin  # only where something is ordered: not on validate's path

    return tuple(part.casefold() for part in lazy_pinyin(visible(text)))


def segment_order(segment: Iterable[tuple[str, str]]) -> tuple[object, ...]:
    """Sort key of a segment ((column, value), ...): each value by pinyin (北京 before 上海),
    the value itself breaking ties between homophones."""
    return tuple((column, by_pinyin(value), value) for column, value in segment)


def fmt_p(value: float | None) -> str:
    """p-values as people read them: 0.0028, <0.0001 (never 1.2e-17 or 0)."""
    if value is None:
        return "—"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def p_is(value: float) -> str:
    """`p=0.0028`, `p<0.0001`."""
    shown = fmt_p(value)
    return "p" + shown if shown.startswith("<") else "p=" + shown
