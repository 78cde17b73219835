r"""OPS011, OPS012: playbook text never carries control or invisible characters.

A metric name such as `"\e]0;…\a\e[2J"` would retitle or clear the terminal of whoever
runs `diff` or `pilot compare`, and land in SOPs. Text pasted from 钉钉, 飞书 or Word
carries invisible characters (zero-width space U+200B, U+FEFF): an id `refund​-tickets`
with one never matches `refund-tickets` typed by hand, and bidirectional overrides
(U+202E…) make text read differently from what it is ("Trojan Source"). Outputs show
such characters (`opsplay.text.visible`); validate reports them where they were written:
- errors (OPS011): control characters anywhere; any invisible character in a key or an id
  (or a reference to one), where it silently breaks matching; bidirectional embeddings,
  overrides and isolates anywhere, since no playbook needs them and they hide what it says;
- warnings (OPS012): other invisible characters in free text (zero-width space, BOM, soft
  hyphen, direction marks), which change nothing a rule reads but spoil searches and copies.
The zero-width joiner of an emoji sequence (👩‍💻) and the joiners of Persian or Hindi
spelling are part of the text and never reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from opsplay.i18n import _
from opsplay.loader import Position
from opsplay.rules import Path, PlaybookData, Report, rule
from opsplay.text import BIDI_CONTROLS, code_point, has_control, invisible_characters, visible

# Keys whose values are ids or references to ids (typed Identifier or Slug in
# opsplay.model.playbook; tests/validate/test_invisible.py checks the list against the schema).
ID_FIELDS = frozenset(
    {
        "accountable",
        "calendar",
        "consulted",
        "goto",
        "guardrails",
        "id",
        "informed",
        "level",
        "metric",
        "metrics",
        "next",
        "node",
        "owner",
        "responsible",
        "to",
    }
)


def _texts(
    value: object, path: Path, *, in_id: bool = False
) -> Iterator[tuple[str, Path, bool, bool]]:
    """(text, path, is_key, is_id) for every key and text value under `value`."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str):
                yield name, (*path, name), True, True
            yield from _texts(
                item, (*path, name), in_id=isinstance(name, str) and name in ID_FIELDS
            )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index), in_id=in_id)
    elif isinstance(value, str):
        yield value, path, False, in_id


def _where(pb: PlaybookData, path: Path, key: bool, character: str) -> Position | None:
    """Line and column of the first `character` written in the value (or key) at `path`."""
    start = pb.loaded.keys.get(path) if key else pb.loaded.values.get(path)
    if start is None:
        return None
    escapes = (f"\\u{ord(character):04x}", f"\\u{ord(character):04X}")
    for number in range(start.line, len(pb.loaded.lines) + 1):
        line = pb.loaded.lines[number - 1]
        begin = start.column - 1 if number == start.line else 0
        found = [i for i in (line.find(c, begin) for c in (character, *escapes)) if i >= 0]
        if found:
            return Position(number, min(found) + 1)
    return None


@rule("OPS011")
def no_control_characters(pb: PlaybookData, report: Report) -> None:
    """No control characters anywhere; no invisible characters in keys and ids; no bidi controls."""
    for text, path, key, in_id in _texts(pb.data, ()):
        if has_control(text):
            shown = sorted({f"\\x{ord(ch):02x}" for ch in text if has_control(ch)})
            report(
                path,
                _(
                    "the text holds control characters ({characters}), which can rewrite a "
                    "terminal or a document; remove them"
                ).format(characters=" ".join(shown)),
                key=key,
            )
        hidden = [text[i] for i in invisible_characters(text)]
        if not hidden:
            continue
        characters = " ".join(dict.fromkeys(code_point(ch) for ch in hidden))
        at = _where(pb, path, key, hidden[0])
        if in_id:
            message = (
                _(
                    "the key `{text}` holds invisible characters ({characters}): it is not the "
                    "key it looks like; delete them (retype the key)"
                )
                if key
                else _(
                    "`{text}` holds invisible characters ({characters}): it never matches the "
                    "same id typed without them; delete them (retype the id)"
                )
            )
            report(path, message.format(text=visible(text), characters=characters), key=key, at=at)
        elif bidi := [ch for ch in hidden if ch in BIDI_CONTROLS]:
            report(
                path,
                _(
                    "the text holds bidirectional control characters ({characters}), which "
                    "make it show in a different order than it is stored; delete them"
                ).format(characters=" ".join(dict.fromkeys(map(code_point, bidi)))),
                at=_where(pb, path, key, bidi[0]),
            )


@rule("OPS012")
def no_invisible_characters(pb: PlaybookData, report: Report) -> None:
    """Free text holds no zero-width spaces, BOMs or direction marks (pasted from chat or Word)."""
    for text, path, key, in_id in _texts(pb.data, ()):
        if key or in_id:
            continue
        hidden = [text[i] for i in invisible_characters(text) if text[i] not in BIDI_CONTROLS]
        if hidden:
            report(
                path,
                _(
                    "the text holds invisible characters ({characters}), usually pasted from a "
                    "chat app or Word; delete them (search for the code point in your editor) "
                    "so that searches and copies find what you wrote"
                ).format(characters=" ".join(dict.fromkeys(map(code_point, hidden)))),
                at=_where(pb, path, key, hidden[0]),
            )
