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


def test_convert_to_ods_grades_clean(soffice, tmp_path):
    """An .ods made for a class that works in LibreOffice: OpenDocument bytes that grade like the .xlsx."""
    import zipfile

    from grader.grade import grade_file

    a = load("house-prices")
    ods = libreoffice.convert(build_workbook(a, tmp_path / "hp.xlsx"), tmp_path / "out" / "hp.ods")
    assert ods == tmp_path / "out" / "hp.ods"
    with zipfile.ZipFile(ods) as z:
        assert z.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    result = grade_file(ods, a)
    assert result.status == "graded" and result.findings == ()
    assert round(result.metric, 4) == round(result.baseline, 4) and result.improvement == 0
    assert sorted(p.name for p in tmp_path.joinpath("out").iterdir()) == ["hp.ods"]


@pytest.mark.parametrize("name", ["x.xlsm", "x.csv", "x"])
def test_convert_refuses_what_it_cannot_write(tmp_path, name):
    with pytest.raises(LibreOfficeError) as err:
        libreoffice.convert(tmp_path / "in.xlsx", tmp_path / name)
    what = name[1:] if "." in name else "a file without a suffix"
    assert str(err.value) == f"{tmp_path / name}: LibreOffice cannot write {what} here (choose .ods, .xlsx or .pdf)"


def test_render_jpeg_page_and_dpi(soffice, tmp_path):
    book = build_workbook(load("house-prices"), tmp_path / "hp.xlsx")
    small = libreoffice.render(book, tmp_path / "p1.jpeg", page=1, dpi=40)
    data = small.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"  # a real JPEG, under the name asked for
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hp.xlsx", "p1.jpeg"]
    widths = [int.from_bytes(libreoffice.render(book, tmp_path / f"{dpi}.png", page=1, dpi=dpi).read_bytes()[16:20],
                             "big") for dpi in (40, 80)]  # a PNG's IHDR width
    assert widths[0] > 100 and abs(widths[1] / widths[0] - 2) < 0.02  # twice the dpi, twice the pixels
    with pytest.raises(LibreOfficeError) as err:
        libreoffice.render(book, tmp_path / "p9.png", page=9)
    assert str(err.value) == f"{book}: page 9 of 2 does not exist; choose a page from 1 to 2"


@pytest.mark.parametrize(("kwargs", "exp"), [
    ({"out_image": "x.gif"}, "{tmp}/x.gif: cannot render to .gif (choose .png, .jpg, .jpeg or .pdf)"),
    ({"out_image": "x.png", "dpi": 5}, "5 dpi is out of range: choose 20 to 1200"),
    ({"out_image": "x.png", "page": 0}, "page 0 does not exist: pages are numbered from 1"),
])
def test_render_refuses_before_starting_libreoffice(tmp_path, kwargs, exp):
    kwargs = {**kwargs, "out_image": tmp_path / kwargs["out_image"]}
    with pytest.raises(LibreOfficeError) as err:
        libreoffice.render(tmp_path / "missing.xlsx", **kwargs)
    assert str(err.value) == exp.format(tmp=tmp_path)
