"""The LibreOffice driver itself: recalculation is really forced, failures are reported."""

from __future__ import annotations

import openpyxl
import pytest

from tests.submissions import rewrite_member, set_cached_value, sheet_member
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.errors import LibreOfficeError
from workbook.layout import layout_for


def test_stale_caches_are_recomputed(soffice, tmp_path):
    """A file whose cached values lie: LibreOffice must recompute, not show the lie."""
    a = load("house-prices")
    lay = layout_for(a)
    (saved,) = libreoffice.recalculate([build_workbook(a, tmp_path / "hp.xlsx")], tmp_path / "saved")
    ref = f"{lay.pred_col}{lay.first_row}"
    stale = rewrite_member(saved, tmp_path / "stale.xlsx", sheet_member(saved),
                           lambda xml: set_cached_value(xml, ref, 999.0))
    sheet = a.label("sheet")
    assert openpyxl.load_workbook(stale, data_only=True)[sheet][ref].value == 999
    (fixed,) = libreoffice.recalculate([stale], tmp_path / "fixed")
    assert openpyxl.load_workbook(fixed, data_only=True)[sheet][ref].value == -2207
    # the same through .ods: convert, then recalculate the ods back to xlsx
    (ods,) = libreoffice.recalculate([stale], tmp_path / "ods", fmt="ods")
    (again,) = libreoffice.recalculate([ods], tmp_path / "again")
    assert openpyxl.load_workbook(again, data_only=True)[sheet][ref].value == -2207


def test_garbage_is_reported_by_name(soffice, tmp_path):
    bad = tmp_path / "garbage.xlsx"
    bad.write_bytes(b"\x00\x01 not a spreadsheet")
    with pytest.raises(LibreOfficeError) as err:
        libreoffice.recalculate([bad], tmp_path / "out")
    assert str(err.value) == f"{bad}: LibreOffice could not open or convert this file"


def test_render_png(soffice, tmp_path):
    png = libreoffice.render(build_workbook(load("house-prices"), tmp_path / "hp.xlsx"), tmp_path / "hp.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
