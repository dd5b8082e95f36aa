"""Template parsing: the lecture's template, and every validation error, message for message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workbook.catalog import builtin_templates, load, load_any, resolve_template
from workbook.errors import TemplateError
from workbook.spec import draw_weights, load_template, parse_template

GOOD = textwrap.dedent("""
    [assignment]
    id = "t1"
    title = "Tiny"

    [data]
    inputs = [{ label = "x" }]
    target = { label = "y" }
    rows = [[1, 2], [2, 4], [3, 7]]

    [network]
    hidden = []

    [weights]
    w_in1_out = 1
    b_out = 0
    """)


def test_house_prices_is_the_lecture_sheet():
    a = load("house-prices")
    assert a.network.shape == "2-2-1"
    assert a.data.X.tolist() == [[85, 1], [120, 2], [60, 1], [250, 3], [90, 2], [75, 1]]
    assert a.data.y.tolist() == [200, 350, 100, 750, 175, 140]
    assert dict(a.weights) == {"w_in1_h1": 5, "w_in2_h1": 7, "b_h1": -8, "w_in1_h2": 4, "w_in2_h2": 1,
                               "b_h2": -2, "w_h1_out": 2, "w_h2_out": -9, "b_out": -4}
    assert a.metric == "rmse"
    assert a.label("prediction") == "Predicted House Price"
    assert a.label("baseline") == "Baseline RMSE"


def test_builtins_all_validate_and_default_first():
    names = [t.name for t in builtin_templates()]
    assert names[0] == "house-prices"
    assert {"house-prices", "house-prices-linear", "house-prices-sigmoid", "exam-pass"} <= set(names)
    for t in builtin_templates():
        assert load_any(t.name).id == t.name
        assert t.description


def test_csv_data_and_mixed_weights():
    a = load("exam-pass")
    assert a.network.shape == "3-4-3-1"
    assert a.data.X.shape == (10, 3)
    assert a.data.X[1].tolist() == [9, 8, 10]
    assert a.weights["w_in1_h1_1"] == 0.5 and a.weights["b_out"] == 0
    assert set(a.explicit_weights) == {"w_in1_h1_1", "b_out"}
    assert len(a.weights) == 4 * 4 + 3 * 5 + 4


def test_random_weights_are_reproducible_and_per_student():
    a = load("house-prices-sigmoid")
    again = load("house-prices-sigmoid")
    assert a.weights == again.weights
    assert all(-2 <= v <= 2 for k, v in a.weights.items() if k != "b_out")
    assert all(round(v, 2) == v for v in a.weights.values())
    s1 = draw_weights(a.network, {"b_out": 100}, a.random_init, salt="s001")
    s2 = draw_weights(a.network, {"b_out": 100}, a.random_init, salt="s002")
    assert s1 != s2 and s1 == draw_weights(a.network, {"b_out": 100}, a.random_init, salt="s001")


def test_resolve_path_and_unknown_name(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(GOOD)
    assert resolve_template(str(p)) == p
    assert load(str(p)).title == "Tiny"
    with pytest.raises(TemplateError) as err:
        resolve_template("no-such-thing")
    assert str(err.value).startswith("no-such-thing: no built-in template of that name (built-ins: house-prices")


def _error(text: str) -> str:
    with pytest.raises(TemplateError) as err:
        parse_template(textwrap.dedent(text), source="t.toml")
    return str(err.value)


def _edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(("text", "exp"), [
    (_edit('title = "Tiny"', 'title = "Tiny"\ncolour = "red"'),
     "t.toml: assignment.colour: unknown key 'colour' (allowed here: description, id, instructions, title)"),
    (_edit('title = "Tiny"', "title = 5"), "t.toml: assignment.title: expected a string, got an integer 5"),
    (_edit('id = "t1"\n', ""), "t.toml: assignment.id: missing required key"),
    (_edit('id = "t1"', 'id = "t 1"'), "t.toml: assignment.id: use letters, digits, '-' and '_' only, got 't 1'"),
    (_edit("[[1, 2], [2, 4], [3, 7]]", "[[1, 2], [2], [3, 7]]"),
     "t.toml: data.rows[2]: has 1 values, expected 2 (1 input(s) then the target)"),
    (_edit("[[1, 2], [2, 4], [3, 7]]", '[[1, 2], [2, "four"], [3, 7]]'),
     "t.toml: data.rows[2]: expected a number, got 'four'"),
    (_edit("[[1, 2], [2, 4], [3, 7]]", "[[1, 2]]"),
     "t.toml: data.rows: has 1 data row(s); at least 2 are needed to measure an error"),
    (_edit("hidden = []", 'hidden = [2]\nactivations = ["swish"]'),
     "t.toml: network.activations: unknown activation 'swish' (choose from: relu, sigmoid, tanh, linear, step)"),
    (_edit("hidden = []", 'hidden = [2]\nactivations = ["relu", "relu"]'),
     "t.toml: network.activations: gives 2 activation(s) for 1 hidden layer(s); give one per layer "
     "(or a single string for all)"),
    (_edit("hidden = []", "hidden = [0]"),
     "t.toml: network.hidden: entry 1 must be a positive whole number of neurons, got 0"),
    (_edit("hidden = []", 'hidden = []\noutput_activation = "softmax"'),
     "t.toml: network.output_activation: unknown activation 'softmax' (choose from: relu, sigmoid, tanh, linear, "
     "step)"),
    (_edit("b_out = 0", ""),
     "t.toml: weights.b_out: missing weight 'b_out' (1 missing in all); name every weight and bias, or add "
     "[weights.random] with a seed to draw the rest"),
    (_edit("b_out = 0", "b_out = 0\nw_in2_out = 3"),
     "t.toml: weights.w_in2_out: unknown weight 'w_in2_out': this network's weights are w_in1_out, b_out"),
    (_edit("b_out = 0", 'b_out = "zero"'), "t.toml: weights.b_out: expected a number, got 'zero'"),
    (GOOD + '\n[metric]\nname = "r2"\n', "t.toml: metric.name: unknown metric 'r2' (choose one of: rmse, mse, mae)"),
    (GOOD + "\n[rubric]\ntiers = [{ points = 3 }]\n",
     "t.toml: rubric.tiers[0]: give min_improvement, max_metric and/or min_metric"),
    (GOOD + "\n[rubric]\nmax_points = 5\ntiers = [{ points = 7, min_improvement = 0.5 }]\n",
     "t.toml: rubric.tiers[0].points: must be between 0 and max_points (5), got 7"),
    (GOOD + "\n[display]\nfont = 'big'\n",
     "t.toml: display.font: unknown key 'font' (allowed here: improvement_format, number_format, paper, "
     "scale, weight_format)"),
    (GOOD + "\n[extra]\n", "t.toml: extra: unknown key 'extra' (allowed here: assignment, data, descent, "
                           "display, hints, integrity, labels, metric, network, rubric, variants, weights)"),
    (GOOD + "\n[hints]\ngradient = 'yes'\n", "t.toml: hints.gradient: expected true/false, got a string 'yes'"),
    (GOOD + "\n[hints]\narrows = true\n", "t.toml: hints.arrows: unknown key 'arrows' (allowed here: gradient)"),
    (GOOD + "\n[descent]\neta = 0.1\n", "t.toml: descent.steps: missing required key"),
    (GOOD + "\n[descent]\nsteps = 0\neta = 0.1\n", "t.toml: descent.steps: give 1 to 200 steps, got 0"),
    (GOOD + "\n[descent]\nsteps = 5\neta = -0.1\n",
     "t.toml: descent.eta: the learning rate η must be a positive number, got -0.1"),
    (GOOD + "\n[descent]\nsteps = 5\neta = 0.1\ndecay = -1\n",
     "t.toml: descent.decay: must be 0 (constant η) or positive (η_t = η / (1 + decay·t)), got -1.0"),
    (GOOD + "\n[descent]\nsteps = 5\neta = 0.1\nmomentum = 0.9\n",
     "t.toml: descent.momentum: unknown key 'momentum' (allowed here: decay, eta, steps)"),
    (_edit("rows = [[1, 2], [2, 4], [3, 7]]", 'rows = [[1, 2], [2, 4], [3, 7]]\ncsv = "d.csv"'),
     "t.toml: data: give the data either as 'rows' (inline) or as 'csv' (a file beside the template)"),
    ("[assignment\n", "t.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 12)"),
])
def test_validation_messages(text, exp):
    assert _error(text) == exp


def test_csv_errors(tmp_path):
    body = GOOD.replace("rows = [[1, 2], [2, 4], [3, 7]]", 'csv = "d.csv"')
    (tmp_path / "t.toml").write_text(body)
    with pytest.raises(TemplateError) as err:
        load_template(tmp_path / "t.toml")
    assert str(err.value) == (f"{tmp_path / 't.toml'}: data.csv: data file {tmp_path / 'd.csv'} not found "
                              "(it is looked up beside the template)")
    (tmp_path / "d.csv").write_text("x,z\n1,2\n")
    with pytest.raises(TemplateError, match=r"has no column 'y' \(its columns: x, z\)"):
        load_template(tmp_path / "t.toml")
    (tmp_path / "d.csv").write_text("x,y\n1,2\n2,abc\n")
    with pytest.raises(TemplateError, match=r"d.csv line 3, column 'y': 'abc' is not a number"):
        load_template(tmp_path / "t.toml")
    (tmp_path / "d.csv").write_text("x,y\n1,2\n2,4\n")
    assert load_template(tmp_path / "t.toml").data.rows == ((1.0, 2.0), (2.0, 4.0))


def test_missing_template_file(tmp_path):
    with pytest.raises(TemplateError) as err:
        load_template(tmp_path / "nope.toml")
    assert str(err.value) == f"{tmp_path / 'nope.toml'}: no such template file"


def test_rubric_points():
    a = load("house-prices")
    assert a.rubric.points(0.995, 20) == 10
    assert a.rubric.points(0.96, 100) == 8
    assert a.rubric.points(0.0, 3731) == 0
    assert a.rubric.points(float("nan"), 1) == 0
    lin = load("house-prices-linear").rubric
    assert lin.points(0.45, 1) == 5.0 and lin.points(2, 1) == 10 and lin.points(-1, 1) == 0


def test_templates_readme_documents_every_key():
    readme = (Path(__file__).parent.parent / "templates" / "README.md").read_text()
    for key in ["id", "title", "description", "instructions", "rows", "csv", "inputs", "target", "label", "unit",
                "column", "hidden", "activations", "output_activation", "[weights.random]", "seed", "low", "high",
                "decimals", "name", "max_points", "tiers", "min_improvement", "max_metric", "partial_credit",
                "full_improvement", "number_format", "weight_format", "improvement_format", "scale",
                "prediction", "error", "metric", "baseline", "improvement", "sheet", "on_finding", "target_noise",
                "[test]", "noun", "leaderboard", "overfit_ratio", "score_on", "hidden_weight"]:
        assert f"`{key}`" in readme, key


def _big(n_rows: int, descent: str) -> str:
    rows = ", ".join(f"[{i}, {2 * i}]" for i in range(n_rows))
    return GOOD.replace("rows = [[1, 2], [2, 4], [3, 7]]", f"rows = [{rows}]") + descent


def test_descent_sheet_size_is_capped():
    """steps × rows × columns formulas: 2,000 rows of y = wx + b take 8,006 per step (4 per row, 6 per step)."""
    assert _error(_big(2000, "\n[descent]\nsteps = 3\neta = 0.1\n")) == (
        "t.toml: descent.steps: 3 steps over 2000 rows need 32,024 formulas on the descent sheet (at most 20,000, "
        "8,006 per step): use at most 1 step")
    assert _error(_big(6000, "\n[descent]\nsteps = 1\neta = 0.1\n")).endswith(
        "this data set is too big for it: remove [descent] or use fewer rows")
    a = parse_template(_big(2000, "\n[descent]\nsteps = 1\neta = 0.1\ndecay = 0.5\n"))
    assert (a.descent.steps, a.descent.eta, a.descent.decay) == (1, 0.1, 0.5)
    assert parse_template(GOOD).descent is None and parse_template(GOOD).hints.gradient is False
