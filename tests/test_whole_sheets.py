"""A small sheet parsed whole and walked reads exactly what streaming it reads.

Every file here is read both ways (grader.cells parses sheets under WHOLE_MAX_BYTES whole; 0 forces
streaming): cells, extents and grades must be identical. Files: as openpyxl writes them, as LibreOffice
saves them, and rewritten at the XML level into shapes the walk does not take (cells outside rows, rows
outside sheetData, a second dimension), damaged where streaming never looks, and damaged at random.
"""

from __future__ import annotations

import random
import re
import zipfile

import pytest

from grader import cells as cells_module
from grader.errors import SubmissionError
from grader.grade import grade_file
from grader.reader import read_submission
from tests.submissions import issued, rewrite_member, sheet_member
from workbook.catalog import load


def _read(monkeypatch, path, a, *, whole: bool):
    monkeypatch.setattr(cells_module, "WHOLE_MAX_BYTES", 1 << 20 if whole else 0)
    walked = []
    original = cells_module._walk_sheet

    def spy(*args):
        walked.append(True)
        return original(*args)

    monkeypatch.setattr(cells_module, "_walk_sheet", spy)
    r = grade_file(path, a)
    try:
        sub = read_submission(str(path), a.graded_sheet())
    except SubmissionError as exc:  # the message names the part and the position: both ways must agree on it
        return (str(exc), None, None, r.status, r.findings, r.metric, r.points, r.error), bool(walked)
    return (dict(sub.cells.items()), sub.book.max_row, sub.book.max_col, r.status, r.findings, r.metric, r.points,
            r.error), bool(walked)


def assert_same(monkeypatch, path, a, *, walked: bool = True):
    (whole, used), (streamed, _) = _read(monkeypatch, path, a, whole=True), _read(monkeypatch, path, a, whole=False)
    assert whole == streamed
    assert used == walked  # the whole parse really was used (or, for unusual shapes, really declined)
    return whole


@pytest.fixture(scope="module")
def lo_saved(soffice, tmp_path_factory):
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("whole")
    (saved,) = libreoffice.recalculate([issued(folder)], folder / "saved")
    return saved


def test_as_written_and_as_saved(monkeypatch, tmp_path, lo_saved):
    a = load("house-prices")
    cells, *_ = assert_same(monkeypatch, issued(tmp_path), a)
    assert cells["B11"].value == 1.0 and cells["A11"].value == 85.0
    cells, _, _, status, findings, *_ = assert_same(monkeypatch, lo_saved, a)
    assert status == "graded" and findings == () and cells["A11"].value == 85.0


SHAPES = {
    # shapes the walk declines: the file is streamed instead, and reads the same
    "cell-outside-a-row": (lambda x: x.replace("</sheetData>", '<c r="Z1"><v>1</v></c></sheetData>'), False),
    "row-outside-sheetData": (lambda x: x.replace("</sheetData>", '</sheetData><row r="90"><c r="A90"><v>1</v>'
                                                                  "</c></row>"), False),
    "cell-inside-a-cell": (lambda x: re.sub(r'(<c r="A11"[^>]*>)', r'\1<c r="Z11"><v>7</v></c>', x, count=1), False),
    "dimension-in-sheetData": (lambda x: x.replace("<sheetData>", '<sheetData><dimension ref="A1:Z99"/>'), False),
    "damaged-below-content-beyond-the-sheet": (lambda x: x.replace(
        "</sheetData>", '<row r="900"><c r="A900"><v>1</v></c></row><row r="901"><junk></row></sheetData>'), False),
    "damaged-at-the-end": (lambda x: x.replace("</worksheet>", "<extLst><junk></extLst></worksheet>"), False),
    # shapes it takes
    "whitespace": (lambda x: x.replace("</row><row", "</row>\n  <row"), True),
    "comment-between-rows": (lambda x: x.replace("</row><row", "</row><!-- a --><row", 3), True),
    "row-without-number": (lambda x: x.replace('<row r="12"', "<row", 1), True),
    "cell-without-reference": (lambda x: re.sub(r'<c r="B12"', "<c", x, count=1), True),
    "cell-claims-another-row": (lambda x: x.replace('<c r="A13"', '<c r="A11"', 1), True),
    "content-far-below": (lambda x: x.replace("</sheetData>", '<row r="900"><c r="A900"><v>1</v></c></row>'
                                                              "</sheetData>"), True),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_unusual_shapes(monkeypatch, tmp_path, lo_saved, shape):
    a = load("house-prices")
    edit, walked = SHAPES[shape]
    member = sheet_member(lo_saved)
    path = rewrite_member(lo_saved, tmp_path / f"{shape}.xlsx", member, edit)
    with zipfile.ZipFile(path) as z:
        assert z.read(member).decode() != zipfile.ZipFile(lo_saved).read(member).decode()
    result = assert_same(monkeypatch, path, a, walked=walked)
    if shape == "content-far-below":
        assert ("layout-extended" in [f.code for f in result[4]]) and result[3] == "graded"
    if shape == "damaged-below-content-beyond-the-sheet":  # streaming stops at row 900: it never meets the damage
        assert result[3] == "graded" and "layout-extended" in [f.code for f in result[4]]
    if shape == "damaged-at-the-end":  # streaming reads to the end and meets it
        assert result[3] == "error" and "sheet2.xml is damaged and cannot be read (mismatched tag" in result[0]


def test_random_damage_reads_the_same_both_ways(monkeypatch, tmp_path, lo_saved):
    from tests.test_row_runs import _damage

    a = load("house-prices")
    member = sheet_member(lo_saved)
    with zipfile.ZipFile(lo_saved) as z:
        xml = z.read(member)
    rng = random.Random(16)
    for i in range(40):
        damaged = xml
        for _ in range(rng.randrange(1, 4)):
            damaged = _damage(damaged, rng)
        path = rewrite_member(lo_saved, tmp_path / f"d{i}.xlsx", member, lambda _, d=damaged: d.decode("utf-8"))
        (whole, _), (streamed, _) = (_read(monkeypatch, path, a, whole=w) for w in (True, False))
        assert whole == streamed, i
