"""Lecture templates: every built-in loads, and every mistake gets a message naming file and key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from manualml.cli import main
from workbook.catalog import builtin_templates, load, load_any
from workbook.errors import TemplateError
from workbook.lecture.template import LectureTemplate, load_lecture

HEAD = '[assignment]\nid = "t"\ntitle = "T"\n[lecture]\n'
ORDER = ("neuron, perceptron, linearity, activations, prediction-error, linear-regression, manual-ml, "
         "gradient-descent")


def _error(tmp_path, text: str) -> str:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        load_lecture(path)
    return str(info.value).replace(str(tmp_path) + "/", "")


@pytest.mark.parametrize(("text", "exp"), [
    (HEAD + 'sheets = ["backprop"]\n', f"t.toml: lecture.sheets: unknown sheet 'backprop' (choose from: {ORDER})"),
    (HEAD + "sheets = []\n", f"t.toml: lecture.sheets: name at least one sheet (choose from: {ORDER})"),
    (HEAD + 'sheets = ["neuron", "neuron"]\n', "t.toml: lecture.sheets: each sheet may appear once"),
    (HEAD + 'sheets = ["neuron"]\n[neuron]\nbias = "high"\n',
     "t.toml: neuron.bias: expected a number, got a string 'high'"),
    (HEAD + 'sheets = ["neuron"]\n[neuron]\ncolour = 1\n',
     "t.toml: neuron.colour: unknown key 'colour' (allowed here: activation, bias, inputs, weights)"),
    (HEAD + 'sheets = ["neuron"]\n[neuron]\nweights = [1, 2]\n',
     "t.toml: neuron.weights: give one weight per input (3), got 2"),
    (HEAD + 'sheets = ["neuron"]\n[neuron]\nactivation = "swish"\n',
     "t.toml: neuron.activation: unknown activation 'swish' (choose from: ReLU, sigmoid, tanh, step, linear)"),
    (HEAD + 'sheets = ["linear-regression"]\n[linear-regression]\nx = [1, "two", 3]\ny = [1, 2, 3]\n',
     "t.toml: linear-regression.x: item 2 should be a number, got 'two'"),
    (HEAD + 'sheets = ["linear-regression"]\n[linear-regression]\nx = [5, 5]\ny = [1, 2]\n',
     "t.toml: linear-regression.x: give at least two different x values (otherwise XᵀX has no inverse)"),
    (HEAD + 'sheets = ["gradient-descent"]\n[gradient-descent]\nslow_steps = 0\n',
     "t.toml: gradient-descent.slow_steps: give 1 to 1000 steps, got 0"),
    (HEAD + 'sheets = ["perceptron"]\n[perceptron]\nimages = 1\n',
     "t.toml: perceptron.images: give 2 to 200 images, got 1"),
    (HEAD + 'sheets = ["neuron"]\n[perceptron]\nimages = 4\n',
     "t.toml: perceptron: settings for the sheet 'perceptron', which lecture.sheets does not list"),
    (HEAD + 'sheets = ["neuron"]\n[rubric]\nmax_points = 5\n',
     "t.toml: rubric: no graded sheet to apply it to (graded sheets: linear-regression, perceptron)"),
    (HEAD + 'sheets = ["perceptron"]\n[rubric]\ntiers = [{ points = 3 }]\n',
     "t.toml: rubric.tiers[0]: give min_improvement, max_metric and/or min_metric"),
    (HEAD + 'sheets = ["manual-ml"]\nmanual_template = "nope"\n',
     "nope: no built-in template of that name (built-ins: "),
])
def test_lecture_template_messages(tmp_path, text, exp):
    assert _error(tmp_path, text).startswith(exp)


def test_every_builtin_lecture_template_loads():
    lectures = [t for t in builtin_templates() if t.name.startswith("lecture")]
    assert {t.name for t in lectures} == {"lecture", "lecture-neuron", "lecture-activations", "lecture-linearity",
                                          "lecture-prediction-error", "lecture-linear-regression",
                                          "lecture-gradient-descent", "lecture-perceptron"}
    for t in lectures:
        assert isinstance(load_any(t.name), LectureTemplate) and t.description
    full = load_any("lecture")
    assert [kind for kind, _ in full.sheets] == ORDER.split(", ")
    assert full.manual is not None and full.manual.id == "house-prices"


def test_grading_needs_exactly_one_graded_sheet():
    with pytest.raises(TemplateError) as info:
        load_any("lecture").gradable()
    assert str(info.value).endswith("grading needs a template with exactly one graded sheet (linear-regression or "
                                    "perceptron); this one has: perceptron, linear-regression. Grade with "
                                    "lecture-linear-regression or lecture-perceptron")
    with pytest.raises(TemplateError, match="this is a lecture template"):
        load("lecture-neuron")


def test_cli_lecture_commands(tmp_path):
    runner = CliRunner()
    out = tmp_path / "lecture.xlsx"
    made = runner.invoke(main, ["generate", "-t", "lecture", "-o", str(out)])
    assert made.exit_code == 0, made.output
    title = "Intro to Artificial Neural Networks: the whole lecture, live"
    assert made.output.splitlines()[1] == f"  {title}: sheets {ORDER}"
    graded = runner.invoke(main, ["grade", str(out), "-t", "lecture"])
    assert graded.exit_code == 2 and "the lecture template 'lecture' has 3 graded sheets: grade each on its own " \
        "with -t lecture-perceptron, -t lecture-linear-regression or -t house-prices" in graded.output
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\ns1,Ann,a@x\n")
    refused = runner.invoke(main, ["generate", "-t", "lecture-neuron", "--roster", str(roster)])
    assert refused.exit_code == 2 and "a lecture template is the same for everyone" in refused.output
    checked = runner.invoke(main, ["validate-template", "lecture-perceptron"])
    assert checked.exit_code == 0
    assert checked.output.splitlines()[1:] == ["  The perceptron: circles and rectangles: lecture sheets perceptron",
                                               "  graded by accuracy: baseline 50.00%, 10 points"]
    solved = runner.invoke(main, ["solve", "-t", "lecture-linear-regression"])
    assert solved.output.splitlines() == [
        "Linear regression and the normal equation: best RMSE 21149.3 by the normal equation (baseline 67668.9), "
        "improvement 68.74%, 10 of 10 points", "  lr_w = 58.4879", "  lr_b = 247263"]


def test_render_the_whole_lecture_to_pdf(soffice, tmp_path):
    import shutil
    import subprocess

    pdf = tmp_path / "lecture.pdf"
    result = CliRunner().invoke(main, ["render", "-t", "lecture", "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        for title in ("A single neuron", "The perceptron (Rosenblatt, 1958)", "Linearity collapse",
                      "Activation functions", "Prediction error", "Linear regression: fitting a straight line",
                      "Manual Machine Learning: house prices", "Gradient descent and the learning rate"):
            assert title in text
        assert "41,783" in text and "1,745,833,333" in text  # computed by LibreOffice while printing


def test_templates_readme_documents_every_lecture_setting():
    from dataclasses import fields
    from pathlib import Path

    from workbook.lecture.template import SHEETS

    readme = (Path(__file__).parent.parent / "templates" / "README.md").read_text()
    assert "`sheets`" in readme and "`manual_template`" in readme and "`min_metric`" in readme
    for kind, module in SHEETS.items():
        assert f"## `[{kind}]`" in readme, kind
        for f in fields(module.Settings):
            assert f"`{f.name}`" in readme, f"{kind}.{f.name}"


def test_manual_template_beside_the_lecture_template(tmp_path):
    import shutil

    from workbook.catalog import resolve_template

    shutil.copy(resolve_template("house-prices-linear"), tmp_path / "mine.toml")
    (tmp_path / "lecture.toml").write_text(HEAD + 'sheets = ["manual-ml", "neuron"]\nmanual_template = "mine.toml"\n')
    t = load_lecture(tmp_path / "lecture.toml")
    assert t.manual is not None and t.manual.id == "house-prices-linear"
    assert [kind for kind, _ in t.sheets] == ["manual-ml", "neuron"]
