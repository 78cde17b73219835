"""Semantic diff of playbook versions: what changed in users' terms, classified, with a bump.

- `compare` lists changes between two parsed playbooks (matched by id, reorder and
  formatting ignored);
- `Classification` gives each change kind a level (major, minor, patch), configurable
  in `[tool.opsplay.diff]` (see `opsplay.diff.changes` for the kinds and defaults);
- `diff_sources` compares files, folders or `REF:path` contents into a `DiffReport`;
- `FORMATS` renders a report as text, json or markdown, in zh or en.
"""

from opsplay.diff.changes import (
    KINDS,
    Change,
    Classification,
    DiffReport,
    Level,
    PlaybookDiff,
    Side,
    bump,
)
from opsplay.diff.compare import compare
from opsplay.diff.formats import FORMATS
from opsplay.diff.sources import (
    Source,
    default_lang,
    diff_playbooks,
    diff_sources,
    parse_playbook,
    read_source,
)

__all__ = [
    "FORMATS",
    "KINDS",
    "Change",
    "Classification",
    "DiffReport",
    "Level",
    "PlaybookDiff",
    "Side",
    "Source",
    "bump",
    "compare",
    "default_lang",
    "diff_playbooks",
    "diff_sources",
    "parse_playbook",
    "read_source",
]
