"""The comparison each pilot design calls for, from the statistics read out of the exports.

`ab` compares the arms; `before_after` the periods of one population; `did` the change of
the pilot group against the change of the comparison group. Dashboard summaries give a
point deviation, and a test only for proportions with n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from opsplay.errors import InputError
from opsplay.i18n import N_, _, translate
from opsplay.model.playbook import Pilot
from opsplay.pilot import stats
from opsplay.query.sufficient import ArmStats
from opsplay.readers import ExportData, GroupKey, SummaryValue, totals
from opsplay.readers.results import MANY_UNITS
from opsplay.text import segment_order, visible

Segment = tuple[tuple[str, str], ...]
Cell = ArmStats | SummaryValue  # one group of the design, as the export gives it


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
    # pilot.cluster: each group's statistics per cluster (overall rows included), else None
    clusters: Mapping[GroupKey, Mapping[str, ArmStats]] | None = None
    # Metrics regression-adjusted by their pre_column (CUPED; ab pilots), and the sequential
    # test's tuning parameter when intervals must stay valid over repeated looks (else None).
    adjusted: frozenset[str] = frozenset()
    sequential_tuning: float | None = None
    # the level the relative scale's test is chosen at (stats.compare_arms), when not alpha
    scale_alpha: float | None = None
    # metric id -> its name, as the results table shows it (客单价 for `aov`), for warnings
    names: Mapping[str, str] = field(default_factory=dict)
    # Statistics summed over segments, per metric, arm and period: the overall rows.
    overall: Mapping[GroupKey, ArmStats] = field(init=False)
    # The arm labels found per metric, computed once (not once per segment).
    arms_found: Mapping[str, tuple[str, ...]] = field(init=False)
    # (metric, missing arm) -> segments skipped for having one group only; worded by the
    # caller once per metric, however many segments.
    one_group: dict[tuple[str, str], list[Segment]] = field(init=False)

    def label(self, metric_id: str) -> str:
        """A metric as warnings name it: its name, else its id."""
        return self.names.get(metric_id) or metric_id

    def __post_init__(self) -> None:
        object.__setattr__(self, "overall", totals(self.read.stats))
        found: dict[str, set[str]] = {}
        for key in [*self.read.stats, *self.read.summary]:
            found.setdefault(key.metric, set()).add(key.arm)
        object.__setattr__(self, "arms_found", {m: tuple(sorted(a)) for m, a in found.items()})
        object.__setattr__(self, "one_group", {})


def segments(read: ExportData, metric_id: str, by: Sequence[str]) -> list[Segment]:
    """The overall segment, then each segment combination found in the data, in pinyin order
    (北京, 成都, 广州, 上海) as the site's navigation orders titles."""
    found = {key.segment for key in [*read.stats, *read.summary] if key.metric == metric_id}
    overall: Segment = ()
    if not by:
        return [overall]
    return [overall, *sorted((s for s in found if s), key=segment_order)]


def _group(
    setting: Setting, metric_id: str, arm: str, period: str | None, segment: Segment
) -> Cell | None:
    """One cell of the design: the statistics of this arm, period and segment (all segments
    summed for the overall row), or the dashboard's value for exactly these."""
    key = GroupKey(metric_id, arm, period, segment)
    if setting.read.shape == "summary":
        return setting.read.summary.get(key)
    # The reader keys statistics by exactly the --by columns, so a segment is one lookup.
    return setting.read.stats.get(key) if segment else setting.overall.get(key)


def compare_metric(
    setting: Setting, metric_id: str, kind: str, segment: Segment, warnings: list[str]
) -> stats.Comparison | None:
    """Pilot against baseline for one metric and segment, as the design says; None if not possible."""
    cells = _cells(setting, metric_id, segment, warnings)
    if cells is None:
        return None
    if setting.pilot.cluster and setting.read.shape == "summary":
        # a dashboard's figure per group says nothing about the spread between clusters
        warnings.append(
            segment_label(setting.label(metric_id), (), setting.lang)
            + translate(
                N_(
                    "a dashboard summary without a `{cluster}` column gives the deviation only: "
                    "`{cluster}` is the pilot.cluster column (the allocation unit), and a pilot "
                    "assigned by `{cluster}` is tested with each `{cluster}` as one unit; export "
                    "the summary with one row per `{cluster}` and group (value and sample size "
                    "n / 样本量), the unit rows, or the sufficient statistics per `{cluster}` "
                    "(opsplay pilot sql)"
                ),
                setting.lang,
            ).format(cluster=visible(setting.pilot.cluster))
        )
        return replace(_point(setting, kind, cells), unit="cluster")
    tested = [_as_stats(cell, kind) for cell in cells]
    if all(isinstance(cell, ArmStats) for cell in tested):
        try:
            if setting.clusters is not None:
                comparison = _test_clusters(setting, metric_id, kind, segment)
            else:
                comparison = _test(setting, kind, tested, metric_id)  # type: ignore[arg-type]
        except (ArithmeticError, stats.NumericRangeError):
            comparison = None
        if comparison is None or not _finite(comparison):
            raise InputError(
                _(
                    "metric `{metric}`{segment}: the figures in {files} are too large to compute "
                    "with (sums or squares beyond about 1e308); check the export, or write the "
                    "values in a larger unit"
                ).format(
                    metric=visible(metric_id),
                    segment=_where(segment),
                    files=", ".join(visible(s.path) for s in setting.read.sources),
                )
            )
        return comparison
    warnings.append(
        segment_label(setting.label(metric_id), (), setting.lang)
        + translate(
            N_("a dashboard summary gives the deviation only; a test needs n (proportions only)"),
            setting.lang,
        )
    )
    return _point(setting, kind, cells)  # type: ignore[arg-type]


def _cells(
    setting: Setting, metric_id: str, segment: Segment, warnings: list[str]
) -> list[Cell] | None:
    """The groups the design compares: [baseline, pilot], or for did the comparison group
    before and after, then the pilot group before and after."""
    pilot, lang = setting.pilot, setting.lang
    baseline_label, pilot_label = setting.arms
    where = segment_label(setting.label(metric_id), segment, lang)
    if pilot.design == "ab":
        base = _group(setting, metric_id, baseline_label, None, segment)
        test = _group(setting, metric_id, pilot_label, None, segment)
        if base is None or test is None:
            _missing_arm(setting, metric_id, segment, base is None, warnings)
            return None
        return [base, test]
    before, after = pilot.periods.before, pilot.periods.after
    if pilot.design == "before_after":
        # One population measured twice; use the pilot arm if the export has arms, else everyone.
        arm_values = setting.arms_found.get(metric_id, ())
        chosen = [pilot_label] if pilot_label in arm_values else sorted(arm_values)
        groups = []
        for period in (before, after):
            parts = [g for a in chosen if (g := _group(setting, metric_id, a, period, segment))]
            if len(parts) > 1 and not all(isinstance(p, ArmStats) for p in parts):
                parts = []  # dashboard values of several arms cannot be added up
            groups.append(sum(parts[1:], parts[0]) if parts else None)  # type: ignore[arg-type]
        if groups[0] is None or groups[1] is None:
            missing = before if groups[0] is None else after
            warnings.append(
                where
                + translate(N_("no data for the period `{period}`"), lang).format(
                    period=visible(missing)
                )
            )
            return None
        return groups
    cells = [
        _group(setting, metric_id, arm, period, segment)
        for arm in (baseline_label, pilot_label)
        for period in (before, after)
    ]
    if any(cell is None for cell in cells):
        warnings.append(
            where
            + translate(
                N_(
                    "difference in differences needs both groups before and after the change; "
                    "some of these data are missing"
                ),
                lang,
            )
        )
        return None
    return cells  # type: ignore[return-value]


def _finite(comparison: stats.Comparison) -> bool:
    """Whether every figure of a comparison is a number (no overflow to inf or NaN)."""
    figures = (
        comparison.baseline_value,
        comparison.pilot_value,
        comparison.baseline_variance,
        comparison.pilot_variance,
        comparison.abs_diff,
        comparison.se_abs,
    )
    return all(value is None or math.isfinite(value) for value in figures)


def _where(segment: Segment) -> str:
    """` (region is 上海)` in a message; nothing for the overall row."""
    if not segment:
        return ""
    return _(" ({segment})").format(
        segment=_("; ").join(
            _("{column} is {value}").format(column=visible(c), value=visible(v)) for c, v in segment
        )
    )


def _as_stats(cell: Cell, kind: str) -> Cell:
    """A dashboard proportion with its n is as good as sufficient statistics (Σy² = Σy)."""
    if isinstance(cell, SummaryValue) and kind == "proportion" and cell.n:
        return ArmStats(cell.n, cell.value * cell.n, cell.value * cell.n)
    return cell


def _test(
    setting: Setting, kind: str, cells: list[ArmStats], metric_id: str = ""
) -> stats.Comparison:
    if len(cells) == 4:
        return stats.difference_in_differences(
            *cells,
            kind,  # type: ignore[arg-type]
            alpha=setting.alpha,
            min_n=setting.pilot.min_n,
        )
    return stats.compare_arms(
        cells[0],
        cells[1],
        kind,  # type: ignore[arg-type]
        alpha=setting.alpha,
        test=setting.test,
        variance=setting.variance,
        min_n=setting.pilot.min_n,
        adjusted=metric_id in setting.adjusted,
        sequential_tuning=setting.sequential_tuning,
        scale_alpha=setting.scale_alpha,
    )


def split_clusters(
    read: ExportData, column: str, by: Sequence[str]
) -> tuple[ExportData, dict[GroupKey, dict[str, ArmStats]]]:
    """The statistics with the cluster column taken out of the segments (summed over clusters;
    kept when --by names it too), and each group's statistics per cluster, for the segments and
    the overall rows alike."""
    merged: dict[GroupKey, ArmStats] = {}
    per_cluster: dict[GroupKey, dict[str, ArmStats]] = {}
    for key, value in read.stats.items():
        cluster = dict(key.segment).get(column, "")
        segment = tuple(pair for pair in key.segment if pair[0] != column or column in by)
        group = GroupKey(key.metric, key.arm, key.period, segment)
        merged[group] = merged[group] + value if group in merged else value
        for target in {group, GroupKey(key.metric, key.arm, key.period, ())}:
            cells = per_cluster.setdefault(target, {})
            cells[cluster] = cells[cluster] + value if cluster in cells else value
    return replace(read, stats=merged), per_cluster


def summary_clusters(
    read: ExportData, column: str, kinds: Mapping[str, str], lang: str
) -> ExportData:
    """A dashboard summary with one row per cluster and arm, as the statistics of each cluster:
    Σy = value × n and n (SPEC 11: the clustered test needs only each cluster's totals, for a
    proportion and a mean alike). A proportion's count is rounded to whole units (the value
    was shown rounded). Refused, naming the row's metric, group and cluster, without n, and for
    ratio metrics (Σden is not in a summary)."""
    stats_of: dict[GroupKey, ArmStats] = {}
    for key, summary in read.summary.items():
        cluster = dict(key.segment).get(column)
        kind = kinds.get(key.metric, "mean")
        where = {"metric": visible(key.metric), "arm": visible(key.arm), "cluster": visible(column)}
        if cluster is None:
            continue
        where["value"] = visible(cluster)
        if kind == "ratio":
            raise InputError(
                translate(
                    N_(
                        "metric `{metric}` is a ratio: a dashboard summary per `{cluster}` has its "
                        "value but not the denominator's total, which a pilot assigned by "
                        "`{cluster}` is tested on; export the unit rows, or the sufficient "
                        "statistics per `{cluster}` (opsplay pilot sql)"
                    ),
                    lang,
                ).format(**where)
            )
        if summary.n is None or summary.n <= 0:
            raise InputError(
                translate(
                    N_(
                        "metric `{metric}`, group `{arm}`, `{cluster}` {value}: no sample size; a "
                        "pilot assigned by `{cluster}` is tested on each `{cluster}`'s totals "
                        "(value × sample size), so write the number of units in the `n` (样本量) "
                        "column of every row"
                    ),
                    lang,
                ).format(**where)
            )
        n = summary.n
        total = summary.value * n
        if kind == "proportion":
            total = float(round(total))
        # the spread within a cluster is not known and not needed: clusters are the units
        stats_of[key] = ArmStats(n, total, total if kind == "proportion" else total * summary.value)
    if not stats_of:
        return read
    return replace(read, shape="stats", stats=stats_of, summary={})


def assigned_by(read: ExportData, columns: Sequence[str], arms: Sequence[str]) -> list[str]:
    """The columns among `columns` that look like the unit of assignment (SPEC 11): each of
    their values is in one arm only, both arms have values, and values hold many units."""
    found = []
    for column in columns:
        arms_of: dict[str, set[str]] = {}
        units: dict[str, int] = {}
        for key, value in read.stats.items():
            if key.arm not in arms:
                continue
            cell = dict(key.segment).get(column)
            if cell is None:
                continue
            arms_of.setdefault(cell, set()).add(key.arm)
            units[cell] = max(units.get(cell, 0), value.n)
        one_arm = all(len(a) == 1 for a in arms_of.values())
        both = {next(iter(a)) for a in arms_of.values()} == set(arms)
        if arms_of and one_arm and both and sum(units.values()) >= MANY_UNITS * len(units):
            found.append(column)
    return found


def _test_clusters(
    setting: Setting, metric_id: str, kind: str, segment: Segment
) -> stats.Comparison:
    """The design's comparison with clusters as the units (SPEC 11)."""
    from opsplay.pilot import clusters

    assert setting.clusters is not None
    pilot, (baseline_label, pilot_label) = setting.pilot, setting.arms

    def cells(arm: str, period: str | None) -> Mapping[str, ArmStats]:
        return setting.clusters.get(GroupKey(metric_id, arm, period, segment), {})  # type: ignore[union-attr]

    options = {"alpha": setting.alpha, "min_n": pilot.min_n}
    if pilot.design == "ab":
        return clusters.compare_clustered(
            list(cells(baseline_label, None).values()),
            list(cells(pilot_label, None).values()),
            kind,  # type: ignore[arg-type]
            scale_alpha=setting.scale_alpha,
            **options,  # type: ignore[arg-type]
        )
    before, after = pilot.periods.before, pilot.periods.after
    if pilot.design == "before_after":
        # the periods stand in for the arms; the same clusters in both (no pairing assumed)
        arm_values = setting.arms_found.get(metric_id, ())
        chosen = [pilot_label] if pilot_label in arm_values else sorted(arm_values)
        by_period = [[c for a in chosen for c in cells(a, p).values()] for p in (before, after)]
        return clusters.compare_clustered(
            *by_period,
            kind,  # type: ignore[arg-type]
            scale_alpha=setting.scale_alpha,
            **options,  # type: ignore[arg-type]
        )

    def pairs(arm: str) -> list[tuple[ArmStats, ArmStats]]:
        first, second = cells(arm, before), cells(arm, after)
        empty = ArmStats(0, 0.0, 0.0)
        return [
            (first.get(name, empty), second.get(name, empty)) for name in sorted({*first, *second})
        ]

    return clusters.did_clustered(
        pairs(baseline_label),
        pairs(pilot_label),
        kind,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def _point(setting: Setting, kind: str, cells: list[Cell]) -> stats.Comparison:
    """The deviation of dashboard values (no test): pilot vs baseline, or the DiD."""
    values = [cell.value if isinstance(cell, SummaryValue) else None for cell in cells]
    counts = [cell.n for cell in cells]
    before = None
    if len(cells) == 4:
        c_before, c_after, p_before, p_after = values
        delta = (p_after - p_before) - (c_after - c_before)  # type: ignore[operator]
        ratio_ok = all(v and v > 0 for v in values)
        relative = (p_after / p_before) / (c_after / c_before) - 1 if ratio_ok else None  # type: ignore[operator]
        before = stats.Before(counts[0], c_before, counts[2], p_before)  # type: ignore[arg-type]
        base_n, base_value, pilot_n, pilot_value = counts[1], c_after, counts[3], p_after
    else:
        base_value, pilot_value = values
        base_n, pilot_n = counts
        delta = pilot_value - base_value  # type: ignore[operator]
        relative = None if not base_value else delta / abs(base_value)
    return stats.Comparison(
        kind=kind,  # type: ignore[arg-type]
        method="point",
        alpha=setting.alpha,
        baseline_n=base_n,  # type: ignore[arg-type]  # None: the dashboard gave no n
        baseline_value=base_value,
        baseline_variance=None,
        pilot_n=pilot_n,  # type: ignore[arg-type]
        pilot_value=pilot_value,
        pilot_variance=None,
        abs_diff=delta,
        rel_diff=relative,
        before=before,
    )


def _missing_arm(
    setting: Setting, metric_id: str, segment: Segment, baseline_missing: bool, warnings: list[str]
) -> None:
    arm = setting.arms[0] if baseline_missing else setting.arms[1]
    lang = setting.lang
    if not segment:
        found = setting.arms_found.get(metric_id, ())
        if arm not in found:
            raise InputError(
                _(
                    "group `{arm}` is not in the data; groups found: {found}. Check pilot.arms "
                    "or pass --baseline/--pilot"
                ).format(arm=visible(arm), found=", ".join(map(visible, found)) or "—")
            )
        # a dashboard split by segment has no overall row
        warnings.append(
            segment_label(setting.label(metric_id), (), lang)
            + translate(
                N_(
                    "the dashboard summary has values per segment only, no overall value; the "
                    "overall row is left out"
                ),
                lang,
            )
        )
        return
    setting.one_group.setdefault((metric_id, arm), []).append(segment)


def segment_label(metric: str, segment: Segment, lang: str) -> str:
    """`次日留存率 (region is 上海): ` ahead of a warning (`metric` as Setting.label names
    it); the metric alone overall."""
    if not segment:
        return translate(N_("`{metric}`: "), lang).format(metric=visible(metric))
    return translate(N_("`{metric}` ({segment}): "), lang).format(
        metric=visible(metric), segment=segment_words(segment, lang)
    )


def segment_words(segment: Segment, lang: str) -> str:
    """`region is 上海; channel is 老带新` (`all users` for the overall row), in `lang`."""
    if not segment:
        return translate(N_("all users"), lang)
    return translate(N_("; "), lang).join(
        translate(N_("{column} is {value}"), lang).format(column=visible(c), value=visible(v))
        for c, v in segment
    )
