"""Feedback from the model: every sentence on a constructed case, with its exact words."""

from __future__ import annotations

import pytest

from grader import advice
from grader.grade import grade_file
from grader.report import feedback, write_feedback
from tests.submissions import GOOD
from workbook import model
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.roster import variant
from workbook.spec import parse_template


def tiny(hidden=(), act="relu", weights=None, metric="rmse", rows=((1, 4), (2, 5), (3, 6))):
    """One input x, target y = x + 3 (by default): small enough to check every number by hand."""
    given = "\n".join(f"{k} = {v}" for k, v in weights.items())
    return parse_template(f"""
[assignment]
id = "tiny"
title = "Tiny"
[data]
rows = [{", ".join(f"[{x}, {y}]" for x, y in rows)}]
inputs = [{{ label = "x" }}]
target = {{ label = "y" }}
[network]
hidden = {list(hidden)}
activations = "{act}"
[weights]
{given}
[metric]
name = "{metric}"
""")


def said(assignment, weights=None):
    return [(t.code, t.message) for t in advice.advise(assignment, weights or assignment.weights)]


LINE = {"w_in1_out": 1, "b_out": 0}  # y = x + 3, prediction x: 3 too low on every row
ONE = {"w_in1_h1": 1, "b_h1": 0, "w_h1_out": 1, "b_out": 0}


def test_the_weights_that_help_most_and_the_standing():
    # b_out = 3 fits exactly; w_in1_out alone at 2.3: predictions 2.3, 4.6, 6.9 -> RMSE sqrt(3.86/3) = 1.134
    assert said(tiny(weights=LINE)) == [
        ("move-weight", "The change that helps most: increase b_out (now 0). On its own, moving it to about 3 brings "
                        "your RMSE from 3 down to 0."),
        ("move-weight", "Next: increase w_in1_out (now 1); moving it alone to about 2.3 brings your RMSE down to "
                        "1.134."),
        ("standing", "Your RMSE (3) is no better than predicting the average for every row (0.8165); the best this "
                     "network reaches (manualml solve) is almost 0."),
    ]


def test_decrease_is_named_as_such():
    tips = said(tiny(weights={"w_in1_out": 1, "b_out": 5}))
    assert tips[0] == ("move-weight", "The change that helps most: decrease b_out (now 5). On its own, moving it to "
                                      "about 3 brings your RMSE from 2 down to 0.")


def test_standing_part_way_and_at_the_best():
    a = tiny(weights=LINE)
    # RMSE 0.5 against the average's sqrt(2/3) = 0.8165 and a best of 0: (0.8165 - 0.5) / 0.8165 = 39 %
    assert said(a, {"w_in1_out": 1, "b_out": 2.5})[-1] == (
        "standing", "You are 39% of the way from predicting the average for every row (RMSE 0.8165) to the best this "
                    "network reaches (RMSE almost 0, found by manualml solve).")
    assert said(a, {"w_in1_out": 1, "b_out": 3}) == [
        ("standing", "You are at the best this network reaches (RMSE almost 0, found by manualml solve): excellent "
                     "work.")]


def test_standing_without_a_solve_and_with_a_real_best():
    a = tiny(weights=LINE)
    refs = advice.References(baseline=3.0, average=advice.average_loss(a), best=None)
    tip = advice.advise(a, {"w_in1_out": 1, "b_out": 2.5}, refs)[-1]
    assert tip.message == "Your RMSE (0.5) beats predicting the average for every row (0.8165)."
    refs = advice.References(baseline=3.0, average=advice.average_loss(a), best=0.25)  # 0.3165 / 0.5665
    tip = advice.advise(a, {"w_in1_out": 1, "b_out": 2.5}, refs)[-1]
    assert tip.message == ("You are 56% of the way from predicting the average for every row (RMSE 0.8165) to the "
                           "best this network reaches (RMSE about 0.25, found by manualml solve).")


def test_dead_relu_and_constant_predictor():
    a = tiny([1], weights={"w_in1_h1": -1, "b_h1": 0, "w_h1_out": 2, "b_out": 1})  # z = -x <= 0 on every row
    assert said(a)[:2] == [
        ("constant", "Your network predicts the same value, 1, for every row: it is a constant predictor and cannot "
                     "tell the rows apart. The best constant is the average, 5 (RMSE 0.8165); to do better, the "
                     "inputs must reach the output."),
        ("dead-neuron", "h1 is switched off: its weighted sum is 0 or below on every row, so ReLU(h1) is 0 "
                        "everywhere and w_h1_out has no effect. Raise b_h1 (now 0) or its input weights until h1 is "
                        "positive on some rows."),
    ]


def test_dead_neuron_with_several_outgoing_weights():
    exam = load("exam-pass")  # its starting h1_4 is dead on all ten students
    dead = [m for c, m in said(exam) if c == "dead-neuron"]
    assert dead == ["h1_4 is switched off: its weighted sum is 0 or below on every row, so ReLU(h1_4) is 0 everywhere "
                    "and w_h1_4_h2_1, w_h1_4_h2_2 and w_h1_4_h2_3 have no effect. Raise b_h1_4 (now 0.01) or its "
                    "input weights until h1_4 is positive on some rows."]


def test_wrong_sign():
    a = tiny([1], weights=ONE)
    assert said(a, {**ONE, "w_h1_out": -2})[0] == (
        "wrong-sign", "All 3 of your predictions are negative, but every true value is positive: the output bias "
                      "b_out and the output weights decide the sign of every prediction.")
    # 3, 1, -1: one wrong of three is not "wrong sign". Alone, w_h1_out's best is sum(x(y-5))/sum(x^2) = 2/14:
    # 0.14 leaves errors 1.14, 0.28, -0.58, RMSE sqrt(1.7144/3) = 0.756
    assert said(a, {**ONE, "w_h1_out": -2, "b_out": 5})[0] == (
        "move-weight", "The change that helps most: increase w_h1_out (now -2). On its own, moving it to about 0.14 "
                       "brings your RMSE from 4.69 down to 0.756.")
    b = tiny([1], weights=ONE, rows=((1, -4), (2, -5), (3, -6)))
    assert said(b, {**ONE, "b_out": 1.5})[0] == (  # 2.5, 3.5, 4.5 against negative targets
        "wrong-sign", "All 3 of your predictions are positive, but every true value is negative: the output bias "
                      "b_out and the output weights decide the sign of every prediction.")


def test_wrong_scale_both_ways():
    a = tiny([1], weights=ONE)
    assert said(a, {**ONE, "w_h1_out": 40})[0] == (  # 40, 80, 120 against 4, 5, 6
        "wrong-scale", "Your predictions are about 16 times too large: 80 on average (ignoring sign) against a true "
                       "average of 5.")
    assert said(a, {**ONE, "w_h1_out": 0.1})[0] == (
        "wrong-scale", "Your predictions are about 25 times too small: 0.2 on average (ignoring sign) against a true "
                       "average of 5.")
    assert [c for c, _ in said(a, {**ONE, "w_h1_out": 2})] == ["move-weight", "move-weight", "standing"]


@pytest.mark.parametrize(("act", "w", "b", "stuck"), [("sigmoid", 10, 0, "1"), ("sigmoid", -10, 0, "0"),
                                                      ("tanh", -10, 0, "-1"), ("tanh", 10, -25, "-1 or 1")])
def test_saturated_neurons(act, w, b, stuck):
    a = tiny([1], act, weights={"w_in1_h1": w, "b_h1": b, "w_h1_out": 2, "b_out": 1})
    assert (f"h1's {act} is saturated: on every row it gives almost exactly {stuck}, so small changes to its weights "
            "(w_in1_h1, b_h1) barely move the prediction. Make them smaller so h1 works in its sloped middle "
            "range.") in [m for c, m in said(a) if c == "saturated"]
    unsaturated = tiny([1], act, weights={"w_in1_h1": 0.5, "b_h1": -1, "w_h1_out": 2, "b_out": 1})
    assert "saturated" not in [c for c, _ in said(unsaturated)]


def test_mae_and_overflow():
    assert said(tiny(weights=LINE, metric="mae"))[1:] == [
        ("move-weight", "Next: increase w_in1_out (now 1); moving it alone to about 2 brings your MAE down to 1."),
        ("standing", "Your MAE (3) is no better than predicting the average for every row (0.6667); the best this "
                     "network reaches (manualml solve) is almost 0."),
    ]
    a = tiny([1], "sigmoid", weights={"w_in1_h1": 1, "b_h1": 0, "w_h1_out": 1e308, "b_out": 1e308})
    assert said(a) == [("overflow", "Your predictions overflow (some are infinite or not a number): a weight is far "
                                    "too large. Go back to smaller weights and change them a little at a time.")]


def test_lecture_sheet_at_the_start_and_at_good_weights():
    hp = load("house-prices")  # the lecture's weights predict -4 - 9*ReLU(h2) + ...: all six prices negative
    assert said(hp)[0] == ("wrong-sign", "All 6 of your predictions are negative, but every true value is positive: "
                                         "the output bias b_out and the output weights decide the sign of every "
                                         "prediction.")
    assert said(hp, GOOD) == [
        ("dead-neuron", "h2 is switched off: its weighted sum is 0 or below on every row, so ReLU(h2) is 0 everywhere "
                        "and w_h2_out has no effect. Raise b_h2 (now 0) or its input weights until h2 is positive on "
                        "some rows."),
        ("move-weight", "The change that helps most: increase w_in1_h1 (now 1). On its own, moving it to about 1.03 "
                        "brings your RMSE from 28.03 down to 25.87."),
        ("move-weight", "Next: increase w_h1_out (now 3.2); moving it alone to about 3.3 brings your RMSE down to "
                        "25.9."),
        ("standing", "You are 87% of the way from predicting the average for every row (RMSE 221.7) to the best this "
                     "network reaches (RMSE almost 0, found by manualml solve)."),
        ("hidden", "On the 4 hidden houses (not in your workbook) your RMSE is 38.15 (28.03 on your sheet): no "
                   "sign of overfitting."),
    ]
    assert model.loss(hp, {**GOOD, "w_in1_h1": 1.03}) == pytest.approx(25.87, abs=0.005)


@pytest.mark.parametrize("name", ["house-prices", "house-prices-sigmoid", "house-prices-linear", "exam-pass"])
@pytest.mark.parametrize("metric", ["rmse", "mse", "mae"])
def test_gradient_equals_central_difference(name, metric):
    from dataclasses import replace

    a = replace(load(name), metric=metric)
    weights = {k: v + 0.01 * i for i, (k, v) in enumerate(a.weights.items())}  # off the issued point, too
    for w in (a.weights, weights):
        grad = advice.gradient(a, w)
        assert list(grad) == a.network.parameter_names()
        for k, g in grad.items():
            h = 1e-6 * max(1.0, abs(w[k]))
            numeric = (model.loss(a, {**w, k: w[k] + h}) - model.loss(a, {**w, k: w[k] - h})) / (2 * h)
            assert g == pytest.approx(numeric, rel=1e-5, abs=1e-7), k


def test_variants_share_one_solve(monkeypatch):
    calls = []
    real = advice.best_loss

    def counting(a):
        calls.append(a)
        return real(a)

    monkeypatch.setattr(advice, "best_loss", counting)
    from dataclasses import replace

    base = replace(load("house-prices"), target_noise=0.05)
    students = [variant(base, sid) for sid in ("s1", "s2", "s3")]
    assert len({s.data.y.tobytes() for s in students}) == 3
    refs = advice.class_references(students)
    assert len(calls) == 1 and len({r.best for r in refs}) == 1
    assert [r.average for r in refs] == [advice.average_loss(s) for s in students]


def test_feedback_file_carries_the_model_section(tmp_path):
    hp = load("house-prices")
    path = build_workbook(hp, tmp_path / "ada.xlsx", weights=GOOD)
    result = grade_file(path, hp)
    text = feedback(result, hp)
    assert ("## What your network is doing\n- h2 is switched off: its weighted sum is 0 or below on every row, so "
            "ReLU(h2) is 0 everywhere and w_h2_out has no effect.") in text
    assert text.index("## What your network is doing") < text.index("## What to try next")
    (written,) = write_feedback([result], [hp], tmp_path / "fb")
    assert "- You are 87% of the way from predicting the average" in written.read_text()
