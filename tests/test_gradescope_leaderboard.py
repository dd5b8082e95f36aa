"""Gradescope: the leaderboard, and the hidden rows kept out of sight until the due date unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.grade import grade_file
from grader.report import gradescope, leaderboard
from grader.results import GradeResult
from manualml.cli import main
from tests.submissions import GOOD
from workbook.builder import build_workbook
from workbook.catalog import load, load_any
from workbook.spec import load_template


def _course(tmp_path: Path, extra: str) -> Path:
    text = Path(load("house-prices").source).read_text(encoding="utf-8")
    path = tmp_path / "course.toml"
    path.write_text(text.replace('noun = "houses"', f'noun = "houses"\n{extra}'))
    return path


def test_sheet_metric_only_and_hidden_test_after_the_due_date(tmp_path):
    hp = load("house-prices")
    payload = gradescope(grade_file(build_workbook(hp, tmp_path / "s.xlsx", weights=GOOD), hp), hp)
    assert payload["leaderboard"] == [{"name": "RMSE (sheet)", "value": payload["leaderboard"][0]["value"],
                                       "order": "asc"}]
    assert round(payload["leaderboard"][0]["value"], 4) == 28.0268
    hidden = payload["tests"][2]
    assert hidden == {
        "name": "Hidden test (4 houses not in your workbook)", "score": 0.0, "max_score": 0.0, "status": "passed",
        "output": "Your RMSE on 4 hidden houses (not in your workbook): 38.1543, 10.1275 higher than the "
                  "28.0268 on your sheet (not "
                  "counted in your points)\nOn the 4 hidden houses (not in your workbook) your RMSE is 38.15 (28.03 "
                  "on your sheet): no sign of overfitting.",
        "visibility": "after_due_date"}
    assert sum(t["max_score"] for t in payload["tests"]) == 10.0
    assert "hidden" not in payload["output"] and "38.15" not in payload["output"]  # seen at once: nothing hidden
    assert "## What your network is doing" in payload["output"]


def test_template_may_show_the_hidden_rows(tmp_path):
    course = load_template(_course(tmp_path, "leaderboard = true"))
    r = grade_file(build_workbook(course, tmp_path / "s.xlsx", weights=GOOD), course)
    payload = gradescope(r, course)
    assert [(e["name"], round(e["value"], 4), e["order"]) for e in payload["leaderboard"]] == [
        ("RMSE (sheet)", 28.0268, "asc"), ("RMSE (4 hidden houses)", 38.1543, "asc")]
    assert payload["tests"][2]["visibility"] == "visible"
    assert "- Your RMSE on 4 hidden houses (not in your workbook): **38.1543**" in payload["output"]


def test_overfitting_fails_the_hidden_test(tmp_path):
    course = load("house-prices")
    exact = {"w_in1_h1": -2.91, "w_in2_h1": 3.94, "b_h1": 359.73, "w_in1_h2": 2.73, "w_in2_h2": -45.67,
             "b_h2": -158.51, "w_h1_out": -0.9, "w_h2_out": 1.24, "b_out": 270.15}
    payload = gradescope(grade_file(build_workbook(course, tmp_path / "s.xlsx", weights=exact), course), course)
    assert payload["tests"][2]["status"] == "failed"
    assert "that is overfitting" in payload["tests"][2]["output"]


def test_no_board_for_a_broken_file_and_accuracy_ranks_high_first(tmp_path):
    hp = load("house-prices")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"nothing")
    payload = gradescope(grade_file(junk, hp), hp)
    assert "leaderboard" not in payload and payload["score"] == 0.0
    g = load_any("lecture-perceptron").gradable()
    r = GradeResult(file="p.xlsx", status="graded", metric=0.75, max_points=10.0)
    assert leaderboard(r, g) == [{"name": "accuracy (sheet)", "value": 0.75, "order": "desc"}]
    assert leaderboard(GradeResult(file="p.xlsx", status="graded", metric=float("inf")), hp) == []


def test_cli_writes_it(tmp_path):
    path = build_workbook(load("house-prices"), tmp_path / "submission.xlsx", weights=GOOD)
    target = tmp_path / "results" / "results.json"
    result = CliRunner().invoke(main, ["grade", str(path), "--gradescope", str(target)])
    assert result.exit_code == 0, result.output
    payload = json.loads(target.read_text())
    assert payload["leaderboard"][0]["name"] == "RMSE (sheet)" and payload["tests"][2]["visibility"] == \
        "after_due_date"
