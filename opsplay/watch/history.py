"""Iteration history: each run's results stored with playbook id, version, data fingerprint and
time (`pilot compare --record`, `watch`), and read back one entry per version."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import _, language, ngettext
from opsplay.registry import registrar
from opsplay.watch import clock
from opsplay.watch.state import State


@dataclass(frozen=True)
class VersionEntry:
    """What one playbook version achieved: its latest recorded run with metric rows, and every
    alert that fired in any of its runs (an alert that fired and resolved is not lost)."""

    version: str
    recorded: str
    fingerprint: str
    runs: int
    metrics: tuple[dict[str, Any], ...]
    fired: tuple[str, ...]


def fingerprint(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' contents in order (names and folders do not count)."""
    total = hashlib.sha256()
    for path in paths:
        each = hashlib.sha256()
        try:
            with Path(path).open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    each.update(block)
        except OSError as error:
            raise InputError(
                _("{path}: cannot read the file to fingerprint the data: {reason}").format(
                    path=path, reason=error.strerror
                )
            ) from None
        total.update(each.digest())
    return total.hexdigest()


WATCH_RUNS_KEPT = 1000  # per playbook; `pilot compare --record` runs are never dropped


def record(state: State, result: dict[str, Any], data_fingerprint: str, command: str) -> int:
    """Store one run's JSON result; returns its id.

    A scheduled `watch` runs every few minutes: a run on the same version and the same data
    as the previous watch run adds nothing and is not stored again, and only the newest
    WATCH_RUNS_KEPT watch runs of a playbook are kept, so the file does not grow without end.
    """
    playbook = result.get("playbook") or {}
    playbook_id, version = playbook.get("id", ""), str(playbook.get("version", ""))
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, allow_nan=False)
    with state.transaction() as db:
        if command == "watch":
            last = db.execute(
                "SELECT id, version, fingerprint FROM runs WHERE playbook = ? AND command = ? "
                "ORDER BY id DESC LIMIT 1",
                (playbook_id, command),
            ).fetchone()
            if last is not None and (last["version"], last["fingerprint"]) == (
                version,
                data_fingerprint,
            ):
                return int(last["id"])
        cursor = db.execute(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                playbook_id,
                version,
                data_fingerprint,
                clock.now().isoformat(timespec="seconds"),
                command,
                text,
            ),
        )
        if command == "watch":
            db.execute(
                "DELETE FROM runs WHERE playbook = ? AND command = ? AND id NOT IN (SELECT id "
                "FROM runs WHERE playbook = ? AND command = ? ORDER BY id DESC LIMIT ?)",
                (playbook_id, command, playbook_id, command, WATCH_RUNS_KEPT),
            )
        return int(cursor.lastrowid or 0)


def version_key(version: str) -> tuple[Any, ...]:
    """Sort 1.9.0 before 1.10.0; text that is not a version sorts after, as written."""
    parts = re.findall(r"\d+|[^\d.]+", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def versions(state: State | None, playbook_id: str) -> list[VersionEntry]:
    """One entry per recorded version of a playbook, oldest version first."""
    if state is None:
        return []
    rows = state.read(
        "SELECT version, recorded, fingerprint, result FROM runs WHERE playbook = ? ORDER BY id",
        (playbook_id,),
    )
    latest: dict[str, tuple[Any, dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    fired_in: dict[str, list[str]] = {}  # every alert that fired in any run of the version
    for row in rows:
        try:
            result = json.loads(row["result"])
        except ValueError:
            continue
        counts[row["version"]] = counts.get(row["version"], 0) + 1
        seen = fired_in.setdefault(row["version"], [])
        for alert in result.get("alerts") or []:
            if alert.get("fired") and alert.get("id", "") not in seen:
                seen.append(alert.get("id", ""))
        has_metrics = bool(result.get("metrics"))
        kept = latest.get(row["version"])
        if kept is None or has_metrics or not kept[1].get("metrics"):
            latest[row["version"]] = (row, result)
    entries = []
    for version in sorted(latest, key=version_key):
        row, result = latest[version]
        primaries = [
            m
            for m in result.get("metrics") or []
            if not m.get("segment") and m.get("role", "primary") == "primary"
        ]
        fired = fired_in.get(version, [])
        entries.append(
            VersionEntry(
                version,
                row["recorded"],
                row["fingerprint"],
                counts[version],
                tuple(primaries),
                tuple(fired),
            )
        )
    return entries


def dead_letters(state: State | None, playbook_id: str) -> list[dict[str, Any]]:
    """Messages of a playbook that a robot refused in every try and that were given up
    (kept in the outbox, never posted), oldest first."""
    if state is None:
        return []
    columns = {row[1] for row in state.read("PRAGMA table_info(outbox)")}
    if "dead" not in columns:  # a file written before messages were given up
        return []
    rows = state.read(
        "SELECT alert, event, shown, created, dead, last_error FROM outbox "
        "WHERE playbook = ? AND dead IS NOT NULL ORDER BY id",
        (playbook_id,),
    )
    return [dict(row) for row in rows]


# Formats, looked up by name (`opsplay history --format`)
Formatter = Callable[[str, list[VersionEntry], Any, str], str]
FORMATTERS: dict[str, Formatter] = {}


formatter = registrar(FORMATTERS)


def metric_cells(row: dict[str, Any], playbook: Any) -> tuple[str, str, str, str, str]:
    """(name, baseline, pilot, deviation rate, verdict) of one metric row, for people."""
    from opsplay.pilot.present import fmt_rel, fmt_value

    metric = next((m for m in playbook.metrics if m.id == row.get("metric")), None)
    kind = metric.kind if metric else row.get("kind", "mean")
    unit = metric.unit if metric else None
    return (
        metric.name if metric else str(row.get("metric")),
        fmt_value((row.get("baseline") or {}).get("value"), kind, unit),
        fmt_value((row.get("pilot") or {}).get("value"), kind, unit),
        fmt_rel(row.get("rel_diff")),
        verdict_word(row.get("verdict"), row.get("method")),
    )


def verdict_word(verdict: str | None, method: str | None = None) -> str:
    """A verdict in the message language; a dashboard value cannot be tested, which is not
    "too little data" (as `pilot compare` says it)."""
    if method == "point" and verdict in (None, "inconclusive"):
        return _("cannot be tested (dashboard values)")
    words = {
        "met": _("met its target"),
        "improved": _("improved significantly"),
        "worse": _("worse significantly"),
        "no_change": _("not significantly different"),
        "inconclusive": _("too little data to judge"),
        "not_testable": _("cannot be tested with this design"),
        "changed_up": _("went up (cause not shown)"),
        "changed_down": _("went down (cause not shown)"),
        "no_change_seen": _("no change seen"),
    }
    return words.get(verdict or "inconclusive", str(verdict))


def shown_time(recorded: str) -> str:
    """`2024-10-08 14:05` in the machine's time zone: what a team's clock says, not ISO UTC."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(recorded).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return recorded


def _process(playbook_id: str, playbook: Any) -> str:
    """The process by its title with its id (`售后退款工单处理（refund-tickets）`)."""
    title = getattr(getattr(playbook, "metadata", None), "title", None)
    return _("{title} ({id})").format(title=title, id=playbook_id) if title else playbook_id


@formatter("text")
def format_text(playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str) -> str:
    """One block per version: when, how many runs, each primary metric, fired alerts."""
    with language(lang):
        if not entries:
            return (
                _(
                    "no recorded runs of `{id}` yet (record them with `pilot compare --record` "
                    "or `watch`)"
                ).format(id=playbook_id)
                + "\n"
            )
        from opsplay.pilot.plain import listing

        lines = []
        for entry in entries:
            lines.append(
                ngettext(
                    "version {version} — recorded {time}, {runs} run, data {fingerprint}",
                    "version {version} — recorded {time}, {runs} runs, data {fingerprint}",
                    entry.runs,
                ).format(
                    version=entry.version,
                    time=shown_time(entry.recorded),
                    runs=entry.runs,
                    fingerprint=entry.fingerprint[:12],
                )
            )
            for row in entry.metrics:
                name, before, during, change, verdict = metric_cells(row, playbook)
                lines.append(
                    "  "
                    + _("{metric}: {baseline} → {pilot} ({change}), {verdict}").format(
                        metric=name, baseline=before, pilot=during, change=change, verdict=verdict
                    )
                )
            if not entry.metrics:
                lines.append("  " + _("no metric results in this run"))
            if entry.fired:
                lines.append(
                    "  " + _("alerts fired: {alerts}").format(alerts=listing(list(entry.fired)))
                )
        return "\n".join(lines) + "\n"


@formatter("markdown")
def format_markdown(playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str) -> str:
    """A table: version, time, metric, baseline, pilot, deviation rate, verdict, alerts."""
    from opsplay.pilot.plain import listing
    from opsplay.text import md_cell

    with language(lang):
        header = [
            _("Playbook version"),
            _("Recorded at"),
            _("Primary metric"),
            _("Baseline arm value"),
            _("Pilot arm value"),
            _("Deviation rate vs baseline"),
            _("Verdict recorded"),
            _("Alerts fired"),
        ]
        title = _("Iteration history of {id}").format(id=_process(playbook_id, playbook))
        lines = ["# " + md_cell(title), ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for entry in entries:
            rows = [metric_cells(row, playbook) for row in entry.metrics] or [("—",) * 5]
            for index, cells in enumerate(rows):
                first = index == 0
                lines.append(
                    "| "
                    + " | ".join(
                        md_cell(str(cell))
                        for cell in (
                            entry.version if first else "",
                            shown_time(entry.recorded) if first else "",
                            *cells,
                            listing(list(entry.fired)) if first else "",
                        )
                    )
                    + " |"
                )
        return "\n".join(lines) + "\n"


@formatter("json")
def format_json(playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str) -> str:
    """Full precision, one object per version."""
    document = {
        "playbook": playbook_id,
        "versions": [
            {
                "version": e.version,
                "recorded": e.recorded,
                "fingerprint": e.fingerprint,
                "runs": e.runs,
                "metrics": [
                    {
                        key: row.get(key)
                        for key in (
                            "metric",
                            "baseline",
                            "pilot",
                            "abs_diff",
                            "rel_diff",
                            "p_value",
                            "verdict",
                            "target",
                            "attainment",
                        )
                    }
                    for row in e.metrics
                ],
                "alerts_fired": list(e.fired),
            }
            for e in entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
