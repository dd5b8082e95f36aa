"""Every built-in template, in LibreOffice and in Gnumeric, as issued and with every editable cell changed.

For each built-in template (`manualml templates`) three workbooks are built: as issued, with every
yellow cell changed (an affine change that keeps signs and sizes ordinary) and with every yellow cell
multiplied by 1000 (a zero becomes 777 + i: large weights are what overflow EXP). Each is recalculated
by LibreOffice (recalculation forced) and by Gnumeric (`ssconvert --recalc`), and every formula cell of
every sheet must equal NumPy at relative 1e-9, with no error value anywhere. NumPy's side is the same
`workbook.model` the grader scores with, and each lecture sheet's `expected()`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from workbook import gnumeric, libreoffice, model, teaching
from workbook.builder import build_workbook
from workbook.catalog import builtin_templates, load_any
from workbook.formulas import improvement_digits
from workbook.layout import layout_for
from workbook.lecture import linear_regression, perceptron
from workbook.lecture.book import build_lecture, sheet_title
from workbook.lecture.template import MANUAL, SHEETS, LectureTemplate
from workbook.spec import Assignment

REL = 1e-9
ERROR_PREFIXES = ("#NUM", "#VALUE", "#DIV", "#NAME", "#REF", "#N/A", "#NULL", "Err:", "#GETTING")
VARIANTS = ("issued", "changed", "x1000")


def change(variant: str):
    """The edit a student makes to the i-th editable number of a sheet."""
    if variant == "changed":
        return lambda v, i: -1.3 * v + 0.7 + 0.01 * (i % 37)
    if variant == "x1000":
        return lambda v, i: v * 1000.0 if v else 777.0 + i
    return lambda v, i: v


def manual_expected(a: Assignment, weights, baseline: float) -> dict[str, float]:
    """Every formula cell of a manual-ML sheet by NumPy."""
    lay = layout_for(a)
    fwd = model.forward(a.network, weights, a.data.X)
    errors = model.row_errors(a.metric, a.data.y, fwd.prediction)
    out = {}
    for i, r in enumerate(range(lay.first_row, lay.last_row + 1)):
        for label, cols in lay.neurons.items():
            if cols.has_z_column:
                out[f"{cols.z_col}{r}"] = float(fwd.z[label][i])
            out[f"{cols.a_col}{r}"] = float(fwd.a[label][i])
        out[f"{lay.error_col}{r}"] = float(errors[i])
    current = model.metric_value(a.metric, a.data.y, fwd.prediction)
    gain = model.improvement(baseline, current)
    out[lay.metric_cell] = current
    out[lay.improvement_cell] = model.truncate(gain, improvement_digits(a.display.improvement_format))
    out[lay.points_cell] = a.rubric.points(gain, current)
    return out


def vary_settings(kind: str, s, f):
    """A lecture sheet's Settings with every field behind an editable cell changed by f."""
    many = lambda values: tuple(f(v, i) for i, v in enumerate(values))  # noqa: E731
    one = {name: f(getattr(s, name), i) for i, name in enumerate(
        {"neuron": ("bias",), "linearity": ("w1", "b1", "w2", "b2"),
         "activations": ("start", "relu_example", "sigmoid_example"),
         "gradient-descent": ("w0", "b0", "slow_eta", "slow_k", "large_eta", "large_k", "decay_eta", "decay_k"),
         }.get(kind, ()))}
    if kind == "neuron":
        return dataclasses.replace(s, inputs=many(s.inputs), weights=many(s.weights),
                                   activation="tanh" if s.activation == "sigmoid" else "sigmoid", **one)
    if kind == "linearity":
        return dataclasses.replace(s, inputs=many(s.inputs), **one)
    if kind == "activations":
        return dataclasses.replace(s, step=abs(f(s.step, 5)), **one)
    if kind == "prediction-error":
        return dataclasses.replace(s, predicted=many(s.predicted))
    if one:
        return dataclasses.replace(s, **one)
    return s


def graded_params(t: LectureTemplate, f) -> dict[str, float]:
    params: dict[str, float] = {}
    for kind, s in t.sheets:
        start = {"linear-regression": lambda s: {"lr_w": s.W, "lr_b": s.b},
                 "perceptron": perceptron.start_params}.get(kind)
        if start is not None:
            params |= {k: f(v, i) for i, (k, v) in enumerate(start(s).items())}
    return params


def build_case(name: str, variant: str, folder: Path) -> tuple[Path, dict[str, dict[str, float]]]:
    """(the workbook, {sheet: {cell: NumPy value}}) for one template and variant."""
    f = change(variant)
    t = load_any(name)
    path = folder / f"{name}-{variant}.xlsx"
    if isinstance(t, Assignment):
        weights = {k: f(v, i) for i, (k, v) in enumerate(t.weights.items())}
        build_workbook(t, path, weights=weights)
        return path, {t.label("sheet"): manual_expected(t, weights, model.loss(t))} | with_hints(t, weights)
    sheets = tuple((kind, s if kind == MANUAL or variant == "issued" else vary_settings(kind, s, f))
                   for kind, s in t.sheets)
    manual = t.manual
    if manual is not None:
        manual = manual.with_weights({k: f(v, i) for i, (k, v) in enumerate(manual.weights.items())})
    t = dataclasses.replace(t, sheets=sheets, manual=manual)
    params = graded_params(t, f)
    build_lecture(t, path, params=params if variant != "issued" else None)
    expected = {}
    for kind, s in t.sheets:
        title = sheet_title(t, kind)
        if kind == MANUAL:
            expected[title] = manual_expected(t.manual, t.manual.weights, model.loss(t.manual))
            expected = with_hints(t.manual, t.manual.weights, expected)
        elif kind == "linear-regression":
            expected[title] = linear_regression.expected(s, params or None, t.rubric)
        elif kind == "perceptron":
            expected[title] = perceptron.expected(s, params or None, t.rubric)
        else:
            expected[title] = SHEETS[kind].expected(s)
    return path, expected


def with_hints(a: Assignment, weights, expected: dict | None = None) -> dict[str, dict[str, float | str]]:
    """Add the cells [hints] gradient and [descent] write (teaching.expected) to a workbook's expected values."""
    out = {sheet: dict(cells) for sheet, cells in (expected or {}).items()}
    for sheet, cells in teaching.expected(a, layout_for(a), weights).items():
        out.setdefault(sheet, {}).update(cells)
    return out


NAMES = [t.name for t in builtin_templates()]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("built")
    return {(name, variant): build_case(name, variant, folder) for name in NAMES for variant in VARIANTS}


def _values(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gnumeric's files carry no default style; openpyxl says so
        return openpyxl.load_workbook(path, data_only=True)


@pytest.fixture(scope="module")
def engines(soffice, ssconvert, cases, tmp_path_factory):
    """{engine: {(template, variant): workbook of recalculated values}}."""
    keys = list(cases)
    paths = [cases[k][0] for k in keys]
    lo = libreoffice.recalculate(paths, tmp_path_factory.mktemp("lo"))
    gn = gnumeric.recalculate(paths, tmp_path_factory.mktemp("gn"))
    return {"LibreOffice": dict(zip(keys, map(_values, lo), strict=True)),
            "Gnumeric": dict(zip(keys, map(_values, gn), strict=True))}


def formula_cells(path: Path) -> dict[str, set[str]]:
    """{sheet: cells holding a formula} of the workbook as built (array formulas: every cell of the area)."""
    wb = openpyxl.load_workbook(path)
    found: dict[str, set[str]] = {}
    for ws in wb:
        refs = found.setdefault(ws.title, set())
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    for area_row in ws[cell.value.ref]:
                        refs.update(c.coordinate for c in area_row)
                elif cell.data_type == "f":  # a string cell may start with "=" too (text is text)
                    refs.add(cell.coordinate)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_formula_cell_is_checked(cases, name):
    """The NumPy side covers every formula the builder wrote, so no cell escapes the comparison."""
    path, expected = cases[(name, "issued")]
    for sheet, refs in formula_cells(path).items():
        missing = sorted(refs - set(expected.get(sheet, {})))
        assert not missing, f"{name}: {sheet}: formula cells with no NumPy value: {missing[:20]}"


@pytest.mark.parametrize("name", NAMES)
def test_every_editable_cell_is_changed(cases, name):
    issued = openpyxl.load_workbook(cases[(name, "issued")][0])
    for variant in ("changed", "x1000"):
        other = openpyxl.load_workbook(cases[(name, variant)][0])
        editable = 0
        for ws in issued:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.protection.locked or cell.value is None:
                        continue
                    editable += 1
                    assert other[ws.title][cell.coordinate].value != cell.value, \
                        f"{name} {variant}: {ws.title}!{cell.coordinate} still {cell.value!r}"
        assert editable > 0


def _close(got: float, exp: float) -> bool:
    return math.isclose(got, exp, rel_tol=REL, abs_tol=1e-12)


@pytest.mark.parametrize("engine", ["LibreOffice", "Gnumeric"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_engine_equals_numpy(cases, engines, engine, name, variant):
    wb = engines[engine][(name, variant)]
    _path, expected = cases[(name, variant)]
    errors = [f"{ws.title}!{c.coordinate} = {c.value}" for ws in wb for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith(ERROR_PREFIXES)]
    assert not errors, f"{engine}, {name} {variant}: error values: {errors[:10]}"
    wrong, checked = [], 0
    for sheet, cells in expected.items():
        ws = wb[sheet]
        for ref, exp in cells.items():
            got = ws[ref].value
            checked += 1
            if isinstance(exp, str):  # a text result: the gradient's cue
                if got != exp:
                    wrong.append(f"{sheet}!{ref}: {engine} {got!r}, NumPy {exp!r}")
                continue
            if not (isinstance(got, int | float) and not isinstance(got, bool) and _close(float(got), exp)):
                wrong.append(f"{sheet}!{ref}: {engine} {got!r}, NumPy {exp!r}")
    assert not wrong, f"{name} {variant}: {len(wrong)} of {checked} cells differ: {wrong[:10]}"
    assert checked >= 10
