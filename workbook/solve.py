"""The reference solution: how good can this network get on this data?

Instructors use it to set a rubric a student can actually reach. Training is plain NumPy:
full-batch Adam with backpropagation from many random starts (deterministic for a seed),
on standardised inputs (and targets, for a linear output), mapped back to the raw units the
sheet uses. The best start is then polished with a few thousand smaller steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from workbook import model
from workbook.network import Network
from workbook.spec import Assignment

_DERIVATIVES = {
    "relu": lambda z, a: (z > 0).astype(float),
    "sigmoid": lambda z, a: a * (1 - a),
    "tanh": lambda z, a: 1 - a * a,
    "linear": lambda z, a: np.ones_like(z),
    "step": lambda z, a: np.zeros_like(z),
}


@dataclass(frozen=True)
class Solution:
    """The best weights found and what they score."""

    weights: dict[str, float]
    metric: float
    baseline: float
    improvement: float
    starts: int


def _init(network: Network, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    sizes = (network.n_inputs, *network.hidden, 1)
    return [(rng.normal(0, np.sqrt(2 / fan_in), size=(fan_in, fan_out)), rng.normal(0, 0.1, size=fan_out))
            for fan_in, fan_out in pairwise(sizes)]


def _acts(network: Network) -> list[str]:
    return [*network.activations, network.output_activation]


def _train(network, params, X, y, metric, steps, lr):
    acts = _acts(network)
    m = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    v = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        zs, outs = [], [X]
        for (w, b), act in zip(params, acts, strict=True):
            z = outs[-1] @ w + b
            zs.append(z)
            outs.append(model.activate(act, z))
        pred = outs[-1][:, 0]
        diff = pred - y
        grad = (np.sign(diff) if metric == "mae" else 2 * diff) / len(y)
        delta = grad[:, None] * _DERIVATIVES[acts[-1]](zs[-1], outs[-1])
        step_lr = lr * (0.1 ** (t / steps))  # decay towards the end: settle into the minimum
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            gw, gb = outs[i].T @ delta, delta.sum(axis=0)
            if i:
                delta = (delta @ w.T) * _DERIVATIVES[acts[i - 1]](zs[i - 1], outs[i])
            (mw, mb), (vw, vb) = m[i], v[i]
            mw, mb = b1 * mw + (1 - b1) * gw, b1 * mb + (1 - b1) * gb
            vw, vb = b2 * vw + (1 - b2) * gw * gw, b2 * vb + (1 - b2) * gb * gb
            m[i], v[i] = (mw, mb), (vw, vb)
            corr = np.sqrt(1 - b2**t) / (1 - b1**t)
            params[i] = (w - step_lr * corr * mw / (np.sqrt(vw) + eps), b - step_lr * corr * mb / (np.sqrt(vb) + eps))
    return params


def _to_names(network: Network, params, x_mean, x_sd, y_mean, y_sd) -> dict[str, float]:
    """Undo the standardisation: fold it into the first layer's and the output's weights."""
    params = [(w.copy(), b.copy()) for w, b in params]
    w0, b0 = params[0]
    params[0] = (w0 / x_sd[:, None], b0 - (x_mean / x_sd) @ w0)
    wl, bl = params[-1]
    params[-1] = (wl * y_sd, bl * y_sd + y_mean)
    names = {}
    for layer, (w, b) in zip(network.layers, params, strict=True):
        for j, neuron in enumerate(layer):
            for i, src in enumerate(neuron.sources):
                names[neuron.weight_name(src)] = float(w[i, j])
            names[neuron.bias_name] = float(b[j])
    return names


def solve(assignment: Assignment, *, starts: int = 20, steps: int = 3000, seed: int = 0,
          lr: float = 0.05) -> Solution:
    """Best weights found from `starts` random starts (same seed, same answer)."""
    net, data = assignment.network, assignment.data
    X, y = data.X, data.y
    x_mean, x_sd = X.mean(axis=0), X.std(axis=0)
    x_sd[x_sd == 0] = 1.0
    scale_y = net.output_activation == "linear"
    y_mean, y_sd = (y.mean(), y.std() or 1.0) if scale_y else (0.0, 1.0)
    Xs, ys = (X - x_mean) / x_sd, (y - y_mean) / y_sd
    rng = np.random.default_rng(seed)
    best, best_loss = None, np.inf
    for _ in range(starts):
        params = _train(net, _init(net, rng), Xs, ys, assignment.metric, steps, lr)
        weights = _to_names(net, params, x_mean, x_sd, y_mean, y_sd)
        current = model.loss(assignment, weights)
        if np.isfinite(current) and current < best_loss:
            best, best_loss = params, current
    if best is None:
        raise ValueError("training diverged from every start")
    polished = _train(net, [(w.copy(), b.copy()) for w, b in best], Xs, ys, assignment.metric, steps * 2, lr / 10)
    weights = _to_names(net, polished, x_mean, x_sd, y_mean, y_sd)
    if model.loss(assignment, weights) > best_loss:
        weights = _to_names(net, best, x_mean, x_sd, y_mean, y_sd)
    current = model.loss(assignment, weights)
    baseline = model.loss(assignment)
    return Solution(weights=weights, metric=current, baseline=baseline,
                    improvement=model.improvement(baseline, current), starts=starts)
