"""Invisible format characters pasted from 钉钉, 飞书 and Word (U+200B, U+FEFF, bidi controls):
reported where they were written, shown as `<U+200B>` wherever text is echoed, emoji kept."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import pytest

from opsplay.model.playbook import IDENTIFIER_PATTERN, SLUG_PATTERN
from opsplay.rules.text import ID_FIELDS
from opsplay.schema import playbook_schema
from opsplay.text import BIDI_CONTROLS, display_width, invisible_characters, visible

from .conftest import Cli
from .support import copy_case

# Arabic number signs and the like: category Cf, but drawn (they carry a visible glyph).
_DRAWN = {*range(0x600, 0x606), 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0x110BD, 0x110CD}


def test_every_invisible_format_character_of_unicode_is_shown() -> None:
    missed = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf"
        and c not in _DRAWN
        and invisible_characters("a" + chr(c) + "b") != [1]
    ]
    assert missed == []
    assert {f"U+{ord(ch):04X}" for ch in BIDI_CONTROLS} == {
        *(f"U+{c:04X}" for c in range(0x202A, 0x202F)),
        *(f"U+{c:04X}" for c in range(0x2066, 0x206A)),
    }


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("refund\u200b-tickets", "refund<U+200B>-tickets"),
        ("\ufeff客服\u200d专员", "<U+FEFF>客服<U+200D>专员"),  # ZWJ between Chinese: pasted
        ("金额超过\u202e元0005\u202c须审批", "金额超过<U+202E>元0005<U+202C>须审批"),
        ("核对订单号\u200e\x1b[2J", "核对订单号<U+200E>\\x1b[2J"),
        # Emoji sequences and the joiners of Persian and Hindi spelling are text.
        ("工单受理 👩\u200d💻", "工单受理 👩\u200d💻"),
        ("🏳️\u200d🌈 👩🏽\u200d💻 ❤️\u200d🔥", "🏳️\u200d🌈 👩🏽\u200d💻 ❤️\u200d🔥"),
        ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", None),
        ("می\u200cخواهم", None),
        ("न\u200dमस्ते", None),
        ("\U000e0041dmin", "<U+E0041>dmin"),  # a lone tag character hides text ("ASCII smuggling")
        ("👩\u200d", "👩<U+200D>"),
    ],
)
def test_visible_shows_pasted_characters_and_keeps_emoji(text: str, shown: str | None) -> None:
    assert visible(text) == (text if shown is None else shown)


def test_the_id_fields_are_the_fields_the_schema_types_as_ids() -> None:
    found: set[str] = set()

    def walk(value: object, key: str | None) -> None:
        if isinstance(value, dict):
            if value.get("pattern") in (IDENTIFIER_PATTERN, SLUG_PATTERN) and key:
                found.add(key)
            for name, item in value.items():
                if name == "properties":
                    for field, schema in item.items():
                        walk(schema, field)
                else:
                    walk(item, key if name in ("items", "anyOf", "oneOf", "allOf") else None)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)

    walk(playbook_schema(), None)
    assert found == ID_FIELDS


@pytest.mark.parametrize(
    ("lang", "id_words", "free_words", "bidi_words"),
    [
        (
            "en",
            "it never matches the same id typed without them",
            "usually pasted from a chat app or Word",
            "show in a different order than it is stored",
        ),
        ("zh", "和手动输入的同名 id 永远对不上", "钉钉、飞书", "显示出来的顺序和实际内容不一样"),
    ],
)
def test_pasted_characters_are_reported_at_the_character_never_printed_raw(
    cli: Cli, project: Path, lang: str, id_words: str, free_words: str, bidi_words: str
) -> None:
    copy_case("invisible-characters.yaml", project)
    result = cli("validate", "invisible-characters.yaml", "--lang", lang)
    assert result.exit_code == 1
    out = result.stdout
    assert invisible_characters(out) == []
    assert not {"\u200b", "\ufeff", "\u200e", "\u202e", "\u202c"} & set(out)
    assert f"invisible-characters.yaml:26:15: {'error' if lang == 'en' else '错误'} OPS011" in out
    assert "`refund<U+200B>-tickets`" in out and id_words in out
    first = out.splitlines()[0]
    assert first.startswith("invisible-characters.yaml:9:16:") and "U+200B" in first
    assert free_words in out and bidi_words in out
    # The caret stands under the shown character, whatever was expanded before it.
    lines = out.splitlines()
    at = next(
        i for i, line in enumerate(lines) if line.startswith("invisible-characters.yaml:30:31")
    )
    source, caret = lines[at + 1], lines[at + 2]
    assert "<U+200E>" in source  # expanded before the column: the caret must still match
    assert display_width(source[: source.index("<U+202E>")]) == caret.index("^")

    document = json.loads(cli("validate", "invisible-characters.yaml", "-f", "json").stdout)
    found = {(d["line"], d["column"], d["rule"], d["severity"]) for d in document["diagnostics"]}
    assert {(9, 16, "OPS012", "warning"), (30, 31, "OPS011", "error")} <= found
    assert "pilot.feedback<U+200B>" in {d["path"] for d in document["diagnostics"]}


def test_a_zero_width_space_in_free_text_is_a_warning_only(cli: Cli, project: Path) -> None:
    copy_case("chinese-ids.yaml", project, kind="valid")
    path = project / "chinese-ids.yaml"
    path.write_text(
        path.read_text("utf-8").replace("name: 工单受理", "name: 工单\u200b受理"), "utf-8"
    )
    result = cli("validate", "chinese-ids.yaml", "--lang", "zh")
    assert result.exit_code == 0
    assert "chinese-ids.yaml:34:13: 警告 OPS012" in result.stdout
    assert "工单<U+200B>受理" in result.stdout
    assert cli("validate", "chinese-ids.yaml", "--strict").exit_code == 1
