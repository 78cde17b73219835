"""How much of a diff the text and Markdown outputs list: a terminal or a pull-request comment
must stay readable when a playbook was rewritten (two 1 MB files differ in thousands of
places). JSON lists every change; it is for programs."""

from __future__ import annotations

from dataclasses import dataclass

from opsplay.i18n import ngettext

MAX_CHANGES = 200  # far more than a reviewer reads; major changes come first
# GitHub refuses a comment above 65,536 characters; leave room for the heading and notes.
MAX_CHARS = 60_000
MAX_TEXT = 1_000  # a before/after text longer than this is cut (JSON keeps it whole)


@dataclass
class Budget:
    """Changes and characters still to be listed in one output; what did not fit is counted."""

    changes: int = MAX_CHANGES
    chars: int = MAX_CHARS
    left_out: int = 0

    def take(self, lines: list[str]) -> bool:
        """Whether a change's lines fit (and are now counted); once one does not, none does."""
        size = sum(len(line) + 1 for line in lines)
        if self.left_out or self.changes == 0 or size > self.chars:
            self.left_out += 1
            return False
        self.changes -= 1
        self.chars -= size
        return True


def cut(text: str) -> str:
    """A before/after text no longer than MAX_TEXT characters."""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def left_out_note(count: int) -> str:
    """The line that says how many changes were not listed, and where to find them all."""
    return ngettext(
        "… and {count} more change, not listed to keep the output readable (major ones come "
        "first); `--format json` gives every change",
        "… and {count} more changes, not listed to keep the output readable (major ones come "
        "first); `--format json` gives every change",
        count,
    ).format(count=f"{count:,}")
