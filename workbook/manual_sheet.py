"""The manual-ML sheet as a `GradedSheet`: its Layout's positions, its data, formulas and metric.

`Layout` says where things sit; this adds what they hold (the assignment's data, the starting
weights, the formula of every computed column from `workbook.formulas`, the baseline) and how
NumPy checks them. The builder writes the data rows from these regions and the grader checks
any submission against them, so the formulas are spelled once, in `workbook.formulas`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial

import numpy as np

from workbook import LAYOUT_VERSION, model
from workbook.formulas import row_templates, summary_formulas
from workbook.graded import CacheCheck, GradedSheet, Region, Role, column_area
from workbook.layout import INSTRUCTIONS_SHEET, Layout, layout_for
from workbook.network import Network

_LAST: list = []  # [(network, X, weights, prediction)]: the weights asked about last


def _predictions(network: Network, X: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """The network's prediction for every row (read-only). Grading one file asks for the same student's weights
    several times (the saved predictions, the metric cell, the score), and a file as issued for the starting
    weights its sheet's baseline was worked out from, so the last answer is kept: for equal weights, in the same
    order, a zero of the same sign (-0.0 == 0.0, but a product with it keeps its sign)."""
    key = tuple(params.items())
    if _LAST and _LAST[0][0] is network and _LAST[0][1] is X and _LAST[0][2] == key and _same_zeros(
            _LAST[0][2], key):
        return _LAST[0][3]
    prediction = model.forward(network, params, X).prediction
    prediction.flags.writeable = False
    _LAST[:] = [(network, X, key, prediction)]
    return prediction


def _same_zeros(kept: tuple, key: tuple) -> bool:
    """Every zero weight of `key` has the sign of `kept`'s (the two are equal: their zeros sit alike)."""
    return all(math.copysign(1.0, a) == math.copysign(1.0, b) for (_, a), (_, b) in zip(kept, key, strict=True)
               if a == 0)


_LAST_METRIC: list = []  # [(prediction, metric, y, value)]: the metric asked about last, with what it is of


def _metric(network: Network, metric: str, X: np.ndarray, y: np.ndarray, params: Mapping[str, float]) -> float:
    """The metric of the prediction for `params`: asked for several times per file (the baseline, the metric
    cell's saved result, the score and its baseline), so the last one is kept with the very prediction and
    targets it is of (held here, so neither can be another array at the same address)."""
    prediction = _predictions(network, X, params)
    if _LAST_METRIC and _LAST_METRIC[0][0] is prediction and _LAST_METRIC[0][2] is y and \
            _LAST_METRIC[0][1] == metric:
        return _LAST_METRIC[0][3]
    value = model.metric_value(metric, y, prediction)
    _LAST_METRIC[:] = [(prediction, metric, y, value)]
    return value


def _metric_cell(network, metric, X, y, params) -> np.ndarray:
    return np.array([_metric(network, metric, X, y, params)])


def graded_sheet(a, layout: Layout | None = None, *, baseline: float | None = None) -> GradedSheet:
    """The description of assignment `a`'s sheet (`a` is a workbook.spec.Assignment); `layout` and
    `baseline` (the starting weights' loss) when the caller has them already."""
    lay = layout or layout_for(a)
    inputs, target, computed, pred_area = _areas(lay, a.metric)
    X, y = a.data.X, a.data.y
    regions = [Region(f"input {k + 1}", Role.GIVEN, area, caption="input data", values=X[:, k], rows=True)
               for k, area in enumerate(inputs)]
    regions.append(Region("target", Role.GIVEN, target, caption="target data", values=y, rows=True))
    regions += [Region(name, Role.EDITABLE, ref, name=name, values=(a.weights[name],), params=(name,))
                for name, ref in lay.param_cells.items()]
    regions += computed
    average = model.average_metric(a.metric, y)
    summary = summary_formulas(lay, a.metric, a.rubric, a.display.improvement_format, average=average)
    # model.loss(a), by the same steps; through _predictions, so that the saved predictions of a file as issued
    # (checked next) are compared with this very forward pass instead of a second one
    baseline = _metric(a.network, a.metric, X, y, a.weights) if baseline is None else baseline
    regions += [
        Region("metric", Role.COMPUTED, lay.metric_cell, name=lay.metric_name,
               formula=_literal(summary[lay.metric_cell]), result=True),
        Region("baseline", Role.CONSTANT, lay.baseline_cell, caption="baseline", name=lay.baseline_name,
               values=(baseline,)),
        Region("improvement", Role.COMPUTED, lay.improvement_cell, formula=_literal(summary[lay.improvement_cell]),
               result=True),
        Region("points", Role.COMPUTED, lay.points_cell, formula=_literal(summary[lay.points_cell]), result=True),
    ]
    metric = partial(_metric, a.network, a.metric, X, y)
    caches = (CacheCheck(pred_area, partial(_predictions, a.network, X)),
              CacheCheck(lay.metric_cell, partial(_metric_cell, a.network, a.metric, X, y)))
    return GradedSheet(
        id=a.id, title=a.title, sheet=lay.sheet, version=LAYOUT_VERSION, regions=tuple(regions),
        start=dict(a.weights), metric_name=a.metric, metric_abbr=a.metric_abbr, higher_is_better=False,
        evaluate=metric, caches=caches,
        metric_cell=lay.metric_cell, baseline_cell=lay.baseline_cell, rubric=a.rubric, extent=lay.region,
        other_sheet=INSTRUCTIONS_SHEET, integrity=a.integrity, kind=f"manual-ml:{a.id}",
        hidden=partial(_metric, a.network, a.metric, a.test.data.X, a.test.data.y) if a.test is not None else None,
        average=average, hidden_average=model.average_metric(a.metric, a.test.data.y) if a.test is not None else None,
        decorations=(*lay.grad_cells.values(), *lay.cue_cells.values()))


_AREAS: dict[tuple[int, str], tuple] = {}  # (id of a layout, metric) -> (the layout, what _areas gives)


def _areas(lay: Layout, metric: str) -> tuple[list[str], str, list[Region], str]:
    """What of the sheet's description is the layout's alone (the inputs' and target's areas, the computed
    columns' regions, the predictions' area): worked out once per layout, not per student's variant.
    (Layouts are kept by make_layout; each is kept here beside its entry, so an id is never reused.)"""
    found = _AREAS.get((id(lay), metric))
    if found is None or found[0] is not lay:
        if len(_AREAS) >= 64:
            del _AREAS[next(iter(_AREAS))]
        first, last = lay.first_row, lay.last_row
        computed = [Region(f"column {col}", Role.COMPUTED, column_area(col, first, last), formula=template, rows=True)
                    for col, template in row_templates(lay, metric)]
        found = _AREAS[id(lay), metric] = (lay, ([column_area(col, first, last) for col in lay.input_cols],
                                                 column_area(lay.target_col, first, last), computed,
                                                 column_area(lay.pred_col, first, last)))
    return found[1]


def _literal(formula: str) -> str:
    """A one-cell formula as a str.format template (regions' formulas are templates with {r})."""
    return formula.replace("{", "{{").replace("}", "}}")
