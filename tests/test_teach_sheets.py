"""Live gradients ([hints] gradient) and gradient descent from the student's weights ([descent]).

LibreOffice (recalculation forced) and Gnumeric (`ssconvert --recalc`) compute every formula the
two features add; the values must equal NumPy's analytic backpropagation and, for the gradients,
a central finite difference of the metric itself (relative 1e-6) — for the lecture's 2-2-1 ReLU
network, a 2-3-1 sigmoid, the 3-4-3-1 mixed network, no hidden layer, and a step/tanh/linear/ReLU
network graded by MAE, at the issued weights and at weights edited before recalculation.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from grader.grade import grade_file
from workbook import descent_sheet, gnumeric, gradient_sheet, libreoffice, model
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for
from workbook.spec import Descent, Hints, descent_formulas, parse_template

REL = 1e-9  # engines vs NumPy's same formulas
FD_REL = 1e-6  # the analytic gradient vs a finite difference of the metric

MAE_MIX = textwrap.dedent("""
    [assignment]
    id = "mae-mix"
    title = "Every activation"
    [data]
    inputs = [{ label = "a" }, { label = "b" }]
    target = { label = "t" }
    rows = [[0.5, -1, 1], [2, 0.25, 0], [-1.5, 3, 1], [0, 0, 0.5]]
    [network]
    hidden = [2, 2, 2]
    activations = ["step", "tanh", "linear"]
    output_activation = "relu"
    [weights]
    b_out = 0.9
    [weights.random]
    seed = 11
    [metric]
    name = "mae"
    """)

# template -> (steps, η, decay): each run goes downhill without overflowing
DESCENT = {"house-prices": (20, 3e-4, 0.3), "house-prices-sigmoid": (12, 2.0, 0.0), "exam-pass": (8, 1.0, 0.1),
           "house-prices-linear": (10, 2e-5, 0.0), "mae-mix": (6, 0.2, 0.5)}


def _assignment(name: str):
    a = parse_template(MAE_MIX) if name == "mae-mix" else load(name)
    steps, eta, decay = DESCENT[name]
    return dataclasses.replace(a, hints=Hints(gradient=True), descent=Descent(steps=steps, eta=eta, decay=decay))


def _edited(name: str, a) -> dict[str, float]:
    """Weights a student might type: every one moved; on house-prices h1 is made dead on every row."""
    rng = np.random.default_rng(5)
    w = {k: round(v + float(rng.normal(0, 0.3 * (abs(v) + 0.5))), 3) for k, v in a.weights.items()}
    if name == "house-prices":
        w["b_h1"] = -5000.0  # ReLU(h1) = 0 on every house: w_h1_out and h1's weights have no effect
    return w


def _fd(a, weights, name: str) -> float:
    """Central difference of the metric, Richardson-extrapolated (error O(h⁴))."""
    def slope(h):
        up, down = dict(weights), dict(weights)
        up[name] += h
        down[name] -= h
        return (model.loss(a, up) - model.loss(a, down)) / (2 * h)

    h = 1e-3 * max(1.0, abs(weights[name]))
    return (4 * slope(h / 2) - slope(h)) / 3


def _load_values(path):
    with warnings.catch_warnings():  # Gnumeric's files carry no default style: openpyxl warns
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, data_only=True)


@pytest.fixture(scope="module")
def books(soffice, ssconvert, tmp_path_factory):
    """Every case issued and edited, recalculated by LibreOffice (one run) and by Gnumeric."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("out")
    cases, paths = {}, []
    for name in DESCENT:
        a = _assignment(name)
        issued = build_workbook(a, src / f"{name}.xlsx")
        edited_w = _edited(name, a)
        wb = openpyxl.load_workbook(issued)
        ws = wb[layout_for(a).sheet]
        for param, ref in layout_for(a).param_cells.items():
            ws[ref] = edited_w[param]
        edited = src / f"{name}-edited.xlsx"
        wb.save(edited)
        cases[name] = (a, {"issued": a.weights, "edited": edited_w})
        paths += [issued, edited]
    lo = libreoffice.recalculate(paths, out / "lo")
    gn = gnumeric.recalculate(paths, out / "gn")
    result = {}
    for path, lo_path, gn_path in zip(paths, lo, gn, strict=True):
        which = "edited" if path.stem.endswith("-edited") else "issued"
        name = path.stem.removesuffix("-edited")
        a, weights = cases[name]
        result[(name, which)] = (a, weights[which], {"LibreOffice": _load_values(lo_path),
                                                     "Gnumeric": _load_values(gn_path)}, path)
    return result


def _close(got, exp, scale: float, rel: float, floor: float = 1e-6) -> bool:
    """Relative `rel`, for values under floor × scale (the largest value compared) relative to that instead."""
    return isinstance(got, int | float) and abs(got - exp) <= rel * max(abs(exp), floor * scale)


KEYS = [(name, which) for name in DESCENT for which in ("issued", "edited")]


@pytest.mark.parametrize("engine", ["LibreOffice", "Gnumeric"])
@pytest.mark.parametrize(("name", "which"), KEYS)
def test_gradients_equal_backprop_and_finite_differences(books, name, which, engine):
    a, weights, engines, _ = books[(name, which)]
    wb, lay = engines[engine], layout_for(a)
    ws = wb[lay.sheet]
    exact = model.gradient(a.network, weights, a.data.X, a.data.y, a.metric)
    scale = max(abs(v) for v in exact.values())
    for param, ref in lay.grad_cells.items():
        got, fd = ws[ref].value, _fd(a, weights, param)
        assert _close(got, exact[param], scale, REL), f"{engine} {ref} ∂/∂{param}: {got!r} != NumPy {exact[param]!r}"
        # a finite difference cannot resolve a gradient 1000× below the largest more finely than eps·loss/h
        assert _close(got, fd, scale, FD_REL, 1e-3), f"{engine} {ref} ∂/∂{param}: {got!r} != finite difference {fd!r}"
        assert ws[lay.cue_cells[param]].value == gradient_sheet.cue(exact[param])


@pytest.mark.parametrize("engine", ["LibreOffice", "Gnumeric"])
@pytest.mark.parametrize(("name", "which"), KEYS)
def test_every_added_formula_equals_numpy(books, name, which, engine):
    """The Gradients sheet's per-row δ columns and every cell of the Descent sheet, step by step."""
    a, weights, engines, _ = books[(name, which)]
    wb, lay = engines[engine], layout_for(a)
    exp = gradient_sheet.expected(a, lay, weights) | descent_sheet.expected(a, lay, weights)
    by_sheet: dict[str, float] = {}
    for (sheet, _ref), v in exp.items():
        if isinstance(v, float) and math.isfinite(v):
            by_sheet[sheet] = max(by_sheet.get(sheet, 0.0), abs(v))
    for (sheet, ref), v in exp.items():
        got = wb[sheet][ref].value
        if isinstance(v, str):
            assert got == v, f"{engine} {sheet}!{ref}: {got!r} != {v!r}"
        else:
            assert _close(got, v, by_sheet[sheet], REL), f"{engine} {sheet}!{ref}: {got!r} != NumPy {v!r}"


def test_descent_goes_downhill_from_the_students_weights(books):
    a, _weights, engines, _ = books[("house-prices", "issued")]
    ws = engines["LibreOffice"][descent_sheet.SHEET]
    c = descent_sheet.cells(layout_for(a), 20)
    losses = [ws[f"C{c.table_row(t)}"].value for t in range(21)]
    assert round(losses[0]) == 3731  # the lecture's RMSE at the lecture's weights
    assert all(b < a_ for a_, b in itertools.pairwise(losses))  # η = 3e-4, decay 0.3: always downhill
    assert round(ws[c.final].value, 2) == 54.46 and ws[c.lowest].value == ws[c.final].value
    assert ws[f"{c.weight_cols['w_in1_h1']}{c.table_row(0)}"].value == 5  # row t = 0: the student's own weights
    _a, edited, engines, _ = books[("house-prices", "edited")]
    ws = engines["LibreOffice"][descent_sheet.SHEET]
    assert ws[f"{c.weight_cols['b_h1']}{c.table_row(0)}"].value == -5000
    assert ws[c.start].value == pytest.approx(model.loss(a, edited), rel=REL)


def test_dead_relu_says_no_effect(books):
    a, _weights, engines, _ = books[("house-prices", "edited")]
    lay = layout_for(a)
    for engine in ("LibreOffice", "Gnumeric"):
        ws = engines[engine][lay.sheet]
        for param in ("w_in1_h1", "w_in2_h1", "b_h1", "w_h1_out"):
            assert ws[lay.grad_cells[param]].value == 0, (engine, param)
            assert ws[lay.cue_cells[param]].value == "no effect", (engine, param)
        assert ws[lay.cue_cells["w_h2_out"]].value in ("↓ decrease", "↑ increase")


def test_issued_sheets_hold_exactly_these_formulas_and_are_locked(books):
    """Every formula cell the features add is one NumPy predicts (nothing unchecked), within the size cap."""
    for name in DESCENT:
        a, _weights, _engines, path = books[(name, "issued")]
        lay = layout_for(a)
        wb = openpyxl.load_workbook(path)
        exp = set(gradient_sheet.expected(a, lay)) | set(descent_sheet.expected(a, lay))
        formulas = {(sheet, cell.coordinate) for sheet in (gradient_sheet.SHEET, descent_sheet.SHEET)
                    for row in wb[sheet].iter_rows() for cell in row if cell.data_type == "f"}
        formulas |= {(lay.sheet, ref) for ref in [*lay.grad_cells.values(), *lay.cue_cells.values()]
                     if wb[lay.sheet][ref].data_type == "f"}
        assert formulas == exp, name
        descent_count = sum(1 for sheet, _ in formulas if sheet == descent_sheet.SHEET)
        assert descent_count == descent_formulas(a.network, len(a.data.rows), a.descent.steps) + 3  # + results
        for sheet in (gradient_sheet.SHEET, descent_sheet.SHEET):
            assert wb[sheet].protection.sheet, f"{name}: {sheet} is not protected"
        main = wb[lay.sheet]
        assert all(main[ref].protection.locked for ref in lay.grad_cells.values())
        assert wb.sheetnames == ["Instructions", lay.sheet, gradient_sheet.SHEET, descent_sheet.SHEET]
    with zipfile.ZipFile(books[("house-prices", "issued")][3]) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == 2  # true vs predicted; loss per step


def test_default_template_stays_small():
    a = _assignment("house-prices")
    assert descent_formulas(a.network, 6, 20) == 1_680  # 21 steps × (6 rows × 10 columns + 2 × 9 weights + 2)


@pytest.mark.parametrize("name", list(DESCENT))
def test_gradient_workbooks_grade_clean(books, name, tmp_path):
    """The grader reads the main sheet only; the added cells and sheets raise no finding, as issued and
    after LibreOffice recalculated them, and the score is the unchanged one."""
    a, _weights, _engines, issued = books[(name, "issued")]
    result = grade_file(str(issued), a)
    assert [f.code for f in result.findings] == [], result.findings  # its caches are ours and right
    assert result.improvement == 0
    (recalculated,) = libreoffice.recalculate([issued], tmp_path)
    result = grade_file(str(recalculated), a)
    assert [f.code for f in result.findings] == [], result.findings
    assert result.metric == pytest.approx(model.loss(a), rel=1e-12)


def test_a_student_editing_in_libreoffice_sees_the_gradients_follow(uno_python, tmp_path):
    """What a student does: open the issued file in LibreOffice, type weights, save. The gradients, cues and
    the whole descent follow the typed weights, and the saved file grades clean."""
    a = _assignment("house-prices")
    issued = build_workbook(a, tmp_path / "issued.xlsx")
    typed = {"w_in1_h1": 3.5, "b_h1": -5000.0, "w_h2_out": -1.0, "b_out": 120.0}
    (saved,) = libreoffice.edit_and_save(issued, typed, [tmp_path / "saved.xlsx"])
    weights = {**a.weights, **typed}
    wb, lay = openpyxl.load_workbook(saved, data_only=True), layout_for(a)
    exp = gradient_sheet.expected(a, lay, weights) | descent_sheet.expected(a, lay, weights)
    scale = max(abs(v) for v in exp.values() if isinstance(v, float))
    for (sheet, ref), v in exp.items():
        got = wb[sheet][ref].value
        assert got == v if isinstance(v, str) else _close(got, v, scale, REL), f"{sheet}!{ref}: {got!r} != {v!r}"
    assert wb[lay.sheet][lay.cue_cells["w_h1_out"]].value == "no effect"  # h1 is dead on every house now
    result = grade_file(str(saved), a)
    assert [f.code for f in result.findings] == [] and result.metric == pytest.approx(model.loss(a, weights))


@pytest.mark.parametrize("name", list(DESCENT))
def test_issued_caches_are_the_engines_values(books, name):
    """Opened without recalculating (Protected View, previews, pandas), the issued file already shows every
    gradient, cue and descent step: the cached values equal what LibreOffice and Gnumeric compute."""
    a, _weights, engines, issued = books[(name, "issued")]
    lay = layout_for(a)
    cached = _load_values(issued)
    exp = gradient_sheet.expected(a, lay) | descent_sheet.expected(a, lay)
    scale = max(abs(v) for v in exp.values() if isinstance(v, float))
    for (sheet, ref), v in exp.items():
        got = cached[sheet][ref].value
        assert got == v if isinstance(v, str) else got == pytest.approx(v, rel=1e-15), f"{sheet}!{ref}: {got!r}"
        for engine, wb in engines.items():
            seen = wb[sheet][ref].value
            assert seen == got if isinstance(v, str) else _close(seen, got, scale, REL), \
                f"{engine} {sheet}!{ref}: {seen!r} != cached {got!r}"


def test_class_set_caches_each_students_own_gradients(tmp_path, monkeypatch):
    """Per-student starting weights: each file's gradients, cues and descent are cached for that student's weights
    (the class set shares only the parts every student has in common)."""
    from click.testing import CliRunner

    from manualml.cli import main

    source = Path(load("house-prices").source).read_text(encoding="utf-8")
    template = tmp_path / "hpv.toml"
    template.write_text(source.replace('id = "house-prices"', 'id = "hp-variants"') +
                        '\n[hints]\ngradient = true\n\n[descent]\nsteps = 5\neta = 0.0003\n'
                        '\n[variants]\nstarting_weights = "random"\n', encoding="utf-8")
    roster = tmp_path / "r.csv"
    roster.write_text("student_id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    monkeypatch.setenv("MANUALML_SECRET", "k")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = CliRunner().invoke(main, ["generate", "-t", str(template), "--roster", str(roster),
                                       "--out-dir", str(tmp_path / "class")])
    assert result.exit_code == 0, result.output
    a = parse_template(template.read_text(encoding="utf-8"))
    lay, seen = layout_for(a), []
    for student in ("s1", "s2"):
        wb = _load_values(tmp_path / "class" / f"{student}.xlsx")
        weights = {name: wb[lay.sheet][ref].value for name, ref in lay.param_cells.items()}
        seen.append(weights)
        for (sheet, ref), v in (gradient_sheet.expected(a, lay, weights) |
                                descent_sheet.expected(a, lay, weights)).items():
            got = wb[sheet][ref].value
            assert got == v if isinstance(v, str) else got == pytest.approx(v, rel=1e-12, abs=1e-300), \
                f"{student} {sheet}!{ref}: {got!r} != {v!r}"
    assert seen[0] != seen[1]
