"""The NumPy model reproduces the lecture's sheet, number for number."""

from __future__ import annotations

import numpy as np
import pytest

from workbook import model
from workbook.catalog import load
from workbook.network import Network

LECTURE = {
    "h1": [424, 606, 299, 1263, 456, 374],
    "h2": [339, 480, 239, 1001, 360, 299],
    "pred": [-2207, -3112, -1557, -6487, -2332, -1947],
    "se": [5_793_649, 11_985_444, 2_745_649, 52_374_169, 6_285_049, 4_355_569],
}


def test_lecture_forward_pass():
    a = load("house-prices")
    fwd = model.forward(a.network, a.weights, a.data.X)
    assert fwd.z["h1"].tolist() == LECTURE["h1"]
    assert fwd.a["h1"].tolist() == LECTURE["h1"]  # ReLU(h1) the same: all positive
    assert fwd.z["h2"].tolist() == LECTURE["h2"]
    assert fwd.prediction.tolist() == LECTURE["pred"]
    assert model.row_errors("rmse", a.data.y, fwd.prediction).tolist() == LECTURE["se"]
    rmse = model.loss(a)
    assert round(rmse) == 3731
    assert rmse == pytest.approx(np.sqrt(np.mean(LECTURE["se"])), rel=1e-15)
    assert model.improvement(rmse, rmse) == 0.0


def test_activations():
    z = np.array([-0.19, 0.0, 2.0])
    assert model.activate("relu", z).tolist() == [0.0, 0.0, 2.0]  # the lecture's f(-0.19) = 0
    assert model.activate("sigmoid", np.array([0.0]))[0] == 0.5  # the lecture's f(0) = 0.5
    assert model.activate("step", z).tolist() == [0.0, 1.0, 1.0]
    assert model.activate("tanh", z)[2] == pytest.approx(np.tanh(2.0))
    assert model.activate("linear", z).tolist() == z.tolist()
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        model.activate("swish", z)


def test_linear_collapse_from_the_lecture():
    """out = 2*(5*in1 - 8) - 4 = 10*in1 - 20: two linear layers are one."""
    net = Network(n_inputs=1, hidden=(1,), activations=("linear",))
    w = {"w_in1_h1": 5, "b_h1": -8, "w_h1_out": 2, "b_out": -4}
    x = np.array([[-3.0], [0.0], [1.5], [7.0]])
    assert model.forward(net, w, x).prediction.tolist() == (10 * x[:, 0] - 20).tolist()


def test_metrics_and_improvement():
    y = np.array([1.0, 2.0, 4.0])
    p = np.array([2.0, 2.0, 1.0])
    assert model.metric_value("mse", y, p) == pytest.approx(10 / 3)
    assert model.metric_value("rmse", y, p) == pytest.approx(np.sqrt(10 / 3))
    assert model.metric_value("mae", y, p) == pytest.approx(4 / 3)
    assert model.improvement(100.0, 25.0) == 0.75
    assert model.improvement(0.0, 0.0) == 0.0
    assert model.improvement(0.0, 1.0) == float("-inf")
