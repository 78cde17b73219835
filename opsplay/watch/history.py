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


KEEP_RUNS = 1000  # runs kept per playbook, and sent messages per robot (`keep_runs`)
# Whether a run's result has metric rows, and the alerts that fired in it: stored beside the
# result (`metrics`, `fired`) so that `history` reads them without parsing every result;
# rows written before those columns are read from the JSON by SQLite.
_HAS_METRICS = "metrics"  # filled in for older runs when the file is opened (state.py)
_HAS_METRICS_OLD = "json_array_length(result, '$.metrics') > 0"
# The run `history` shows for each version: its latest with metric rows, else its latest.
_SHOWN = (
    "SELECT COALESCE(MAX(CASE WHEN {flag} THEN id END), MAX(id)) AS id, version, "
    "COUNT(*) AS runs FROM runs WHERE playbook = ? GROUP BY version"
)


def record(
    state: State,
    result: dict[str, Any],
    data_fingerprint: str,
    command: str,
    keep: int = KEEP_RUNS,
) -> int:
    """Store one run's JSON result; returns its id.

    A scheduled `watch` runs every few minutes: a run on the same version and the same data
    as the previous watch run, with the same alerts fired, adds nothing and is not stored
    again (on the same file a later evaluation time can fire an alert: that run is stored). Only the newest `keep`
    runs of a playbook are kept (`keep_runs` in [tool.opsplay]) besides the run `history`
    shows for each version, so the file does not grow without end and the trend keeps every
    version; the robots' delivered and given-up messages are pruned alike.
    """
    playbook = result.get("playbook") or {}
    playbook_id, version = playbook.get("id", ""), str(playbook.get("version", ""))
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, allow_nan=False)
    fired = [a.get("id", "") for a in result.get("alerts") or [] if a.get("fired")]
    with state.transaction() as db:
        if command == "watch":
            last = db.execute(
                "SELECT id, version, fingerprint, fired FROM runs WHERE playbook = ? AND "
                "command = ? ORDER BY id DESC LIMIT 1",
                (playbook_id, command),
            ).fetchone()
            if last is not None and (last["version"], last["fingerprint"]) == (
                version,
                data_fingerprint,
            ):
                before = json.loads(last["fired"]) if last["fired"] else None
                if before is None or before == fired:  # NULL: recorded before `fired` existed
                    return int(last["id"])
        cursor = db.execute(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result, "
            "metrics, fired) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                playbook_id,
                version,
                data_fingerprint,
                clock.now().isoformat(timespec="seconds"),
                command,
                text,
                int(bool(result.get("metrics"))),
                json.dumps(fired, ensure_ascii=False),
            ),
        )
        prune(db, playbook_id, keep)
        return int(cursor.lastrowid or 0)


def prune(db: Any, playbook_id: str, keep: int) -> None:
    """Drop a playbook's runs beyond the newest `keep` (never the run `history` shows for a
    version), and its delivered or given-up messages beyond the newest `keep` per robot
    (a queued message is never dropped)."""
    shown = _SHOWN.format(flag=_HAS_METRICS)
    db.execute(
        "DELETE FROM runs WHERE playbook = ? AND id NOT IN (SELECT id FROM runs WHERE "
        f"playbook = ? ORDER BY id DESC LIMIT ?) AND id NOT IN (SELECT id FROM ({shown}))",
        (playbook_id, playbook_id, keep, playbook_id),
    )
    db.execute(
        "DELETE FROM outbox WHERE playbook = ? AND (delivered IS NOT NULL OR dead IS NOT NULL) "
        "AND id NOT IN (SELECT o.id FROM outbox o WHERE o.playbook = outbox.playbook AND "
        "o.target = outbox.target AND (o.delivered IS NOT NULL OR o.dead IS NOT NULL) "
        "ORDER BY o.id DESC LIMIT ?)",
        (playbook_id, keep),
    )


def version_key(version: str) -> tuple[Any, ...]:
    """Sort 1.9.0 before 1.10.0; text that is not a version sorts after, as written."""
    parts = re.findall(r"\d+|[^\d.]+", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def versions(state: State | None, playbook_id: str) -> list[VersionEntry]:
    """One entry per recorded version of a playbook, oldest version first."""
    if state is None:
        return []
    # Only what is shown is read: the run shown per version, and the fired alerts' ids
    # (300,000 runs took 20 s and 3.2 GB when every result was parsed in Python).
    columns = {row[1] for row in state.read("PRAGMA table_info(runs)")}
    new_columns = {"metrics", "fired"} <= columns
    shown = _SHOWN.format(flag=_HAS_METRICS if new_columns else _HAS_METRICS_OLD)
    latest: dict[str, tuple[Any, dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for pick in state.read(shown, (playbook_id,)):
        row = state.read(
            "SELECT version, recorded, fingerprint, result FROM runs WHERE id = ?", (pick["id"],)
        )[0]
        try:
            latest[row["version"]] = (row, json.loads(row["result"]))
        except ValueError:
            continue
        counts[row["version"]] = int(pick["runs"])
    fired_in: dict[str, list[str]] = {}  # every alert that fired in any run of the version
    from_json = (
        "SELECT r.id, r.version, json_extract(a.value, '$.id') AS alert FROM runs r, "
        "json_each(r.result, '$.alerts') a WHERE r.playbook = ? AND "
        "json_extract(a.value, '$.fired') {only_old}"
    )
    if new_columns:
        rows = state.read(  # each distinct list once, at its first run
            "SELECT MIN(id) AS id, version, fired FROM runs WHERE playbook = ? AND fired IS NOT "
            "NULL AND fired <> '[]' GROUP BY version, fired",
            (playbook_id,),
        )
        pairs = [(r["id"], r["version"], alert) for r in rows for alert in json.loads(r["fired"])]
        old = state.read(from_json.format(only_old="AND r.fired IS NULL"), (playbook_id,))
    else:
        pairs, old = [], state.read(from_json.format(only_old=""), (playbook_id,))
    pairs += [(r["id"], r["version"], r["alert"]) for r in old]
    for _id, version, alert in sorted(pairs, key=lambda pair: pair[0]):
        seen = fired_in.setdefault(version, [])
        if alert not in seen:
            seen.append(alert)
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
# (playbook id, entries, playbook, language, time zone of the times shown)
Formatter = Callable[[str, list[VersionEntry], Any, str, Any], str]
FORMATTERS: dict[str, Formatter] = {}


formatter = registrar(FORMATTERS)


def metric_cells(row: dict[str, Any], playbook: Any) -> tuple[str, str, str, str, str]:
    """(name, baseline, pilot, deviation rate, verdict) of one metric row, for people."""
    from opsplay.pilot.presentation.formats import fmt_rel, fmt_value

    metric = next((m for m in playbook.metrics if m.id == row.get("metric")), None)
    kind = metric.kind if metric else row.get("kind", "mean")
    unit = metric.unit if metric else None
    return (
        metric.name if metric else str(row.get("metric")),
        fmt_value((row.get("baseline") or {}).get("value"), kind, unit),
        fmt_value((row.get("pilot") or {}).get("value"), kind, unit),
        _adjusted(fmt_rel(row.get("rel_diff")), row),
        verdict_word(row.get("verdict"), row.get("method")),
    )


def _adjusted(value: str, row: dict[str, Any]) -> str:
    """A deviation rate labelled when CUPED adjusted it (the arm values beside it are not)."""
    if row.get("variance_reduction") is None or value == "—":
        return value
    # no brackets: the text form already shows it in brackets, 34.7% → 31.7%（…）
    return _("{value} after adjusting for the before period").format(value=value)


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
        "no_change_seen": _("no clear change"),
    }
    return words.get(verdict or "inconclusive", str(verdict))


def shown_time(recorded: str, zone: Any = None) -> str:
    """`2024-10-08 14:05（北京时间）`: a stored time on the team's clock (`zone`, the project's
    time zone; None: the machine's), the zone named (SPEC 12), not ISO UTC."""
    from datetime import UTC, datetime

    from opsplay.zones import shown

    try:
        moment = datetime.fromisoformat(recorded)
    except ValueError:
        return recorded
    if moment.tzinfo is None:  # stored by opsplay in UTC
        moment = moment.replace(tzinfo=UTC)
    where = zone if zone is not None else moment.astimezone().tzinfo
    return shown(moment, where)


def _process(playbook_id: str, playbook: Any) -> str:
    """The process by its title with its id (`售后退款工单处理（refund-tickets）`)."""
    title = getattr(getattr(playbook, "metadata", None), "title", None)
    return _("{title} ({id})").format(title=title, id=playbook_id) if title else playbook_id


@formatter("text")
def format_text(
    playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str, zone: Any = None
) -> str:
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
        from opsplay.text import joined

        lines = []
        for entry in entries:
            lines.append(
                ngettext(
                    "version {version} — recorded {time}, {runs} run, data {fingerprint}",
                    "version {version} — recorded {time}, {runs} runs, data {fingerprint}",
                    entry.runs,
                ).format(
                    version=entry.version,
                    time=shown_time(entry.recorded, zone),
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
                lines.append("  " + _("alerts fired: {alerts}").format(alerts=joined(entry.fired)))
        return "\n".join(lines) + "\n"


@formatter("markdown")
def format_markdown(
    playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str, zone: Any = None
) -> str:
    """A table: version, time, metric, baseline, pilot, deviation rate, verdict, alerts."""
    from opsplay.text import joined, md_cell

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
                            shown_time(entry.recorded, zone) if first else "",
                            *cells,
                            joined(entry.fired) if first else "",
                        )
                    )
                    + " |"
                )
        return "\n".join(lines) + "\n"


@formatter("json")
def format_json(
    playbook_id: str, entries: list[VersionEntry], playbook: Any, lang: str, zone: Any = None
) -> str:
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
                            "variance_reduction",
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
