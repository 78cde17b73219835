"""Keep the message catalogue whole: extract, check and compile (Babel).

    python tools/catalogue.py check     # every marked message has a Chinese translation
    python tools/catalogue.py add       # append the missing ids (empty msgstr) to the .po
    python tools/catalogue.py compile   # .po -> .mo (commit both)
    python tools/catalogue.py tidy      # rewrite the .po in source order, drop obsolete ids

Messages are marked in the code with `_()`, `ngettext()` and `N_()` from `opsplay.i18n`,
and in templates with `{% trans %}` / `_()`. The English text is the message id.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "opsplay" / "locale" / "zh_CN" / "LC_MESSAGES" / "opsplay.po"
MO = PO.with_suffix(".mo")
METHOD_MAP = [("**.py", "python"), ("**.j2", "jinja2")]
OPTIONS_MAP = {"**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})|%\(([a-z_]+)\)s")
SOURCES = [ROOT / "opsplay", ROOT / "templates"]


def extracted() -> dict[str | tuple[str, str], list[str]]:
    """Every message id marked in the code and templates, with where it is used."""
    found: dict[str | tuple[str, str], list[str]] = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            folder,
            METHOD_MAP,
            OPTIONS_MAP,
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            key = message if isinstance(message, str) else (message[0], message[1])
            where = f"{folder.relative_to(ROOT)}/{filename}:{lineno}"
            found.setdefault(key, []).append(where)
    # The JSON Schema's descriptions (`opsplay schema`, shown by editors) come from the models'
    # docstrings and Field(description=...): their English text is the id too.
    sys.path.insert(0, str(ROOT))
    from opsplay.schema import descriptions, playbook_schema

    for holder in descriptions(playbook_schema("en")):
        found.setdefault(holder["description"], []).append("opsplay/schema.py")
    return found


def load() -> Catalog:
    """The Chinese catalogue as it is on disk."""
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_CN", domain="opsplay", abort_invalid=True)


def placeholders(text: str) -> set[str]:
    """The `{name}` and `%(name)s` placeholders a message uses."""
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def problems(catalog: Catalog, found: dict[str | tuple[str, str], list[str]]) -> list[str]:
    """What keeps the catalogue from being whole, one line each."""
    lines = []
    for key, where in found.items():
        msgid = key if isinstance(key, str) else key[0]
        message = catalog.get(msgid)
        if message is None:
            lines.append(f"{where[0]}: no translation for {msgid!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            lines.append(f"{where[0]}: empty translation for {msgid!r}")
            continue
        ids = key if isinstance(key, tuple) else (key,)
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            if placeholders(text) != wanted:
                lines.append(
                    f"{where[0]}: placeholders differ in {msgid!r}: "
                    f"{sorted(wanted)} vs {sorted(placeholders(text))} in {text!r}"
                )
    return lines


def duplicate_ids(text: str) -> list[str]:
    """Message ids written twice in the .po (branches merged with the union driver can do it)."""
    ids: dict[str, int] = {}
    for match in re.finditer(r'^msgid ("(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)', text, re.M):
        ids[match.group(1)] = ids.get(match.group(1), 0) + 1
    return [f"duplicate msgid {key}" for key, count in ids.items() if count > 1 and key != '""']


def f_string_markers(paths: Iterable[Path]) -> list[str]:
    """`_(f"…")` cannot be extracted: the id would change with every value."""
    pattern = re.compile(r"\b(?:_|N_|ngettext)\(\s*f[\"']")
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(
                    f"{path.relative_to(ROOT)}:{number}: f-string inside _(): use .format()"
                )
    return hits


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalogue (deterministic: Babel sorts the ids)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    found = extracted()
    catalog = load()
    if command == "check":
        lines = (
            problems(catalog, found)
            + duplicate_ids(PO.read_text("utf-8"))
            + f_string_markers((ROOT / "opsplay").rglob("*.py"))
        )
        print("\n".join(lines) or f"catalogue whole: {len(found)} messages")
        stale = not MO.exists() or MO.read_bytes() != compiled(catalog)
        if stale:
            print(f"{MO.relative_to(ROOT)} is stale: run python tools/catalogue.py compile")
        return 1 if lines or stale else 0
    if command == "add":
        missing = [
            key for key in found if catalog.get(key if isinstance(key, str) else key[0]) is None
        ]
        with PO.open("a", encoding="utf-8") as handle:
            for key in missing:
                where = found[key][0]
                if isinstance(key, tuple):
                    handle.write(
                        f"\n#: {where}\nmsgid {_quote(key[0])}\nmsgid_plural {_quote(key[1])}\n"
                        'msgstr[0] ""\n'
                    )
                else:
                    handle.write(f'\n#: {where}\nmsgid {_quote(key)}\nmsgstr ""\n')
        print(f"added {len(missing)} message ids to {PO.relative_to(ROOT)}")
        return 0
    if command == "compile":
        MO.write_bytes(compiled(catalog))
        print(f"wrote {MO.relative_to(ROOT)} ({len(catalog)} messages)")
        return 0
    if command == "tidy":
        fresh = Catalog(locale="zh_CN", domain="opsplay", project="opsplay", charset="utf-8")
        for key, where in found.items():
            msgid = key if isinstance(key, str) else key[0]
            old = catalog.get(msgid)
            fresh.add(
                key,
                old.string if old else "",
                locations=[_location(w) for w in where[:3]],
                flags=("python-brace-format",) if placeholders(msgid) else (),
            )
        with PO.open("wb") as handle:
            write_po(handle, fresh, width=0, omit_header=False, sort_output=False)
        MO.write_bytes(compiled(fresh))
        print(f"tidied {PO.relative_to(ROOT)}: {len(fresh)} messages")
        return 0
    print(__doc__)
    return 2


def _location(where: str) -> tuple[str, int | None]:
    """`path:line` as Babel's (path, line); the schema's descriptions have no line."""
    path, _colon, line = where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (where, None)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
