"""Feedback from the model itself: what a student's weights make the network do, and what to change.

The grade says how far the error fell; this says why, from the network: which single weight would
lower the error most and which way, hidden neurons that are switched off (ReLU at 0 on every row) or
saturated (sigmoid/tanh stuck at their ends), predictions of the wrong sign or scale, a constant
predictor, and where the student stands between predicting the average and the best `solve` finds.
Everything is computed with NumPy from the weights and the assignment's own data, like the grade.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbook import model
from workbook.errors import WorkbookError
from workbook.spec import Assignment

SEARCH_ROWS = 500  # the one-weight search runs on at most this many rows (evenly spaced); the result is exact
REFINE_ROUNDS, REFINE_POINTS = 4, 25  # after the geometric ladder: the bracket shrinks 12-fold a round
SEARCH_WEIGHTS = 24  # a bigger network searches only the weights whose gradient promises most (|slope| x size)
SOLVE_MAX_ROWS = 200  # above this (or SOLVE_MAX_PARAMS) `solve` is too slow to run while writing feedback
SOLVE_MAX_PARAMS = 60
SATURATION = 0.01  # a sigmoid/tanh neuron whose slope is below this on every row is saturated
SCALE_FACTOR = 10  # predictions this many times too large or too small on average are "of the wrong scale"
AT_BEST = 0.99  # this share of the way from the average to the best counts as "at the best"

STUCK = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # the values a saturated neuron is stuck near


@dataclass(frozen=True)
class Tip:
    """One sentence (or two) of model feedback."""

    code: str  # "move-weight", "dead-neuron", "saturated", "constant", "wrong-sign", "wrong-scale", "standing"
    message: str


@dataclass(frozen=True)
class References:
    """The losses a result is measured against."""

    baseline: float  # the starting weights' metric
    average: float  # predicting the mean target on every row
    best: float | None  # the best `solve` finds (None: too big to solve while grading)


def fmt(value: float) -> str:
    """Four significant digits with thousands separators: 3,731 / 170.3 / 0.0001234; from 10,000 on, whole
    numbers (a price-sized RMSE is 67,669, not the 6.767e+04 that 4 significant digits would print)."""
    if math.isfinite(value) and abs(value) >= 9999.5:  # what .4g would print as 1e+04 and up
        return f"{value:,.0f}"
    return f"{value:,.4g}"


# --------------------------------------------------------------------------- the model's gradient and slopes


def gradient(assignment: Assignment, weights: Mapping[str, float], X: np.ndarray | None = None,
             y: np.ndarray | None = None) -> dict[str, float]:
    """d(metric)/d(parameter) for every weight and bias on the assignment's rows (or X, y): workbook.model's
    backpropagation, the one the Gradients sheet's formulas are checked against."""
    X = assignment.data.X if X is None else X
    y = assignment.data.y if y is None else y
    return model.gradient(assignment.network, weights, X, y, assignment.metric)


def _slope(activation: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """d activation / dz on every row (ReLU's is 0 at z <= 0, step's 0 everywhere)."""
    return model.activation_slope(activation, z, a, np.ones_like(z))


# --------------------------------------------------------------------------- references


def average_loss(assignment: Assignment) -> float:
    """The metric of predicting the mean target on every row: what a network that ignores its inputs gets."""
    y = assignment.data.y
    return model.metric_value(assignment.metric, y, np.full_like(y, float(np.mean(y))))


_BEST: dict[str, float | None] = {}


def _data_key(assignment: Assignment) -> str:
    h = hashlib.sha256(repr((assignment.network, assignment.metric)).encode())
    h.update(np.ascontiguousarray(assignment.data.X).tobytes())
    h.update(np.ascontiguousarray(assignment.data.y).tobytes())
    return h.hexdigest()


def best_loss(assignment: Assignment) -> float | None:
    """`solve`'s best on this data (cached per data set); None when the data is too big to solve while grading."""
    if len(assignment.data.rows) > SOLVE_MAX_ROWS or len(assignment.weights) > SOLVE_MAX_PARAMS:
        return None
    key = _data_key(assignment)
    if key not in _BEST:
        from workbook.solve import solve

        try:
            found = solve(assignment).metric  # its defaults: a fraction of a second on a class-sized sheet
        except (ValueError, WorkbookError):  # diverged from every start
            found = None
        _BEST[key] = found
    return _BEST[key]


_SOLVE = object()  # references(): no best given, so solve for it


def references(assignment: Assignment, *, best: float | object | None = _SOLVE) -> References:
    """Baseline, average predictor and best for `assignment` (`best` given: use it instead of solving)."""
    return References(baseline=model.loss(assignment), average=average_loss(assignment),
                      best=best_loss(assignment) if best is _SOLVE else best)


def class_references(assignments: Sequence[Assignment]) -> list[References | None]:
    """References for many results; students' variants of one assignment share one solve.

    Per-student variants differ only a little (their targets' noise), so solving each would cost a
    class of 1,000 minutes for a number that is "about" anyway: the first variant's best stands for all.
    A lecture sheet (not a manual-ML `Assignment`) gets None: the model feedback is for networks.
    """
    shared: dict[tuple, float | None] = {}
    out: list[References | None] = []
    for a in assignments:
        if not isinstance(a, Assignment):
            out.append(None)
            continue
        key = (a.id, a.network, a.metric, len(a.data.rows))
        if key not in shared:
            shared[key] = best_loss(a)
        out.append(references(a, best=shared[key]))
    return out


# --------------------------------------------------------------------------- the tips


def _sample(assignment: Assignment) -> tuple[np.ndarray, np.ndarray]:
    X, y = assignment.data.X, assignment.data.y
    if len(y) <= SEARCH_ROWS:
        return X, y
    idx = np.linspace(0, len(y) - 1, SEARCH_ROWS).round().astype(int)
    return X[idx], y[idx]


def _loss_at(assignment, weights, X, y) -> float:
    value = model.metric_value(assignment.metric, y, model.forward(assignment.network, weights, X).prediction)
    return value if math.isfinite(value) else math.inf


def _losses_along(assignment: Assignment, weights: Mapping[str, float], name: str, values: np.ndarray,
                  X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The metric for each of `values` of weight `name` (the others as they are), in one forward pass."""
    fwd = model.forward(assignment.network, {**weights, name: values[:, None]}, X)
    prediction = np.broadcast_to(fwd.prediction, (len(values), len(y)))
    with np.errstate(over="ignore", invalid="ignore"):
        per_row = model.row_errors(assignment.metric, y, prediction)
        mean = per_row.mean(axis=1)
        losses = np.sqrt(mean) if assignment.metric == "rmse" else mean
    return np.where(np.isfinite(losses), losses, np.inf)


def best_single_change(assignment: Assignment, weights: Mapping[str, float], name: str, slope: float,
                       X: np.ndarray, y: np.ndarray) -> float:
    """Move `name` alone against its gradient: the value that lowers the error (on X, y) most.

    Steps grow geometrically from a thousandth of the weight's size to 65,536 times it; the bracket around
    the best is then searched on finer and finer even grids (the loss along one weight is piecewise smooth).
    Each grid is one forward pass over all its values at once.
    """
    start = float(weights[name])
    direction = -1.0 if slope > 0 else 1.0
    size = max(abs(start), 1.0)
    steps = np.array([0.0, *(size * 2.0**k for k in range(-10, 17))])
    losses = _losses_along(assignment, weights, name, start + direction * steps, X, y)
    best_step, best_loss = steps[int(np.argmin(losses))], float(np.min(losses))
    i = int(np.argmin(losses))
    lo, hi = steps[max(i - 1, 0)], steps[min(i + 1, len(steps) - 1)]
    for _ in range(REFINE_ROUNDS):
        grid = np.linspace(lo, hi, REFINE_POINTS)
        found = _losses_along(assignment, weights, name, start + direction * grid, X, y)
        j = int(np.argmin(found))
        if found[j] < best_loss:
            best_step, best_loss = grid[j], float(found[j])
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    return start + direction * float(best_step)


def aim_for(assignment: Assignment, weights: Mapping[str, float], name: str, value: float,
            current: float) -> tuple[float, float]:
    """The value to suggest, rounded as a person would type it (2 significant digits when that keeps most of
    the gain, else more), and the exact loss the sheet then shows."""
    found = model.loss(assignment, {**weights, name: value})
    for digits in (2, 3, 4, 6):
        aim = float(f"{value:.{digits}g}")
        at_aim = model.loss(assignment, {**weights, name: aim})
        if at_aim <= found + 0.1 * (current - found):
            return aim, at_aim
    return value, found


def _weight_tips(assignment: Assignment, weights: Mapping[str, float], current: float) -> list[Tip]:
    X, y = _sample(assignment)
    sample_loss = _loss_at(assignment, weights, X, y)
    slopes = {k: g for k, g in gradient(assignment, weights, X, y).items() if g != 0 and math.isfinite(g)}
    if len(slopes) > SEARCH_WEIGHTS:  # first-order promise of a change in proportion to the weight's size
        promise = sorted(slopes, key=lambda k: (-abs(slopes[k]) * max(abs(weights[k]), 1.0), k))
        slopes = {k: slopes[k] for k in promise[:SEARCH_WEIGHTS]}
    options = []
    for name, slope in slopes.items():
        value = best_single_change(assignment, weights, name, slope, X, y)
        if _loss_at(assignment, {**weights, name: value}, X, y) < sample_loss * (1 - 0.01):
            aim, at_aim = aim_for(assignment, weights, name, value, current)
            if at_aim < current * (1 - 0.01):
                options.append((at_aim, name, aim))
    options.sort()
    tips = []
    abbr = assignment.metric_abbr
    for rank, (loss_value, name, value) in enumerate(options[:2]):  # value: what to type
        way = "increase" if value > weights[name] else "decrease"
        if rank == 0:
            tips.append(Tip("move-weight", f"The change that helps most: {way} {name} (now {weights[name]:g}). "
                                           f"On its own, moving it to about {value:g} brings your {abbr} from "
                                           f"{fmt(current)} down to {fmt(loss_value)}."))
        else:
            tips.append(Tip("move-weight", f"Next: {way} {name} (now {weights[name]:g}); moving it alone to "
                                           f"about {value:g} brings your {abbr} down to {fmt(loss_value)}."))
    return tips


def _consumers(assignment: Assignment, label: str) -> list[str]:
    return [n.weight_name(label) for n in assignment.network.neurons if label in n.sources]


def _neuron_tips(assignment: Assignment, weights: Mapping[str, float], fwd: model.Forward) -> list[Tip]:
    tips = []
    for neuron in assignment.network.neurons:
        if neuron.label == "out":
            continue
        z, a = fwd.z[neuron.label], fwd.a[neuron.label]
        outgoing = _consumers(assignment, neuron.label)
        outgoing = f"{outgoing[0]} has" if len(outgoing) == 1 else f"{', '.join(outgoing[:-1])} and {outgoing[-1]} have"
        if neuron.activation == "relu" and np.all(z <= 0):
            tips.append(Tip("dead-neuron", f"{neuron.label} is switched off: its weighted sum is 0 or below on "
                                           f"every row, so ReLU({neuron.label}) is 0 everywhere and {outgoing} "
                                           f"no effect. Raise {neuron.bias_name} (now "
                                           f"{weights[neuron.bias_name]:g}) or its input weights until "
                                           f"{neuron.label} is positive on some rows."))
        elif neuron.activation in STUCK and np.all(_slope(neuron.activation, z, a) < SATURATION):
            low, high = STUCK[neuron.activation]
            near_high = a > (low + high) / 2
            stuck = f"{high:g}" if near_high.all() else f"{low:g}" if not near_high.any() else f"{low:g} or {high:g}"
            inputs = ", ".join(neuron.parameter_names)
            tips.append(Tip("saturated", f"{neuron.label}'s {neuron.activation} is saturated: on every row it "
                                         f"gives almost exactly {stuck}, so small changes to its weights ({inputs}) "
                                         f"barely move the prediction. Make them smaller so {neuron.label} works "
                                         "in its sloped middle range."))
    return tips


def _prediction_tips(assignment: Assignment, prediction: np.ndarray) -> list[Tip]:
    y = assignment.data.y
    if not np.all(np.isfinite(prediction)):
        return []
    spread = float(np.ptp(prediction))
    if spread <= 1e-9 * max(1.0, float(np.max(np.abs(prediction)))):
        mean = float(np.mean(y))
        return [Tip("constant", f"Your network predicts the same value, {fmt(float(prediction[0]))}, for every "
                                "row: it is a constant predictor and cannot tell the rows apart. The best constant "
                                f"is the average, {fmt(mean)} ({assignment.metric_abbr} "
                                f"{fmt(average_loss(assignment))}); to do better, the inputs must reach the output.")]
    n = len(y)
    for sign, word, opposite in ((1, "positive", "negative"), (-1, "negative", "positive")):
        if np.all(sign * y > 0):
            wrong = int(np.sum(sign * prediction < 0))
            if 2 * wrong >= n:
                how_many = f"All {n} of your predictions are" if wrong == n else f"{wrong} of your {n} predictions are"
                return [Tip("wrong-sign", f"{how_many} {opposite}, but every true value "
                                          f"is {word}: the output bias b_out and the output weights decide the "
                                          "sign of every prediction.")]
    typical, truth = float(np.mean(np.abs(prediction))), float(np.mean(np.abs(y)))
    if truth > 0 and typical > 0:
        ratio = typical / truth
        if ratio >= SCALE_FACTOR or ratio <= 1 / SCALE_FACTOR:
            times, way = (ratio, "large") if ratio > 1 else (1 / ratio, "small")
            return [Tip("wrong-scale", f"Your predictions are about {float(f'{times:.2g}'):g} times too {way}: "
                                       f"{fmt(typical)} on average (ignoring sign) against a true average of "
                                       f"{fmt(truth)}.")]
    return []


def _best_text(best: float, average: float) -> str:
    """A best that fits every row is "almost 0", not 6.73e-05."""
    return "almost 0" if best < 1e-4 * average else f"about {fmt(best)}"


def _standing(assignment: Assignment, current: float, refs: References, tampered: bool = False) -> Tip:
    """Where the weights stand between predicting the average and the best; praise ("excellent work") only for a
    file with nothing changed outside its weights (`tampered`: the facts alone)."""
    abbr = assignment.metric_abbr
    average, best = refs.average, refs.best
    best_text = "" if best is None else _best_text(best, average)
    if current >= average:
        more = "" if best is None else f"; the best this network reaches (manualml solve) is {best_text}"
        return Tip("standing", f"Your {abbr} ({fmt(current)}) is no better than predicting the average for every "
                               f"row ({fmt(average)}){more}.")
    if best is None or best >= average:
        return Tip("standing", f"Your {abbr} ({fmt(current)}) beats predicting the average for every row "
                               f"({fmt(average)}).")
    share = min((average - current) / (average - best), 1.0)
    if share >= AT_BEST and tampered:
        return Tip("standing", f"Your weights give {abbr} {fmt(current)}; manualml solve's best on this data is "
                               f"{best_text}.")
    if share >= AT_BEST:
        return Tip("standing", f"You are at the best this network reaches ({abbr} {best_text}, found by "
                               "manualml solve): excellent work.")
    return Tip("standing", f"You are {share:.0%} of the way from predicting the average for every row "
                           f"({abbr} {fmt(average)}) to the best this network reaches ({abbr} {best_text}, "
                           "found by manualml solve).")


def is_overfit(assignment: Assignment, sheet_metric: float, hidden_metric: float) -> bool:
    """Is the gap large: hidden above `overfit_ratio` x the sheet's, by more than 5 % of the average's loss there?"""
    test = assignment.test
    if test is None or not (math.isfinite(sheet_metric) and math.isfinite(hidden_metric)):
        return False
    y = test.data.y
    spread = model.metric_value(assignment.metric, y, np.full_like(y, float(np.mean(y))))
    return hidden_metric > test.overfit_ratio * sheet_metric and hidden_metric - sheet_metric > 0.05 * spread


def hidden_tip(assignment: Assignment, weights: Mapping[str, float], current: float) -> Tip | None:
    """How the weights do on the template's hidden test rows, and overfitting explained when the gap is large.

    Large: the hidden metric above `overfit_ratio` times the sheet's, by more than 5 % of what predicting the
    average gives on the hidden rows (so a near-perfect fit that is also excellent on new rows is not blamed).
    """
    test = assignment.test
    if test is None:
        return None
    data = test.data
    prediction = model.forward(assignment.network, weights, data.X).prediction
    hidden = model.metric_value(assignment.metric, data.y, prediction)
    if not math.isfinite(hidden):
        return None
    n, m, noun, abbr = len(data.rows), len(assignment.data.rows), test.noun, assignment.metric_abbr
    where = f"On the {n} hidden {noun} (not in your workbook) your {abbr} is {fmt(hidden)}"
    if is_overfit(assignment, current, hidden):
        return Tip("overfitting", f"{where}, against {fmt(current)} on the {m} {noun} of your sheet. Your weights fit "
                                  f"these {noun} much better than new ones: that is overfitting, learning these "
                                  f"particular {noun} instead of the pattern behind them. Prefer weights that get "
                                  f"every {noun[:-1] if noun.endswith('s') else noun} roughly right over ones that "
                                  f"get these {m} exactly right.")
    # not "your weights carry over to new houses": an untouched workbook (RMSE 3,731 on both) read as praised
    return Tip("hidden", f"{where} ({fmt(current)} on your sheet): no sign of overfitting.")


def advise(assignment: Assignment, weights: Mapping[str, float], refs: References | None = None, *,
           hidden: bool = True, tampered: bool = False) -> list[Tip]:
    """Model feedback for one set of weights, the big picture first, at most a handful of sentences.

    `hidden=False` leaves out the hidden test rows (a student's self-check must not reveal them);
    `tampered=True` (the file changed outside its weights) praises nothing.
    """
    if any(name not in weights for name in assignment.network.parameter_names()):
        return []
    refs = refs or references(assignment)
    fwd = model.forward(assignment.network, weights, assignment.data.X)
    current = model.metric_value(assignment.metric, assignment.data.y, fwd.prediction)
    if not math.isfinite(current):
        return [Tip("overflow", "Your predictions overflow (some are infinite or not a number): a weight is far too "
                                "large. Go back to smaller weights and change them a little at a time.")]
    tips = [*_prediction_tips(assignment, fwd.prediction), *_neuron_tips(assignment, weights, fwd)]
    at_best = refs.best is not None and refs.average > refs.best and \
        (refs.average - current) / (refs.average - refs.best) >= AT_BEST
    if not at_best and current > 0:
        tips += _weight_tips(assignment, weights, current)
    tips.append(_standing(assignment, current, refs, tampered))
    test_tip = hidden_tip(assignment, weights, current) if hidden else None
    return [*tips, test_tip] if test_tip else tips
