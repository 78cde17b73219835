"""OPS309: an alert's `for` (consecutive watch runs) and `min_n` (fewest rows) are positive
whole numbers."""

from __future__ import annotations

from typing import Any

from opsplay.i18n import _
from opsplay.rules import PlaybookData, Report, rule


def _shown(value: Any) -> str:
    """The value as the file writes it."""
    source = getattr(value, "yaml_source", None)
    if source is not None:
        return str(source)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@rule("OPS309")
def alert_waits_are_counts(pb: PlaybookData, report: Report) -> None:
    """`for` and `min_n` are whole numbers of at least 1 (text is the schema's to report)."""
    for i, alert in pb.entries("alerts"):
        for key in ("for", "min_n"):
            value = alert.get(key)
            if value is None or isinstance(value, str):
                continue
            whole = not isinstance(value, bool) and (
                isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            )
            if whole and value >= 1:
                continue
            if key == "for":
                message = _(
                    "`for: {value}` is not a positive whole number of runs; write how many "
                    "consecutive `opsplay watch` runs the condition must hold, e.g. `for: 3`, "
                    "or remove it to fire on the first run"
                )
            else:
                message = _(
                    "`min_n: {value}` is not a positive whole number; write the fewest rows "
                    "(node alerts) or pilot units (metric alerts) to judge the alert on, e.g. "
                    "`min_n: 200`, or remove it"
                )
            report(("alerts", i, key), message.format(value=_shown(value)))
