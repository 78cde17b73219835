"""YAML → plain data plus the position of every key and value, with YAML pitfalls caught.

We compose PyYAML's node tree (the C composer when available) and build the Python
data ourselves, so that every value keeps its line and column and the YAML 1.1
surprises are read the way a person meant them or reported:
- keys are always text (`on:` stays "on", never True);
- yes/no/on/off and sexagesimal `1:30` are read as text, with a warning;
- numbers remember their source text, so a text field given `1.10` gets "1.10";
- duplicate keys, tab indentation, several documents, and alias expansion beyond a
  cap are errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from opsplay import yaml_problems
from opsplay.diagnostics import RULES, Diagnostic, format_path
from opsplay.i18n import _
from opsplay.text import visible

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_timestamps = yaml.SafeLoader("")  # only its timestamp constructor is used

MAX_NODES = 100_000  # far above any real playbook; stops alias bombs early
# Far deeper than any playbook (about 8 levels); the builder recurses, so it must stop
# well before Python's recursion limit (libyaml itself stops at 1,000 levels).
MAX_DEPTH = 100
_TAG = "tag:yaml.org,2002:"
_BOOL_WORDS = {"true": True, "false": False}
_INDENT_TAB = re.compile(r"^[ ]*\t")
SUPPRESSION = re.compile(r"#\s*opsplay:\s*disable=([A-Za-z0-9, ]+?)\s*(?:--\s*(.*?))?\s*$")


class YamlInt(int):
    """An int that remembers how it was written."""

    yaml_source: str


class YamlFloat(float):
    """A float that remembers how it was written (`1.10` stays "1.10" in text fields)."""

    yaml_source: str


class YamlDate(dt.date):
    """A date that remembers how it was written (`version: 2024-08-01` stays that text)."""

    yaml_source: str


class YamlDateTime(dt.datetime):
    """A timestamp that remembers how it was written."""

    yaml_source: str


def _display_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


class Position(NamedTuple):
    """1-based line and column (a tuple: one is made per key and value, so it must be cheap)."""

    line: int
    column: int


@dataclass(frozen=True)
class Suppression:
    """An inline `# opsplay: disable=RULE -- reason` comment."""

    line: int
    column: int
    rules: tuple[str, ...]
    reason: str
    applies_to: int  # the line whose diagnostics it silences


@dataclass
class LoadedFile:
    """What the loader read: data (None if unreadable), positions, and its own findings."""

    file: str
    data: dict[str, Any] | None
    values: dict[tuple[str | int, ...], Position] = field(default_factory=dict)
    keys: dict[tuple[str | int, ...], Position] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)

    def position(self, path: tuple[str | int, ...], *, key: bool = False) -> Position:
        """Best position for a path: its key or value, else the nearest ancestor's."""
        for depth in range(len(path), -1, -1):
            prefix = path[:depth]
            if key and depth == len(path) and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)

    def report(
        self,
        rule: str,
        path: tuple[str | int, ...],
        message: str,
        *,
        key: bool = False,
        at: Position | None = None,
    ) -> None:
        """Add a diagnostic of `rule` at `path` (or at an explicit position)."""
        where = at or self.position(path, key=key)
        self.diagnostics.append(
            Diagnostic(
                self.file,
                where.line,
                where.column,
                rule,
                RULES[rule].severity,
                visible(message),  # values quoted in a message never carry terminal escapes
                visible(format_path(path)),  # a key may hold a zero-width space
            )
        )


class _Stop(Exception):
    """Abort construction after a fatal finding (already recorded)."""


def load_file(raw: bytes, file: str) -> LoadedFile:
    """Read one playbook file's bytes into data and positions; never raises for bad input."""
    loaded = LoadedFile(file=file, data=None)
    text = _decode(raw, loaded)
    if text is None:
        return loaded
    loaded.lines = text.splitlines()
    loaded.suppressions = _find_suppressions(loaded.lines)
    if _tab_indentation(loaded):
        return loaded
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except RecursionError:  # the pure-Python composer on deep nesting
        _too_deep(loaded, ())
        return loaded
    except yaml.reader.ReaderError as error:  # a character YAML does not allow at all
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        loaded.report(
            "OPS002",
            (),
            _(
                "YAML syntax error: the character {char} is not allowed in YAML; "
                "remove it (or write it as an escape inside double quotes)"
            ).format(
                char=f"\\x{error.character:02x}"
                if error.character < 256
                else f"U+{error.character:04X}"
            ),
            at=Position(line, column),
        )
        return loaded
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context, problem = _yaml_words(error.context), _yaml_words(error.problem)
        if error.problem and problem is None:
            context, problem = None, yaml_problems.unreadable()
        start = error.context_mark
        if context and problem and start and mark and start.line != mark.line:
            # An unclosed bracket is found lines later; say where it was opened.
            said = _("{context} (opened at line {line}, column {column}) {problem}").format(
                context=context, line=start.line + 1, column=start.column + 1, problem=problem
            )
        else:
            said = " ".join(filter(None, [context, problem])) or yaml_problems.unreadable()
        hint = _syntax_hint(loaded.lines, start, mark)
        where = _full_width_colon(loaded.lines, start, mark) or Position(line, column)
        loaded.report(
            "OPS002",
            (),
            _("YAML syntax error: {problem}; {hint}").format(problem=said, hint=hint),
            at=where,
        )
        return loaded
    except yaml.YAMLError:
        loaded.report(
            "OPS002",
            (),
            _("YAML syntax error: {problem}; {hint}").format(
                problem=yaml_problems.unreadable(),
                hint=_("check the indentation and quoting near here"),
            ),
        )
        return loaded
    documents = [doc for doc in documents if doc is not None]
    if len(documents) > 1:
        loaded.report(
            "OPS007",
            (),
            _(
                "a second YAML document starts here; keep one playbook per file "
                "(remove the `---` line and move it to its own file)"
            ),
            at=_pos(documents[1]),
        )
        return loaded
    if not documents:
        loaded.report(
            "OPS009",
            (),
            _("the file is empty; start with `apiVersion: opsplay/v1` (see `opsplay init`)"),
        )
        return loaded
    root = documents[0]
    if not isinstance(root, yaml.MappingNode):
        loaded.values[()] = _pos(root)
        loaded.report(
            "OPS009",
            (),
            _(
                "the top level must be a mapping of keys (apiVersion, kind, metadata, …), "
                "not a list or a single value"
            ),
        )
        return loaded
    builder = _Builder(loaded)
    try:
        loaded.data = builder.build(root, ())
    except _Stop:
        loaded.data = None
    except RecursionError:  # a safety net: MAX_DEPTH stops the builder long before
        _too_deep(loaded, ())
        loaded.data = None
    return loaded


def _too_deep(loaded: LoadedFile, path: tuple[str | int, ...]) -> None:
    loaded.report(
        "OPS008",
        path[:1],
        _(
            "the values are nested more than {depth} levels deep; a playbook needs about 8, "
            "so flatten the structure"
        ).format(depth=MAX_DEPTH),
        key=True,
    )


def _yaml_words(text: str | None) -> str | None:
    return yaml_problems.words(text)


def _nearby(lines: list[str], start: Any, mark: Any) -> range:
    """Line indexes between the error's context and problem marks (and the one before)."""
    marks = [m.line for m in (start, mark) if m is not None] or [0]
    return range(max(min(marks) - 1, 0), min(max(marks) + 1, len(lines)))


def _full_width_colon(lines: list[str], start: Any, mark: Any) -> Position | None:
    """Where a `key：` typed with a Chinese input method stands, if that caused the error."""
    for index in _nearby(lines, start, mark):
        column = lines[index].find("：")
        if column >= 0 and ":" not in lines[index][:column]:
            return Position(index + 1, column + 1)
    return None


def _syntax_hint(lines: list[str], start: Any, mark: Any) -> str:
    """What usually causes a syntax error on these lines, in the user's terms."""
    nearby = "\n".join(lines[i] for i in _nearby(lines, start, mark))
    if _full_width_colon(lines, start, mark):
        return _(
            "a full-width colon `：` follows a key; YAML needs the ASCII colon `:` and a space"
        )
    if "{" in nearby and any(ch in nearby for ch in "[]#"):
        return _(
            'inside `{{…}}`, text with [ ] {{ }} , : or # must be quoted, e.g. action: "重试 [最多3次]"'
        )
    return _("check the indentation and quoting near here")


def _decode(raw: bytes, loaded: LoadedFile) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    nul = raw.find(b"\0")
    if nul >= 0:  # not text (a binary, /proc/self/environ): its lines are never echoed
        loaded.report(
            "OPS001",
            (),
            _(
                "the file is not text (it holds NUL bytes, byte {byte} here); "
                "a playbook is a UTF-8 text file"
            ).format(byte="0x00"),
            at=Position(raw.count(b"\n", 0, nul) + 1, nul - (raw.rfind(b"\n", 0, nul) + 1) + 1),
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        byte = f"0x{raw[error.start]:02x}"
        if _decodes(raw, "gb18030"):
            message = _(
                "the file is not UTF-8 (byte {byte} here). It looks like GBK/GB18030 (what "
                "Excel or Notepad write on Chinese Windows); save it as UTF-8 in your editor "
                "and run again"
            )
        else:
            message = _(
                "the file is not UTF-8 (byte {byte} here); save it as UTF-8 in your editor "
                "and run again"
            )
        loaded.report("OPS001", (), message.format(byte=byte), at=Position(line, column))
        return None


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _tab_indentation(loaded: LoadedFile) -> bool:
    found = False
    for number, line in enumerate(loaded.lines, start=1):
        match = _INDENT_TAB.match(line)
        if match:
            found = True
            loaded.report(
                "OPS006",
                (),
                _(
                    "a tab is used for indentation; YAML indents with spaces only "
                    "(replace the tab with spaces)"
                ),
                at=Position(number, match.end()),
            )
    return found


def _find_suppressions(lines: list[str]) -> list[Suppression]:
    found = []
    for number, line in enumerate(lines, start=1):
        match = SUPPRESSION.search(line)
        if not match:
            continue
        rules = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        own_line = line[: match.start()].strip() == ""
        found.append(
            Suppression(
                number,
                match.start() + 1,
                rules,
                (match.group(2) or "").strip(),
                applies_to=number + 1 if own_line else number,
            )
        )
    return found


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns composed nodes into plain Python data, recording positions and pitfalls."""

    def __init__(self, loaded: LoadedFile) -> None:
        self.loaded = loaded
        self.visited = 0
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        if len(path) > MAX_DEPTH:
            _too_deep(self.loaded, path)
            raise _Stop
        self.visited += 1
        if self.visited > MAX_NODES or id(node) in self.active:
            # Aliased nodes carry their anchor's position; report at the top-level key using them.
            where = path[:1]
            self.loaded.report(
                "OPS008",
                where,
                _(
                    "the playbook expands to more than {count} values (through anchors and "
                    "aliases, or by sheer size), or an alias refers to itself; write the values "
                    "out, or split the process into several playbooks"
                ).format(count=f"{MAX_NODES:,}"),
                key=True,
            )
            raise _Stop
        if path not in self.loaded.values:
            self.loaded.values[path] = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in (_TAG + "map", _TAG + "seq"):
            self.loaded.report(
                "OPS103",
                path,
                _("YAML tag `{tag}` is not allowed in a playbook; remove it").format(
                    tag=_display_tag(node.tag)
                ),
            )
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: tuple[str | int, ...]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.update(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.loaded.values[(*path, "?")] = _pos(key_node)
                self.loaded.report(
                    "OPS103", (*path, "?"), _("a key must be plain text, not a list or mapping")
                )
                continue
            key = key_node.value
            key_position = _pos(key_node)
            if key in first_seen:
                first = first_seen[key]
                self.loaded.report(
                    "OPS003",
                    (*path, key),
                    _(
                        "key `{key}` appears twice in this mapping (first at line {first_line}, "
                        "column {first_column}; this one at line {line}, column {column}); "
                        "YAML would silently keep only the last — remove or rename one"
                    ).format(
                        key=key,
                        first_line=first.line,
                        first_column=first.column,
                        line=key_position.line,
                        column=key_position.column,
                    ),
                    at=key_position,
                )
                continue
            first_seen[key] = key_position
            self.loaded.keys[(*path, key)] = key_position
            result[key] = self.build(value_node, (*path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, path: tuple[str | int, ...]) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            value = self.build(source, (*path, "<<"))
            if isinstance(value, dict):
                for key, item in value.items():
                    merged.setdefault(key, item)
        return merged

    def scalar(self, node: yaml.ScalarNode, path: tuple[str | int, ...]) -> Any:
        text, tag = node.value, node.tag
        plain = not node.style  # the C composer reports plain scalars with style ''
        if tag == _TAG + "str" or not tag.startswith(_TAG):
            if not tag.startswith(_TAG) and tag != "!":
                self.loaded.report(
                    "OPS103",
                    path,
                    _("YAML tag `{tag}` is not allowed in a playbook; remove it").format(tag=tag),
                )
            return text
        kind = tag[len(_TAG) :]
        if kind == "null":
            return None
        if kind == "bool":
            if text.lower() in _BOOL_WORDS:
                return _BOOL_WORDS[text.lower()]
            if plain:
                self.loaded.report(
                    "OPS004",
                    path,
                    _(
                        '`{text}` is read as the text "{text}" (YAML 1.1 would make '
                        "it a boolean); write true/false for a yes/no value, or quote it"
                    ).format(text=text),
                )
            return text
        if kind in ("int", "float"):
            return self.number(text, kind, path)
        if kind == "timestamp":
            try:
                value = _timestamps.construct_yaml_timestamp(node)
            except ValueError:
                return text  # e.g. 2024-13-01: the schema reports it where a date is expected
            return _dated(value, text)
        if (
            kind != "value"
        ):  # `=` resolves to !!value and is plain text; !!binary, !!python/… are not for playbooks
            self.loaded.report(
                "OPS103",
                path,
                _("YAML tag `{tag}` is not allowed in a playbook; remove it").format(
                    tag=_display_tag(tag)
                ),
            )
        return text

    def number(self, text: str, kind: str, path: tuple[str | int, ...]) -> Any:
        cleaned = text.replace("_", "")
        if ":" in cleaned:
            self.loaded.report(
                "OPS005",
                path,
                _(
                    '`{text}` is read as the text "{text}" (YAML 1.1 would read it as '
                    "a base-60 number); quote it, or write a duration like 1h30m"
                ).format(text=text),
            )
            return text
        try:
            if kind == "int":
                sign = -1 if cleaned.startswith("-") else 1
                digits = cleaned.lstrip("+-")
                if digits[:2].lower() in ("0x", "0o", "0b"):
                    value: YamlInt | YamlFloat = YamlInt(sign * int(digits, 0))
                else:
                    value = YamlInt(sign * int(digits, 10))  # 0777 is 777, as in YAML 1.2
            else:
                lowered = cleaned.lower()
                special = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}
                value = YamlFloat(float(special.get(lowered, cleaned)))
        except ValueError:
            return text
        value.yaml_source = text
        return value


def _dated(value: Any, text: str) -> Any:
    """The timestamp as a date/datetime that remembers its source text."""
    dated: YamlDate | YamlDateTime
    if isinstance(value, dt.datetime):
        dated = YamlDateTime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
        )
    elif isinstance(value, dt.date):
        dated = YamlDate(value.year, value.month, value.day)
    else:
        return text
    dated.yaml_source = text
    return dated
