"""Results in plain words: one sentence per metric a frontline lead understands.

"试点组次日留存率比对照组高 8.6%，有 95% 的把握不是偶然。" The numbers behind it (p-values,
intervals, the test and correction) stay in the report's method section.
"""

from __future__ import annotations

import math
from typing import Any

from opsplay.i18n import N_, translate
from opsplay.render.filters import change_as, percent, value_as

# (design, direction) → the comparison in words; `{change}` is the size of the difference.
_DIFFERENCE = {
    ("ab", "higher"): N_("{metric} was {change} higher in the pilot arm than in the control arm"),
    ("ab", "lower"): N_("{metric} was {change} lower in the pilot arm than in the control arm"),
    ("before_after", "higher"): N_("{metric} was {change} higher during the pilot than before it"),
    ("before_after", "lower"): N_("{metric} was {change} lower during the pilot than before it"),
    ("did", "higher"): N_(
        "{metric} rose {change} more in the pilot group than in the comparison group"
    ),
    ("did", "lower"): N_(
        "{metric} fell {change} more in the pilot group than in the comparison group"
    ),
}
_SURE = N_("{difference}; we can be {confidence} sure this is not chance.")
_SURE_WORSE = N_("{difference}; we can be {confidence} sure this is not chance, and it is worse.")
_CHANCE = N_("{difference}, but this may well be chance: no effect is shown yet.")
_SAME = N_("{metric} was the same in both groups.")
_TOO_FEW = N_("{metric}: not enough data to tell yet.")
# A second sentence; the leading space separates English sentences (Chinese needs none).
_TARGET_MET = N_(" The target of {target} is reached.")
_TARGET_MISSED = N_(" The target of {target} is not reached yet.")


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
    if row.get("significant") or row.get("verdict") in ("met", "improved", "worse"):
        template = _SURE_WORSE if row.get("verdict") == "worse" else _SURE
        sentence = translate(template, lang).format(
            difference=difference, confidence=percent(confidence, 0)
        )
    else:
        sentence = translate(_CHANCE, lang).format(difference=difference)
    target = row.get("target")
    if target is not None and row.get("verdict") in ("met", "improved"):
        shown = value_as(target, row.get("kind"), row.get("unit"), lang=lang)
        reached = translate(_TARGET_MET if row["verdict"] == "met" else _TARGET_MISSED, lang)
        sentence += reached.format(target=shown)
    return sentence
