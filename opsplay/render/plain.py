"""Results in plain words: one sentence per metric a frontline lead understands.

"试点组次日留存率比对照组高 8.6%（真实变化很可能在 +2.9% 到 +14.2% 之间）；若流程改动毫无作用，出现
这么大差异的概率约 0.3%。" The interval is the likely range of the true change, the p-value how
often a difference this large appears when the change did nothing (never "95% sure", which
misreads it; SPEC 9 and 11). The test and correction stay in the report's method section.
"""

from __future__ import annotations

import math
from typing import Any

from opsplay.i18n import N_, language, translate
from opsplay.pilot.presentation.words import corrected, nearly_every, share_of_pilots
from opsplay.render.filters import change_as, percent, signed_percent, value_as

# (design, direction) → the comparison in words; `{change}` is the size of the difference.
_DIFFERENCE = {
    ("ab", "higher"): N_("{metric} was {change} higher in the pilot arm than in the control arm"),
    ("ab", "lower"): N_("{metric} was {change} lower in the pilot arm than in the control arm"),
    ("before_after", "higher"): N_("{metric} was {change} higher during the pilot than before it"),
    ("before_after", "lower"): N_("{metric} was {change} lower during the pilot than before it"),
    # both groups may rise (or fall): how the pilot group came out against the comparison's change
    ("did", "higher"): N_(
        "net of the comparison group's change, {metric} in the pilot group came out {change} higher"
    ),
    ("did", "lower"): N_(
        "net of the comparison group's change, {metric} in the pilot group came out {change} lower"
    ),
}
# A CUPED comparison (a metric's pre_column): the change is adjusted, the arm values are not.
_ADJUSTED = N_("after adjusting for the before period, {difference}")
_RANGE = N_(" (the true change is likely between {low} and {high})")
_SIGNIFICANT = N_(
    "{difference}{range}; if the change had no effect, a difference this large would appear in "
    "{share} of pilots."
)
_SIGNIFICANT_WORSE = N_(
    "{difference}{range}; if the change had no effect, a difference this large would appear in "
    "{share} of pilots: it got worse."
)
_CHANCE = N_(
    "{difference}{range}, but this may well be chance: if the change had no effect, a "
    "difference this large would appear in {share} of pilots."
)
_CHANCE_NEARLY_EVERY = N_(
    "{difference}{range}, but this may well be chance: if the change had no effect, a "
    "difference this large would appear in nearly every pilot."
)
_CHANCE_UNKNOWN = N_("{difference}, but this may well be chance: no effect is shown yet.")
_NOT_CAUSAL = N_(
    "{difference}{range}; this cannot be told apart from other changes in the same period, so "
    "it does not show what the change did: compare with regions that keep the old process "
    "(design: did)."
)
_NOT_TESTABLE = N_(
    "{difference}; with one cluster in a group nothing tells the change from that cluster's own "
    "ups and downs, so it is not tested."
)
_SAME = N_("{metric} was the same in both groups.")
_TOO_FEW = N_("{metric}: not enough data to tell yet.")
# A second sentence; the leading space separates English sentences (Chinese needs none).
_TARGET_MET = N_(" The target of {target} is reached.")
# After a sequential test's result (SPEC 11): its p and interval hold at every look.
_SEQUENTIAL = N_(" These figures hold however often the results are looked at (sequential test).")
_TARGET_MISSED = N_(" The target of {target} is not reached yet.")
# When the sentence's share comes from the Holm-adjusted p (the method section shows the raw p).
_CORRECTED = N_(" That share is after correcting for comparing several metrics.")


def _size(row: dict[str, Any], lang: str, *, absolute_first: bool) -> str | None:
    """The difference without its sign: relative (8.6%) when there is one, else absolute
    (a difference in differences reads best in points: 多升高了 13.4个百分点)."""
    relative = row.get("rel_diff")
    if not absolute_first and relative is not None and math.isfinite(relative):
        return percent(abs(relative))
    absolute = row.get("abs_diff")
    if absolute is None or not math.isfinite(absolute):
        return None
    return change_as(abs(absolute), row.get("kind"), row.get("unit"), lang=lang).lstrip("+")


def _likely_range(row: dict[str, Any], design: str, lang: str) -> str:
    """` (the true change is likely between +2.9% and +14.2%)`, from the relative interval
    (the absolute one for a difference in differences, as its size is given)."""
    relative, absolute = row.get("ci_rel"), row.get("ci_abs")
    if relative and design != "did":
        low, high = (None if v is None else signed_percent(v) for v in relative)
        bounds = relative
    elif absolute:
        low, high = (
            None if v is None else change_as(v, row.get("kind"), row.get("unit"), lang=lang)
            for v in absolute
        )
        bounds = absolute
    else:
        return ""
    # null: a side of a randomisation interval that no change however large reaches
    if bounds[0] is None:
        low = translate(N_("no lower limit"), lang)
    if bounds[1] is None:
        high = translate(N_("no upper limit"), lang)
    return translate(_RANGE, lang).format(low=low, high=high)


def explain(row: dict[str, Any], *, design: str, confidence: float, lang: str) -> str:
    """One metric's overall result as a sentence in `lang` (an enriched report row)."""
    metric = str(row.get("metric_name") or row.get("metric"))
    change = row.get("abs_diff")
    size = _size(row, lang, absolute_first=design == "did")
    if row.get("verdict") == "inconclusive" or change is None or size is None:
        return translate(_TOO_FEW, lang).format(metric=metric)
    if change == 0:
        return translate(_SAME, lang).format(metric=metric)
    direction = "higher" if change > 0 else "lower"
    difference = translate(_DIFFERENCE[(design, direction)], lang).format(
        metric=metric, change=size
    )
    if row.get("variance_reduction") is not None:  # CUPED: not the arm values' difference
        difference = translate(_ADJUSTED, lang).format(difference=difference)
    verdict = row.get("verdict")
    p = row.get("p_adjusted") if row.get("p_adjusted") is not None else row.get("p_value")
    with language(lang):
        share = None if p is None else share_of_pilots(p)
    likely = _likely_range(row, design, lang)
    if verdict in ("changed_up", "changed_down", "no_change_seen") or design == "before_after":
        template = _NOT_CAUSAL
    elif verdict == "not_testable":
        template = _NOT_TESTABLE
    elif verdict in ("met", "improved", "worse"):
        template = _SIGNIFICANT_WORSE if verdict == "worse" else _SIGNIFICANT
    elif share is not None and p is not None and nearly_every(p):
        template = _CHANCE_NEARLY_EVERY
    else:
        template = _CHANCE if share is not None else _CHANCE_UNKNOWN
    sentence = translate(template, lang).format(difference=difference, range=likely, share=share)
    if "{share}" in template or template is _CHANCE_NEARLY_EVERY:
        if share is not None and corrected(row.get("p_adjusted"), row.get("p_value")):
            sentence += translate(_CORRECTED, lang)
    if row.get("method") == "sequential" and share is not None:
        sentence += translate(_SEQUENTIAL, lang)
    target = row.get("target")
    if target is not None and row.get("verdict") in ("met", "improved"):
        shown = value_as(target, row.get("kind"), row.get("unit"), lang=lang)
        reached = translate(_TARGET_MET if row["verdict"] == "met" else _TARGET_MISSED, lang)
        sentence += reached.format(target=shown)
    return sentence
