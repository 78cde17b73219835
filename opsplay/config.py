"""Project configuration: `.opsplay.toml` or `[tool.opsplay]` in pyproject.toml."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsplay.diagnostics import RULES, Severity, words
from opsplay.errors import UsageError
from opsplay.i18n import _, normalise
from opsplay.model.duration import parse_duration

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Findings that mean the file could not be read as a playbook at all; a file that fails
# to parse must never pass, whatever the configuration says.
UNREADABLE_RULES = frozenset({"OPS001", "OPS002", "OPS006", "OPS007", "OPS008", "OPS009", "OPS010"})
KNOWN_KEYS = {
    "disable",
    "severity",
    "realtime",
    "paths",
    "diff",
    "lang",
    "calendar",
    "workday_limits",
    "timezone",
    "max_file_kb",
    "follow_symlinks",
    "hygiene",
    "keep_runs",
}
# Working days of calendar time limits (opsplay.workdays): China's official calendar, or Mon–Fri.
CALENDARS = ("official", "weekdays")
MAX_FILE_KB = 1024  # a real playbook is 5–50 KB; a 50 MB scalar costs ~400 MB to parse


@dataclass(frozen=True)
class Hygiene:
    """Limits of the process-hygiene warnings (避免为流程而流程), `[tool.opsplay.hygiene]`."""

    max_nodes: int = 12  # OPS508
    max_handovers: int = 6  # OPS509: owner changes along the main path


@dataclass(frozen=True)
class Config:
    """Settings that change what validate reports and how durations are read."""

    disable: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    realtime_seconds: float = 1.0
    paths: tuple[str, ...] = ("playbooks",)
    diff: dict[str, Any] = field(default_factory=dict)  # read by opsplay.diff
    root: Path = Path(".")
    source: str | None = None
    lang: str | None = None  # message language (`zh` | `en`); see opsplay.i18n
    calendar: str = "official"  # working days of `3个工作日`, `T+1`: see opsplay.workdays
    max_file_kb: int = MAX_FILE_KB  # larger files are refused before parsing
    follow_symlinks: bool = False  # follow symlinks that leave the checked folder
    hygiene: Hygiene = Hygiene()
    # `N个工作日` due at 24:00 of the N-th working day ("day_end") or at the start's clock time
    workday_limits: str = "day_end"
    timezone: str | None = None  # IANA zone of naive log times; None: see opsplay.zones
    # runs kept per playbook in the state file, and sent messages per robot (issue 19)
    keep_runs: int = 1000


def find_config(start: Path) -> Config:
    """The configuration of the project containing `start` (defaults when none is found)."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        dedicated = folder / ".opsplay.toml"
        if dedicated.is_file():
            return _parse(_read(dedicated), dedicated, folder)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read(pyproject).get("tool", {}).get("opsplay")
            if table is not None:
                return _parse(table, pyproject, folder)
        if (folder / ".git").exists():
            break
    return Config(root=start)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(
            _("{file}: cannot read configuration: {problem}").format(file=path, problem=error)
        ) from None


def _parse(table: dict[str, Any], path: Path, root: Path) -> Config:
    table = table.get("tool", {}).get("opsplay", table) if path.name == ".opsplay.toml" else table
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise UsageError(
            _("{file}: unknown setting(s) {unknown}; known: {known}").format(
                file=path, unknown=words(unknown), known=words(sorted(KNOWN_KEYS))
            )
        )
    disable = table.get("disable", [])
    severity = table.get("severity", {})
    if not _text_list(disable) or not isinstance(severity, dict):
        raise UsageError(
            _('{file}: write `disable = ["OPS501"]` and `severity = {{OPS502 = "error"}}`').format(
                file=path
            )
        )
    for rule_id in [*disable, *severity]:
        if rule_id not in RULES:
            raise UsageError(
                _(
                    "{file}: unknown rule id `{rule}` in configuration; `opsplay rules` lists them"
                ).format(file=path, rule=rule_id)
            )
    levels: dict[str, Severity] = {}
    for rule_id, level in severity.items():
        if level not in ("error", "warning"):
            raise UsageError(
                _('{file}: severity of {rule} must be "error" or "warning", not `{level}`').format(
                    file=path, rule=rule_id, level=level
                )
            )
        levels[rule_id] = Severity(level)
    for rule_id in [*disable, *(r for r, level in levels.items() if level is Severity.WARNING)]:
        if rule_id in UNREADABLE_RULES:
            raise UsageError(
                _(
                    "{file}: {rule} cannot be disabled or made a warning: a file it reports "
                    "could not be read at all, so nothing else in it was checked"
                ).format(file=path, rule=rule_id)
            )
    realtime = 1.0
    if "realtime" in table:
        try:
            duration = parse_duration(str(table["realtime"]))
        except ValueError as error:
            raise UsageError(
                _("{file}: realtime: {problem}").format(file=path, problem=error)
            ) from None
        if duration.seconds is None or duration.is_calendar:
            raise UsageError(
                _('{file}: realtime must be a concrete limit such as "1s" or "5s"').format(
                    file=path
                )
            )
        realtime = duration.seconds
    paths = table.get("paths", ["playbooks"])
    if isinstance(paths, str):
        paths = [paths]
    if not _text_list(paths):
        raise UsageError(
            _(
                '{file}: write `paths = ["playbooks"]` (folders or files, relative to {root})'
            ).format(file=path, root=root)
        )
    diff = table.get("diff", {})
    if not isinstance(diff, dict):
        raise UsageError(
            _("{file}: `diff` must be a table of settings (`[tool.opsplay.diff]`)").format(
                file=path
            )
        )
    lang = table.get("lang")
    if lang is not None and (not isinstance(lang, str) or normalise(lang) is None):
        raise UsageError(
            _('{file}: write `lang = "zh"` or `lang = "en"`, not `{value}`').format(
                file=path, value=lang
            )
        )
    calendar = table.get("calendar", "official")
    if calendar not in CALENDARS:
        raise UsageError(
            _(
                '{path}: write `calendar = "official"` (mainland China\'s working days, make-up '
                'working days included) or `calendar = "weekdays"` (Monday to Friday), not {value}'
            ).format(path=path, value=repr(calendar))
        )
    workday_limits = table.get("workday_limits", "day_end")
    if workday_limits not in ("day_end", "clock"):
        raise UsageError(
            _(
                '{path}: write `workday_limits = "day_end"` (3个工作日 due at 24:00 of the third '
                'working day) or `workday_limits = "clock"` (at the start\'s clock time), not '
                "{value}"
            ).format(path=path, value=repr(workday_limits))
        )
    timezone = table.get("timezone")
    if timezone is not None:
        from opsplay.zones import known_zone

        if not isinstance(timezone, str) or not known_zone(timezone):
            raise UsageError(
                _(
                    '{path}: `timezone` is an IANA time zone such as "Asia/Shanghai", not {value}'
                ).format(path=path, value=repr(timezone))
            )
    max_file_kb = table.get("max_file_kb", MAX_FILE_KB)
    if isinstance(max_file_kb, bool) or not isinstance(max_file_kb, int) or max_file_kb < 1:
        raise UsageError(
            _("{file}: write `max_file_kb = 2048` (a whole number of kilobytes)").format(file=path)
        )
    follow = table.get("follow_symlinks", False)
    if not isinstance(follow, bool):
        raise UsageError(_("{file}: write `follow_symlinks = true` or `false`").format(file=path))
    keep_runs = table.get("keep_runs", 1000)
    if isinstance(keep_runs, bool) or not isinstance(keep_runs, int) or keep_runs < 1:
        raise UsageError(
            _(
                "{file}: write `keep_runs = 1000` (how many runs of each playbook the state "
                "file keeps, and sent messages of each robot: a whole number of at least 1)"
            ).format(file=path)
        )
    return Config(
        frozenset(disable),
        levels,
        realtime,
        tuple(paths),
        dict(diff),
        root,
        str(path),
        lang,
        calendar,
        max_file_kb,
        follow,
        _hygiene(table.get("hygiene", {}), path),
        workday_limits,
        timezone,
        keep_runs=keep_runs,
    )


def _hygiene(table: Any, path: Path) -> Hygiene:
    """`[tool.opsplay.hygiene]`: max_nodes and max_handovers, whole numbers of at least 1."""
    if not isinstance(table, dict):
        raise UsageError(
            _(
                "{path}: `hygiene` is a table; write `[tool.opsplay.hygiene]` with "
                "`max_nodes = 12` and `max_handovers = 6`"
            ).format(path=path)
        )
    unknown = sorted(set(table) - {"max_nodes", "max_handovers"})
    if unknown:
        raise UsageError(
            _("{path}: unknown hygiene setting(s) {names}; known: max_nodes, max_handovers").format(
                path=path, names=_(", ").join(unknown)
            )
        )
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(
                _(
                    "{path}: hygiene {name} must be a whole number of at least 1, not {value}"
                ).format(path=path, name=name, value=value)
            )
    return Hygiene(**table)


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
