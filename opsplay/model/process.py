"""SPEC 8 parts of a node as teams run it: levels, per-level limits, escalation, RACI.

Kept apart from `playbook.py` so that the playbook model only gains fields. The
semantic checks (declared levels, roles, increasing `after`) are rules in
`opsplay.rules.process`, which report positions even when other parts fail here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, PlainSerializer, Tag

from opsplay.model.duration import Duration

DEFAULT_LEVEL = "default"


def level_limit(sla: Any, level: str | None = None) -> Duration | None:
    """The time limit of a node for a case of `level` (None: a case without a level).

    A plain limit holds for every level; per-level limits give the level's own, else
    `default`, else (for a case without a level) the node's only limit.
    """
    if sla is None or isinstance(sla, Duration):
        return sla
    return sla.limit(level)


class LevelLimits:
    """Time limits per level, `default` for the other levels: {P1: 5分钟, P2: 30分钟, default: 2小时}.

    Where one figure is needed (a column of the SOP's node table, older readers), it
    stands for the `default` limit, else the longest one: the limit no case exceeds.
    """

    def __init__(self, limits: dict[str, Duration]) -> None:
        self.root = dict(limits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LevelLimits) and other.root == self.root

    def __repr__(self) -> str:
        return f"LevelLimits({self.text})"

    def limit(self, level: str | None) -> Duration | None:
        """The limit of `level`: its own, else `default`, else the only limit (or None)."""
        limits = self.root
        if level is not None and level in limits:
            return limits[level]
        if DEFAULT_LEVEL in limits:
            return limits[DEFAULT_LEVEL]
        if len(limits) == 1 and level is None:
            return next(iter(limits.values()))
        return None

    @property
    def overall(self) -> Duration:
        """`default`, else the longest limit (realtime counts as the shortest)."""
        if DEFAULT_LEVEL in self.root:
            return self.root[DEFAULT_LEVEL]
        return max(self.root.values(), key=lambda d: -1.0 if d.seconds is None else d.seconds)

    @property
    def text(self) -> str:
        """Every level's limit as written: `P1 5分钟, P2 30分钟, default 2小时`."""
        return ", ".join(f"{level} {limit.text}" for level, limit in self.root.items())

    @property
    def seconds(self) -> float | None:
        """Seconds of the overall limit (None for realtime)."""
        return self.overall.seconds

    @property
    def realtime(self) -> bool:
        """Whether the overall limit is realtime."""
        return self.overall.realtime

    def resolve(self, realtime_seconds: float = 1.0) -> float:
        """Seconds of the overall limit, realtime meaning `realtime_seconds`."""
        return self.overall.resolve(realtime_seconds)

    def __str__(self) -> str:
        return self.text


def _sla_form(value: Any) -> str:
    return "levels" if isinstance(value, (dict, LevelLimits)) else "limit"


PerLevel = Annotated[
    dict[str, Duration],
    BeforeValidator(lambda value: value.root if isinstance(value, LevelLimits) else value),
    Field(min_length=1),
    AfterValidator(LevelLimits),
    PlainSerializer(lambda limits: {level: d.text for level, d in limits.root.items()}),
]
Sla = Annotated[
    Annotated[Duration, Tag("limit")] | Annotated[PerLevel, Tag("levels")],
    Discriminator(_sla_form),
    Field(
        description=(
            "Time limit (时限): one limit for every case, or one per level with `default` "
            "for the other levels (levels declared under `levels`)."
        ),
        examples=["30分钟", {"P1": "5分钟", "P2": "30分钟", "default": "2小时"}],
    ),
]
