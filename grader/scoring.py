"""Weights -> NumPy recompute -> metric, improvement, points.

Never uses anything computed in the student's file: only their weights and the
assignment's own data go into the model, so no edit elsewhere can raise a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from workbook import model
from workbook.lecture.gradable import Gradable
from workbook.spec import Assignment, average_metric


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


def _on(rubric, data, network, metric: str, weights, start) -> tuple[float, float, float, float]:
    current = model.metric_value(metric, data.y, model.forward(network, weights, data.X).prediction)
    baseline = model.metric_value(metric, data.y, model.forward(network, start, data.X).prediction)
    if not math.isfinite(current):
        return current, baseline, float("-inf"), 0.0
    gain = model.improvement(baseline, current)
    # the rubric's measure: the improvement itself, or the way from predicting the average to the best reachable
    progress = gain if rubric.measure == "start" else rubric.progress(current, baseline,
                                                                     average_metric(metric, data.y))
    return current, baseline, gain, rubric.points(progress, current)


def score(assignment: Assignment, weights: Mapping[str, float]) -> Score:
    """Recompute the metric for `weights` on the assignment's data (and hidden rows) and apply the rubric."""
    a, rubric = assignment, assignment.rubric
    current, baseline, gain, points = _on(rubric, a.data, a.network, a.metric, weights, a.weights)
    if a.test is None:
        return Score(current, baseline, gain, points)
    hidden = HiddenScore(*_on(rubric, a.test.data, a.network, a.metric, weights, a.weights))
    if rubric.score_on == "hidden":
        points = hidden.points
    elif rubric.score_on == "mix":
        points = round((1 - rubric.hidden_weight) * points + rubric.hidden_weight * hidden.points, 2)
    return Score(current, baseline, gain, points, hidden)


def hint(assignment: Assignment, result_improvement: float | None) -> str:
    """A next step for the student's feedback, from where they stand."""
    if result_improvement is None:
        return "Fix the problems listed above, save, and hand the file in again."
    if isinstance(assignment, Gradable):
        return assignment.hint
    if result_improvement < 0:
        return ("Your weights are worse than the starting ones. Change one weight at a time by a small amount and "
                "keep the change only if the error goes down.")
    if result_improvement < 0.5:
        return ("Look at the Predicted column: if every prediction is far too low or too high, the output bias "
                "(b_out) and the output weights move them all at once. Then tune the hidden neurons.")
    if result_improvement < assignment.rubric.full_improvement:
        return ("Good progress. Compare each predicted value with the true one: the rows with the largest error "
                "tell you which weight to adjust next. Smaller steps help near the end.")
    return "Excellent: you are at or near the best this network can do on this data."
