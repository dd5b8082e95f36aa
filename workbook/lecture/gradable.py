"""What the grader needs to know about a graded lecture sheet (linear regression, perceptron).

The manual-ML sheet is described by `workbook.layout.Layout`; the lecture's graded sheets are
smaller and fixed, so each describes itself with one `Gradable`: which cells the student edits,
which cells were issued as data or formulas (so edits are caught), and the NumPy metric that
scores a set of parameters from the assignment's own data. The grader never reads anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from workbook.spec import Rubric


@dataclass(frozen=True)
class Gradable:
    """One graded lecture sheet."""

    assignment: str  # the template's assignment id
    sheet: str  # the sheet's name
    param_cells: Mapping[str, str]  # parameter key -> cell (keys are defined names where one exists)
    names: Mapping[str, str]  # defined name -> the cell or range it was issued pointing at
    start: Mapping[str, float]  # the issued parameters (the baseline)
    values: Mapping[str, float]  # given cell -> issued number (data, targets, labels, baseline)
    formulas: Mapping[str, str]  # computed cell -> issued formula (top-left cell only for arrays)
    region: str  # the block the grader reads, e.g. "A1:AZ120"
    metric_name: str  # "rmse" or "accuracy"
    higher_is_better: bool  # accuracy: yes; rmse: no
    metric: Callable[[Mapping[str, float]], float]  # parameters -> metric, by NumPy on the issued data
    rubric: Rubric
    hint: str = ""  # what to try next, for a student's feedback

    def improvement(self, value: float) -> float:
        """Share of the baseline's error removed; for accuracy, of the baseline's mistakes fixed."""
        base = self.metric(self.start)
        if self.higher_is_better:
            base, value = 1.0 - base, 1.0 - value
        if base == 0:
            return 0.0
        return (base - value) / base
