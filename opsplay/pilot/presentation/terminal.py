"""The terminal summary of `pilot compare`: tables when they fit, `label: value` blocks when not.

A table is printed only when every column fits the terminal whole; below that width each
row becomes a block of `label: value` lines, so no column is ever dropped and no label is
broken mid-word. One plain sentence per metric says what it means; p-values, intervals
and method names are in the method section at the end.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opsplay.i18n import _
from opsplay.pilot.presentation.cells import (
    BY_LEVEL,
    OPEN_CASES,
    adjusted_cell,
    alert_text,
    arm_value,
    arms_line,
    heading,
    method_section,
    node_table,
    open_lines,
    process_lines,
    table_rows,
    waiting_alert_texts,
)
from opsplay.pilot.presentation.words import (
    colon,
    design_word,
    fmt_abs,
    fmt_rel,
    label,
    plain_sentence,
    segment_text,
)
from opsplay.text import display_width, visible

if TYPE_CHECKING:
    from rich.console import Console

    from opsplay.pilot.outcome import PilotReport

STYLE = {
    "met": "bold green",
    "improved": "green",
    "worse": "bold red",
    "no_change": "yellow",
    "inconclusive": "dim",
    # descriptions without a test (SPEC 11): plain, neither good nor bad news
    "not_testable": "dim",
    "changed_up": "",
    "changed_down": "",
    "no_change_seen": "",
}
# The terminal table: metric, control, pilot, change, deviation rate, target, verdict.
METRIC_COLUMNS = (1, 3, 4, 5, 6, 10, 12)


def format_terminal(report: PilotReport, color: bool) -> str:
    """The summary for a terminal (or a pipe: 120 columns), in the message language."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        # The terminal's width (COLUMNS is honoured); 120 when the output is a file or pipe.
        width=shutil.get_terminal_size((120, 24)).columns,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"{heading(report)}  {design_word(report.design, report.cluster)}",
        style="bold",
        markup=False,
    )
    console.print(arms_line(report), markup=False)
    _metrics(console, report)
    for row in report.metrics:
        if not row.segment:
            console.print(
                "• " + plain_sentence(row, report.alpha, report.design),
                style=STYLE[row.verdict],
                markup=False,
            )
    if report.weighted is not None:  # 综合达成度 (SPEC 8)
        console.print("• " + report.weighted.line(report.lang), style="bold", markup=False)
    if report.nodes:
        keys, cells = node_table(report, per_line=True)
        console.print()
        _table(
            console,
            label("nodes"),
            [label(k) for k in keys],
            cells,
            [None] * len(cells),
            text_columns={keys.index("sla")},  # limits as written, a level a line
        )
    # lines, not tables: one per node with open cases, per level and per scheduled node,
    # whatever the width; each heading only above lines it is true of
    for title, lines in ((OPEN_CASES, open_lines(report)), (BY_LEVEL, process_lines(report))):
        if lines:
            console.print()
            console.print(_(title) + colon(), style="bold", markup=False)
            for line in lines:
                console.print("  " + line, markup=False)
    fired = [alert_text(report, a) for a in report.alerts if a.fired]
    console.print()
    console.print(label("alerts") + colon(), style="bold", markup=False, end="")
    console.print(label("no_alerts") if not fired else "", markup=False)
    for text in fired:
        console.print("  " + text, style="red", markup=False)
    for text in waiting_alert_texts(report):
        console.print("  " + text, style="yellow", markup=False)
    for warning in report.warnings:
        console.print("! " + visible(warning), style="yellow", markup=False)
    console.print()
    console.print(label("method"), style="bold", markup=False)
    for line in method_section(report):
        console.print("  " + line, style="dim", markup=False)
    return buffer.getvalue()


def _metrics(console: Console, report: PilotReport) -> None:
    header, rows = table_rows(report)
    for segment in dict.fromkeys(row.segment for row in report.metrics):
        cells, styles = [], []
        for result, row in zip(report.metrics, rows, strict=True):
            if result.segment != segment:
                continue
            shown = dict(enumerate(row))
            if result.role == "guardrail":
                shown[1] = _("{metric} ({role})").format(metric=row[1], role=row[2])
            for i, group in ((3, "baseline"), (4, "pilot")):
                shown[i] = arm_value(result, group, stacked=True)
            c = result.comparison
            shown[5] = adjusted_cell(fmt_abs(c.abs_diff, result.kind, result.unit), result, True)
            shown[6] = adjusted_cell(fmt_rel(c.rel_diff), result, True)
            if row[11] != "—":
                shown[10] = _("{target} ({attainment})").format(target=row[10], attainment=row[11])
            cells.append([shown[i] for i in METRIC_COLUMNS])
            styles.append(STYLE[result.verdict])
        console.print()
        title = label("segment") + colon() + segment_text(segment)
        columns = [header[i] for i in METRIC_COLUMNS]
        columns[-2] = _("{target} ({attainment})").format(target=header[10], attainment=header[11])
        _table(console, title, columns, cells, styles)


def _table(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Sequence[str | None],
    text_columns: set[int] | frozenset[int] = frozenset(),
) -> None:
    """A table when it fits the console whole, else one `label: value` block per row; figures
    right-aligned, the first column and `text_columns` left-aligned."""
    from rich.table import Table

    if _needed_width(columns, rows) > console.width:
        console.print(title, style="bold", markup=False)
        for cells, style in zip(rows, styles, strict=True):
            console.print(cells[0].replace("\n", " "), style=style or "bold", markup=False)
            for name, value in zip(columns[1:], cells[1:], strict=True):
                shown = value.replace("\n", _(", "))
                console.print(f"  {name}{colon()}{shown}", style=style, markup=False)
        return
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(columns):
        left = index == 0 or index in text_columns
        table.add_column(name, justify="left" if left else "right", no_wrap=True)
    for cells, style in zip(rows, styles, strict=True):
        table.add_row(*cells, style=style)
    console.print(table)


def _needed_width(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Columns the table takes with no cell wrapped: cells, padding and borders."""
    widths = [
        max(
            display_width(line)
            for text in [name, *(row[i] for row in rows)]
            for line in text.split("\n")
        )
        for i, name in enumerate(columns)
    ]
    return sum(widths) + 3 * len(widths) + 1
