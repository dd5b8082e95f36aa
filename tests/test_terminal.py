"""The instructor's terminal: what the run prints, as a new user reads it."""

from __future__ import annotations

from grader import terminal
from grader.results import TAMPER, Finding, GradeResult


def test_a_finding_code_is_never_cut_at_its_hyphen():
    # the LibreOffice-edited file with a row deleted: six kinds of finding, a summary longer than one line
    codes = ["formula-overwritten"] * 8 + ["data-edited"] * 6 + ["cache-mismatch"] * 2 + [
        "formula-edited", "baseline-edited", "layout-extended", "not-recalculated"]
    r = GradeResult(file="a.xlsx", status="graded", metric=28.0, baseline=3731.39, improvement=0.99, points=10,
                    max_points=10, findings=tuple(Finding(c, TAMPER, "m") for c in codes))
    assert terminal.summary([r]).splitlines()[1:] == [
        "Findings: formula-overwritten ×8, data-edited ×6, cache-mismatch ×2, formula-edited,",
        "  baseline-edited, layout-extended, not-recalculated"]


def test_no_bare_progress_label_where_nobody_watches(tmp_path):
    # stderr to a file or a pipe (a log, Gradescope): click's bar would print just "Grading" there
    import subprocess
    import sys

    from tests.submissions import GOOD
    from workbook.builder import build_workbook
    from workbook.catalog import load

    path = build_workbook(load("house-prices"), tmp_path / "ada.xlsx", weights=GOOD)
    done = subprocess.run([sys.executable, "-m", "manualml", "grade", str(path), "-t", "house-prices"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines()[2].split()[:5] == ["ada.xlsx", "28.0268", "3,731.39", "99.24%", "10/10"]


def test_gradescope_with_a_manifest_is_a_usage_error(tmp_path, monkeypatch):
    # it used to write the class's first row into results.json, whichever student's it was
    from click.testing import CliRunner

    from manualml.cli import main

    monkeypatch.setenv("MANUALML_SECRET", "k")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    made = CliRunner().invoke(main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster),
                                     "--out-dir", str(tmp_path / "class")], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    done = CliRunner().invoke(main, ["grade", str(tmp_path / "class"), "--manifest",
                                     str(tmp_path / "class" / "manifest.json"), "--gradescope",
                                     str(tmp_path / "results.json")], catch_exceptions=False)
    assert done.exit_code == 2 and not (tmp_path / "results.json").exists()
    assert done.output == ("Error: --gradescope grades one student's upload and cannot be combined with --manifest "
                           "(a whole class): run it per upload with -t TEMPLATE, or drop --gradescope\n")


def test_solve_with_o_does_not_ask_for_o(tmp_path):
    from click.testing import CliRunner

    from manualml.cli import main

    runner = CliRunner()
    alone = runner.invoke(main, ["solve", "-t", "lecture-perceptron"], catch_exceptions=False)
    assert alone.output.splitlines()[1] == "  142 non-zero values (write them into a workbook with -o)"
    out = tmp_path / "solved.xlsx"
    written = runner.invoke(main, ["solve", "-t", "lecture-perceptron", "-o", str(out)], catch_exceptions=False)
    assert written.output.splitlines()[1:] == ["  142 non-zero values", f"Wrote {out.resolve()} (solution)"]


def test_the_metric_column_says_what_it_holds():
    rmse = GradeResult(file="hp.xlsx", status="graded", assignment="house-prices", metric_name="rmse",
                       metric=3731.39, baseline=3731.39, improvement=0.0, points=0, max_points=10)
    acc = GradeResult(file="perc.xlsx", status="graded", assignment="lecture-perceptron", metric_name="accuracy",
                      metric=0.5, baseline=0.5, improvement=0.0, points=0, max_points=10)
    assert terminal.table([rmse]).splitlines()[0] == "student  RMSE      baseline  improvement  points  status"
    assert terminal.table([rmse, acc]).splitlines() == [
        "student    assignment          metric         baseline  improvement  points  status",
        "---------  ------------------  -------------  --------  -----------  ------  ------",
        "hp.xlsx    house-prices        3,731.39 rmse  3,731.39  0.00%        0/10    ok",
        "perc.xlsx  lecture-perceptron  0.5 accuracy   0.5       0.00%        0/10    ok"]
