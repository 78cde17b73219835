"""What a semantic diff produces: classified changes per playbook, and the rules that classify them.

Every change has a *kind* such as `node.sla.loosened`. Its level (major, minor, patch)
comes from `KINDS` below, overridable per project in `[tool.opsplay.diff]`:

    [tool.opsplay.diff]
    levels = { "node.sla.loosened" = "minor", "review.*" = "none" }

Keys are kinds or shell-style patterns (`alert.*`); values are `major`, `minor`,
`patch`, or `none` (not a change at all: not shown, needs no version bump). When
several patterns match, an exact kind wins, then the longest pattern.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass, field, replace
from typing import Any

from opsplay.errors import UsageError
from opsplay.i18n import _


class Level(enum.IntEnum):
    """How much a change matters, in semantic-versioning terms."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        """The lowercase name used in configuration and output."""
        return self.name.lower()


M, N, P = Level.MAJOR, Level.MINOR, Level.PATCH

# kind → (default level, what it covers). The one place the classification rules live.
KINDS: dict[str, tuple[Level, str]] = {
    "metadata.id": (M, "the playbook id changed (comparing two files)"),
    "metadata.title": (P, "title wording"),
    "metadata.owner": (N, "process owner (metadata.owner) changed"),
    "metadata.status": (N, "lifecycle status changed (draft, pilot, rollout, active, retired)"),
    "metadata.lang": (P, "language of rendered documents"),
    "metadata.tags": (P, "tags added or removed"),
    "goal.metric": (M, "the goal moves another metric"),
    "goal.target": (N, "goal target value"),
    "goal.baseline": (N, "goal baseline value"),
    "goal.deadline": (N, "goal deadline"),
    "goal.statement": (P, "goal wording"),
    "scope.changed": (N, "scope segments, stages or period"),
    "role.added": (N, "a role added"),
    "role.removed": (M, "a role removed"),
    "role.renamed": (M, "a role id changed (same name, new id)"),
    "role.text": (P, "role name or duties wording"),
    "metric.added": (N, "a metric added"),
    "metric.removed": (M, "a metric removed"),
    "metric.renamed": (M, "a metric id changed (same name, new id)"),
    "metric.definition": (
        M,
        "how a metric is read: kind, column, numerator, denominator, better, unit",
    ),
    "metric.name": (P, "metric display name"),
    "scenario.added": (N, "a scenario added"),
    "scenario.removed": (M, "a scenario removed"),
    "scenario.renamed": (N, "a scenario id changed (same name, new id)"),
    "scenario.expected": (N, "a scenario's expected effect (metric thresholds)"),
    "scenario.text": (P, "scenario wording: name, persona, trigger, behavior, defect, demand"),
    "node.added": (N, "a node added"),
    "node.removed": (M, "a node removed"),
    "node.renamed": (M, "a node id changed (same name, new id)"),
    "node.sla.tightened": (N, "a time limit shortened or added"),
    "node.sla.loosened": (M, "a time limit lengthened or removed"),
    "node.fallback.added": (N, "exception handling added to a node"),
    "node.fallback.removed": (M, "exception handling removed from a node"),
    "node.fallback.widened": (N, "a fallback covers more triggers"),
    "node.fallback.narrowed": (M, "a fallback covers fewer triggers"),
    "node.fallback.goto": (N, "where a fallback continues"),
    "node.fallback.action": (P, "fallback action wording"),
    "node.escalation.added": (N, "an escalation step added"),
    "node.escalation.removed": (M, "an escalation step removed"),
    "node.escalation.tightened": (N, "an escalation step that comes sooner"),
    "node.escalation.loosened": (M, "an escalation step that waits longer"),
    "node.escalation.action": (P, "escalation step wording"),
    "node.raci.added": (N, "a role added to a node's RACI"),
    "node.raci.removed": (N, "a role removed from a node's RACI"),
    "node.schedule": (N, "when a recurring node runs"),
    "level.added": (N, "a level added"),
    "level.removed": (M, "a level removed"),
    "level.text": (P, "level name wording"),
    "metric.weight": (N, "a metric's weight in the weighted attainment"),
    "pilot.feedback": (P, "the pilot's feedback channels"),
    "node.owner": (N, "the role executing a node"),
    "node.flow": (N, "the order of nodes: a node's next nodes or the first node"),
    "node.text": (P, "node wording: name, stage, standard"),
    "node.items": (P, "node inputs, outputs or tools"),
    "alert.added": (N, "an alert added"),
    "alert.removed": (M, "an alert removed"),
    "alert.renamed": (N, "an alert id changed (same condition, new id)"),
    "alert.tightened": (N, "an alert that fires sooner: threshold, fewer `for` runs or `min_n`"),
    "alert.loosened": (M, "an alert that fires later: threshold, more `for` runs or `min_n`"),
    "alert.condition": (N, "what an alert watches: node, measure, metric or comparison"),
    "alert.severity": (N, "alert severity"),
    "alert.owner": (N, "the role that acts on an alert"),
    "alert.action": (P, "alert action wording"),
    "pilot.changed": (N, "pilot design, arms, metrics, period or statistics settings"),
    "pilot.scope": (P, "pilot scope wording"),
    "rollout.changed": (P, "rollout training or resources"),
    "review.changed": (P, "review findings, successes or improvements"),
}

_LEVEL_WORDS = {"major": M, "minor": N, "patch": P, "none": Level.NONE}
KNOWN_SETTINGS = {"levels"}


@dataclass(frozen=True)
class Change:
    """One semantic change. `old`/`new` are display values; `added`/`removed` list items."""

    kind: str
    section: (
        str  # metadata | goal | scope | roles | metrics | scenarios | nodes | alerts | pilot | ...
    )
    item: str | None = None  # id within the section, if it is a list of items
    field: str | None = None
    old: Any = None
    new: Any = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    note: str | None = None  # loosened | tightened | raised | lowered | later | earlier | ...
    name: str | None = None  # display name of the item, for context
    level: Level = Level.NONE


@dataclass(frozen=True)
class Side:
    """One version of a playbook as shown in a diff."""

    file: str
    version: str
    title: str
    lang: str


@dataclass(frozen=True)
class PlaybookDiff:
    """The changes between two versions of one playbook (either side may be absent)."""

    id: str
    old: Side | None
    new: Side | None
    changes: tuple[Change, ...] = ()

    @property
    def status(self) -> str:
        """added | removed | changed | unchanged."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.changes else "unchanged"

    @property
    def level(self) -> Level:
        """The largest level among the changes (NONE when nothing changed)."""
        return max((c.level for c in self.changes), default=Level.NONE)

    @property
    def suggested_version(self) -> str | None:
        """The smallest version the new side should carry, or None when no bump is needed."""
        if self.old is None or self.level is Level.NONE:
            return None
        return bump(self.old.version, self.level)


@dataclass(frozen=True)
class DiffReport:
    """The result of `opsplay diff`: one entry per playbook id, sorted by id."""

    old_label: str
    new_label: str
    playbooks: tuple[PlaybookDiff, ...] = field(default_factory=tuple)
    # Files of a folder comparison that are not valid playbooks: (file, first problem).
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def differs(self) -> bool:
        """True when any playbook was added, removed or changed."""
        return any(p.status != "unchanged" for p in self.playbooks)

    @property
    def level(self) -> Level:
        """The largest level across playbooks."""
        return max((p.level for p in self.playbooks), default=Level.NONE)


def format_numbers(*values: float | None) -> tuple[str, ...]:
    """Numbers shown with the same number of decimals, as people write them (0.45 → 0.50)."""

    def decimals(value: float) -> int:
        text = f"{value:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0

    places = max((decimals(v) for v in values if v is not None), default=0)
    return tuple("" if v is None else f"{v:.{places}f}" for v in values)


def parse_version(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a semantic version, or None."""
    from opsplay.rules.versioning import version_key

    return version_key(version)


def bump(version: str, level: Level) -> str | None:
    """The next version after `version` for a change of `level` (None if not semver).

    Below 1.0.0 a breaking change bumps the minor number, as Cargo and npm read 0.x.
    """
    parts = parse_version(version)
    if parts is None or level is Level.NONE:
        return None
    major, minor, patch = parts
    if level is Level.MAJOR and major == 0:
        level = Level.MINOR
    if level is Level.MAJOR:
        return f"{major + 1}.0.0"
    if level is Level.MINOR:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


@dataclass(frozen=True)
class Classification:
    """Levels of change kinds: the defaults of `KINDS` with project overrides applied."""

    overrides: tuple[tuple[str, Level], ...] = ()

    @classmethod
    def from_config(cls, table: dict[str, Any] | None, source: str | None = None) -> Classification:
        """Read `[tool.opsplay.diff]`; raise UsageError on anything unknown."""
        where = f"{source}: " if source else ""
        table = table or {}
        unknown = sorted(set(table) - KNOWN_SETTINGS)
        if unknown:
            raise UsageError(
                where
                + _(
                    "unknown setting in [tool.opsplay.diff]: {names}; known: levels (e.g. {example})"
                ).format(
                    names=", ".join(unknown), example='levels = {"node.sla.loosened" = "minor"}'
                )
            )
        levels = table.get("levels", {})
        if not isinstance(levels, dict):
            raise UsageError(
                where
                + _("[tool.opsplay.diff] levels must be a table, e.g. {example}").format(
                    example='levels = {"alert.*" = "minor"}'
                )
            )
        overrides: list[tuple[str, Level]] = []
        for pattern, word in levels.items():
            if not any(fnmatch.fnmatchcase(kind, pattern) for kind in KINDS):
                raise UsageError(
                    where
                    + _(
                        "[tool.opsplay.diff] levels: `{pattern}` matches no change kind; "
                        "known kinds: {kinds}"
                    ).format(pattern=pattern, kinds=", ".join(KINDS))
                )
            if not isinstance(word, str) or word.lower() not in _LEVEL_WORDS:
                raise UsageError(
                    where
                    + _(
                        "[tool.opsplay.diff] levels: `{pattern}` = {value} is not a level; "
                        "write {levels}"
                    ).format(
                        pattern=pattern,
                        value=repr(word),
                        levels='"major", "minor", "patch", "none"',
                    )
                )
            overrides.append((pattern, _LEVEL_WORDS[word.lower()]))
        return cls(tuple(overrides))

    def level(self, kind: str) -> Level:
        """The level of a change kind under this classification."""
        best: tuple[int, Level] | None = None
        for pattern, level in self.overrides:
            if pattern == kind:
                return level
            if fnmatch.fnmatchcase(kind, pattern) and (best is None or len(pattern) >= best[0]):
                best = (len(pattern), level)
        return best[1] if best else KINDS[kind][0]

    def apply(self, changes: list[Change]) -> tuple[Change, ...]:
        """Give each change its level; drop changes classified `none`."""
        leveled = (replace(change, level=self.level(change.kind)) for change in changes)
        return tuple(change for change in leveled if change.level is not Level.NONE)
