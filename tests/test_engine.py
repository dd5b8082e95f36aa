"""The real engine: LibreOffice opens generated workbooks, recalculates, and agrees with NumPy.

Every formula cell of every data row is compared with the NumPy model at relative 1e-9; the
lecture's own numbers are asserted literally for the default template. Recalculation is
forced (see workbook.libreoffice), so a test cannot pass on values that were never computed.
"""

from __future__ import annotations

import textwrap

import openpyxl
import pytest

from workbook import model
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for
from workbook.spec import parse_template

REL = 1e-9
BUILTINS = ["house-prices", "house-prices-sigmoid", "exam-pass", "house-prices-linear"]

MAE_STEP_TANH = textwrap.dedent("""
    [assignment]
    id = "mae-mix"
    title = "Every activation"
    [data]
    inputs = [{ label = "a" }, { label = "b" }]
    target = { label = "t" }
    rows = [[0.5, -1, 1], [2, 0.25, 0], [-1.5, 3, 1], [0, 0, 0]]
    [network]
    hidden = [2, 2, 2]
    activations = ["step", "tanh", "linear"]
    output_activation = "relu"
    [weights.random]
    seed = 11
    [metric]
    name = "mae"
    """)


@pytest.fixture(scope="module")
def computed(soffice, tmp_path_factory):
    """Build every test workbook, recalculate them all in one LibreOffice run, read values back."""
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("out")
    from workbook import libreoffice

    assignments = {name: load(name) for name in BUILTINS}
    assignments["mae-mix"] = parse_template(MAE_STEP_TANH)
    paths = [build_workbook(a, src / f"{name}.xlsx") for name, a in assignments.items()]
    results = libreoffice.recalculate(paths, out)
    return {name: (a, openpyxl.load_workbook(p, data_only=True)[a.label("sheet")])
            for (name, a), p in zip(assignments.items(), results, strict=True)}


def test_lecture_numbers_in_libreoffice(computed):
    a, ws = computed["house-prices"]
    lay = layout_for(a)
    rows = range(lay.first_row, lay.last_row + 1)
    assert [ws[f"D{r}"].value for r in rows] == [424, 606, 299, 1263, 456, 374]  # h1
    assert [ws[f"E{r}"].value for r in rows] == [424, 606, 299, 1263, 456, 374]  # ReLU(h1)
    assert [ws[f"F{r}"].value for r in rows] == [339, 480, 239, 1001, 360, 299]  # h2
    assert [ws[f"{lay.pred_col}{r}"].value for r in rows] == [-2207, -3112, -1557, -6487, -2332, -1947]
    assert [ws[f"{lay.error_col}{r}"].value for r in rows] == [5_793_649, 11_985_444, 2_745_649, 52_374_169,
                                                               6_285_049, 4_355_569]
    assert round(ws[lay.metric_cell].value) == 3731
    assert round(ws[lay.baseline_cell].value) == 3731
    assert ws[lay.improvement_cell].value == 0  # shown as 0.00%
    assert ws[lay.improvement_cell].number_format == "0.00%"
    assert ws[lay.points_cell].value == 0
    assert ws[lay.metric_label_cell].value == "Root Mean Squared Error"


@pytest.mark.parametrize("name", [*BUILTINS, "mae-mix"])
def test_every_formula_cell_matches_numpy(computed, name):
    a, ws = computed[name]
    lay = layout_for(a)
    fwd = model.forward(a.network, a.weights, a.data.X)
    errors = model.row_errors(a.metric, a.data.y, fwd.prediction)
    checked = 0
    for i, r in enumerate(range(lay.first_row, lay.last_row + 1)):
        for label, cols in lay.neurons.items():
            if cols.has_z_column:
                assert ws[f"{cols.z_col}{r}"].value == pytest.approx(fwd.z[label][i], rel=REL, abs=1e-12)
            assert ws[f"{cols.a_col}{r}"].value == pytest.approx(fwd.a[label][i], rel=REL, abs=1e-12)
            checked += 1
        assert ws[f"{lay.error_col}{r}"].value == pytest.approx(errors[i], rel=REL, abs=1e-12)
    assert checked == len(a.data.rows) * len(a.network.neurons)
    assert ws[lay.metric_cell].value == pytest.approx(model.loss(a), rel=REL)
    assert ws[lay.baseline_cell].value == pytest.approx(model.loss(a), rel=REL)
    assert ws[lay.improvement_cell].value == pytest.approx(0, abs=1e-12)


def test_student_edits_weights_in_libreoffice(uno_python, tmp_path):
    """What a student does: open in LibreOffice, type new weights, save as .xlsx and .ods."""
    from workbook import libreoffice

    a = load("house-prices")
    src = build_workbook(a, tmp_path / "hp.xlsx")
    better = {**a.weights, "w_in1_h1": 1, "w_in2_h1": 0, "b_h1": 0, "w_in1_h2": 0, "w_in2_h2": 0, "b_h2": 0,
              "w_h1_out": 3.2, "w_h2_out": 0, "b_out": -80}
    edits = {k: v for k, v in better.items() if v != a.weights[k]}
    xlsx, ods = libreoffice.edit_and_save(src, edits, [tmp_path / "s.xlsx", tmp_path / "s.ods"])
    assert ods.exists()
    ws = openpyxl.load_workbook(xlsx, data_only=True)[a.label("sheet")]
    lay = layout_for(a)
    fwd = model.forward(a.network, better, a.data.X)
    for i, r in enumerate(range(lay.first_row, lay.last_row + 1)):
        assert ws[f"{lay.pred_col}{r}"].value == pytest.approx(fwd.prediction[i], rel=REL)
    rmse = model.loss(a, better)
    assert ws[lay.metric_cell].value == pytest.approx(rmse, rel=REL)
    gain = model.improvement(model.loss(a), rmse)
    assert ws[lay.improvement_cell].value == model.truncate(gain, 4)  # shown cut to 0.00%, never rounded up
    assert ws[lay.points_cell].value == a.rubric.points(gain, rmse)
    assert ws[lay.improvement_cell].value > 0.95
