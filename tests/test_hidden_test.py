"""Hidden test rows: scored by the grader, never in a workbook, explained to the student."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from grader import advice
from grader.grade import grade_file
from grader.report import feedback, write_csv
from manualml import api
from manualml.cli import main
from tests.submissions import GOOD
from workbook.builder import build_workbook
from workbook.catalog import load, load_any, resolve_template
from workbook.errors import TemplateError
from workbook.layout import INSTRUCTIONS_SHEET
from workbook.roster import variant
from workbook.spec import parse_template

HIDDEN_HOUSES = [(105, 1, 255), (145, 2, 415), (65, 1, 118), (180, 2, 565)]


def tiny(extra: str = "", rubric: str = "") -> str:
    """y = x + 3 on the sheet; two hidden rows, one off the line (x = 10, y = 20) and one on it."""
    return f"""
[assignment]
id = "tiny"
title = "Tiny"
[data]
rows = [[1, 4], [2, 5], [3, 6]]
inputs = [{{ label = "x" }}]
target = {{ label = "y" }}
[test]
rows = [[10, 20], [4, 7]]
{extra}
[network]
hidden = []
[weights]
w_in1_out = 1
b_out = 0
[rubric]
tiers = [{{ min_improvement = 0.99, points = 10 }}, {{ min_improvement = 0.5, points = 4 }}]
{rubric}
"""


def test_house_prices_has_four_hidden_houses():
    hp = load("house-prices")
    assert [tuple(r) for r in hp.test.data.rows] == HIDDEN_HOUSES
    assert hp.test.noun == "houses" and hp.rubric.score_on == "sheet" and not hp.test.leaderboard
    assert len(hp.data.rows) == 6  # the lecture's six, unchanged


def test_issued_workbook_holds_none_of_them(tmp_path):
    hp = load("house-prices")
    path = build_workbook(hp, tmp_path / "hp.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    values = set(re.findall(r"<v>([^<]*)</v>", xml)) | set(re.findall(r"<c [^>]*t=\"n\"[^>]*>([^<]*)<", xml))
    for area, _, price in HIDDEN_HOUSES:
        assert str(area) not in values and str(price) not in values, (area, price)
        assert f">{price}<" not in xml and f"\"{price}\"" not in xml
    wb = openpyxl.load_workbook(path)
    numbers = {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, int | float)}
    assert not numbers & {v for house in HIDDEN_HOUSES for v in (house[0], house[2])}
    notes = [c.value for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value]
    assert ("Hidden test: the grader also tries your network on 4 more houses that are not in this workbook, to see "
            "whether your weights work on new houses too, not only on these 6. They do not change your points; your "
            "feedback shows how your weights do on them.") in notes


def test_class_set_keeps_them_in_the_manifest_only(tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SECRET", "s")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\ns1\n")
    api.generate(template="house-prices", roster=roster, out_dir=tmp_path / "class", workers=1)
    manifest = json.loads((tmp_path / "class" / "manifest.json").read_text())
    assert manifest["hidden_test_rows"] == [list(map(float, h)) for h in HIDDEN_HOUSES]
    with zipfile.ZipFile(tmp_path / "class" / "s1.xlsx") as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert "<v>255</v>" not in xml and "<v>565</v>" not in xml
    noisy = variant(replace(load("house-prices"), target_noise=0.05), "s1")
    assert noisy.test == load("house-prices").test  # variants never touch the hidden rows


def test_template_errors_name_the_key(tmp_path):
    cases = [
        (tiny().replace("rows = [[10, 20], [4, 7]]", 'rows = [[10, 20]]\ncsv = "t.csv"'),
         "test: give the hidden test rows either as 'rows' (inline) or as 'csv' (a file beside the template, with the "
         "same columns as [data])"),
        (tiny().replace("rows = [[10, 20], [4, 7]]", "rows = [[10]]"),
         "test.rows[1]: has 1 values, expected 2 (1 input(s) then the target)"),
        (tiny(extra="overfit_ratio = 1"), "test.overfit_ratio: must be above 1 (1.5: hidden error 50 % above the "
                                          "sheet's), got 1"),
        (tiny(extra="colour = 1"), "test.colour: unknown key 'colour' (allowed here: leaderboard, noun, "
                                   "overfit_ratio, rows)"),
        (tiny(rubric='score_on = "test"'), "rubric.score_on: expected 'sheet', 'hidden' or 'mix', got 'test'"),
        (tiny(rubric="hidden_weight = 0.3"), "rubric.hidden_weight: only applies with score_on = 'mix'"),
        (tiny(rubric='score_on = "mix"\nhidden_weight = 2'),
         "rubric.hidden_weight: must be a fraction between 0 and 1, got 2"),
        (re.sub(r"\[test\]\nrows = \[\[10, 20\], \[4, 7\]\]\n", "", tiny(rubric='score_on = "hidden"')),
         "rubric.score_on: score_on = 'hidden' needs hidden test rows: add a [test] table with rows (or a csv)"),
    ]
    for text, message in cases:
        with pytest.raises(TemplateError) as err:
            parse_template(text, source="t.toml", base_dir=tmp_path)
        assert str(err.value) == f"t.toml: {message}"


def test_csv_rows(tmp_path):
    (tmp_path / "test.csv").write_text("x,y\n10,20\n4,7\n")
    a = parse_template(tiny().replace("rows = [[10, 20], [4, 7]]", 'csv = "test.csv"'), base_dir=tmp_path)
    assert a.test.data.rows == ((10.0, 20.0), (4.0, 7.0))


@pytest.mark.parametrize(("rubric", "points"), [
    ("", 10.0),  # the sheet's rows: RMSE 0, Improvement 100 %
    ('score_on = "hidden"', 0.0),  # hidden rows: Improvement 32.9 %, below every tier
    ('score_on = "mix"', 5.0),  # half of each
    ('score_on = "mix"\nhidden_weight = 0.25', 7.5),
])
def test_points_on_sheet_hidden_or_mix(tmp_path, rubric, points):
    a = parse_template(tiny(rubric=rubric))
    path = build_workbook(a, tmp_path / "t.xlsx", weights={"w_in1_out": 1, "b_out": 3})
    r = grade_file(path, a)
    # start w=1, b=0 on the hidden rows: predictions 10, 4 against 20, 7 -> RMSE sqrt((100 + 9) / 2) = 7.382
    # fitted w=1, b=3: predictions 13, 7 -> errors 7, 0 -> RMSE sqrt(49 / 2) = 4.950; Improvement 32.9 %
    assert r.metric == 0 and r.hidden_metric == pytest.approx(4.9497, abs=1e-4)
    assert r.hidden_baseline == pytest.approx(7.3824, abs=1e-4)
    assert r.hidden_improvement == pytest.approx(1 - 4.9497 / 7.3824, abs=1e-4)
    assert r.hidden_gap == r.hidden_metric
    assert r.points == points


def test_feedback_explains_overfitting(tmp_path):
    a = parse_template(tiny())
    fitted = {"w_in1_out": 1, "b_out": 3}
    path = build_workbook(a, tmp_path / "t.xlsx", weights=fitted)
    text = feedback(grade_file(path, a), a)
    assert ("- Your RMSE on 2 hidden rows (not in your workbook): **4.94975**, 4.94975 higher than the 0 on "
            "your sheet (not "
            "counted in your points)") in text
    assert ("- On the 2 hidden rows (not in your workbook) your RMSE is 4.95, against 0 on the 3 rows of your sheet. "
            "Your weights fit these rows much better than new ones: that is overfitting, learning these particular "
            "rows instead of the pattern behind them. Prefer weights that get every row roughly right over ones that "
            "get these 3 exactly right.") in text
    # full marks, but overfit: no "Excellent" right under the overfitting paragraph
    assert text.split("## What to try next\n")[1].startswith(
        "Full marks on your sheet. To do as well on data you have not seen, look for weights that get every row "
        "roughly right rather than a few exactly right: a slightly higher error on your sheet can be a better model.")
    assert "Excellent" not in text
    # the same gap, but small next to the spread of the hidden targets, is not called overfitting
    close = parse_template(tiny().replace("rows = [[10, 20], [4, 7]]", "rows = [[10, 13.2], [4, 7]]"))
    assert advice.hidden_tip(close, fitted, 0.0).code == "hidden"


def test_house_prices_feedback_and_gradebook(tmp_path):
    hp = load("house-prices")
    path = build_workbook(hp, tmp_path / "ada.xlsx", weights=GOOD)
    r = grade_file(path, hp)
    # predicted 256, 384, 128, 496 against 255, 415, 118, 565: RMSE sqrt((1 + 961 + 100 + 4761) / 4) = 38.154
    assert r.points == 10 and r.hidden_metric == pytest.approx(38.1543, abs=1e-4)
    text = feedback(r, hp)
    assert ("- Your RMSE on 4 hidden houses (not in your workbook): **38.1543**, 10.1275 higher than the "
            "28.0268 on your sheet (not "
            "counted in your points)") in text
    assert ("- On the 4 hidden houses (not in your workbook) your RMSE is 38.15 (28.03 on your sheet): no sign "
            "of overfitting.") in text
    book = pd.read_csv(write_csv([r], tmp_path / "g.csv"))
    assert book.hidden_metric[0] == pytest.approx(38.1543, abs=1e-4)
    assert book.hidden_gap[0] == pytest.approx(10.1275, abs=1e-4)


def test_self_check_never_reveals_them(tmp_path):
    course = tmp_path / "course.toml"
    course.write_text(Path(load("house-prices").source).read_text(encoding="utf-8")
                      .replace("max_points = 10", 'max_points = 10\nscore_on = "hidden"'))
    path = build_workbook(load(course), tmp_path / "mine.xlsx", weights=GOOD)
    out = CliRunner().invoke(main, ["check", str(path), "-t", str(course)]).output
    lines = out.splitlines()
    assert lines[2] == "Points on your sheet: 10 of 10"
    assert ("Hidden test: the grader also tries your network on 4 houses that are not in your workbook (your grade is "
            "computed on them, so it may differ from the points above); this check does not use them.") in lines
    assert "38.15" not in out and "hidden houses (not in your workbook)" not in out and "overfitting" not in out


def test_validate_template_mentions_them():
    out = CliRunner().invoke(main, ["validate-template", "house-prices"]).output.splitlines()
    assert out[-1] == "  hidden test: 4 houses, never in a workbook (scored, not counted)"


def test_a_lecture_rubric_cannot_score_hidden_rows(tmp_path):
    text = resolve_template("lecture-perceptron").read_text(encoding="utf-8")
    assert "[rubric]" in text
    bad = tmp_path / "pc.toml"
    bad.write_text(text.replace("[rubric]", '[rubric]\nscore_on = "hidden"', 1))
    with pytest.raises(TemplateError) as err:
        load_any(bad)
    assert str(err.value) == f"{bad}: rubric.score_on: a lecture sheet has no hidden test rows: score_on must be " \
                             "'sheet'"
