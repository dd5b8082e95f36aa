"""Every formula cell of every issued workbook carries its result (issue 17).

Students open their workbook from an LMS or an e-mail: Excel's Protected View does not
calculate, previews and pandas read caches only. So each formula's cached value must be the
number NumPy computes — and the number LibreOffice computes when forced to recalculate.
"""

from __future__ import annotations

import math
import os
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from grader.grade import grade_file
from tests.submissions import openpyxl_tamper, rewrite_member, sheet_member
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import builtin_templates, load, load_any
from workbook.layout import layout_for
from workbook.lecture.book import build_lecture
from workbook.lecture.template import LectureTemplate
from workbook.model import forward, loss, truncate

REL = 1e-12
NAMES = [t.name for t in builtin_templates()]


def build(name: str, folder):
    t = load_any(name)
    path = folder / f"{name}.xlsx"
    return build_lecture(t, path) if isinstance(t, LectureTemplate) else build_workbook(t, path)


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    folder = tmp_path_factory.mktemp("issued")
    return {name: build(name, folder) for name in NAMES}


@pytest.fixture(scope="module")
def recalculated(soffice, issued, tmp_path_factory):
    out = libreoffice.recalculate(list(issued.values()), tmp_path_factory.mktemp("lo"))
    return dict(zip(issued, out, strict=True))


def formula_cells(path):
    """{(sheet, ref)} of every formula cell, array formulas' every cell included."""
    wb = openpyxl.load_workbook(path)
    out = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    out.add((ws.title, cell.coordinate))
        for ref, rng in ws.array_formulae.items():
            del ref
            for row in ws[rng]:
                out |= {(ws.title, c.coordinate) for c in row}
    return out


def same(got, exp) -> bool:
    if isinstance(exp, str | bool) or isinstance(got, str | bool):
        return got == exp
    return math.isclose(got, exp, rel_tol=REL, abs_tol=1e-12)


def test_no_formula_is_written_without_its_value(issued):
    for name, path in issued.items():
        with zipfile.ZipFile(path) as z:
            for part in z.namelist():
                if part.startswith("xl/worksheets/sheet"):
                    xml = z.read(part).decode()
                    assert not re.search(r"<v\s*/>|<v></v>", xml), f"{name} {part}: an empty cached value"
                    formulas = len(re.findall(r"<f[ >]", xml))
                    assert formulas == xml.count("</f><v>"), f"{name} {part}: a formula without its value"


@pytest.mark.parametrize("name", NAMES)
def test_every_cached_value_is_what_libreoffice_computes(name, issued, recalculated):
    ours = openpyxl.load_workbook(issued[name], data_only=True)
    theirs = openpyxl.load_workbook(recalculated[name], data_only=True)
    cells = formula_cells(issued[name])
    assert cells
    for sheet, ref in sorted(cells):
        got, exp = ours[sheet][ref].value, theirs[sheet][ref].value
        assert got is not None, f"{name} {sheet}!{ref}: no cached value"
        assert same(got, exp), f"{name} {sheet}!{ref}: cached {got!r}, LibreOffice computes {exp!r}"


@pytest.mark.parametrize("name", ["house-prices", "exam-pass", "house-prices-sigmoid", "house-prices-linear"])
def test_cached_values_are_numpys(name, issued):
    a = load(name)
    lay = layout_for(a)
    ws = openpyxl.load_workbook(issued[name], data_only=True)[lay.sheet]
    fwd = forward(a.network, a.weights, a.data.X)
    for i, pred in enumerate(fwd.prediction):
        assert ws[f"{lay.pred_col}{lay.first_row + i}"].value == float(pred)  # the very double
    for label, n in lay.neurons.items():
        if n.has_z_column:
            assert ws[f"{n.z_col}{lay.first_row}"].value == float(fwd.z[label][0])
    assert ws[lay.metric_cell].value == loss(a)
    assert ws[lay.improvement_cell].value == 0


def test_pandas_reads_the_numbers(issued):
    a = load("house-prices")
    lay = layout_for(a)
    frame = pd.read_excel(issued["house-prices"], sheet_name=lay.sheet, header=None)
    col = openpyxl.utils.column_index_from_string(lay.pred_col) - 1
    first = lay.first_row - 1
    got = frame.iloc[first:first + lay.n_rows, col].tolist()
    assert got == [float(p) for p in forward(a.network, a.weights, a.data.X).prediction]
    assert got[0] == -2207.0  # the lecture's first house at the starting weights


def test_a_solution_workbook_caches_the_solution(tmp_path):
    a = load("house-prices")
    better = dict(a.weights, b_out=a.weights["b_out"] + 100)
    path = build_workbook(a, tmp_path / "solved.xlsx", weights=better)
    lay = layout_for(a)
    ws = openpyxl.load_workbook(path, data_only=True)[lay.sheet]
    assert ws[lay.baseline_cell].value == loss(a)
    assert ws[lay.metric_cell].value == loss(a, better)
    gain = (loss(a) - loss(a, better)) / loss(a)
    assert ws[lay.improvement_cell].value == truncate(gain, 4)  # TRUNC(gain, 4) of the 0.00% format
    assert ws[lay.improvement_cell].value == pytest.approx(gain, abs=1e-4) and 0 < gain < 1
    assert ws[lay.points_cell].value == a.rubric.points(gain, loss(a, better))


def test_truncated_is_libreoffices_trunc():
    assert truncate(0.29, 2) == 0.29  # 0.29 * 100 = 28.999999999999996, which LibreOffice reads as 29
    assert (truncate(0.98996, 4), truncate(-0.98996, 4), truncate(0.0, 4)) == (0.9899, -0.9899, 0.0)


def default_open(path, out_dir):
    """LibreOffice opening a file as a student's would (default settings: caches kept), saved as xlsx."""
    import subprocess

    profile = (out_dir / "profile").resolve().as_uri()
    subprocess.run([libreoffice.find_soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir / "out"), str(path)],
                   capture_output=True, timeout=180, check=False, env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"})
    produced = out_dir / "out" / path.name
    assert produced.exists(), "LibreOffice did not convert the file"
    return produced


def test_libreoffice_shows_the_numbers_on_open_and_after_an_edit(soffice, uno_python, issued, tmp_path):
    a = load("house-prices")
    lay = layout_for(a)
    pred = f"{lay.pred_col}{lay.first_row}"
    opened = openpyxl.load_workbook(default_open(issued["house-prices"], tmp_path), data_only=True)[lay.sheet]
    assert opened[pred].value == -2207 and opened[lay.metric_cell].value == pytest.approx(loss(a), rel=REL)
    edited = dict(a.weights, w_in1_h1=6.0)
    (saved,) = libreoffice.edit_and_save(issued["house-prices"], {"w_in1_h1": 6.0}, [tmp_path / "edited.xlsx"])
    ws = openpyxl.load_workbook(saved, data_only=True)[lay.sheet]
    exp = forward(a.network, edited, a.data.X).prediction
    assert [ws[f"{lay.pred_col}{lay.first_row + i}"].value for i in range(lay.n_rows)] == pytest.approx(exp, rel=REL)
    assert ws[lay.metric_cell].value == pytest.approx(loss(a, edited), rel=REL)
    assert grade_file(saved, a).findings == ()


def test_grader_trusts_our_caches_and_still_catches_stale_ones(issued, tmp_path):
    a = load("house-prices")
    lay = layout_for(a)
    assert [f.code for f in grade_file(issued["house-prices"], a).findings] == []
    weight = lay.param_cells["w_in1_h1"]

    def retype(xml: str) -> str:  # what a tool that does not recalculate leaves: a new weight, old results
        new, n = re.subn(rf'(<c r="{weight}"[^>]*><v>)5(</v>)', r"\g<1>6\g<2>", xml)
        assert n == 1
        return new

    stale = rewrite_member(issued["house-prices"], tmp_path / "stale.xlsx", sheet_member(issued["house-prices"]),
                           retype)
    r = grade_file(stale, a)
    assert "cache-mismatch" in [f.code for f in r.findings]
    assert r.metric == loss(a, dict(a.weights, w_in1_h1=6.0))
    stripped = openpyxl_tamper(issued["house-prices"], tmp_path / "stripped.xlsx", lambda wb: None)
    assert [f.code for f in grade_file(stripped, a).findings] == ["not-recalculated"]
