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
from workbook.spec import Assignment


@dataclass(frozen=True)
class Score:
    """The recomputed outcome of one set of weights."""

    metric: float
    baseline: float
    improvement: float
    points: float


def score(assignment: Assignment, weights: Mapping[str, float]) -> Score:
    """Recompute the metric for `weights` on the assignment's data and apply the rubric."""
    current = model.loss(assignment, weights)
    baseline = model.loss(assignment)
    if not math.isfinite(current):
        return Score(current, baseline, float("-inf"), 0.0)
    gain = model.improvement(baseline, current)
    return Score(current, baseline, gain, assignment.rubric.points(gain, current))


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
