"""The lecture as live sheets: LibreOffice recalculates every sheet and agrees with NumPy.

One LibreOffice run recalculates the whole lecture workbook (built-in `lecture` template) and
a second lecture built with non-default settings for every sheet. Each sheet module's
`expected()` (NumPy) is compared cell by cell at relative 1e-9, and the lecture's own numbers
are asserted literally on what LibreOffice computed.
"""

from __future__ import annotations

import math

import openpyxl
import pytest

from workbook import libreoffice, model
from workbook.catalog import load_any
from workbook.layout import layout_for
from workbook.lecture import (
    activations,
    gradient_descent,
    linear_regression,
    linearity,
    neuron,
    perceptron,
    prediction_error,
)
from workbook.lecture.book import build_lecture
from workbook.lecture.template import SHEETS, parse_lecture

REL = 1e-9

VARIANT = {
    "assignment": {"id": "variant", "title": "Non-default settings"},
    "lecture": {"sheets": ["neuron", "perceptron", "linearity", "activations", "prediction-error",
                           "linear-regression", "gradient-descent"]},
    "neuron": {"inputs": [1.5, -2, 0.25, 3, 0.5], "weights": [0.3, 0.1, -2, 0.05, 1], "bias": 0.2,
               "activation": "sigmoid"},
    "perceptron": {"images": 5, "seed": 7, "bias": -1.5},
    "linearity": {"w1": -3, "b1": 2, "w2": 0.5, "b2": 7, "inputs": [-4, -1.5, 0, 0.5, 3, 10]},
    "activations": {"start": -2, "step": 0.25, "points": 17, "relu_example": 1.75, "sigmoid_example": -3},
    "prediction-error": {"true": [10, 20, 30, 45], "predicted": [12, 18, 33, 40], "unit": "USD"},
    "linear-regression": {"x": [1, 2, 3, 4, 6], "y": [2.5, 3.9, 6.1, 8.2, 11.7], "W": 1, "b": 0},
    "gradient-descent": {"x": [1, 2, 4, 7], "y": [3, 5, 4, 9], "w0": 0.5, "b0": -2, "slow_eta": 0.05,
                         "slow_steps": 30, "large_eta": 1.2, "large_steps": 6, "decay_eta": 0.9, "decay_k": 0.3,
                         "decay_steps": 8},
}


@pytest.fixture(scope="module")
def lecture(soffice, tmp_path_factory):
    """(template, {sheet name: worksheet of values}) for the built-in lecture and the variant."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("out")
    templates = {"lecture": load_any("lecture"), "variant": parse_lecture(VARIANT)}
    paths = [build_lecture(t, src / f"{name}.xlsx") for name, t in templates.items()]
    results = libreoffice.recalculate(paths, out)
    return {name: (t, openpyxl.load_workbook(p, data_only=True))
            for (name, t), p in zip(templates.items(), results, strict=True)}


@pytest.mark.parametrize("which", ["lecture", "variant"])
def test_every_sheet_matches_numpy_in_libreoffice(lecture, which):
    t, wb = lecture[which]
    checked = 0
    for kind, settings in t.sheets:
        if settings is None:
            continue
        module = SHEETS[kind]
        ws = wb[module.SHEET]
        for ref, exp in module.expected(settings).items():
            got = ws[ref].value
            assert isinstance(got, int | float), f"{module.SHEET}!{ref}: LibreOffice shows {got!r}, NumPy {exp!r}"
            assert math.isclose(got, exp, rel_tol=REL, abs_tol=1e-12), f"{module.SHEET}!{ref}: {got!r} != {exp!r}"
            checked += 1
    assert checked > 500


def test_lecture_order_and_contents(lecture):
    t, wb = lecture["lecture"]
    assert wb.sheetnames == ["Contents", "Neuron", "Perceptron", "Linearity", "Activations", "Prediction Error",
                             "Linear Regression", "Manual Machine Learning", "Gradients", "Gradient Descent"]
    ws = wb["Manual Machine Learning"]  # the graded manual-ML sheet itself, computed by LibreOffice
    lay = layout_for(t.manual)  # the lecture shows live gradients ([hints] gradient): wider weight blocks
    assert round(ws[lay.metric_cell].value) == 3731
    assert [ws[f"{lay.pred_col}{r}"].value for r in range(11, 17)] == [-2207, -3112, -1557, -6487, -2332, -1947]
    exp = model.gradient(t.manual.network, t.manual.weights, t.manual.data.X, t.manual.data.y, "rmse")
    for name, ref in lay.grad_cells.items():
        assert ws[ref].value == pytest.approx(exp[name], rel=1e-9), name
        assert ws[lay.cue_cells[name]].value == ("↓ decrease" if exp[name] > 0 else "↑ increase")
    assert round(ws[lay.grad_cells["w_in1_h2"]].value, 4) == 1170.1518  # ∂RMSE/∂w_in1_h2 at the lecture's weights
    # the contents link each sheet by its name in column A (LibreOffice wraps no link), its description in B
    rows = {row[0].value: row[1].value for row in wb["Contents"].iter_rows(max_col=2) if row[0].hyperlink}
    names = list(rows)
    assert names.index("Gradients") == names.index("Manual Machine Learning") + 1
    assert rows["Gradients"].startswith("Backpropagation")  # a sentence of its own on the contents


def test_neuron_lecture_values(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[neuron.SHEET]
    where = neuron.cells(neuron.Settings())
    assert ws[where["z"]].value == pytest.approx(-0.19, abs=1e-12)
    assert ws[where["activation"]].value == "ReLU"
    assert ws[where["output"]].value == 0  # f(-0.19) = max(0, -0.19) = 0
    assert ws[where["all_sigmoid"]].value == pytest.approx(1 / (1 + math.exp(0.19)), rel=REL)
    assert ws[where["all_step"]].value == 0


def test_activation_lecture_values(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[activations.SHEET]
    assert (ws["B5"].value, ws["D5"].value) == (-0.19, 0)  # ReLU f(-0.19) = 0
    assert (ws["B6"].value, ws["D6"].value) == (0, 0.5)  # sigmoid f(0) = 0.5
    first = activations.FIRST
    assert [ws[f"A{first + i}"].value for i in (0, 10, 20)] == [-5, 0, 5]
    assert [ws[f"E{first + i}"].value for i in (9, 10)] == [0, 1]  # step(-0.5) = 0, step(0) = 1
    assert len(ws._charts) == 2


def test_linearity_collapses_to_ten_in1_minus_twenty(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[linearity.SHEET]
    s = linearity.Settings()
    where = linearity.cells(s)
    assert (ws[where["W"]].value, ws[where["B"]].value) == (10, -20)
    for i, x in enumerate(s.inputs):
        r = linearity.FIRST + i
        assert ws[f"C{r}"].value == ws[f"D{r}"].value == 10 * x - 20  # 2·(5·in1 − 8) − 4 = 10·in1 − 20
    assert ws[where["sum_linear"]].value == 0
    assert (ws[where["slope_linear_min"]].value, ws[where["slope_linear_max"]].value) == (10, 10)
    assert ws[where["sum_relu"]].value > 0  # ReLU: no single line
    assert (ws[where["slope_relu_min"]].value, ws[where["slope_relu_max"]].value) == (0, 10)


def test_prediction_error_lecture_table(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[prediction_error.SHEET]
    where = prediction_error.cells(prediction_error.Settings())
    rows = range(prediction_error.FIRST, prediction_error.FIRST + 6)
    assert [ws[f"D{r}"].value for r in rows] == [-10000, 40000, 5000, -90000, -25000, 5000]
    assert [ws[f"F{r}"].value for r in rows] == [100e6, 1600e6, 25e6, 8100e6, 625e6, 25e6]
    assert round(ws[where["mse"]].value) == 1_745_833_333
    assert round(ws[where["rmse"]].value) == 41_783
    assert ws[where["mae"]].value == pytest.approx(175000 / 6, rel=REL)
    notes = " ".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    assert "prints 600,000 EUR as the fourth prediction" in notes


def test_normal_equation_lecture_values(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[linear_regression.SHEET]
    where = linear_regression.cells(linear_regression.Settings())
    assert round(ws[where["theta_b"]].value, 2) == 247_263.27
    assert round(ws[where["theta_W"]].value, 4) == 58.4879
    assert round(ws[where["best_rmse"]].value, 2) == 21_149.25
    assert round(ws[where["rmse"]].value, 2) == 67_668.95  # the starting line W = 100, b = 100,000
    assert ws[where["improvement"]].value == 0


def test_gradient_descent_three_behaviours(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[gradient_descent.SHEET]
    s = gradient_descent.Settings()
    where = gradient_descent.cells(s)
    best = ws[where["best_loss"]].value
    slow, large, decay = (ws[where[f"final{k}"]].value for k in range(3))
    assert slow - best < 1e-6 * best  # η = 0.1: converged after 75 steps...
    slow_at_10 = ws[f"E{int(where['first0']) + 10}"].value
    assert slow_at_10 - best > 0.05 * best  # ...but after 10 steps it is still far off
    assert large > 1e9  # η = 2: diverged within 10 steps
    assert decay - best < 1e-5 * best  # decaying η_t: close after 10 steps
    assert round(ws[where["W0"]].value, 4) == 58.4879  # the slow run lands on the normal equation's line
    assert round(ws[where["b0"]].value, 0) == 247_263


def test_perceptron_sheet(lecture):
    _t, wb = lecture["lecture"]
    ws = wb[perceptron.SHEET]
    s = perceptron.Settings()
    where = perceptron.cells(s)
    assert ws[where["accuracy"]].value == 0.5  # all weights 0: z = 0, step says circle for every image
    pics, labels = perceptron.draw(s)
    assert pics.shape == (12, 20, 20) and labels.tolist() == [1, 0] * 6
    top, left = perceptron.image_area(3)
    grid = [[ws.cell(row=top + i, column=left + j).value for j in range(20)] for i in range(20)]
    assert grid == pics[3].tolist()
    assert len(ws.conditional_formatting) == 2  # pixels and heat map


def test_perceptron_rule_learns_every_image():
    s = perceptron.Settings()
    params, epochs = perceptron.learn(s)
    assert perceptron.accuracy(s, params) == 1.0
    assert epochs < 100
    assert all(float(v).is_integer() for v in params.values())  # rate 1: whole numbers to type
