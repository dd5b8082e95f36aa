"""What the grader needs to know about a graded lecture sheet (linear regression, perceptron).

The manual-ML sheet is described by `workbook.layout.Layout`; the lecture's graded sheets are
smaller and fixed, so each describes itself with one `Gradable`: which cells the student edits,
which cells were issued as data or formulas (so edits are caught), and the NumPy metric that
scores a set of parameters from the assignment's own data. It also answers the few questions
the grader's reports ask of an assignment (id, title, rubric, metric_abbr), so one result model
and every renderer serve both kinds. It holds only plain data, so it crosses process pools.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from workbook.spec import Rubric


@dataclass(frozen=True)
class Gradable:
    """One graded lecture sheet."""

    id: str  # the template's assignment id
    title: str
    kind: str  # the sheet kind: "linear-regression" or "perceptron"
    settings: Any  # that sheet module's Settings (the issued data are derived from it)
    sheet: str  # the sheet's name
    param_cells: Mapping[str, str]  # parameter key -> cell (keys are defined names where one exists)
    names: Mapping[str, str]  # defined name -> the cell or range it was issued pointing at
    start: Mapping[str, float]  # the issued parameters (the baseline)
    values: Mapping[str, float]  # given cell -> issued number (data, targets, labels, baseline)
    formulas: Mapping[str, str]  # computed cell -> issued formula
    baseline_cell: str  # the issued baseline constant (also listed in `values`)
    metric_cell: str  # where the sheet shows the metric (its cached value is checked against NumPy)
    region: str  # the block the grader reads, e.g. "A1:CZ96"
    metric_name: str  # "rmse" or "accuracy"
    higher_is_better: bool  # accuracy: yes; rmse: no
    rubric: Rubric
    hint: str = ""  # what to try next, for a student's feedback
    integrity: str = "report"  # what a tampering finding does to the score

    @property
    def metric_abbr(self) -> str:
        return "accuracy" if self.metric_name == "accuracy" else self.metric_name.upper()

    def metric(self, params: Mapping[str, float]) -> float:
        """The metric of `params` on the issued data, by NumPy (the sheet module's own function)."""
        module = import_module(f"workbook.lecture.{self.kind.replace('-', '_')}")
        return module.metric(self.settings, params)

    def improvement(self, value: float, baseline: float | None = None) -> float:
        """Share of the baseline's error removed; for accuracy, of the baseline's mistakes fixed."""
        base = self.metric(self.start) if baseline is None else baseline
        if self.higher_is_better:
            base, value = 1.0 - base, 1.0 - value
        if base == 0:
            return 0.0
        return (base - value) / base
