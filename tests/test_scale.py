"""California-housing size: 20,640 rows, 8 inputs, a 3-4-1 network; LibreOffice agrees with NumPy."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pytest

from workbook import libreoffice, model
from workbook.address import col_index, quote_sheet, split_ref
from workbook.builder import build_workbook
from workbook.layout import layout_for
from workbook.spec import load_template

ROWS = 20_640


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(42)
    X = rng.uniform(0, 10, size=(ROWS, 8)).round(4)
    y = (X @ rng.uniform(-1, 1, size=8) + rng.normal(0, 0.5, size=ROWS)).round(4)
    with (folder / "housing.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"x{i}" for i in range(1, 9)] + ["y"])
        writer.writerows(np.c_[X, y].tolist())
    inputs = ", ".join(f'{{ label = "x{i}" }}' for i in range(1, 9))
    (folder / "housing.toml").write_text(
        f'[assignment]\nid = "housing"\ntitle = "Housing"\n[data]\ncsv = "housing.csv"\ninputs = [{inputs}]\n'
        'target = { label = "y" }\n[network]\nhidden = [3, 4]\nactivations = ["relu", "tanh"]\n'
        "[weights.random]\nseed = 5\n")
    a = load_template(folder / "housing.toml")
    return a, build_workbook(a, folder / "housing.xlsx")


def test_libreoffice_computes_numpys_loss_on_20640_rows(soffice, big, tmp_path):
    a, path = big
    assert len(a.data.rows) == ROWS and a.network.shape == "8-3-4-1"
    (saved,) = libreoffice.recalculate([path], tmp_path, timeout=600)
    lay = layout_for(a)
    wb = openpyxl.load_workbook(saved, data_only=True, read_only=True)  # read-only keeps the file open: close it
    col, row = split_ref(lay.metric_cell)
    metric = next(wb[a.label("sheet")].iter_rows(min_row=row, max_row=row, min_col=col_index(col),
                                                 max_col=col_index(col), values_only=True))[0]
    wb.close()
    assert metric == pytest.approx(model.loss(a), rel=1e-9)
    from grader.grade import grade_file

    graded = grade_file(saved, a)
    assert graded.status == "graded" and graded.findings == ()
    assert graded.metric == pytest.approx(model.loss(a), rel=1e-12) and graded.improvement == 0.0


def test_bulk_reading_of_20640_rows_matches_cell_by_cell(soffice, big, tmp_path, monkeypatch):
    """The grade of a LibreOffice-saved big sheet with a student's edits, read in bulk and cell by cell."""
    from grader import cells
    from grader.grade import grade_file
    from grader.reader import read_submission

    a, path = big
    lay = layout_for(a)
    r = lay.first_row + 12_345
    (saved,) = libreoffice.edit_and_save(path, {"b_out": 0.5, f"{lay.sheet}!{lay.input_cols[3]}{r}": 7.0,
                                                f"{lay.sheet}!{lay.pred_col}{r + 1}": 1.0}, [tmp_path / "edited.xlsx"],
                                         timeout=600)
    results = {}
    for bulk in (True, False):
        monkeypatch.setattr(cells, "BULK_MIN_BYTES", 0 if bulk else 1 << 62)
        g = grade_file(saved, a)
        results[bulk] = (g.metric, g.points, g.weights, g.findings)
        if bulk:
            assert sum(len(run.rows) for run in read_submission(str(saved), a.graded_sheet()).cells.runs) > ROWS - 100
    assert results[True] == results[False]
    where = quote_sheet(lay.sheet)
    assert [(f.code, f.cell) for f in results[True][3]] == [
        ("formula-overwritten", f"{where}!{lay.pred_col}{r + 1}"), ("data-edited", f"{where}!{lay.input_cols[3]}{r}")]
    # (row r's saved prediction follows its edited data: the data edit explains it, it is not reported again)
