"""Regenerate the example exports in this folder (seeded: the output is byte-identical).

    python examples/generate.py            # writes next to this script
    python examples/generate.py OUT_DIR    # writes somewhere else (the tests do this)

Only numpy and the standard library are used, so the files do not depend on opsplay's
readers, which the tests check against them.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SEED = 20240801
HERE = Path(__file__).resolve().parent

ONBOARDING_COLUMNS = [
    "user_id",
    "group",
    "region",
    "channel",
    "retained_d1",
    "ordered",
    "used_core_feature",
    "revenue",
    "orders",
]
REGIONS = (["上海", "杭州", "南京", "苏州"], [0.35, 0.25, 0.2, 0.2])
CHANNELS = (["应用商店", "信息流广告", "老带新", "搜索引擎"], [0.4, 0.3, 0.15, 0.15])


def _write(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _num(value: float) -> str:
    """Shortest text that reads back as exactly `value` (integers without `.0`)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _choice(rng: np.random.Generator, options: tuple[list[str], list[float]], n: int) -> np.ndarray:
    labels, weights = options
    return np.array(labels)[rng.choice(len(labels), size=n, p=weights)]


def onboarding_units(rng: np.random.Generator) -> list[list[object]]:
    """New-user onboarding A/B test: about 5,000 new users per arm in East China."""
    n = 10_000
    pilot = rng.random(n) < 0.5
    region = _choice(rng, REGIONS, n)
    channel = _choice(rng, CHANNELS, n)
    core_rate = np.where(pilot, 0.45, 0.42)
    core = rng.random(n) < core_rate
    # Next-day retention depends on core-feature use; the marginal stays 0.35 / 0.38.
    d1_rate = np.where(pilot, 0.38, 0.35) + np.where(
        core, 0.15 * (1 - core_rate), -0.15 * core_rate
    )
    retained = rng.random(n) < d1_rate
    ordered = rng.random(n) < np.where(pilot, 0.135, 0.12) + np.where(core, 0.04, -0.03)
    orders = np.where(ordered, 1 + rng.poisson(0.4, n), 0)
    revenue = np.zeros(n)
    for i in np.flatnonzero(ordered):
        revenue[i] = round(float(rng.gamma(3.0, 22.0, orders[i]).sum()), 2)
    return [
        [
            f"u{100001 + i}",
            "pilot" if pilot[i] else "control",
            region[i],
            channel[i],
            int(retained[i]),
            int(ordered[i]),
            int(core[i]),
            f"{revenue[i]:.2f}",
            int(orders[i]),
        ]
        for i in range(n)
    ]


ONBOARDING_METRICS = [  # (id, kind, column or (numerator, denominator)) as in the playbook
    ("d1_retention", "proportion", "retained_d1"),
    ("first_order", "proportion", "ordered"),
    ("core_usage", "proportion", "used_core_feature"),
    ("revenue", "mean", "revenue"),
    ("aov", "ratio", ("revenue", "orders")),
]


def onboarding_stats(rows: list[list[object]]) -> list[list[str]]:
    """The same users as sufficient statistics per arm, region and channel, in float64."""
    index = {name: i for i, name in enumerate(ONBOARDING_COLUMNS)}
    groups: dict[tuple[str, str, str], list[list[object]]] = {}
    for row in rows:
        groups.setdefault((str(row[1]), str(row[2]), str(row[3])), []).append(row)
    out = []
    for key in sorted(groups):
        members = groups[key]

        def column(name: str, members: list[list[object]] = members) -> np.ndarray:
            return np.array([float(r[index[name]]) for r in members], dtype=np.float64)

        for metric, kind, spec in ONBOARDING_METRICS:
            if kind == "ratio":
                num, den = column(spec[0]), column(spec[1])
                extra = [_num(den.sum()), _num((den * den).sum()), _num((num * den).sum())]
            else:
                num, extra = column(str(spec)), ["", "", ""]
            out.append(
                [*key, metric, str(len(members)), _num(num.sum()), _num((num * num).sum()), *extra]
            )
    return out


def excel_gbk_rows(rows: list[list[object]]) -> list[list[object]]:
    """A smaller export as Excel re-saves it: numbers in General format (35.20 -> 35.2)."""
    return [[*r[:7], _num(float(str(r[7]))), r[8]] for r in rows[:2000]]


def recall_did(rng: np.random.Generator) -> list[list[object]]:
    """Member recall, difference in differences: pilot (Zhejiang) vs comparison (Jiangsu)."""
    rates = {  # (group, period): recall rate
        ("comparison", "before"): 0.12,
        ("comparison", "after"): 0.14,
        ("pilot", "before"): 0.12,
        ("pilot", "after"): 0.26,
    }
    provinces = {"pilot": "浙江", "comparison": "江苏"}
    rows: list[list[object]] = []
    member = 3_100_000
    for (group, period), rate in rates.items():
        n = int(rng.integers(2400, 2600))
        recalled = rng.random(n) < rate
        repurchased = recalled & (rng.random(n) < 0.45)
        unsubscribe = 0.021 if (group, period) == ("pilot", "after") else 0.015
        unsubscribed = rng.random(n) < unsubscribe
        for i in range(n):
            member += int(rng.integers(1, 40))
            rows.append(
                [
                    f"M{member}",
                    group,
                    period,
                    provinces[group],
                    int(recalled[i]),
                    int(repurchased[i]),
                    int(unsubscribed[i]),
                ]
            )
    return rows


def complaints_before_after(rng: np.random.Generator) -> list[list[object]]:
    """Complaint handling before and after the new process (one customer-service centre)."""
    priorities = (["P0", "P1", "P2", "P3"], [0.03, 0.12, 0.35, 0.50])
    channels = (["400热线", "在线客服", "App内反馈", "邮件"], [0.35, 0.4, 0.2, 0.05])
    rows: list[list[object]] = []
    ticket = 0
    for period, resolved_rate, csat_shift, reopen_rate in (
        ("before", 0.72, 0.0, 0.09),
        ("after", 0.86, 0.55, 0.075),
    ):
        n = int(rng.integers(2900, 3100))
        priority = _choice(rng, priorities, n)
        channel = _choice(rng, channels, n)
        urgent = np.isin(priority, ["P0", "P1"])
        resolved = rng.random(n) < resolved_rate + np.where(urgent, 0.08, -0.01)
        base = np.where(resolved, 4.0, 2.9) + csat_shift
        csat = np.clip(np.rint(base + rng.normal(0, 0.9, n)), 1, 5).astype(int)
        reopened = rng.random(n) < np.where(resolved, reopen_rate * 0.6, reopen_rate * 2.0)
        for i in range(n):
            ticket += 1
            rows.append(
                [
                    f"T2024{ticket:06d}",
                    "all",
                    period,
                    priority[i],
                    channel[i],
                    int(resolved[i]),
                    int(csat[i]),
                    int(reopened[i]),
                ]
            )
    return rows


def onboarding_events(rng: np.random.Generator, units: list[list[object]]) -> list[list[str]]:
    """Node execution log of the onboarding process for 900 pilot users, mixed timestamp styles."""
    pilot_users = [r for r in units if r[1] == "pilot"][:900]
    china = timezone(timedelta(hours=8))
    start_of_pilot = datetime(2024, 8, 1, 8, 0, 0)
    events: list[tuple[datetime, list[str]]] = []

    def stamp(moment: datetime, style: int) -> str:
        if style == 0:
            return moment.strftime("%Y-%m-%dT%H:%M:%S")
        if style == 1:
            return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
        if style == 2:
            return moment.replace(tzinfo=china).isoformat(timespec="milliseconds")
        utc = moment.replace(tzinfo=china).astimezone(timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"

    def add(
        case: str,
        node: str,
        start: datetime,
        seconds: float | None,
        status: str,
        region: str,
        fractional: bool,
    ) -> None:
        style = int(rng.integers(1, 4)) if fractional else int(rng.integers(0, 4))
        finish = "" if seconds is None else stamp(start + timedelta(seconds=seconds), style)
        events.append((start, [case, node, stamp(start, style), finish, status, "pilot", region]))

    for user in pilot_users:
        case, region = str(user[0]), str(user[2])
        start = start_of_pilot + timedelta(seconds=float(rng.uniform(0, 30 * 86400)))
        start = start.replace(microsecond=int(rng.integers(0, 1000)) * 1000)
        # tag-detect: real-time (1 s); a timeout falls back to generic content.
        roll = rng.random()
        status = "ok" if roll < 0.95 else "fallback" if roll < 0.99 else "failed"
        seconds = float(rng.lognormal(np.log(0.35), 0.6))
        if status == "fallback":
            seconds = float(rng.uniform(1.5, 3.0))
        add(
            case,
            "tag-detect",
            start,
            None if status == "failed" and rng.random() < 0.5 else seconds,
            status,
            region,
            fractional=True,
        )
        # push-content: 2 minutes.
        start = start + timedelta(seconds=seconds + float(rng.uniform(0.5, 5)))
        roll = rng.random()
        status = "ok" if roll < 0.935 else "fallback" if roll < 0.97 else "failed"
        seconds = float(rng.lognormal(np.log(41), 0.64))
        add(case, "push-content", start, seconds, status, region, fractional=False)
        # feedback: 24 hours; no answer is `skipped` without a finish time.
        start = start + timedelta(hours=float(rng.uniform(1, 6)))
        roll = rng.random()
        status = "ok" if roll < 0.62 else "skipped" if roll < 0.92 else "fallback"
        seconds = None if status == "skipped" else float(rng.lognormal(np.log(3 * 3600), 1.0))
        add(case, "feedback", start, seconds, status, region, fractional=False)
    events.sort(key=lambda item: item[0])
    return [row for _, row in events]


SUMMARY_ROWS = [  # dashboard Table 3: 35% -> 38% is +8.6%, 42% -> 45% is +7.1%
    ["control", "d1_retention", "35%", "5000"],
    ["pilot", "d1_retention", "38%", "5000"],
    ["control", "first_order", "12%", "5000"],
    ["pilot", "first_order", "13%", "5000"],
    ["control", "core_usage", "42%", "5000"],
    ["pilot", "core_usage", "45%", "5000"],
]


def generate(out: Path) -> list[Path]:
    """Write every example file into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    units = onboarding_units(rng)
    written = {
        "onboarding_units.csv": (ONBOARDING_COLUMNS, units, "utf-8", "\n"),
        "onboarding_stats.csv": (
            [
                "arm",
                "region",
                "channel",
                "metric",
                "n",
                "sum",
                "sum_sq",
                "sum_den",
                "sum_den_sq",
                "sum_prod",
            ],
            onboarding_stats(units),
            "utf-8",
            "\n",
        ),
        "onboarding_units_gbk.csv": (ONBOARDING_COLUMNS, excel_gbk_rows(units), "gbk", "\r\n"),
        "onboarding_summary.csv": (
            ["arm", "metric", "value", "n"],
            SUMMARY_ROWS,
            "utf-8-sig",
            "\r\n",
        ),
        "recall_did.csv": (
            ["member_id", "group", "period", "province", "recalled", "repurchased", "unsubscribed"],
            recall_did(rng),
            "utf-8",
            "\n",
        ),
        "complaints_before_after.csv": (
            [
                "ticket_id",
                "group",
                "period",
                "priority",
                "channel",
                "resolved_in_24h",
                "csat_score",
                "reopened",
            ],
            complaints_before_after(rng),
            "utf-8",
            "\n",
        ),
        "onboarding_events.csv": (
            ["case_id", "node", "started_at", "finished_at", "status", "group", "region"],
            onboarding_events(rng, units),
            "utf-8",
            "\n",
        ),
    }
    paths = []
    for name, (header, rows, encoding, newline) in written.items():
        path = out / name
        _write(path, header, rows, encoding=encoding, newline=newline)
        paths.append(path)
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for written_path in generate(target):
        print(f"{written_path} ({written_path.stat().st_size:,} bytes)")
