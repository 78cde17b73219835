"""The shared neutralising helpers every output uses for untrusted text."""

from __future__ import annotations

from opsplay.text import csv_cell, has_control, md_cell, visible


def test_terminal_escapes_are_shown_not_sent() -> None:
    payload = "次日留存\x1b]0;pwned\x07\x1b[2J\x9b"
    assert visible(payload) == "次日留存\\x1b]0;pwned\\x07\\x1b[2J\\x9b"
    assert has_control(payload)
    assert not has_control("a\tb\nc 中文")


def test_markdown_cells_carry_html_as_text() -> None:
    assert md_cell("<img src=x onerror=alert(1)> | a\nb") == (
        "&lt;img src=x onerror=alert(1)&gt; \\| a b"
    )


def test_csv_cells_never_start_a_formula_but_numbers_stay_numbers() -> None:
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("次日留存率") == "次日留存率"
    assert csv_cell(-0.25) == -0.25
