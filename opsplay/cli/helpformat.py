"""`--help` laid out as plain text that reads in Chinese as in English, at any width.

rich's panels break lines at spaces only, so a Chinese sentence (which has none) was cut
or split anywhere: a line starting with `。`, `OPSPLAY_NOTIFY⏎_SECRET`. This small
formatter wraps by display width (a Chinese character takes two columns), may break
between any two Chinese characters but never inside a run of Latin letters, digits and
symbols (an option, a URL, an environment variable), never before closing punctuation
(`。，）`) and never after opening punctuation (`（「`), as CLREQ asks. A note in brackets
(`[范围：≥ 1]`, `[默认：text]`) is never split either, and an example command is never broken:
copied from the terminal it must still run, so one too long for its line gets a line of its
own and may run past the width. Metavars are words (`PATH`, `N`, `a|b`), not Python types
(`<list[Path]>`, `<bool>` on a flag).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from opsplay.i18n import N_, _
from opsplay.text import joined

NO_LINE_START = set("，。、；：？！）」』”’》〉】…,.;:?!)]}%")
NO_LINE_END = set("（「『“‘《〈【([{")
# A token: a run of characters that are neither spaces nor wide (Chinese) characters, or one
# wide character. Runs of Latin text are never split; between wide characters a line may break.
# A note in brackets is one token, spaces and Chinese included. (Patterns are compiled when
# first used, through `re`'s cache: most runs print no help.)
_TOKEN = r"\[[^\[\]\n]*\]|[ \t]+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+|\S"
# A paragraph that shows a command: `Example: opsplay …` / `示例：opsplay …`.
_EXAMPLE = r"(?P<label>[^\n]*?[:：]) ?(?P<command>opsplay .*)"
INDENT = 2
GAP = 2
METAVARS = {
    "path": N_("PATH"),
    "file": N_("PATH"),
    "text": N_("TEXT"),
    "integer": N_("N"),
    "integer range": N_("N"),
    "float": N_("NUMBER"),
    "float range": N_("NUMBER"),
}


def width_of(text: str) -> int:
    """Columns a text takes in a terminal: wide (Chinese) characters two, others one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _units(text: str) -> list[str]:
    """Pieces that stay on one line: a Latin run, a Chinese character, closing punctuation
    glued to what precedes it and opening punctuation to what follows; spaces alone."""
    units: list[str] = []
    glue_next = False
    for token in re.findall(_TOKEN, text):
        if token.isspace():
            units.append(" ")
            glue_next = False
            continue
        if units and not units[-1].isspace() and (glue_next or token[0] in NO_LINE_START):
            units[-1] += token
        else:
            units.append(token)
        glue_next = token[-1] in NO_LINE_END
    return units


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns (a single longer unit gets a line of its own)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in _units(" ".join(paragraph.split(" "))):
            if unit == " ":
                if line and not line.endswith(" "):
                    line += " "
                continue
            if line and width_of(line + unit) > width:
                lines.append(line.rstrip())
                line = ""
            while width_of(unit) > width and not line:  # longer than a line: cut, last resort
                cut = _fit(unit, width)
                lines.append(unit[:cut])
                unit = unit[cut:]
            line += unit
        lines.append(line.rstrip())
    return lines


def _fit(unit: str, width: int) -> int:
    used = 0
    for index, ch in enumerate(unit):
        used += width_of(ch)
        if used > width:
            return max(index, 1)
    return len(unit)


def terminal_width() -> int:
    """The width to lay help out in: $COLUMNS, else the terminal's, between 40 and 120."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = shutil.get_terminal_size((80, 24)).columns
    return max(40, min(columns, 120))


def metavar(param: Any) -> str:
    """The word after an option (`PATH`, `N`, `zh|en`); empty for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    given = getattr(param, "metavar", None)
    if given:
        return str(given).strip("{}")
    descriptor = getattr(param, "type_descriptor", None)
    return _word_of(getattr(descriptor, "annotation", str))


def _word_of(annotation: Any) -> str:
    """The metavar of a parameter's Python type: a word, or the choices of an Enum."""
    import enum
    import typing
    from pathlib import PurePath

    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if arguments:  # X | None, list[X], Annotated[X, …]
        return _word_of(arguments[0])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "|".join(str(member.value) for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return _(METAVARS["path"])
    if annotation is int:
        return _(METAVARS["integer"])
    if annotation is float:
        return _(METAVARS["float"])
    return _(METAVARS["text"])


def _range(param: Any) -> str:
    """`1–10`, `≥ 1` or `≤ 0.5` for a bounded number, else nothing."""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    if low is not None:
        return f"≥ {low:g}"
    if high is not None:
        return f"≤ {high:g}"
    return ""


def _notes(param: Any, ctx: Any) -> list[str]:
    """What follows a parameter's help: its range, default, variable and whether required."""
    notes = []
    bounds = _range(param)
    if bounds:
        notes.append(_("range: {range}").format(range=bounds))
    default = getattr(param, "default", None)
    show = getattr(param, "show_default", True)
    flag = getattr(param, "is_flag", False)
    if (
        show is not False
        and not flag
        and default not in (None, (), [], "")
        and not callable(default)
    ):
        values = default if isinstance(default, (list, tuple)) else [default]
        shown = joined(str(getattr(value, "value", value)) for value in values)
        notes.append(_("default: {default}").format(default=shown))
    variable = getattr(param, "envvar", None)
    if variable and getattr(param, "show_envvar", True):
        names = [variable] if isinstance(variable, str) else list(variable)
        notes.append(_("env var: {var}").format(var=joined(names)))
    if getattr(param, "required", False):
        notes.append(_("required"))
    return notes


def _rows(ctx: Any) -> Iterator[tuple[str, str, str]]:
    """(section, name column, help) of each parameter, in the command's order."""
    for param in ctx.command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        notes = _notes(param, ctx)
        help_text = (getattr(param, "help", None) or "").strip()
        if notes:  # one bracket per note: a line may break between them, never inside one
            help_text += ("  " if help_text else "") + " ".join(f"[{note}]" for note in notes)
        if getattr(param, "param_type_name", "") == "argument":
            name = metavar(param) or param.name.upper()
            if param.nargs == -1:
                name += "…"
            yield "arguments", name, help_text
            continue
        names = ", ".join([*param.opts, *param.secondary_opts])
        word = metavar(param)
        yield "options", names + (" " + word if word else ""), help_text


def _block(rows: list[tuple[str, str]], width: int) -> list[str]:
    """Two columns when the names are short enough, else each help under its name."""
    column = min(max(width_of(name) for name, _help in rows), width * 2 // 5)
    out = []
    for name, help_text in rows:
        left = " " * INDENT + name
        text_width = width - INDENT - column - GAP
        lines = wrap(help_text, text_width) if help_text else [""]
        if width_of(name) > column:
            out.append(left)
            out += [" " * (INDENT + column + GAP) + line for line in lines if line]
            continue
        pad = " " * (column - width_of(name) + GAP)
        out.append((left + pad + lines[0]).rstrip())
        out += [" " * (INDENT + column + GAP) + line for line in lines[1:]]
    return out


def _paragraph(text: str, width: int) -> list[str]:
    """A paragraph of the description, indented; an example command stays whole: beside its
    label when the line holds both, else on a line of its own, however long."""
    example = re.fullmatch(_EXAMPLE, " ".join(text.split()))
    if example is None:
        return [" " * INDENT + line for line in wrap(text, width - INDENT)]
    one_line = " " * INDENT + example.group(0)
    if width_of(one_line) <= width:
        return [one_line]
    return [
        *(" " * INDENT + line for line in wrap(example["label"], width - INDENT)),
        " " * (2 * INDENT) + example["command"],
    ]


def usage_words(usage: str) -> str:
    """click's usage words in the message language (`[OPTIONS]` → `[选项]`), without typer's
    braces around an argument: a piece of the line or the whole of it."""
    for english, ours in (
        ("[OPTIONS]", _("[OPTIONS]")),
        ("COMMAND [ARGS]...", _("COMMAND [ARGS]…")),
    ):
        usage = usage.replace(english, ours)
    return usage.replace("{", "").replace("}", "").replace("...", "…")


def format_help(command: Any, ctx: Any) -> str:
    """The whole help text of a command or group."""
    width = terminal_width()
    pieces = [usage_words(piece) for piece in command.collect_usage_pieces(ctx)]
    usage = _("Usage: ") + " ".join([ctx.command_path, *pieces])
    out = wrap(usage, width)
    for paragraph in re.split(r"\n\s*\n", (command.help or "").strip()):
        if paragraph.strip():
            out += [""] + _paragraph(paragraph.strip(), width)
    sections: dict[str, list[tuple[str, str]]] = {"arguments": [], "options": []}
    for section, name, help_text in _rows(ctx):
        sections[section].append((name, help_text))
    titles = {"arguments": _("Arguments"), "options": _("Options")}
    for key, rows in sections.items():
        if rows:
            out += ["", titles[key]] + _block(rows, width)
    if hasattr(command, "list_commands"):
        rows = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            first = re.split(r"\n\s*\n", (sub.help or "").strip())[0]
            rows.append((name, " ".join(first.split())))
        if rows:
            out += ["", _("Commands")] + _block(rows, width)
    return "\n".join(out) + "\n"


def install() -> None:
    """Lay out typer's commands' and groups' help with `format_help`."""
    try:
        from typer import core
    except ImportError:
        return

    def laid_out(_original: Callable[..., Any]) -> Callable[..., Any]:
        def format_help_method(self: Any, ctx: Any, formatter: Any) -> None:
            formatter.write(format_help(self, ctx))

        return format_help_method

    for name in ("TyperCommand", "TyperGroup"):
        command_class = getattr(core, name, None)
        if command_class is not None and "format_help" in vars(command_class):
            command_class.format_help = laid_out(command_class.format_help)
