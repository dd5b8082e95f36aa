"""Text is text: a title, label or note starting with '=' is written and shown literally.

openpyxl turns any string starting with '=' into a formula; LibreOffice then shows Err:501 or
#NAME? and Excel "repairs" the file. The builder marks words as text on purpose.
"""

from __future__ import annotations

import openpyxl
import pytest

from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import resolve_template
from workbook.layout import INSTRUCTIONS_SHEET, layout_for
from workbook.lecture import common
from workbook.package import save
from workbook.spec import parse_template

TITLE = "= Price model"
AREA = "=Area"
NOTE = "= 1 − r², the loss of the normal equation's line"  # the lecture's Gradient Descent note, once


def noted(path):
    """A sheet written with the lecture's helpers: a title, a heading and a note that start with '='."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Gradient Descent"
    common.title(ws, TITLE, "=subtitle")
    common.heading(ws, "A4", "=x̃")
    common.note(ws, "I7", NOTE)
    common.computed(ws, "H7", "=1+1")
    return save(wb, path, values={"Gradient Descent": {"H7": 2}})


def odd_template():
    text = resolve_template("house-prices").read_text(encoding="utf-8")
    text = text.replace('title = "Manual Machine Learning: house prices"', f'title = "{TITLE}"')
    text = text.replace('{ label = "Area", unit = "m2" }', f'{{ label = "{AREA}", unit = "m2" }}')
    assert TITLE in text and AREA in text
    return parse_template(text, source="odd.toml")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    a = odd_template()
    return a, build_workbook(a, src / "odd.xlsx"), noted(src / "lecture.xlsx")


def test_issued_cells_are_strings(books):
    a, odd, lecture = books
    lay = layout_for(a)
    wb = openpyxl.load_workbook(odd)
    for sheet, ref, text in [(lay.sheet, "A1", TITLE), (INSTRUCTIONS_SHEET, "A1", TITLE),
                             (lay.sheet, f"{lay.input_cols[0]}{lay.header_row}", f"{AREA} (m2) - in1")]:
        cell = wb[sheet][ref]
        assert (cell.data_type, cell.value) == ("s", text), f"{sheet}!{ref}"
    ws = openpyxl.load_workbook(lecture)["Gradient Descent"]
    for ref, text in [("A1", TITLE), ("A2", "=subtitle"), ("A4", "=x̃"), ("I7", NOTE)]:
        assert (ws[ref].data_type, ws[ref].value) == ("s", text), ref
    assert ws["H7"].value == "=1+1"  # the formula path still writes formulas


def test_libreoffice_shows_the_text(soffice, books, tmp_path):
    a, odd, lecture = books
    lay = layout_for(a)
    got_odd, got_lecture = libreoffice.recalculate([odd, lecture], tmp_path)
    wb = openpyxl.load_workbook(got_odd, data_only=True)
    assert wb[lay.sheet]["A1"].value == TITLE
    assert wb[INSTRUCTIONS_SHEET]["A1"].value == TITLE
    assert wb[lay.sheet][f"{lay.input_cols[0]}{lay.header_row}"].value == f"{AREA} (m2) - in1"
    assert isinstance(wb[lay.sheet][lay.metric_cell].value, float)  # the formulas still compute
    gd = openpyxl.load_workbook(got_lecture, data_only=True)["Gradient Descent"]
    assert (gd["I7"].value, gd["A4"].value, gd["H7"].value) == (NOTE, "=x̃", 2)
