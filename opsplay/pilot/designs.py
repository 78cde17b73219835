"""The comparison each pilot design calls for, from the statistics read out of the exports.

`ab` compares the arms; `before_after` the periods of one population; `did` the change of
the pilot group against the change of the comparison group. Dashboard summaries give a
point deviation, and a test only for proportions with n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsplay.errors import InputError
from opsplay.model.playbook import Pilot
from opsplay.pilot import stats
from opsplay.pilot.readers import ExportData
from opsplay.pilot.sufficient import ArmStats
from opsplay.pilot.wording import describe_issue

Segment = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Setting:
    """What every comparison of one run shares."""

    read: ExportData
    pilot: Pilot
    arms: tuple[str, str]  # baseline and pilot labels
    alpha: float
    test: stats.TestName
    variance: stats.VarianceName
    lang: str


def segments(read: ExportData, metric_id: str, by: Sequence[str]) -> list[Segment]:
    """The overall segment, then each segment combination found in the data (sorted)."""
    found = {key.segment for key in [*read.stats, *read.summary] if key.metric == metric_id}
    overall: Segment = ()
    if not by:
        return [overall]
    return [overall, *sorted(s for s in found if s)]


def _group(
    read: ExportData, metric_id: str, arm: str, period: str | None, segment: Segment
) -> ArmStats | None:
    """Sum the stats of every key matching (segments not named are summed over)."""
    total: ArmStats | None = None
    wanted = dict(segment)
    for key, value in read.stats.items():
        if key.metric != metric_id or key.arm != arm or key.period != period:
            continue
        if any(dict(key.segment).get(col) != val for col, val in wanted.items()):
            continue
        total = value if total is None else total + value
    return total


def compare_metric(
    setting: Setting, metric_id: str, kind: str, segment: Segment, warnings: list[str]
) -> stats.Comparison | None:
    """Pilot against baseline for one metric and segment, as the design says; None if not possible."""
    read, pilot, lang = setting.read, setting.pilot, setting.lang
    baseline_label, pilot_label = setting.arms
    where = segment_label(segment)
    if read.shape == "summary":
        return _compare_summary(setting, metric_id, kind, segment, warnings)
    if pilot.design == "ab":
        base = _group(read, metric_id, baseline_label, None, segment)
        test = _group(read, metric_id, pilot_label, None, segment)
        if base is None or test is None:
            _missing_arm(setting, metric_id, segment, base is None, warnings)
            return None
        return _two_groups(setting, base, test, kind)
    before, after = pilot.periods.before, pilot.periods.after
    if pilot.design == "before_after":
        # One population measured twice; use the pilot arm if the export has arms, else everyone.
        arm_values = {k.arm for k in read.stats if k.metric == metric_id}
        chosen = [pilot_label] if pilot_label in arm_values else sorted(arm_values)
        groups = []
        for period in (before, after):
            parts = [
                g for a in chosen if (g := _group(read, metric_id, a, period, segment)) is not None
            ]
            groups.append(sum(parts[1:], parts[0]) if parts else None)
        if groups[0] is None or groups[1] is None:
            missing = before if groups[0] is None else after
            warnings.append(
                f"{metric_id}{where}: " + describe_issue("missing_period", lang, period=missing)
            )
            return None
        return _two_groups(setting, groups[0], groups[1], kind)
    cells = [
        _group(read, metric_id, arm, period, segment)
        for arm in (baseline_label, pilot_label)
        for period in (before, after)
    ]
    if any(cell is None for cell in cells):
        warnings.append(f"{metric_id}{where}: " + describe_issue("missing_cell", lang))
        return None
    c_before, c_after, p_before, p_after = cells
    return stats.difference_in_differences(
        c_before, c_after, p_before, p_after, kind, alpha=setting.alpha, min_n=pilot.min_n
    )


def _two_groups(setting: Setting, base: ArmStats, test: ArmStats, kind: str) -> stats.Comparison:
    return stats.compare_arms(
        base,
        test,
        kind,  # type: ignore[arg-type]
        alpha=setting.alpha,
        test=setting.test,
        variance=setting.variance,
        min_n=setting.pilot.min_n,
    )


def _compare_summary(
    setting: Setting, metric_id: str, kind: str, segment: Segment, warnings: list[str]
) -> stats.Comparison | None:
    """Dashboard values: the deviation always; a test only for proportions with n."""
    values = {}
    for key, value in setting.read.summary.items():
        if key.metric == metric_id and key.segment == segment and key.arm in setting.arms:
            values[key.arm] = value
    if len(values) < 2:
        _missing_arm(setting, metric_id, segment, setting.arms[0] not in values, warnings)
        return None
    base, test = values[setting.arms[0]], values[setting.arms[1]]
    if kind == "proportion" and base.n and test.n:
        as_stats = [ArmStats(v.n, v.value * v.n, v.value * v.n) for v in (base, test)]
        return _two_groups(setting, as_stats[0], as_stats[1], kind)
    delta = test.value - base.value
    warnings.append(f"{metric_id}: " + describe_issue("summary_no_test", setting.lang))
    return stats.Comparison(
        kind=kind,  # type: ignore[arg-type]
        method="point",
        alpha=setting.alpha,
        baseline_n=base.n,  # type: ignore[arg-type]  # None: the dashboard gave no n
        baseline_value=base.value,
        baseline_variance=None,
        pilot_n=test.n,  # type: ignore[arg-type]
        pilot_value=test.value,
        pilot_variance=None,
        abs_diff=delta,
        rel_diff=None if base.value == 0 else delta / abs(base.value),
    )


def _missing_arm(
    setting: Setting, metric_id: str, segment: Segment, baseline_missing: bool, warnings: list[str]
) -> None:
    label = setting.arms[0] if baseline_missing else setting.arms[1]
    read, lang = setting.read, setting.lang
    if not segment:
        found = sorted({k.arm for k in [*read.stats, *read.summary] if k.metric == metric_id})
        raise InputError(
            describe_issue("arm_not_found", lang, arm=label, found=", ".join(found) or "—")
        )
    warnings.append(
        f"{metric_id}{segment_label(segment)}: "
        + describe_issue("segment_one_arm", lang, arm=label)
    )


def segment_label(segment: Segment) -> str:
    """` [region=上海, channel=老带新]` for messages; empty for the overall row."""
    return f" [{', '.join(f'{c}={v}' for c, v in segment)}]" if segment else ""
