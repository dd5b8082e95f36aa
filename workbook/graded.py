"""One description of a graded sheet: what every region holds, for the builder and the grader alike.

The manual-ML sheet and each graded lecture sheet (linear regression, perceptron) are described
the same way: a `GradedSheet` is a list of `Region`s, each a rectangle of cells with a role:

    given     the assignment's data (issued numbers, compared cell by cell with what was issued)
    editable  the student's parameters (weights, biases); each cell names its parameter key
    computed  formulas; the pattern is one str.format template with {r} for the row (a per-row
              column, any length, checked a run of rows at a time), or one formula per cell
    constant  a number the generator computed, e.g. the baseline (compared; the issued value is used)

plus the defined names pointing at regions, the metric (a NumPy function of the parameters) and
the cached values a recalculated file must agree with. The builders write these regions (values,
formulas, names, fills by role) and decorate around them (titles, headings, charts); the grader's
one integrity module checks any submission against the same regions, so a formula is spelled
once and every sheet gets the same finding codes and words.

Why a flat list of rectangles: it is the shape both sides already think in (a column of data,
a block of weights, one summary cell), it costs nothing per row (a 100,000-row column is one
region with one formula pattern), and a new graded sheet only has to list its regions: build,
integrity, scoring and reports come with it. It holds plain data and module-level functions
(functools.partial), so it crosses process pools.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np

from workbook.address import a1, absolute, cells_of, corners, position


class Role(StrEnum):
    """What a region is for."""

    GIVEN = "given"
    EDITABLE = "editable"
    COMPUTED = "computed"
    CONSTANT = "constant"


@dataclass(frozen=True)
class Region:
    """A rectangle of cells with one role."""

    key: str  # what it holds, e.g. "input 1", "target", "prediction", "lr_w", "baseline"
    role: Role
    area: str  # "A12:A17", "B4", "B7:U26"
    caption: str = ""  # how findings name its cells: "input data", "target data", "data", "baseline"
    name: str | None = None  # the workbook-level defined name pointing at the whole area
    formula: str | None = None  # computed: a str.format template, {r} standing for each cell's row
    formulas: tuple[str, ...] = ()  # computed, irregular: one formula per cell, row by row
    values: Any = None  # given, constant, editable: the issued numbers, row by row (sequence or ndarray)
    params: tuple[str, ...] = ()  # editable: the parameter key of each cell, row by row
    fmt: str | None = None  # number format the builder gives its cells
    fill: bool = True  # the builder colours it by role (a perceptron's pixels show through conditional formats)
    result: bool = False  # computed: a result the student watches (drawn bold)
    array: bool = False  # computed: one array formula over the whole area (e.g. MMULT), checked at its corner
    rows: bool = False  # one cell per data row (a column of the data table): written and checked row by row

    @property
    def refs(self) -> list[str]:
        """Every cell, row by row."""
        return cells_of(self.area)

    @property
    def first(self) -> str:
        return corners(self.area)[0]

    def formula_at(self, ref: str, index: int | None = None) -> str:
        """The issued formula of one of its cells."""
        if self.formula is not None:
            return self.formula.format(r=position(ref)[0])
        return self.formulas[self.refs.index(ref) if index is None else index]

    def cells(self) -> list[tuple[str, Any]]:
        """(cell, what is written there): a value for given/constant/editable cells, a formula for computed."""
        refs = self.refs
        if self.role == Role.COMPUTED:
            if self.array:
                return [(refs[0], self.formula.format(r=position(refs[0])[0]))]
            return [(ref, self.formula_at(ref, i)) for i, ref in enumerate(refs)]
        values = np.asarray(self.values, dtype=float).ravel()
        return [(ref, _plain(v)) for ref, v in zip(refs, values, strict=True)]


def _plain(v: float) -> float | int:
    """Whole numbers as ints (a pixel is 1, not 1.0), the rest as floats."""
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)


@dataclass(frozen=True)
class CacheCheck:
    """Cells whose saved results must equal what NumPy computes from the student's parameters."""

    area: str  # e.g. the prediction column, or the metric cell
    expect: Callable[[Mapping[str, float]], np.ndarray]  # parameters -> the values, row by row


@dataclass(frozen=True)
class GradedSheet:
    """Everything about one graded sheet that building, checking and scoring need."""

    id: str  # the assignment id stamped into the workbook
    title: str
    sheet: str  # the sheet's name
    version: str  # layout version stamped into the workbook
    regions: tuple[Region, ...]
    start: Mapping[str, float]  # the issued parameters (the baseline's)
    metric_name: str  # "rmse", "mae", "accuracy"...
    metric_abbr: str  # how reports write it: "RMSE", "accuracy"
    higher_is_better: bool
    evaluate: Callable[[Mapping[str, float]], float]  # parameters -> the metric, by NumPy on the issued data
    caches: tuple[CacheCheck, ...]  # checked in order; the first disagreement is reported
    metric_cell: str
    baseline_cell: str
    rubric: Any  # workbook.spec.Rubric (not imported: spec asks this module for descriptions)
    extent: str  # the block the grader reads, e.g. "A1:S16"; content beyond it is a finding
    other_sheet: str  # the workbook's other sheet ("Instructions", "Contents"), never the graded one
    integrity: str = "report"  # what a tampering finding does to the score
    hint: str = ""  # a fixed next step for feedback ("" = hints from how far the student got)
    kind: str = ""  # the sheet's kind as lecture templates list it: "perceptron", "manual-ml:house-prices"
    hidden: Callable[[Mapping[str, float]], float] | None = None  # the metric on hidden test rows, if any
    average: float | None = None  # the metric of predicting the mean target (a rubric's "references" measure)
    hidden_average: float | None = None  # the same on the hidden test rows
    settings: Any = None  # the lecture sheet's Settings (None for the manual-ML sheet)
    extra_names: Mapping[str, str] = field(default_factory=dict)  # other defined names -> issued area
    decorations: tuple[str, ...] = ()  # cells the builder writes inside the extent besides the regions (the
    #                                    [hints] gradient cells): not graded, and not content a student added

    def graded_sheet(self) -> GradedSheet:
        """Itself: anything gradable (an Assignment, a lecture template) answers with its GradedSheet."""
        return self

    @cached_property
    def layout_key(self) -> tuple:
        """Where everything sits and which formula each computed cell holds, without any value: equal for
        every student's variant of one assignment (their data and starting weights differ, the sheet's
        shape does not), so what the grader derives from the shape alone is worked out once per class."""
        return (self.version, self.sheet, self.extent, self.decorations, self.metric_cell, self.baseline_cell,
                tuple((r.key, r.role, r.area, r.name, r.formula, r.formulas, r.params, r.array, r.rows)
                      for r in self.regions))

    @property
    def metric_label(self) -> str:
        return self.metric_abbr

    def of(self, role: Role) -> list[Region]:
        return [r for r in self.regions if r.role == role]

    def region(self, key: str) -> Region:
        return next(r for r in self.regions if r.key == key)

    @property
    def param_cells(self) -> dict[str, str]:
        """Every parameter -> its issued cell, in order."""
        return {p: ref for r in self.of(Role.EDITABLE) for p, ref in zip(r.params, r.refs, strict=True)}

    @property
    def names(self) -> dict[str, str]:
        """Every defined name -> the area it was issued pointing at."""
        return {**{r.name: r.area for r in self.regions if r.name}, **self.extra_names}

    @property
    def result_names(self) -> dict[str, str]:
        """The defined names other than the weights' (the summary cells: current_rmse, baseline_rmse) -> area."""
        weights = {r.name for r in self.of(Role.EDITABLE) if r.name}
        return {name: area for name, area in self.names.items() if name not in weights}

    def defined_names(self) -> dict[str, str]:
        """Defined name -> absolute reference, as the builder writes them."""
        return {name: absolute(self.sheet, area) for name, area in self.names.items()}

    def metric(self, params: Mapping[str, float]) -> float:
        """The metric of `params` on the issued data, by NumPy."""
        return float(self.evaluate(params))

    @property
    def baseline(self) -> float:
        return self.metric(self.start)

    def improvement(self, value: float, baseline: float | None = None) -> float:
        """Share of the baseline's error removed; for accuracy, of the baseline's mistakes fixed."""
        base = self.baseline if baseline is None else baseline
        if self.higher_is_better:  # accuracy: the share of the baseline's mistakes fixed
            base, value = 1.0 - base, 1.0 - value
        if base == 0:
            return 0.0 if value == 0 or self.higher_is_better else float("-inf")
        return (base - value) / base


def write_regions(put: Callable[[str, Any, Region], None], sheet: GradedSheet,
                  regions: Sequence[Region] | None = None) -> None:
    """Hand every cell of the regions to `put(ref, value or formula, region)`: the builder's one source."""
    for region in sheet.regions if regions is None else regions:
        for ref, value in region.cells():
            put(ref, value, region)


def column_area(col: str, first: int, last: int) -> str:
    """'E', 12, 17 -> 'E12:E17'."""
    return f"{a1(first, col)}:{a1(last, col)}"
