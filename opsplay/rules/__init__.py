"""Semantic rules: small functions over the raw playbook data, registered by rule id.

Rules read the raw YAML data (not the validated model) and skip whatever is missing
or malformed, so that they still run, and report, when parts fail the schema.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opsplay.config import Hygiene
from opsplay.diagnostics import RULES, words
from opsplay.i18n import _
from opsplay.loader import LoadedFile, Position
from opsplay.model.aliases import canonical_data
from opsplay.model.percent import read_percentages

Path = tuple[str | int, ...]
Report = Callable[..., None]
Check = Callable[["PlaybookData", Report], None]

CHECKS: dict[str, Check] = {}


def rule(rule_id: str) -> Callable[[Check], Check]:
    """Register a check under a rule id of the catalogue."""
    assert rule_id in RULES, rule_id

    def register(check: Check) -> Check:
        CHECKS[rule_id] = check
        return check

    return register


@dataclass
class PlaybookData:
    """Defensive read access to one playbook's raw data."""

    loaded: LoadedFile
    realtime_seconds: float = 1.0
    hygiene: Hygiene = field(default_factory=Hygiene)
    calendar: str = "official"  # the project's working days: "official" or "weekdays"
    _data: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Chinese aliases of enumerated values (`status: 试点`) are read as their English value.
        # and `95%` where a proportion is meant as 0.95 (opsplay.model.percent).
        self._data = read_percentages(canonical_data(self.loaded.data or {}))

    @property
    def data(self) -> dict[str, Any]:
        """The raw data, aliases read as English (an empty mapping when the file was unreadable)."""
        return self._data

    def get(self, *path: str | int) -> Any:
        """The value at `path`, or None when any step is missing or of the wrong type."""
        current: Any = self.data
        for part in path:
            if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
                current = current[part]
            elif isinstance(part, str) and isinstance(current, dict):
                current = current.get(part)
            else:
                return None
        return current

    def entries(self, *path: str | int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, mapping) for each mapping in the list at `path`."""
        items = self.get(*path)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield index, item

    def ids(self, section: str) -> list[str]:
        """Ids of the entries of a top-level list section (as text, as the schema reads them)."""
        return [
            item_id
            for _index, item in self.entries(section)
            if (item_id := ident(item.get("id"))) is not None
        ]

    def fallbacks(self, node: int) -> Iterator[tuple[Path, dict[str, Any]]]:
        """(path, mapping) of each fallback of node `node`, written as one or as a list."""
        written = self.get("nodes", node, "fallback")
        if isinstance(written, dict):
            yield ("nodes", node, "fallback"), written
        elif isinstance(written, list):
            for j, item in self.entries("nodes", node, "fallback"):
                yield ("nodes", node, "fallback", j), item

    def metric_kind(self, metric_id: Any) -> str | None:
        """The `kind` of a metric by id, if declared."""
        for _index, metric in self.entries("metrics"):
            if ident(metric.get("id")) == ident(metric_id):
                return metric.get("kind")
        return None


def run_rules(playbook: PlaybookData) -> None:
    """Run every registered check, adding diagnostics to the loaded file."""
    for rule_id, check in CHECKS.items():

        def report(
            path: Path,
            message: str,
            *,
            key: bool = False,
            at: Position | None = None,
            _rule: str = rule_id,
        ) -> None:
            playbook.loaded.report(_rule, path, message, key=key, at=at)

        check(playbook, report)


def ident(value: Any) -> str | None:
    """An id, reference or version as written: YAML numbers and dates by their source text.

    `next: [2]` names node "2"; an unquoted `version: 1.10` is "1.10", not 1.1.
    """
    if isinstance(value, str):
        return value
    return getattr(value, "yaml_source", None)


def did_you_mean(word: Any, choices: list[str]) -> str:
    """A `; did you mean `x`?` suffix, or a list of the choices when nothing is close."""
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    if close:
        return _("; did you mean `{word}`?").format(word=close[0])
    return _("; known: {known}").format(known=words(choices)) if choices else ""


# Importing the rule modules registers their checks.
from opsplay.rules import (  # noqa: E402,F401
    alerts,
    calendars,
    goal,
    graph,
    hygiene,
    metrics,
    pilot_design,
    process,
    readiness,
    references,
    text,
    versioning,
    weights,
)
