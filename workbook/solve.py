"""The reference solution: how good can this network get on this data?

Instructors use it to set a rubric a student can actually reach, and `manualml generate` runs it to
warn when full marks are out of reach, so it has to take a moment, not a coffee break. Every random
start is trained at once: the weights of S starts are one (S, P) array, each layer a view of it, and
one NumPy computation steps them all (a loop over starts would pay Python's overhead S times for
matrices of a few dozen numbers).

For the squared metrics (rmse, mse) the step is Levenberg-Marquardt: backpropagation row by row gives
the analytic Jacobian of every prediction, and a damped Gauss-Newton step per start reaches a minimum
in tens of steps where gradient descent needs thousands. These networks often have fewer rows than
weights, so the minimum is an exact fit, and Gauss-Newton converges fastest exactly there. For mae
(not a sum of squares) the same step is taken on rows weighted by 1/|residual| (iteratively reweighted
least squares). NumPy's batched `linalg.solve` is all the
linear algebra needed, so SciPy would add a dependency without earning it (its optimisers take one
start at a time). Training runs on standardised inputs (and targets, for a linear output); the result
is mapped back to the raw units the sheet uses and scored with the sheet's own arithmetic
(`model.loss`), and the best start wins.

With `decimals`, the answer is what a student would type: weights rounded to that many decimals and
refined on that grid (coordinate search: one weight moved by 1, 2, 4 ... grid steps, or two weights
by one step each, while the loss falls), and the loss reported is the rounded weights' own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations, pairwise

import numpy as np

from workbook import model
from workbook.errors import WorkbookError
from workbook.network import Network
from workbook.spec import Assignment

_DERIVATIVES = {
    "relu": lambda z, a: (z > 0).astype(float),
    "sigmoid": lambda z, a: a * (1 - a),
    "tanh": lambda z, a: 1 - a * a,
    "linear": lambda z, a: np.ones_like(z),
    "step": lambda z, a: np.zeros_like(z),
}
# A sigmoid cell computes 1/(1+EXP(-z)), and EXP past 709 is #NUM! in LibreOffice and Excel: a solution
# whose sheet shows errors is no solution, so every sigmoid neuron's z must stay inside this on the data.
_MAX_SIGMOID_Z = 700.0
# Elements of the largest array one batched step may build (Jacobian, candidates): ~64 MB of floats.
_BUDGET = 8_000_000
MAX_DECIMALS = 12


class SolveError(WorkbookError):
    """No start gave finite weights, or the options asked for are impossible."""


@dataclass(frozen=True)
class Solution:
    """The best weights found and what they score."""

    weights: dict[str, float]  # every weight and bias by name, in the sheet's order
    metric: float  # the metric at `weights`, computed as the sheet does (model.loss)
    baseline: float  # the metric at the template's starting weights
    improvement: float  # (baseline - metric) / baseline, the sheet's Improvement cell
    starts: int  # random starts tried
    decimals: int | None = None  # weights rounded to this many decimals (None: full precision)


class _Stack:
    """The network's weights for many starts at once: one (S, P) array, each layer a view of it."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.acts = (*network.activations, network.output_activation)
        self.shapes: list[tuple[slice, slice, int, int]] = []  # (weights, biases, fan_in, fan_out)
        offset = 0
        for fan_in, fan_out in pairwise((network.n_inputs, *network.hidden, 1)):
            w = slice(offset, offset + fan_in * fan_out)
            b = slice(w.stop, w.stop + fan_out)
            self.shapes.append((w, b, fan_in, fan_out))
            offset = b.stop
        self.size = offset
        self.widest = max(fan_out for *_, fan_out in self.shapes) + network.n_inputs

    def layers(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        s = theta.shape[0]
        return [(theta[:, w].reshape(s, i, o), theta[:, b]) for w, b, i, o in self.shapes]

    def forward(self, theta: np.ndarray, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Every layer's weighted sums and activations, (S, N, width), for the shared inputs X (N, d)."""
        zs, outs = [], [X]
        with np.errstate(over="ignore", invalid="ignore"):
            for (w, b), act in zip(self.layers(theta), self.acts, strict=True):
                zs.append(outs[-1] @ w + b[:, None, :])
                outs.append(model.activate(act, zs[-1]))
        return zs, outs

    def out_of_range(self, zs: list[np.ndarray]) -> np.ndarray:
        """Starts whose sheet would show #NUM! (a sigmoid's EXP overflowing) or NaN: (S,) bools."""
        bad = np.zeros(zs[0].shape[0], dtype=bool)
        for z, act in zip(zs, self.acts, strict=True):
            with np.errstate(invalid="ignore"):
                if act == "sigmoid":
                    bad |= ~(np.abs(z) <= _MAX_SIGMOID_Z).all(axis=(1, 2))
                else:
                    bad |= ~np.isfinite(z).all(axis=(1, 2))
        return bad

    def jacobian(self, theta: np.ndarray, zs: list[np.ndarray], outs: list[np.ndarray]) -> np.ndarray:
        """d prediction[s, n] / d theta[s, p] for every start and row, (S, N, P): backpropagation per row."""
        s, n = zs[-1].shape[:2]
        J = np.empty((s, n, self.size))
        layers = self.layers(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            delta = _DERIVATIVES[self.acts[-1]](zs[-1], outs[-1])
            for i in range(len(layers) - 1, -1, -1):
                w, b, fan_in, fan_out = self.shapes[i]
                J[:, :, w] = (outs[i][..., :, None] * delta[..., None, :]).reshape(s, n, fan_in * fan_out)
                J[:, :, b] = delta
                if i:
                    delta = (delta @ layers[i][0].transpose(0, 2, 1)) * _DERIVATIVES[self.acts[i - 1]](zs[i - 1],
                                                                                                     outs[i])
        return J

    def initial(self, rng: np.random.Generator, starts: int) -> np.ndarray:
        """He-style random starts on standardised data (the old solver's, drawn for all starts at once)."""
        theta = np.empty((starts, self.size))
        for w, b, fan_in, fan_out in self.shapes:
            theta[:, w] = rng.normal(0, np.sqrt(2 / fan_in), size=(starts, fan_in * fan_out))
            theta[:, b] = rng.normal(0, 0.1, size=(starts, fan_out))
        return theta

    def names(self, theta: np.ndarray) -> dict[str, float]:
        """One start's flat weights (P,) by name, neuron by neuron as the sheet lists them."""
        layers = self.layers(theta[None])
        out = {}
        for layer, (w, b) in zip(self.network.layers, layers, strict=True):
            for j, neuron in enumerate(layer):
                for i, src in enumerate(neuron.sources):
                    out[neuron.weight_name(src)] = float(w[0, i, j])
                out[neuron.bias_name] = float(b[0, j])
        return out


@dataclass(frozen=True)
class _Scaling:
    """Standardisation of the data, and how to fold it back into the first and last layers' weights."""

    x_mean: np.ndarray
    x_sd: np.ndarray
    y_mean: float
    y_sd: float

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray, *, scale_y: bool) -> _Scaling:
        x_sd = X.std(axis=0)
        x_sd[x_sd == 0] = 1.0
        y_mean, y_sd = (float(y.mean()), float(y.std()) or 1.0) if scale_y else (0.0, 1.0)
        return cls(X.mean(axis=0), x_sd, y_mean, y_sd)

    def metric(self, metric: str, error: float, rows: int) -> float:
        """The metric in raw units of a total training error (squared, or absolute for mae) on standardised
        data: an estimate (the sheet's own arithmetic decides, `model.loss`), close enough to say when
        that is worth asking."""
        mean = error / rows * (self.y_sd if metric == "mae" else self.y_sd**2)
        return float(np.sqrt(mean)) if metric == "rmse" else float(mean)

    def to_raw(self, stack: _Stack, theta: np.ndarray) -> np.ndarray:
        """Weights on standardised data -> the same function of the raw inputs, in the sheet's units."""
        raw = theta.copy()
        (w0, b0, fan_in, fan_out), (wl, bl, *_) = stack.shapes[0], stack.shapes[-1]
        first = theta[:, w0].reshape(-1, fan_in, fan_out)
        raw[:, w0] = (first / self.x_sd[:, None]).reshape(-1, fan_in * fan_out)
        raw[:, b0] = theta[:, b0] - np.einsum("i,sij->sj", self.x_mean / self.x_sd, first)
        raw[:, wl] *= self.y_sd
        raw[:, bl] = raw[:, bl] * self.y_sd + self.y_mean
        return raw


def _errors(stack: _Stack, theta: np.ndarray, X: np.ndarray, y: np.ndarray, absolute: bool):
    """Forward pass, residuals and each start's total error (squared, or absolute for mae); inf if out of range."""
    zs, outs = stack.forward(theta, X)
    r = outs[-1][..., 0] - y
    with np.errstate(over="ignore", invalid="ignore"):
        loss = np.abs(r).sum(axis=1) if absolute else np.einsum("sn,sn->s", r, r)
    loss[stack.out_of_range(zs) | ~np.isfinite(loss)] = np.inf
    return zs, outs, r, loss


def _levenberg_marquardt(stack: _Stack, theta: np.ndarray, X: np.ndarray, y: np.ndarray, steps: int,
                         tick: Callable[[], None], *, absolute: bool = False,
                         stop: Callable[[np.ndarray, np.ndarray], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Damped Gauss-Newton steps for all starts at once; a start keeps a step only if its error fell.

    For mae (`absolute`) each step solves the least-squares problem with row weights 1/|r| from the
    current residuals (iteratively reweighted least squares): its squared error touches the absolute
    error at the current point, so its step is a descent direction for the absolute error too.
    `stop(theta, loss)`, asked after every step, ends the training early when it says so.
    """
    zs, outs, r, loss = _errors(stack, theta, X, y, absolute)
    # Done: errors of 1e-12 a row (standardised units), far below the 15 digits a sheet computes with.
    enough = len(y) * (1e-12 if absolute else 1e-24)
    damping = np.full(theta.shape[0], 1e-3)
    eye = np.eye(stack.size)
    for _ in range(steps):
        tick()
        live = np.isfinite(loss) & (damping < 1e10) & (loss > enough)
        if not live.any():
            continue
        J = stack.jacobian(theta, zs, outs)
        res = r
        if absolute:
            with np.errstate(divide="ignore", invalid="ignore"):
                row_weight = 1 / np.sqrt(np.abs(r) + 1e-12)
            J, res = J * row_weight[..., None], r * row_weight
        Jt = J.transpose(0, 2, 1)
        A = Jt @ J
        g = (Jt @ res[..., None])[..., 0]
        diag = np.diagonal(A, axis1=1, axis2=2)
        M = A + damping[:, None, None] * (eye * (diag[:, None, :] + 1e-9 * (1 + diag.mean(axis=1)[:, None, None])))
        bad = ~live | ~np.isfinite(M).all(axis=(1, 2)) | ~np.isfinite(g).all(axis=1)
        M[bad], g[bad] = eye, 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            trial = theta - np.linalg.solve(M, g[..., None])[..., 0]
        tz, tout, tr, tloss = _errors(stack, trial, X, y, absolute)
        better = ~bad & (tloss < loss)
        theta = np.where(better[:, None], trial, theta)
        zs = [np.where(better[:, None, None], a, b) for a, b in zip(tz, zs, strict=True)]
        outs = [outs[0]] + [np.where(better[:, None, None], a, b) for a, b in zip(tout[1:], outs[1:], strict=True)]
        r, loss = np.where(better[:, None], tr, r), np.where(better, tloss, loss)
        damping = np.where(better, np.maximum(damping / 3, 1e-12), np.where(live, damping * 4, damping))
        if stop is not None and stop(theta, loss):
            break
    return theta, loss


def _batch_metric(stack: _Stack, theta: np.ndarray, X: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    """The metric for many raw-unit weight sets (C, P) at once; inf where the sheet would show an error.

    Weight sets run along the last axis here, so each term of a weighted sum is one long vectorised
    multiply-add (a batched matmul of many tiny matrices is ten times slower), and the terms are added
    left to right and the bias last, as the sheet's formula (and model.loss) does.
    """
    out = np.empty(theta.shape[0])
    chunk = max(1, _BUDGET // (len(y) * stack.widest))
    for start in range(0, theta.shape[0], chunk):
        part = np.ascontiguousarray(theta[start:start + chunk].T)  # (P, C)
        a, bad = X[:, :, None], np.zeros(part.shape[1], dtype=bool)  # (N, inputs, C)
        with np.errstate(over="ignore", invalid="ignore"):
            for (w, b, fan_in, fan_out), act in zip(stack.shapes, stack.acts, strict=True):
                weights = part[w].reshape(fan_in, fan_out, -1)
                z = a[:, 0, None, :] * weights[0]
                for i in range(1, fan_in):
                    z = z + a[:, i, None, :] * weights[i]
                z = z + part[b]
                bad |= ~((np.abs(z) <= _MAX_SIGMOID_Z) if act == "sigmoid" else np.isfinite(z)).all(axis=(0, 1))
                a = model.activate(act, z)
            errors = model.row_errors(metric, y[:, None], a[:, 0, :]).mean(axis=0)
            value = np.sqrt(errors) if metric == "rmse" else errors
        value[bad | ~np.isfinite(value)] = np.inf
        out[start:start + chunk] = value
    return out


def _moves(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid moves tried from a rounded point: one weight by +-1, 2, 4 ... 1024 steps; else two by +-1 each."""
    eye = np.eye(size)
    singles = [eye[p] * sign * 2.0**k for p in range(size) for sign in (1, -1) for k in range(11)]
    pairs = [eye[p] * sp + eye[q] * sq for p, q in combinations(range(size), 2) for sp in (1, -1) for sq in (1, -1)]
    return np.array(singles), np.array(pairs).reshape(-1, size)


def _balanced(stack: _Stack, raw: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The same functions with every ReLU or linear hidden neuron rescaled to round well.

    Such a neuron computes the same thing with its incoming weights times c and its outgoing ones
    divided by c. Rounding its incoming weights moves the output by about |w_out| * q * |inputs| / c,
    rounding its outgoing ones by about q * |activation| * c: c = sqrt(|w_out| * |inputs| / |activation|)
    makes the two equal, so neither a tiny weight (0.0169 * area) nor a huge one dominates the error.
    """
    theta = raw.copy()
    for layer, act in enumerate(stack.acts[:-1]):
        if act not in ("relu", "linear"):
            continue
        w, b, fan_in, fan_out = stack.shapes[layer]
        w_next, _, _, next_out = stack.shapes[layer + 1]
        _, outs = stack.forward(theta, X)
        feeding = np.broadcast_to(outs[layer], (*outs[layer + 1].shape[:2], fan_in))  # (M, N, fan_in)
        inputs = np.sqrt(np.mean(np.sum(feeding**2, axis=2) + 1, axis=1))  # (M,)
        activation = np.sqrt(np.mean(outs[layer + 1] ** 2, axis=1))  # (M, fan_out)
        out_weights = theta[:, w_next].reshape(-1, fan_out, next_out)
        out_norm = np.linalg.norm(out_weights, axis=2)  # (M, fan_out)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.sqrt(out_norm * inputs[:, None] / activation)
        c[~np.isfinite(c) | (c == 0)] = 1.0
        theta[:, w] = (theta[:, w].reshape(-1, fan_in, fan_out) * c[:, None, :]).reshape(-1, fan_in * fan_out)
        theta[:, b] *= c
        theta[:, w_next] = (out_weights / c[:, :, None]).reshape(-1, fan_out * next_out)
    return theta


def _round_and_refine(stack: _Stack, raw: np.ndarray, X: np.ndarray, y: np.ndarray, metric: str,
                      decimals: int, rounds: int = 1000) -> np.ndarray:
    """Round each candidate (M, P) to the grid, then walk it downhill on the grid while the loss falls.

    Each round takes the best single-weight move for every candidate still improving; only a candidate
    no single move improves tries the pair moves (most rounds never need their many candidates).
    """
    scale = 10.0**decimals
    grid = np.round(raw * scale) + 0.0  # integers: the weight is grid / scale (+ 0.0 turns -0 into 0)
    current = _batch_metric(stack, grid / scale, X, y, metric)
    size = max(1.0, float(np.sqrt(np.mean(y * y))))
    negligible = (1e-12 * size) ** 2 if metric == "mse" else 1e-12 * size  # as good as a sheet can tell
    singles, pairs = _moves(stack.size)
    active, use_pairs = np.flatnonzero(current > negligible), np.zeros(len(grid), dtype=bool)
    for _ in range(rounds):
        for moves, who in ((singles, active[~use_pairs[active]]), (pairs, active[use_pairs[active]])):
            if not len(who) or not len(moves):
                continue
            candidates = grid[who, None, :] + moves[None]  # (M, C, P)
            m, c = candidates.shape[:2]
            values = _batch_metric(stack, (candidates / scale).reshape(m * c, -1), X, y, metric).reshape(m, c)
            pick = values.argmin(axis=1)
            best = values[np.arange(m), pick]
            better = best < current[who] * (1 - 1e-12)
            grid[who[better]] = candidates[better, pick[better]] + 0.0
            current[who[better]] = best[better]
            active = np.setdiff1d(active, who[better & (best <= negligible)])
            if moves is singles:
                use_pairs[who[~better]] = True  # stuck for single moves: try pairs next round
            else:
                use_pairs[who[better]] = False  # a pair move helped: single moves may help again
                active = np.setdiff1d(active, who[~better])  # stuck for both: done
        if not len(active):
            break
    return grid / scale  # k / 10**N is the double nearest the decimal a student types


def default_starts(assignment: Assignment) -> int:
    """64 starts for a classroom data set, fewer (at least 8) where one step over all rows is big."""
    size = len(assignment.network.parameter_names())
    return int(np.clip(_BUDGET // (4 * max(1, len(assignment.data.rows)) * size), 8, 64))


def solve(assignment: Assignment, *, starts: int | None = None, steps: int | None = None, seed: int = 0,
          decimals: int | None = None, progress: Callable[[float], None] | None = None,
          enough: float | None = None) -> Solution:
    """Best weights found from `starts` random starts (same seed, same answer).

    `steps` is Levenberg-Marquardt iterations per start (default 150: most starts settle within 50).
    `decimals` rounds the answer to what a student would type, refined on that grid. `progress` is
    called with the fraction of the training done, from 0 to 1.

    `enough` stops the training as soon as one start's weights, scored as the sheet scores them
    (`model.loss`, every sigmoid in range), reach that Improvement: the answer is then that start's, at
    least `enough` but not necessarily the best. `manualml generate` only asks whether full marks are
    within reach, which two or three steps usually show, where the 150 steps take 40 ms before the first
    workbook is written. A start never loses ground (a step is kept only if its error fell), so the full
    solve would have found at least as good; when no start gets there, the answer is the full solve's.
    """
    net, data = assignment.network, assignment.data
    if decimals is not None and not 0 <= decimals <= MAX_DECIMALS:
        raise SolveError(f"decimals must be 0 to {MAX_DECIMALS}, not {decimals}")
    if decimals is not None and enough is not None:
        raise SolveError("enough stops at the first good start; rounding to decimals refines the best ones")
    starts = default_starts(assignment) if starts is None else starts
    if starts < 1:
        raise SolveError(f"starts must be at least 1, not {starts}")
    squared = assignment.metric in ("rmse", "mse")
    steps = 150 if steps is None else steps
    X, y = data.X, data.y
    scaling = _Scaling.of(X, y, scale_y=net.output_activation == "linear")
    Xs, ys = (X - scaling.x_mean) / scaling.x_sd, (y - scaling.y_mean) / scaling.y_sd
    stack = _Stack(net)
    theta = stack.initial(np.random.default_rng(seed), starts)
    chunk = max(1, min(starts, _BUDGET // (len(y) * stack.size)))
    batches = range(0, starts, chunk)
    done, total = 0, len(batches) * steps

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % max(1, total // 100) == 0 or done == total):
            progress(done / total)

    baseline = model.loss(assignment)
    found: list[dict[str, float]] = []

    def reached(part: np.ndarray, error: np.ndarray) -> bool:
        """Does the start with the least training error reach `enough`, as the sheet scores it?"""
        best = int(np.argmin(error))
        estimate = scaling.metric(assignment.metric, float(error[best]), len(y))
        if not np.isfinite(error[best]) or model.improvement(baseline, estimate) < enough - 1e-6:
            return False  # not even close: the sheet's arithmetic is not asked
        raw = scaling.to_raw(stack, part[best:best + 1])
        weights = stack.names(raw[0])
        value = model.loss(assignment, weights)
        if stack.out_of_range(stack.forward(raw, X)[0])[0] or not np.isfinite(value) or \
                model.improvement(baseline, value) < enough:
            return False
        found.append(weights)
        return True

    trained = []
    for start in batches:
        part = theta[start:start + chunk]
        trained.append(_levenberg_marquardt(stack, part, Xs, ys, steps, tick, absolute=not squared,
                                            stop=None if enough is None else reached)[0])
        if found:
            current = model.loss(assignment, found[0])
            return Solution(weights=found[0], metric=current, baseline=baseline,
                            improvement=model.improvement(baseline, current), starts=starts)
    raw = scaling.to_raw(stack, np.concatenate(trained))
    losses = np.array([model.loss(assignment, stack.names(t)) for t in raw])
    losses[~np.isfinite(losses) | stack.out_of_range(stack.forward(raw, X)[0])] = np.inf
    if not np.isfinite(losses).any():
        raise SolveError(f"{assignment.id}: training diverged from every one of {starts} starts")
    order = np.argsort(losses, kind="stable")
    if decimals is None:
        weights = stack.names(raw[order[0]])
    else:
        finite = order[np.isfinite(losses[order])]
        top = raw[finite[:8]]
        rounded = _round_and_refine(stack, np.concatenate([top, _balanced(stack, top, X)]), X, y,
                                    assignment.metric, decimals)
        candidates = [stack.names(t) for t in rounded]
        weights = min(candidates, key=lambda w: model.loss(assignment, w))
    current = model.loss(assignment, weights)
    return Solution(weights=weights, metric=current, baseline=baseline,
                    improvement=model.improvement(baseline, current), starts=starts, decimals=decimals)
