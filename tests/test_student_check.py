"""`manualml check`: a student sees what the grader will see, from their own workbook alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.grade import grade_file
from manualml import api
from manualml.cli import main
from tests.submissions import GOOD, openpyxl_tamper
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for
from workbook.roster import variant

SHEET = "'Manual Machine Learning'"
HIDDEN = ("Hidden test: the grader also tries your network on 4 houses that are not in your workbook (they do not "
          "change your points); this check does not use them.")
GOOD_TIPS = [
    HIDDEN,
    "What your network is doing:",
    "  - h2 is switched off: its weighted sum is 0 or below on every row, so ReLU(h2) is 0 everywhere and w_h2_out "
    "has no effect. Raise b_h2 (now 0) or its input weights until h2 is positive on some rows.",
    "  - The change that helps most: increase w_in1_h1 (now 1). On its own, moving it to about 1.03 brings your RMSE "
    "from 28.03 down to 25.87.",
    "  - Next: increase w_h1_out (now 3.2); moving it alone to about 3.3 brings your RMSE down to 25.9.",
    "  - You are 87% of the way from predicting the average for every row (RMSE 221.7) to the best this network "
    "reaches (RMSE almost 0, found by manualml solve).",
    "Next: Excellent: you are at or near the best this network can do on this data.",
]


@pytest.fixture
def runner():
    return CliRunner()


def test_fresh_workbook_from_its_stamp_alone(runner, tmp_path):
    path = build_workbook(load("house-prices"), tmp_path / "mine.xlsx", weights=GOOD)
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "mine.xlsx: Manual Machine Learning: house prices (house-prices)",
        "Your RMSE: 28.03 (baseline 3,731, improvement 99.24%)",
        "Points: 10 of 10",
        "Full marks: Improvement ≥ 99% earns all 10 points",
        "The grader will notice nothing but your weights.",  # issued with its results cached: nothing to re-save
        *GOOD_TIPS,
    ]


def test_saved_by_libreoffice_with_a_typed_over_prediction(runner, tmp_path, uno_python):
    hp = load("house-prices")
    lay = layout_for(hp)
    src = build_workbook(hp, tmp_path / "issued.xlsx")
    weights = {k: v for k, v in GOOD.items() if v != hp.weights[k]}
    typed, clean = libreoffice.edit_and_save(src, {**weights, f"{SHEET}!{lay.pred_col}{lay.first_row + 3}": 750.0},
                                             [tmp_path / "typed.xlsx"]) + libreoffice.edit_and_save(
        src, weights, [tmp_path / "clean.ods"])
    result = runner.invoke(main, ["check", str(typed)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "typed.xlsx: Manual Machine Learning: house prices (house-prices)",
        # what must be undone leads, and nothing is praised beside it (it said "Your weights score well")
        "Fix this first: the grader found changes outside the yellow weight cells. They cannot raise your score "
        "(everything is recomputed from your weights and the original data), but they must be undone:",
        "  - You typed over a formula: cell J14 should hold the formula =w_h1_out*E14+w_h2_out*G14+b_out but holds "
        "750: typed values are ignored, the grader recomputes everything from the original data",
        # (the saved RMSE in M11 follows the typed 750: not blamed again as "a saved result does not match")
        "Your RMSE: 28.03 (baseline 3,731, improvement 99.24%)",
        "Points: 10 of 10",
        "Full marks: Improvement ≥ 99% earns all 10 points",
        *GOOD_TIPS[:-1],
        "Next: The grader found changes outside the yellow weight cells (listed above). Start again from the "
        "workbook you were given and change only the weights.",
    ]
    lines = runner.invoke(main, ["check", str(clean)]).output.splitlines()
    assert lines[:5] == ["clean.ods: Manual Machine Learning: house prices (house-prices)",
                         "Your RMSE: 28.03 (baseline 3,731, improvement 99.24%)", "Points: 10 of 10",
                         "Full marks: Improvement ≥ 99% earns all 10 points",
                         "The grader will notice nothing but your weights."]


def test_unreadable_weight_and_wrong_template(runner, tmp_path):
    hp = load("house-prices")
    src = build_workbook(hp, tmp_path / "issued.xlsx")
    text = openpyxl_tamper(src, tmp_path / "text.xlsx",
                           lambda wb: wb["Manual Machine Learning"].__setitem__(layout_for(hp).param_cells["b_h1"],
                                                                                "five"))
    result = runner.invoke(main, ["check", str(text)])
    assert result.exit_code == 0
    assert result.output.splitlines()[1:4] == [
        "Points: 0 of 10: some weights cannot be read (see below)",
        "What the grader will notice:",
        "  - cell E8 (b_h1) holds text 'five'; type a number",
    ]
    assert result.output.splitlines()[-1] == "Next: Fix the problems listed above, save, and hand the file in again."
    other = runner.invoke(main, ["check", str(src), "-t", "house-prices-sigmoid"])
    assert other.exit_code == 1
    assert other.output.splitlines() == [
        "issued.xlsx: Sigmoid neurons: house prices (house-prices-sigmoid)",
        # the -t is wrong, not the file: say how to check it (not "grade it with", nor "fix this")
        "This workbook belongs to the assignment 'house-prices', not 'house-prices-sigmoid': run `manualml check "
        "issued.xlsx` without -t (or with the template your teacher gave for 'house-prices')."]


def test_not_a_builtin_and_not_a_spreadsheet(runner, tmp_path):
    mine = tmp_path / "my-course.toml"
    text = Path(load("house-prices").source).read_text(encoding="utf-8")
    mine.write_text(text.replace('id = "house-prices"', 'id = "my-course"'))
    path = build_workbook(load(mine), tmp_path / "hw.xlsx")
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}: this workbook belongs to the assignment 'my-course', which is not a "
                             "built-in template; give the template your teacher shared with -t FILE.toml\n")
    ok = runner.invoke(main, ["check", str(path), "-t", str(mine)])
    assert ok.exit_code == 0 and ok.output.startswith("hw.xlsx: Manual Machine Learning: house prices (my-course)\n")
    junk = tmp_path / "junk.xlsx"
    junk.write_text("hello")
    result = runner.invoke(main, ["check", str(junk)])
    assert result.exit_code == 1 and result.output == (f"Error: {junk}: this is not a spreadsheet: it looks like a "
                                                       "text file; hand in the .xlsx or .ods file itself\n")


def test_a_students_own_variant_is_rebuilt_without_the_secret(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SECRET", "only the teacher knows")
    base_text = Path(load("house-prices").source).read_text(encoding="utf-8")
    course = tmp_path / "course.toml"
    course.write_text(base_text + "\n[variants]\ntarget_noise = 0.05\n")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\ns001,Ada\ns002,Grace\n")
    api.generate(template=course, roster=roster, out_dir=tmp_path / "class", workers=1)
    path = tmp_path / "class" / "s002.xlsx"
    monkeypatch.delenv("MANUALML_SECRET")
    result = runner.invoke(main, ["check", str(path), "-t", str(course)])
    assert result.exit_code == 0, result.output
    own = variant(load(course), "s002")
    graded = grade_file(path, own)
    assert result.output.splitlines()[:3] == [
        "s002.xlsx: Manual Machine Learning: house prices (house-prices)", "Issued to: s002",
        f"Your RMSE: {graded.metric:,.4g} (baseline {graded.baseline:,.4g}, improvement 0.00%)"]
    assert graded.baseline != grade_file(path, load(course)).baseline  # the student's own targets, not the base's
    # the built-in house-prices has no noise: its variant is not this workbook's, and check says so
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}: this workbook was issued to s002, but its variant cannot be rebuilt "
                             "from the template 'house-prices' (the template changed since, or the stamp was edited); "
                             "ask your teacher for the template they generated it from\n")


def test_a_graded_lecture_sheet_and_the_whole_lecture(runner, tmp_path):
    from workbook.catalog import load_any
    from workbook.lecture.book import build_lecture

    path = build_lecture(load_any("lecture-perceptron"), tmp_path / "pc.xlsx")
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "pc.xlsx: The perceptron: circles and rectangles (lecture-perceptron)",
        "Your accuracy: 50.00% (baseline 50.00%, improvement 0.00%)",
        "Points: 0 of 10",
        "Full marks: accuracy ≥ 100% earns all 10 points",
        "The grader will notice nothing but your weights.",  # the lecture book is written with its results (42bbd4e)
        "Next: Look at an image your perceptron gets wrong: raise the weights under its black pixels if it should be a "
        "circle (1), lower them if it should be a rectangle (0).",
    ]
    whole = build_lecture(load_any("lecture"), tmp_path / "lecture.xlsx")
    result = runner.invoke(main, ["check", str(whole)])
    assert result.exit_code == 1
    # it says which -t to give (it said only "has no single graded sheet to check")
    # the grader's words: its Manual Machine Learning sheet is checked with -t house-prices
    assert result.output == (f"Error: {whole}: the lecture workbook 'lecture' has 3 graded sheets: check each on its "
                             "own with -t lecture-perceptron, -t lecture-linear-regression or -t house-prices (its "
                             "Manual Machine Learning sheet)\n")
    assert runner.invoke(main, ["check", str(whole), "-t", "house-prices"]).output.splitlines()[0] == \
        "lecture.xlsx: Manual Machine Learning: house prices (house-prices)"
    result = runner.invoke(main, ["check", str(whole), "-t", "lecture-linear-regression"])
    assert result.exit_code == 0, result.output
    # the lecture's prices: RMSE 67,669 in whole numbers, not the 6.767e+04 four significant digits print
    assert result.output.splitlines()[:3] == [
        "lecture.xlsx: Linear regression and the normal equation (lecture-linear-regression)",
        "Your RMSE: 67,669 (baseline 67,669, improvement 0.00%)", "Points: 0 of 10"]
