"""Weights -> NumPy recompute -> metric, improvement, points.

Never uses anything computed in the student's file: only their weights and the
assignment's own data go into the model, so no edit elsewhere can raise a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from grader.per_sheet import derived


@dataclass(frozen=True)
class Score:
    """The recomputed outcome of one set of weights."""

    metric: float  # on the sheet's rows
    baseline: float
    improvement: float
    points: float  # by the rubric's score_on: the sheet's rows, the hidden ones, or a mix
    hidden: HiddenScore | None = None  # the template's hidden test rows, when it has them


@dataclass(frozen=True)
class HiddenScore:
    """The same weights on the hidden test rows (never in the workbook)."""

    metric: float
    baseline: float  # the starting weights on the hidden rows
    improvement: float
    points: float  # what the rubric would give on these rows alone

    def gap(self, sheet_metric: float) -> float:
        """Hidden minus sheet: how much worse the weights do on rows they were not tuned on."""
        return self.metric - sheet_metric


def _rate(sheet, current: float, baseline: float, average: float | None) -> tuple[float, float, float, float]:
    """(metric, baseline, improvement, points) by the sheet's own improvement rule and rubric."""
    if not math.isfinite(current):
        return current, baseline, float("-inf"), 0.0
    gain = sheet.improvement(current, baseline)
    rubric = sheet.rubric
    # the rubric's measure: the improvement itself, or the way from predicting the average to the best reachable
    progress = gain if rubric.measure == "start" or average is None else rubric.progress(current, baseline, average)
    return current, baseline, gain, rubric.points(progress, current)


def _start_metric(sheet, *, hidden: bool = False) -> float:
    """The issued parameters' metric on the sheet's rows (the baseline) or the hidden ones: the same for every
    file graded against `sheet`, so computed once (see grader.per_sheet)."""
    if hidden:  # (a GradedSheet's starting weights are its own, never changed)
        return derived(sheet, "hidden start", lambda: float(sheet.hidden(sheet.start)))
    return derived(sheet, "baseline", lambda: sheet.baseline)


def score(assignment, weights: Mapping[str, float]) -> Score:
    """Recompute the metric for `weights` on the assignment's data (and hidden rows) and apply the rubric.

    `assignment` is anything with a `graded_sheet()`: the metric is that description's NumPy function."""
    sheet = assignment.graded_sheet()
    rubric = sheet.rubric
    current, baseline, gain, points = _rate(sheet, sheet.metric(weights), _start_metric(sheet), sheet.average)
    if sheet.hidden is None:
        return Score(current, baseline, gain, points)
    hidden = HiddenScore(*_rate(sheet, float(sheet.hidden(weights)), _start_metric(sheet, hidden=True),
                                sheet.hidden_average))
    if rubric.score_on == "hidden":
        points = hidden.points
    elif rubric.score_on == "mix":
        points = round((1 - rubric.hidden_weight) * points + rubric.hidden_weight * hidden.points, 2)
    return Score(current, baseline, gain, points, hidden)


def hint(assignment, result_improvement: float | None) -> str:
    """A next step for the student's feedback, from where they stand (or the sheet's own hint)."""
    if result_improvement is None:
        return "Fix the problems listed above, save, and hand the file in again."
    sheet = assignment.graded_sheet()
    if sheet.hint:
        return sheet.hint
    if result_improvement < 0:
        return ("Your weights are worse than the starting ones. Change one weight at a time by a small amount and "
                "keep the change only if the error goes down.")
    if result_improvement < 0.5:
        return ("Look at the Predicted column: if every prediction is far too low or too high, the output bias "
                "(b_out) and the output weights move them all at once. Then tune the hidden neurons.")
    if result_improvement < sheet.rubric.full_improvement:
        return ("Good progress. Compare each predicted value with the true one: the rows with the largest error "
                "tell you which weight to adjust next. Smaller steps help near the end.")
    return "Excellent: you are at or near the best this network can do on this data."
