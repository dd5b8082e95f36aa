"""The NumPy model: the same math as the sheet's formulas, in the same order.

Each weighted sum is accumulated left to right exactly as the cell formula reads
(``w1*a1 + w2*a2 + ... + b``), so NumPy and a spreadsheet agree to the last bits that
matter. The generator uses this for the baseline; the grader uses it to grade.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def forward(network: Network, weights: Mapping[str, float], X: np.ndarray) -> Forward:
    """Run the network on every row of X (shape rows x inputs)."""
    X = np.asarray(X, dtype=float)
    values = {label: X[:, i] for i, label in enumerate(network.input_labels)}
    zs, acts = {}, {}
    with np.errstate(over="ignore", invalid="ignore"):
        for neuron in network.neurons:
            total = None
            for source in neuron.sources:
                term = float(weights[neuron.weight_name(source)]) * values[source]
                total = term if total is None else total + term
            z = total + float(weights[neuron.bias_name])
            zs[neuron.label] = z
            acts[neuron.label] = values[neuron.label] = activate(neuron.activation, z)
    return Forward(z=zs, a=acts)


def row_errors(metric: str, y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """The per-row error column: squared for rmse/mse, absolute for mae."""
    diff = prediction - y
    with np.errstate(over="ignore", invalid="ignore"):
        return np.abs(diff) if metric == "mae" else diff * diff


def metric_value(metric: str, y: np.ndarray, prediction: np.ndarray) -> float:
    """The loss the sheet shows: RMSE, MSE or MAE over all rows."""
    mean = float(np.mean(row_errors(metric, y, prediction)))
    return float(np.sqrt(mean)) if metric == "rmse" else mean


def improvement(baseline: float, current: float) -> float:
    """(baseline - current) / baseline, the sheet's Improvement cell."""
    if baseline == 0:
        return 0.0 if current == 0 else float("-inf")
    return (baseline - current) / baseline


def loss(assignment, weights: Mapping[str, float] | None = None) -> float:
    """The assignment's metric at `weights` (default: its starting weights), from its own data."""
    data = assignment.data
    fwd = forward(assignment.network, assignment.weights if weights is None else weights, data.X)
    return metric_value(assignment.metric, data.y, fwd.prediction)
