"""Issue 19, second pass: workbooks far below the unpacked-size cap that calamine would still
blow up in memory — one stray cell at XFD3000 (49 million cells, 3.3 GB and minutes), one at
XFD200000 (a Rust abort), 400 cells pointing at one 20 MB shared text (9.7 GB). Each is
refused in words, from its XML, before calamine opens it."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.readers import excel

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
runner = CliRunner()
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>user_id</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>group</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>u1</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>pilot</t></is></c></row>'
)


def workbook(
    path: Path,
    rows: str,
    *,
    shared: list[str] | None = None,
    dimension: str | None = None,
    sheet_part: str = "worksheets/sheet1.xml",
) -> Path:
    """A minimal .xlsx whose one sheet holds `rows` (the XML inside <sheetData>)."""
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = [f'<Relationship Id="rId1" Type="{relation}/worksheet" Target="{sheet_part}"/>']
    if shared is not None:
        rels.append(
            f'<Relationship Id="rId2" Type="{relation}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    package = "http://schemas.openxmlformats.org/package/2006"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        book.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{relation}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{relation}"><sheets>'
            '<sheet name="明细" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}/relationships">{"".join(rels)}</Relationships>',
        )
        dimension_tag = f'<dimension ref="{dimension}"/>' if dimension else ""
        book.writestr(
            "xl/" + sheet_part,
            f'<worksheet xmlns="{MAIN}">{dimension_tag}<sheetData>{rows}</sheetData></worksheet>',
        )
        if shared is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared)
            book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>')
    return path


def compare(path: Path):
    excel._sheet.cache_clear()
    started = time.monotonic()
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(path)])
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("cell", "rows"),
    [("XFD3000", "3,000"), ("XFD200000", "200,000"), ("Z1000000", "1,000,000")],
)
def test_a_stray_far_cell_is_refused_before_calamine_reads_it(tmp_path: Path, cell, rows):
    """XFD3000 took more than 120 s and 3.3 GB; XFD200000 aborted the process in calamine."""
    row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    stray = f'<row r="{row}"><c r="{cell}"><v>1</v></c></row><row r="1048576"/>'
    path = workbook(tmp_path / "units.xlsx", HEADER + stray, dimension=f"A1:{cell}")
    assert path.stat().st_size < 4096
    result, took = compare(path)
    assert took < 10 and result.exit_code == 2, result.output
    column = cell[: len(cell) - len(row)]
    assert f"sheet `明细` has cells as far as column {column} and row {row}," in result.stderr
    assert f"hold {rows} rows" in result.stderr
    assert "more than 10,000,000 cells" in result.stderr and "CSV" in result.stderr
    assert "Traceback" not in result.output


def test_a_dimension_alone_does_not_refuse_a_small_sheet(tmp_path: Path) -> None:
    """calamine sizes the sheet by its cells, not by a stale `<dimension>`: still read."""
    path = workbook(tmp_path / "units.xlsx", HEADER, dimension="A1:XFD1048576")
    excel._sheet.cache_clear()
    _name, frame = excel._sheet(path, excel._stamp(path), None)
    assert frame.shape == (2, 2)


def test_cells_without_a_reference_are_counted_by_their_place(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(excel, "MAX_CELLS", 1000)
    wide = '<row r="2">' + "<c><v>1</v></c>" * 40 + "</row>"
    far = '<row r="100"><c t="n"><v>1</v></c></row>'
    path = workbook(tmp_path / "units.xlsx", wide + far)
    result, _took = compare(path)
    assert result.exit_code == 2, result.output
    assert "as far as column AN and row 100" in result.stderr, result.stderr


def test_one_huge_shared_text_is_refused(tmp_path: Path) -> None:
    """sharedbomb.xlsx: 36 KB, one 20 MB shared text, 400 cells — 9.7 GB, then a traceback."""
    cells = "".join(f'<c r="C{r}" t="s"><v>0</v></c>' for r in range(2, 402))
    path = workbook(
        tmp_path / "units.xlsx", HEADER + f'<row r="2">{cells}</row>', shared=["x" * (3 * 2**20)]
    )
    assert path.stat().st_size < 64 * 1024
    result, took = compare(path)
    assert took < 10 and result.exit_code == 2, result.output
    assert "one text of the workbook is longer than 2 MB" in result.stderr
    assert "CSV" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("quote", ['"', "'"])
def test_cells_repeating_a_shared_text_past_the_cap_are_refused(tmp_path, monkeypatch, quote):
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 2 * 2**20)
    cells = "".join(f"<c r={quote}C{r}{quote} t={quote}s{quote}><v>1</v></c>" for r in range(2, 40))
    shared = ["group", "y" * 100_000]  # 38 cells × 100 KB = 3.8 MB of text
    path = workbook(tmp_path / "units.xlsx", HEADER + f'<row r="2">{cells}</row>', shared=shared)
    result, _took = compare(path)
    assert result.exit_code == 2, result.output
    assert "repeat its shared texts to more than 2 MB" in result.stderr, result.stderr


def test_a_sheet_anywhere_in_the_zip_is_counted(tmp_path: Path, monkeypatch) -> None:
    """calamine finds sheets by the workbook's relationships, not under xl/worksheets/."""
    stray = '<row r="5000"><c r="XFD5000"><v>1</v></c></row>'
    path = workbook(tmp_path / "units.xlsx", HEADER + stray, sheet_part="data/elsewhere.xml")
    result, _took = compare(path)
    assert result.exit_code == 2 and "column XFD and row 5000" in result.stderr, result.output


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
def test_blocks_split_anywhere_count_the_same(tmp_path: Path, monkeypatch, size: int) -> None:
    """The sheet is read a block at a time: a cell split between two blocks still counts."""
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 100_000)
    cells = "".join(f'<x:c r="C{r}" s="1" t="s"><x:v>1</x:v></x:c>' for r in range(2, 60))
    xml = f'<x:worksheet><x:sheetData><x:row r="2">{cells}</x:row></x:sheetData></x:worksheet>'
    scan = excel._Scan.__new__(excel._Scan)
    scan.display, scan.lengths, scan.longest = "units.xlsx", excel.array("L", [5, 200]), 200
    counter = excel._SheetCells(scan, "明细")
    data = xml.encode()
    for at in range(0, len(data), size):
        counter.Parse(data[at : at + size])
    counter.Parse(b"", True)
    assert counter.repeated == 58 * 200 and (counter.rows, counter.columns) == (59, 3)


def test_an_export_of_the_usual_shape_is_still_read(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>u{r}</t></is></c>'
        f'<c r="B{r}" t="s"><v>{r % 2}</v></c></row>'
        for r in range(2, 2000)
    )
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>user_id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>group</t></is></c></row>'
    )
    path = workbook(tmp_path / "units.xlsx", header + rows, shared=["pilot", "control"])
    excel._check_unpacked_size(path, "units.xlsx")  # no error
    excel._sheet.cache_clear()
    _name, frame = excel._sheet(path, excel._stamp(path), None)
    assert frame.shape == (1999, 2) and set(frame.iloc[1:, 1]) == {"pilot", "control"}
