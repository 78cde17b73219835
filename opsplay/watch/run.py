"""One `opsplay watch` run: evaluate the alerts as `pilot compare` does, remember their
states, queue a message per change and robot, deliver everything queued, record the run."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opsplay.i18n import N_, translate
from opsplay.watch import clock, history, notify
from opsplay.watch.message import compose
from opsplay.watch.state import State, open_state

LEASE_SECONDS = 300.0  # a run that dies while posting frees its message after this
DEAD_AFTER = 3  # runs in which a robot refused a message before it is given up


@dataclass(frozen=True)
class Change:
    """An alert that started firing or resolved in this run."""

    alert: str
    event: str  # firing | resolved
    value: float | None


@dataclass(frozen=True)
class Failure:
    """A post that failed after its retries, or got no answer."""

    target: str  # redacted
    alert: str
    event: str
    reason: str  # scrubbed
    playbook: str = ""
    # queued: sent by a later run; dead: refused in DEAD_AFTER runs, given up (kept, shown by
    # `history`); maybe: sent but never answered, counted as delivered (not sent again)
    status: str = "queued"
    message_id: str = ""


@dataclass(frozen=True)
class WatchResult:
    """What one run found and did."""

    playbook_id: str
    version: str
    lang: str
    alerts: tuple[Any, ...]  # judging.AlertResult
    changes: tuple[Change, ...]
    firing: tuple[str, ...]
    sent: int
    failures: tuple[Failure, ...]
    queued: int
    unknown_targets: int
    run_id: int
    warnings: tuple[str, ...]
    playbook: Any = None  # model.playbook.Playbook
    first: bool = False  # the playbook's first watch run with this state file
    # alerts whose `for:` count this run left as it was: the data is the same as on the last
    # counted run (the same export looked at again is no new evidence, SPEC 11)
    uncounted: tuple[str, ...] = ()
    # the evaluation time (SPEC 12), ISO 8601 on the project's clock with its offset
    as_of: str = ""
    # the node figures as `pilot compare --format json` gives them (open, breached_open,
    # pending and as_of of each node), and its `process` part (schedules, levels)
    nodes: tuple[dict[str, Any], ...] = ()
    process: dict[str, Any] | None = None
    # alerts still firing whose message was queued again this run, and why: "renotify",
    # "severity" (it rose), "newcomer" (a robot that had not been told of it)
    resent: tuple[tuple[str, str], ...] = ()
    zone: Any = None  # the project's time zone (opsplay.zones), for times shown to people
    # said to the user on stderr (a log running past --as-of is read as it stood then)
    notices: tuple[str, ...] = ()


def evaluate(
    playbook_path: Path, events: Path | None, data: Sequence[Path], **options: Any
) -> tuple[Any, dict[str, Any], list[Any], list[str]]:
    """(playbook, result JSON, alert results, warnings) exactly as `pilot compare` computes
    them; without DATA only the node alerts are measured (from the event log)."""
    return _evaluate(playbook_path, events, data, **options)[:4]


def _evaluate(
    playbook_path: Path, events: Path | None, data: Sequence[Path], **options: Any
) -> tuple[Any, dict[str, Any], list[Any], list[str], Any, tuple[str, ...]]:
    """`evaluate`, the evaluation time used (aware): `--as-of`, else watch's clock, and the
    notices for the user (a log running past it is read as it stood then)."""
    from opsplay.config import find_config
    from opsplay.pilot.compare import compare_files
    from opsplay.validate import load_playbook

    config = find_config(playbook_path.parent)
    playbook = load_playbook(playbook_path, config)
    # Evaluated as of now (SPEC 12): a case still open past its deadline is a breach now.
    from opsplay.nodes.log import evaluation_time
    from opsplay.zones import zone as zone_of

    where = zone_of(config.timezone, playbook.language)
    # a given --as-of reads the log as it stood then (a back-test); watch's own clock judges
    # the log as it stands (a row stamped after now: a clock's drift, not a row to drop)
    options["as_it_stood"] = options.get("as_of") is not None
    options["as_of"] = evaluation_time(options.get("as_of"), where) or clock.now()
    as_of = options["as_of"]
    if as_of.tzinfo is None:  # a naive time from a caller: on the project's clock
        as_of = as_of.replace(tzinfo=where)
    if data:
        # a scheduled watch looks again and again: always-valid intervals (SPEC 11)
        report = compare_files(playbook_path, list(data), events=events, repeated=True, **options)
        from opsplay.pilot.presentation.formats import report_to_json

        document = report_to_json(report)
        warnings = list(report.warnings)
        return playbook, document, list(report.alerts), warnings, as_of, report.notices
    from opsplay.nodes.log import read_events
    from opsplay.pilot.compare import CompareOptions, PilotReport
    from opsplay.pilot.judging import evaluate_alerts

    lang = options.get("lang") or playbook.language
    from opsplay.nodes import measures
    from opsplay.workdays import WorkdayCalendar

    # Limits as written: calendar limits (3个工作日, T+1) are judged on their deadlines.
    from opsplay.zones import zone

    calendar = WorkdayCalendar(config.calendar, config.workday_limits)  # type: ignore[arg-type]
    read = read_events(
        events,  # type: ignore[arg-type]
        measures.overall_limits(playbook),
        skip_bad_rows=bool(options.get("skip_bad_rows")),
        calendar=calendar,
        realtime_seconds=config.realtime_seconds,
        lang=lang,
        limit_for=measures.limit_for(playbook),  # per-level limits (SPEC 8)
        names={n.name: n.id for n in playbook.nodes},
        timezone=zone(config.timezone, playbook.language),
        as_of=options["as_of"],
        as_it_stood=options["as_it_stood"],
    )
    warnings = list(read.warnings)
    process = None
    if measures.needed(playbook):  # levels and schedules (SPEC 8)
        process = measures.measure_process(
            playbook, read.facts, calendar, config.realtime_seconds, read.as_of
        )
    alerts = evaluate_alerts(
        playbook,
        [],
        read.nodes,
        lang,
        warnings,
        has_events=True,
        values=process.alerts if process else None,
        counts=process.alert_counts if process else None,
    )
    # The same result document as `pilot compare --format json`, with no metric rows.
    report = PilotReport(
        playbook_id=playbook.metadata.id,
        playbook_title=playbook.metadata.title,
        playbook_version=playbook.metadata.version,
        design=playbook.pilot.design if playbook.pilot else "ab",
        alpha=playbook.pilot.alpha if playbook.pilot else 0.05,
        options=CompareOptions(events=events, lang=lang),
        lang=lang,
        metrics=(),
        srm_p_value=None,
        nodes=tuple(read.nodes),
        alerts=tuple(alerts),
        sources=(read.source,),
        shape="events",
        warnings=tuple(dict.fromkeys(warnings)),
        process=process,
        notices=read.notices,
    )
    from opsplay.pilot.presentation.formats import report_to_json

    document = report_to_json(report)
    return playbook, finite(document), alerts, warnings, as_of, report.notices


def finite(value: Any) -> Any:
    """`value` with NaN and infinities as None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def run_watch(
    playbook_path: Path,
    *,
    events: Path | None,
    data: Sequence[Path] = (),
    notify_urls: Sequence[str] = (),
    state_path: Path | None = None,
    secret: str | None = None,
    **options: Any,
) -> WatchResult:
    """Evaluate, remember, queue, deliver and record; raises OpsplayError for user mistakes."""
    from opsplay.config import find_config
    from opsplay.workdays import WorkdayCalendar

    targets = [notify.parse_target(url) for url in notify_urls]
    targets = list({t.key: t for t in targets}.values())
    evaluated = _evaluate(playbook_path, events, data, **options)
    playbook, document, alerts, warnings, as_of, notices = evaluated
    lang = options.get("lang") or playbook.language
    config = find_config(playbook_path.parent)
    zone = _zone(playbook_path, playbook)
    as_of = as_of.astimezone(zone)  # watch's clock, on the team's wall clock
    files = [*data, *([events] if events else [])]
    data_fingerprint = history.fingerprint(files)
    state = open_state(state_path)
    assert state is not None
    with state:
        first = not state.read(
            "SELECT 1 FROM runs WHERE playbook = ? AND command = 'watch' LIMIT 1",
            (playbook.metadata.id,),
        )
        look = Look(
            data=data_fingerprint,
            as_of=as_of,
            zone=zone,
            figures={node.get("node"): node for node in document.get("nodes") or []},
            process=document.get("process") or {},
            calendar=WorkdayCalendar(config.calendar, config.workday_limits),  # type: ignore[arg-type]
            realtime_seconds=config.realtime_seconds,
        )
        changes, uncounted, resent = _remember(state, playbook, alerts, targets, lang, look)
        if changes and not targets:
            warnings.append(
                translate(
                    N_(
                        "no --notify robot: the change is recorded but told to nobody; a robot "
                        "added later hears of the alerts still firing"
                    ),
                    lang,
                )
            )
        _counted(document, alerts)
        run_id = history.record(state, document, data_fingerprint, "watch", config.keep_runs)
        sent, failures = _deliver(state, targets, secret)
        firing = _firing(state, playbook)
        keys = [t.key for t in targets]
        pending = state.read(
            "SELECT target FROM outbox WHERE delivered IS NULL AND dead IS NULL AND playbook = ?",
            (playbook.metadata.id,),
        )
    return WatchResult(
        playbook_id=playbook.metadata.id,
        version=playbook.metadata.version,
        lang=lang,
        alerts=tuple(alerts),
        changes=tuple(changes),
        firing=firing,
        sent=sent,
        failures=tuple(failures),
        queued=sum(1 for row in pending if row["target"] in keys),
        unknown_targets=len({row["target"] for row in pending if row["target"] not in keys}),
        run_id=run_id,
        warnings=tuple(warnings),
        playbook=playbook,
        first=first,
        uncounted=tuple(uncounted),
        as_of=as_of.isoformat(timespec="seconds"),
        nodes=tuple(document.get("nodes") or ()),
        process=document.get("process"),
        resent=tuple(resent),
        zone=zone,
        notices=tuple(notices),
    )


@dataclass(frozen=True)
class Look:
    """What one run looked at: its data, its evaluation time, and what the messages and
    `renotify` need of it."""

    data: str  # history.fingerprint of the run's files ("" : not known)
    as_of: Any  # the evaluation time (aware, on the project's clock): watch's clock
    zone: Any = None  # the project's time zone (opsplay.zones)
    figures: Any = None  # node id -> its figures in the result JSON (open and missed cases)
    process: Any = None  # the `process` part of the result JSON (levels, schedules)
    calendar: Any = None  # opsplay.workdays.WorkdayCalendar: calendar `renotify` forms
    realtime_seconds: float = 1.0


def _zone(playbook_path: Path, playbook: Any) -> Any:
    """The time zone times are shown in: `timezone` of the project, else by language."""
    from opsplay.config import find_config
    from opsplay.zones import zone

    return zone(find_config(playbook_path.parent).timezone, playbook.language)


def _remember(
    state: State,
    playbook: Any,
    alerts: list[Any],  # judging.AlertResult, updated in place with their `for:` counts
    targets: Sequence[notify.Target],
    lang: str,
    look: Look,
) -> tuple[list[Change], list[str], list[tuple[str, str]]]:
    """Compare with the stored states and queue a message per change and robot, in one
    transaction: of two overlapping runs, the second sees the first's states and queues nothing.
    Returns the changes, the alerts this run did not count (`for:`), and the alerts still
    firing whose message was queued again (with why).

    A run on the same data as the alert's last counted run (and the same alert definition)
    is not another look: its `for:` count neither grows nor restarts, and nothing changes.
    When the alert's figure depends on the evaluation time (open cases, schedules), a later
    evaluation time is new evidence: the same file at 09:05 shows the 08:30 巡检 missed."""
    from opsplay.i18n import language
    from opsplay.zones import shown as shown_in
    from opsplay.zones import zone as zone_of

    moment = look.as_of  # watch's clock: `--as-of`, else now
    stamp = moment.isoformat(timespec="seconds")
    created = clock.now().isoformat(timespec="seconds")  # when a message was queued
    # The check time on the team's clock, its zone named: 2026-12-07 14:43（北京时间）.
    with language(lang):
        shown = shown_in(moment, look.zone or zone_of(None, playbook.language))
    changes: list[Change] = []
    uncounted: list[str] = []
    resent: list[tuple[str, str]] = []
    with state.transaction() as db:
        # A robot never told anything about this playbook (added to --notify later, or the
        # first runs had none) hears of the alerts already firing, not only of later changes.
        newcomers = [
            t
            for t in targets
            if db.execute(
                "SELECT 1 FROM outbox WHERE target = ? AND playbook = ? LIMIT 1",
                (t.key, playbook.metadata.id),
            ).fetchone()
            is None
        ]
        for index, result in enumerate(alerts):
            if result.value is None or result.status == "not_enough_data":
                # not measured this run, or on too few rows (`min_n`): keep what was known,
                # neither fired nor passed, and the `for:` count neither grows nor restarts
                continue
            row = db.execute(
                "SELECT firing, held, looked FROM alert_state WHERE playbook = ? AND alert = ?",
                (playbook.metadata.id, result.id),
            ).fetchone()
            was = bool(row["firing"]) if row is not None else False
            looked = _look(look, playbook, result.id) if look.data else None
            if row is not None and looked is not None and row["looked"] == looked:
                # the same export again: no new look, so the count stays as last counted (a
                # robot added since still hears of a firing alert, `renotify` still applies)
                result = _as_before(result, row["held"], was)
                uncounted.append(result.id)
            else:
                result = _waited(result, row["held"] if row is not None else 0, was)
            alerts[index] = result  # the run's outputs show the counted status
            event = "firing" if result.fired else "resolved"
            if result.fired != was:
                changes.append(Change(result.id, event, result.value))
            told = targets if result.fired != was else newcomers if result.fired else []
            # Still firing: told again after `renotify`, or at once when its severity rose.
            again = _again(db, playbook, result, look) if was and result.fired else None
            if again and not told:
                told = targets
            if told and result.fired == was:
                resent.append((result.id, again or "newcomer"))
            if told:
                message = notify.as_json(
                    compose(
                        event,
                        result,
                        playbook,
                        lang,
                        shown,
                        look.figures,
                        again=again,
                        process=look.process,
                        zone=look.zone,
                    )
                )
                for target in told:
                    db.execute(
                        "INSERT INTO outbox (target, shown, kind, playbook, alert, event, "
                        "message, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            target.key,
                            target.shown,
                            target.kind,
                            playbook.metadata.id,
                            result.id,
                            event,
                            message,
                            created,
                        ),
                    )
            db.execute(
                "INSERT INTO alert_state (playbook, alert, firing, value, changed, checked, held, "
                "looked) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (playbook, alert) DO UPDATE "
                "SET firing = excluded.firing, value = excluded.value, checked = excluded.checked, "
                "held = excluded.held, looked = excluded.looked, "
                "changed = CASE WHEN firing = excluded.firing THEN changed ELSE excluded.changed END",
                (
                    playbook.metadata.id,
                    result.id,
                    int(result.fired),
                    result.value,
                    stamp,
                    stamp,
                    result.held,
                    looked,
                ),
            )
            if told and result.fired:  # what `renotify` and a severity rise are measured from
                alert = next((a for a in playbook.alerts if a.id == result.id), None)
                db.execute(
                    "UPDATE alert_state SET told = ?, severity = ? WHERE playbook = ? AND alert = ?",
                    (stamp, alert.severity if alert else None, playbook.metadata.id, result.id),
                )
    return changes, uncounted, resent


_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def _again(db: Any, playbook: Any, result: Any, look: Look) -> str | None:
    """Why a message of an alert still firing is sent again: "severity" (its severity rose
    since the robots were last told), "renotify" (its `renotify` time passed), or None.

    `renotify` is measured on watch's clock (`--as-of`, else now), from the evaluation time
    of the run that last told the robots. A calendar form is due as it would be for a case
    started then (SPEC 12): `下一个工作日9点前` re-sends at 09:00 of the next working day,
    `T+1` once 24:00 of the next working day has passed; weekends and holidays are skipped."""
    from datetime import datetime, timedelta

    alert = next((a for a in playbook.alerts if a.id == result.id), None)
    row = db.execute(
        "SELECT told, severity FROM alert_state WHERE playbook = ? AND alert = ?",
        (playbook.metadata.id, result.id),
    ).fetchone()
    if alert is None or row is None or row["told"] is None:
        return None
    before = _SEVERITY_RANK.get(row["severity"] or "", 0)
    if _SEVERITY_RANK.get(alert.severity, 0) > before:
        return "severity"
    if alert.renotify is None:
        return None
    told = datetime.fromisoformat(row["told"])
    if told.tzinfo is None:  # written by an older opsplay: UTC
        from datetime import UTC

        told = told.replace(tzinfo=UTC)
    if alert.renotify.is_calendar and look.calendar is not None:
        local = told.astimezone(look.zone) if look.zone is not None else told
        due = alert.renotify.deadline(local, look.calendar)
    else:
        due = told + timedelta(seconds=alert.renotify.resolve(look.realtime_seconds))
    return "renotify" if look.as_of >= due else None


def _counted(document: dict[str, Any], alerts: Sequence[Any]) -> None:
    """The recorded document's alerts as this run counted them (`for:` looks)."""
    by_id = {a.id: a for a in alerts}
    for entry in document.get("alerts") or []:
        counted = by_id.get(entry.get("id"))
        if counted is not None:
            entry.update(fired=counted.fired, status=counted.status, held=counted.held)


def _look(look: Look, playbook: Any, alert_id: str) -> str:
    """What makes a look new for an alert: its data, its definition (an edited threshold on
    the same data is judged again), and the evaluation time when the alert's figure depends
    on it (`_clock_bound`)."""
    import hashlib

    alert = next((a for a in playbook.alerts if a.id == alert_id), None)
    judged = ("node", "measure", "metric", "level", "op", "threshold", "for_runs", "min_n")
    definition = [getattr(alert, name, None) for name in judged]
    key = f"{look.data}\n{definition!r}"
    if alert is not None and _clock_bound(alert, look):
        key += "\n" + look.as_of.isoformat()
    return hashlib.sha256(key.encode()).hexdigest()


def _clock_bound(alert: Any, look: Look) -> bool:
    """Whether the alert's figure can change with the evaluation time alone, on the same data:
    a schedule's occurrences fall due as time passes, and an open case passes its deadline
    (SPEC 12). Other measures (completion, durations, metric exports) do not move with it."""
    if alert.node is None:
        return False
    if alert.measure == "schedule_adherence":
        return True
    if alert.measure != "sla_compliance":
        return False
    if alert.level is not None:
        levels = ((look.process or {}).get("open_by_level") or {}).get(alert.node) or {}
        return bool((levels.get(alert.level) or {}).get("open"))
    return bool(((look.figures or {}).get(alert.node) or {}).get("open"))


def _as_before(result: Any, held: int, was_firing: bool) -> Any:
    """`result` as the last counted run left it (a run on the same data counts nothing)."""
    status = "fired" if was_firing else "pending" if held else "ok"
    return replace(result, held=held, fired=was_firing, status=status)


def _waited(result: Any, held_before: int, was_firing: bool) -> Any:
    """`result` with this run's look counted after the earlier ones (`for: N`, as Prometheus'
    `for:`): the condition must hold on N consecutive runs to fire; one run without it
    resolves the alert and restarts the count."""
    if not result.held:  # the condition does not hold on this run
        return result
    held = held_before + 1
    fired = was_firing or held >= result.runs_needed
    return replace(result, held=held, fired=fired, status="fired" if fired else "pending")


def _deliver(
    state: State, targets: Sequence[notify.Target], secret: str | None
) -> tuple[int, list[Failure]]:
    """Send every queued message of these robots, oldest first, each claimed before it is
    posted so that an overlapping run does not send it too.

    Order is kept per robot x playbook x alert: a message waits while an earlier one of its
    line is undelivered (failed, or being posted by another run, or by one that died), so a
    "resolved" never overtakes its "firing", and a refused message blocks no other line. A
    message the robot refused in DEAD_AFTER runs is given up: kept in the state file, marked
    dead, reported and shown by `history`.
    """
    if not targets:
        return 0, []
    by_key = {t.key: t for t in targets}
    marks = ",".join("?" * len(by_key))
    pending = state.read(
        f"SELECT id FROM outbox WHERE delivered IS NULL AND dead IS NULL AND target IN ({marks}) "
        "ORDER BY id",
        tuple(by_key),
    )
    token = uuid.uuid4().hex
    sent, failures = 0, []
    with notify.client() as http:
        for item in pending:
            now = clock.now().timestamp()
            with state.transaction() as db:
                row = db.execute("SELECT * FROM outbox WHERE id = ?", (item["id"],)).fetchone()
                earlier = db.execute(
                    "SELECT 1 FROM outbox WHERE target = ? AND playbook = ? AND alert = ? "
                    "AND id < ? AND delivered IS NULL AND dead IS NULL LIMIT 1",
                    (row["target"], row["playbook"], row["alert"], row["id"]),
                ).fetchone()
                message_id = row["message_id"] or str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"opsplay:{row['target']}:{row['id']}")
                )
                claimed = 0
                if earlier is None:
                    claimed = db.execute(
                        "UPDATE outbox SET claim = ?, claimed_until = ?, message_id = ? "
                        "WHERE id = ? AND delivered IS NULL AND dead IS NULL "
                        "AND (claimed_until IS NULL OR claimed_until < ?)",
                        (token, now + LEASE_SECONDS, message_id, item["id"], now),
                    ).rowcount
            if not claimed:
                continue  # delivered, being delivered, or waiting for an earlier message
            target = by_key[row["target"]]
            message = {**json.loads(row["message"]), "message_id": message_id}
            outcome = notify.post(http, target, message, secret)
            if outcome.ok or outcome.maybe:
                # "Sent, no answer" counts as delivered: sending it again would repeat it.
                with state.transaction() as db:
                    db.execute(
                        "UPDATE outbox SET delivered = ?, maybe = ?, attempts = attempts + 1, "
                        "last_error = COALESCE(?, last_error), claim = NULL, "
                        "claimed_until = NULL WHERE id = ? AND claim = ?",
                        (
                            clock.now().isoformat(timespec="seconds"),
                            int(outcome.maybe),
                            outcome.reason or None,
                            row["id"],
                            token,
                        ),
                    )
                if outcome.ok:
                    sent += 1
                    continue
            dead = not outcome.maybe and row["refused"] + outcome.refused >= DEAD_AFTER
            if not outcome.maybe:
                _release(state, row["id"], token, outcome.reason, outcome.refused, dead)
            failures.append(
                Failure(
                    target.shown,
                    row["alert"],
                    row["event"],
                    outcome.reason,
                    playbook=row["playbook"],
                    status="maybe" if outcome.maybe else "dead" if dead else "queued",
                    message_id=message_id,
                )
            )
    return sent, failures


def _release(
    state: State,
    outbox_id: int,
    token: str,
    reason: str | None,
    refused: bool = False,
    dead: bool = False,
) -> None:
    """Give a claimed message back to the queue (with why its post failed), or give it up."""
    with state.transaction() as db:
        db.execute(
            "UPDATE outbox SET claim = NULL, claimed_until = NULL, "
            "attempts = attempts + CASE WHEN ? IS NULL THEN 0 ELSE 1 END, "
            "refused = refused + ?, dead = ?, "
            "last_error = COALESCE(?, last_error) WHERE id = ? AND claim = ?",
            (
                reason,
                int(refused),
                clock.now().isoformat(timespec="seconds") if dead else None,
                reason,
                outbox_id,
                token,
            ),
        )


def _firing(state: State, playbook: Any) -> tuple[str, ...]:
    """Alerts of the playbook whose stored state is firing (measured now or earlier)."""
    ids = [a.id for a in playbook.alerts]
    rows = state.read(
        "SELECT alert FROM alert_state WHERE playbook = ? AND firing = 1",
        (playbook.metadata.id,),
    )
    found = {row["alert"] for row in rows}
    return tuple(i for i in ids if i in found)
