"""What a section comparer sees of one comparison: the `Differ` protocol.

`opsplay.diff.compare` runs the comparison (its `Comparison` is the one `Differ`); the
section comparers (`opsplay.diff.sections`, `opsplay.diff.process`) take a `Differ` and
record changes on it. The protocol lives here, below all three, so that the comparers
need not import the comparison that calls them.

Floor: the differ's bottom. May import the model and `opsplay.diff.values` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opsplay.diff.values import Renames
    from opsplay.model.playbook import Playbook


class Differ(Protocol):
    """The two playbooks, the renames found (old id → new id), and where changes go."""

    old: Playbook
    new: Playbook
    realtime: float  # seconds a `realtime` limit stands for when limits are compared
    roles: Renames
    metrics: Renames
    nodes: Renames
    scenarios: Renames
    alerts: Renames

    def add(self, kind: str, section: str, **details: Any) -> None:
        """Record one change."""
        ...

    def scalar(
        self, kind: str, section: str, field: str, old: Any, new: Any, **details: Any
    ) -> None:
        """Record a change of one value when it differs once normalised."""
        ...

    def items(
        self, kind: str, section: str, field: str, old: Any, new: Any, **details: Any
    ) -> None:
        """Record the items added to and removed from a list compared as a set."""
        ...
