r"""OPS011: playbook text never carries control characters (terminal escapes and the like).

A metric name such as `"\e]0;…\a\e[2J"` would retitle or clear the terminal of whoever
runs `diff` or `pilot compare`, and land in SOPs. Outputs neutralise such text anyway
(`opsplay.text.visible`); validate reports it where it was written.
"""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.rules import Path, PlaybookData, Report, rule
from opsplay.text import has_control


@rule("OPS011")
def no_control_characters(pb: PlaybookData, report: Report) -> None:
    """Keys and text values hold no C0 (except tab and newline), DEL, C1 or ESC characters."""

    def found(text: str, path: Path, *, key: bool = False) -> None:
        shown = sorted({f"\\x{ord(ch):02x}" for ch in text if has_control(ch)})
        report(
            path,
            _(
                "the text holds control characters ({characters}), which can rewrite a "
                "terminal or a document; remove them"
            ).format(characters=" ".join(shown)),
            key=key,
        )

    def walk(value: object, path: Path) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(name, str) and has_control(name):
                    found(name, (*path, name), key=True)
                walk(item, (*path, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))
        elif isinstance(value, str) and has_control(value):
            found(value, path)

    walk(pb.data, ())
