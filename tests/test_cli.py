"""The command line through click's CliRunner: messages, files written, exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from manualml.cli import main
from tests import hostile_corpus as corpus
from workbook.builder import build_workbook
from workbook.catalog import load


@pytest.fixture
def runner():
    return CliRunner()


def test_generate_default_into_current_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["generate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {tmp_path / 'house-prices.xlsx'}\n")
    assert "network 2-2-1, 6 rows, baseline RMSE 3,731.39" in result.output
    assert (tmp_path / "house-prices.xlsx").exists()


def test_templates_lists_builtins(runner):
    result = runner.invoke(main, ["templates"])
    lines = result.output.splitlines()
    assert lines[0].startswith("house-prices ") and "The lecture's sheet" in lines[0]
    assert any(line.startswith("exam-pass ") for line in lines)


def test_validate_template_messages(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[assignment]\nid = "x"\ntitle = "X"\n[data]\ninputs = [{label="a"}]\ntarget = {label="t"}\n'
                   'rows = [[1, 2], [3]]\n[network]\n')
    result = runner.invoke(main, ["validate-template", str(bad)])
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}: data.rows[2]: has 1 values, expected 2 (1 input(s) then the target)\n"
    ok = runner.invoke(main, ["validate-template", "house-prices"])
    assert ok.exit_code == 0 and ": OK" in ok.output


def test_grade_outputs_and_exit_codes(runner, tmp_path):
    hp = load("house-prices")
    subs = tmp_path / "subs"
    subs.mkdir()
    build_workbook(hp, subs / "alice.xlsx")
    corpus.text_named_xlsx(subs)
    out = tmp_path / "out"
    result = runner.invoke(main, ["grade", str(subs), "--csv", str(out / "g.csv"), "--json", str(out / "r.json"),
                                  "--feedback", str(out / "fb")], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # one file could not be graded
    assert "alice" in result.output and "not-a-spreadsheet" in result.output
    assert "1 of 2 graded; 1 could not be graded. Points: mean 0.00, median 0 of 10." in result.output
    book = pd.read_csv(out / "g.csv")
    assert list(book.columns) == ["student_id", "student_name", "file", "status", "metric_name", "metric", "baseline",
                                  "improvement", "points", "max_points", "penalised", "findings", "error",
                                  # house-prices has hidden test houses: their columns follow
                                  "hidden_metric", "hidden_baseline", "hidden_improvement", "hidden_gap"]
    alice = book[book.file.str.endswith("alice.xlsx")].iloc[0]
    assert alice.status == "graded" and round(alice.metric) == 3731 and alice.improvement == 0
    data = json.loads((out / "r.json").read_text())
    assert data["version"] == 1 and len(data["results"]) == 2
    assert data["results"][0]["findings"] == []  # issued with NumPy's results cached: nothing to report
    feedback = (out / "fb" / "alice.md").read_text()
    assert "Your RMSE: **3,731.39**" in feedback and "Points: **0 of 10**" in feedback
    assert "could not be graded" in (out / "fb" / "notes.md").read_text()
    only_good = runner.invoke(main, ["grade", str(subs / "alice.xlsx")])
    assert only_good.exit_code == 0


def test_grade_usage_errors_exit_2(runner, tmp_path):
    result = runner.invoke(main, ["grade", str(tmp_path / "nothing.xlsx")])
    assert result.exit_code == 2 and f"no such file or folder: {tmp_path / 'nothing.xlsx'}" in result.output
    result = runner.invoke(main, ["grade", str(tmp_path), "--template", "no-such"])
    assert result.exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["grade", str(empty)])
    assert result.exit_code == 2 and f"no spreadsheet files found in {empty}" in result.output


def test_gradescope_file(runner, tmp_path):
    path = build_workbook(load("house-prices"), tmp_path / "submission.xlsx")
    target = tmp_path / "results" / "results.json"
    result = runner.invoke(main, ["grade", str(path), "--gradescope", str(target)])
    assert result.exit_code == 0
    payload = json.loads(target.read_text())
    assert payload["score"] == 0.0 and sum(t["max_score"] for t in payload["tests"]) == 10.0


def test_solve_prints_best(runner):
    result = runner.invoke(main, ["solve", "--template", "house-prices-linear", "--starts", "3", "--steps", "800"])
    assert result.exit_code == 0
    assert result.output.startswith("Linear regression: house prices: best RMSE 22.08")


def test_readme_test_command_is_what_ci_runs():
    """The README's second command and .ci/run must not drift apart."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```bash\n")[1:3]]
    assert blocks[0] == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/manualml generate"
    ci = (root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == blocks[1]


def test_generate_warns_when_full_marks_are_out_of_reach(runner, tmp_path):
    from workbook.catalog import resolve_template

    greedy = tmp_path / "greedy.toml"
    text = resolve_template("house-prices-linear").read_text().replace("full_improvement = 0.9",
                                                                          "full_improvement = 0.95")
    greedy.write_text(text)
    result = runner.invoke(main, ["generate", "-t", str(greedy), "-o", str(tmp_path / "g.xlsx")])
    assert result.exit_code == 0
    assert ("Warning: full marks need Improvement >= 95%, but the best found by `manualml solve` is 90.50%"
            in result.output)
    fair = runner.invoke(main, ["generate", "-t", "house-prices-linear", "-o", str(tmp_path / "f.xlsx")])
    assert "Warning" not in fair.output


def test_solve_writes_a_solution_workbook_that_grades_full_marks(runner, tmp_path):
    from grader.grade import grade_file

    out = tmp_path / "solution.xlsx"
    result = runner.invoke(main, ["solve", "-t", "house-prices", "--starts", "4", "--steps", "1500", "-o", str(out)])
    assert result.exit_code == 0 and f"Wrote {out} (solution)" in result.output
    graded = grade_file(out, load("house-prices"))
    assert graded.points == 10 and graded.improvement > 0.99
    assert [f.code for f in graded.findings] == []  # the solution's results are cached, and right


def test_a_file_handed_in_and_not_graded_makes_the_exit_code_1(runner, tmp_path):
    """The README: "Exit code: 0 every file and every roster student graded; 1 some file ... without a grade", and
    only lock files and OS debris are skipped on purpose. A notes.txt beside the workbook said "Not graded" and
    exited 0."""
    folder = tmp_path / "class"
    folder.mkdir()
    build_workbook(load("house-prices"), folder / "kim.xlsx")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "~$kim.xlsx").write_bytes(b"\0")
    (folder / "manifest.json").write_text("{}", encoding="utf-8")  # a class set's own, graded where it was made
    debris = runner.invoke(main, ["grade", str(folder)])
    assert debris.exit_code == 0, debris.output
    assert debris.output.splitlines()[-1] == "1 of 1 graded. Points: mean 0.00, median 0 of 10."
    (folder / "notes.txt").write_text("my notes", encoding="utf-8")
    notes = runner.invoke(main, ["grade", str(folder)])
    assert notes.exit_code == 1, notes.output
    assert f"Not graded: {folder / 'notes.txt'}: not a spreadsheet (.xlsx, .xlsm or .ods)" in \
        " ".join(notes.output.split())
    assert notes.output.splitlines()[-1] == ("1 of 1 graded; 1 other file not graded (listed above). Points: mean "
                                             "0.00, median 0 of 10.")
    gradescope = runner.invoke(main, ["grade", str(folder), "--gradescope", str(tmp_path / "results.json")])
    assert gradescope.exit_code == 0, gradescope.output  # results.json written: the run succeeded


def test_grade_help_says_similarity_writes_groups(runner):
    said = " ".join(runner.invoke(main, ["grade", "--help"]).output.split())
    assert ("--similarity FILE Write groups of students with identical or nearly identical weights (a CSV, one row a "
            "group; two workbooks both still at their starting weights are not grouped).") in said
