"""The NumPy model: the same math as the sheet's formulas, in the same order.

Each weighted sum is accumulated left to right exactly as the cell formula reads
(``w1*a1 + w2*a2 + ... + b``), so NumPy and a spreadsheet agree to the last bits that
matter. The generator uses this for the baseline; the grader uses it to grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbook.network import Network


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Apply an activation; `step` is 1 at z >= 0, like the perceptron's threshold."""
    if name == "relu":
        return np.maximum(0.0, z)
    if name == "sigmoid":  # the sheet's overflow-safe form: exp only of a non-positive number
        z = np.asarray(z, dtype=float)
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "step":
        return np.where(z >= 0, 1.0, 0.0)
    if name == "linear":
        return z
    raise ValueError(f"unknown activation {name!r}")


@dataclass(frozen=True)
class Forward:
    """Every intermediate column the sheet shows, keyed by neuron label."""

    z: dict[str, np.ndarray]  # weighted sum (the "h1" column)
    a: dict[str, np.ndarray]  # after activation (the "ReLU(h1)" column)

    @property
    def prediction(self) -> np.ndarray:
        return self.a["out"]


def _parameter(value) -> float | np.ndarray:
    """A weight as the model uses it: a float, or an array of candidate values (shape K x 1) kept as it is."""
    return value if isinstance(value, np.ndarray) else float(value)


def forward(network: Network, weights: Mapping[str, float], X: np.ndarray) -> Forward:
    """Run the network on every row of X (shape rows x inputs).

    A weight given as a K x 1 array runs K networks at once (every column then has K rows of values),
    which is how the grader's advice tries many values of one weight in a single pass.
    """
    X = np.asarray(X, dtype=float)
    values = {label: X[:, i] for i, label in enumerate(network.input_labels)}
    zs, acts = {}, {}
    with np.errstate(over="ignore", invalid="ignore"):
        for neuron in network.neurons:
            total = None
            for source in neuron.sources:
                term = _parameter(weights[neuron.weight_name(source)]) * values[source]
                total = term if total is None else total + term
            z = total + _parameter(weights[neuron.bias_name])
            zs[neuron.label] = z
            acts[neuron.label] = values[neuron.label] = activate(neuron.activation, z)
    return Forward(z=zs, a=acts)


def forward_each(network: Network, weights: Sequence[Mapping[str, float]], X: np.ndarray) -> list[Forward]:
    """`forward` of each of several weight sets over the same X, in one pass (the K x 1 form): a class set's
    students share their data's inputs, and one pass for a hundred of them costs about what two single
    passes do. Every operation is elementwise and in the same order, so each result is bit for bit that
    of its own pass (tested on every built-in network)."""
    if not weights:
        return []
    stacked = {name: np.array([float(w[name]) for w in weights]).reshape(-1, 1) for name in weights[0]}
    many = forward(network, stacked, X)
    return [Forward(z={label: z[k] for label, z in many.z.items()}, a={label: a[k] for label, a in many.a.items()})
            for k in range(len(weights))]


def row_errors(metric: str, y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """The per-row error column: squared for rmse/mse, absolute for mae."""
    diff = prediction - y
    with np.errstate(over="ignore", invalid="ignore"):
        return np.abs(diff) if metric == "mae" else diff * diff


def metric_value(metric: str, y: np.ndarray, prediction: np.ndarray) -> float:
    """The loss the sheet shows: RMSE, MSE or MAE over all rows."""
    return metric_of_errors(metric, row_errors(metric, y, prediction))


def metric_of_errors(metric: str, errors: np.ndarray) -> float:
    """`metric_value` from the per-row errors `row_errors` gave (a sheet's error column holds them too)."""
    mean = float(np.mean(errors))
    return float(np.sqrt(mean)) if metric == "rmse" else mean


def improvement(baseline: float, current: float) -> float:
    """(baseline - current) / baseline, the sheet's Improvement cell."""
    if baseline == 0:
        return 0.0 if current == 0 else float("-inf")
    return (baseline - current) / baseline


def truncate(value: float, digits: int) -> float:
    """A spreadsheet's TRUNC(value, digits): cut toward zero after `digits` decimals.

    Like LibreOffice, Gnumeric and Excel, the scaled value is first rounded to 15 significant digits, so
    0.29 cut to 4 digits stays 0.29 (0.29 * 10**4 is 2899.9999999999995 in binary).
    """
    if not math.isfinite(value):
        return value
    scale = 10.0**digits
    scaled = float(f"{abs(value) * scale:.15g}")
    return math.copysign(math.floor(scaled) / scale, value)


def loss(assignment, weights: Mapping[str, float] | None = None) -> float:
    """The assignment's metric at `weights` (default: its starting weights), from its own data."""
    data = assignment.data
    fwd = forward(assignment.network, assignment.weights if weights is None else weights, data.X)
    return metric_value(assignment.metric, data.y, fwd.prediction)


# --------------------------------------------------------------------------- gradients (backpropagation)


def activation_slope(name: str, z: np.ndarray, a: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """f'(z) times the error arriving from above, the way the Gradients sheet writes it.

    ReLU's slope is 1 for z > 0 and 0 for z <= 0 (0 at exactly z = 0, the convention of PyTorch and
    TensorFlow); step's is 0 everywhere (flat on both sides, undefined at 0), so nothing flows back
    through a step neuron. Sigmoid and tanh use their outputs (a·(1 − a), 1 − a²), which never overflow.
    """
    if name == "relu":
        return np.where(z > 0, upstream, 0.0)
    if name == "sigmoid":
        return a * (1.0 - a) * upstream
    if name == "tanh":
        return (1.0 - a * a) * upstream
    if name == "step":
        return np.zeros_like(upstream)
    if name == "linear":
        return upstream
    raise ValueError(f"unknown activation {name!r}")


def loss_slope(metric: str, y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """∂(metric)/∂(prediction of each row).

    mse: 2·(ŷ − y)/N; rmse: (ŷ − y)/(N·RMSE), 0 when RMSE is 0 (the minimum, where it has no slope);
    mae: sign(ŷ − y)/N, 0 for a row predicted exactly.
    """
    n = len(y)
    diff = prediction - y
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if metric == "mse":
            return 2.0 * diff / n
        if metric == "mae":
            return np.sign(diff) / n
        if metric == "rmse":
            rmse = metric_value("rmse", y, prediction)
            return np.zeros_like(diff) if rmse == 0 else diff / (n * rmse)
    raise ValueError(f"unknown metric {metric!r}")


@dataclass(frozen=True)
class Backward:
    """Backpropagation's per-row columns and the gradient they add up to."""

    forward: Forward
    dpred: np.ndarray  # ∂(metric)/∂(prediction), per row
    delta: dict[str, np.ndarray]  # ∂(metric)/∂z per neuron, per row
    gradient: dict[str, float]  # parameter name -> ∂(metric)/∂(parameter), network order


def backprop(network: Network, weights: Mapping[str, float], X: np.ndarray, y: np.ndarray,
             metric: str) -> Backward:
    """The analytic gradient by the chain rule, output layer first, exactly as the sheets compute it.

    δ_out = ∂metric/∂ŷ · f'(z_out); δ_j = f'(z_j) · Σ_k w_jk · δ_k over the neurons k that j feeds
    (summed in the order of the sheet's formula); ∂metric/∂w_ij = Σ_rows δ_j · a_i; ∂metric/∂b_j = Σ_rows δ_j.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    fwd = forward(network, weights, X)
    values = {label: X[:, i] for i, label in enumerate(network.input_labels)} | fwd.a
    dpred = loss_slope(metric, y, fwd.prediction)
    delta: dict[str, np.ndarray] = {}
    layers = network.layers
    with np.errstate(over="ignore", invalid="ignore"):
        for depth in range(len(layers) - 1, -1, -1):
            for neuron in layers[depth]:
                if neuron.label == "out":
                    upstream = dpred
                else:
                    upstream = None
                    for above in layers[depth + 1]:
                        term = float(weights[above.weight_name(neuron.label)]) * delta[above.label]
                        upstream = term if upstream is None else upstream + term
                delta[neuron.label] = activation_slope(neuron.activation, fwd.z[neuron.label],
                                                       fwd.a[neuron.label], upstream)
        grads: dict[str, float] = {}
        for neuron in network.neurons:
            d = delta[neuron.label]
            for source in neuron.sources:
                grads[neuron.weight_name(source)] = float(np.sum(d * values[source]))
            grads[neuron.bias_name] = float(np.sum(d))
    return Backward(forward=fwd, dpred=dpred, delta=delta, gradient=grads)


def gradient(network: Network, weights: Mapping[str, float], X: np.ndarray, y: np.ndarray,
             metric: str) -> dict[str, float]:
    """∂(metric)/∂(every weight and bias) at `weights`, by backpropagation (see `backprop`)."""
    return backprop(network, weights, X, y, metric).gradient


@dataclass(frozen=True)
class DescentStep:
    """One row of the descent sheet: the weights at step t, their loss and gradient, and η_t."""

    t: int
    eta: float  # η_t = η / (1 + decay·t), the size of the step taken from here
    weights: dict[str, float]
    loss: float
    gradient: dict[str, float]


def descend(network: Network, weights: Mapping[str, float], X: np.ndarray, y: np.ndarray, metric: str, *,
            steps: int, eta: float, decay: float = 0.0) -> list[DescentStep]:
    """Gradient descent on every weight at once: θ_{t+1} = θ_t − η_t·∇metric(θ_t), for t = 0..steps."""
    theta = {name: float(weights[name]) for name in network.parameter_names()}
    out = []
    for t in range(steps + 1):
        back = backprop(network, theta, X, y, metric)
        rate = eta / (1 + decay * t)
        out.append(DescentStep(t=t, eta=rate, weights=dict(theta),
                               loss=metric_value(metric, np.asarray(y, dtype=float), back.forward.prediction),
                               gradient=back.gradient))
        theta = {name: theta[name] - rate * back.gradient[name] for name in theta}
    return out


def average_metric(metric: str, y: np.ndarray) -> float:
    """The metric of predicting the mean target for every row: the reference a rubric can start from.

    To 15 significant digits, as a spreadsheet keeps a constant: the sheet's Points cell holds this number
    and the grader scores with the same one.
    """
    diff = np.asarray(y, dtype=float) - float(np.mean(y))
    if metric == "mae":
        value = float(np.mean(np.abs(diff)))
    else:
        mse = float(np.mean(diff ** 2))
        value = math.sqrt(mse) if metric == "rmse" else mse
    return float(f"{value:.15g}")
