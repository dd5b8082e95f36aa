"""Feedback praises only what earned it: a constant predictor, a tampered file or a short score is never
told "Excellent"."""

from __future__ import annotations

import pytest

from grader.advice import fmt
from grader.grade import grade_file
from grader.report import CONSTANT_HINT, SHORT_HINT, TAMPERED_HINT, feedback
from tests.submissions import GOOD, openpyxl_tamper
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for

EXCELLENT = "Excellent: you are at or near the best this network can do on this data."


@pytest.fixture(scope="module")
def hp():
    return load("house-prices")


def test_a_constant_predictor_is_not_excellent(hp, tmp_path):
    """All weights 0 and b_out = the average price (285.8): 94.1 % better than the start, 6 of 10 points."""
    constant = {k: 0.0 for k in hp.weights} | {"b_out": float(hp.data.y.mean())}
    r = grade_file(build_workbook(hp, tmp_path / "constant.xlsx", weights=constant), hp)
    assert r.status == "graded" and r.improvement == pytest.approx(0.941, abs=5e-4) and r.points == 6
    text = feedback(r, hp)
    assert "Excellent" not in text and CONSTANT_HINT in text


def test_full_marks_clean_file_is_excellent_and_a_tampered_one_is_not(hp, tmp_path):
    clean = grade_file(build_workbook(hp, tmp_path / "good.xlsx", weights=GOOD), hp)
    assert clean.points == 10 and not clean.tamper_findings
    assert EXCELLENT in feedback(clean, hp)
    layout = layout_for(hp)

    def overwrite(wb):  # type the true prices over the prediction formulas
        sheet = wb[layout.sheet]
        for row in range(layout.first_row, layout.last_row + 1):
            sheet[f"{layout.pred_col}{row}"] = 200

    src = build_workbook(hp, tmp_path / "src.xlsx", weights=GOOD)
    tampered = grade_file(openpyxl_tamper(src, tmp_path / "tampered.xlsx", overwrite), hp)
    assert tampered.points == 10 and len(tampered.tamper_findings) >= 6
    text = feedback(tampered, hp)
    assert "Excellent" not in text and TAMPERED_HINT in text


def test_short_of_full_marks_is_good_progress_not_excellent(hp, tmp_path):
    """96 % better (above full_improvement 0.9, below the 99 % tier): 8 points, not praised as the best."""
    near = dict(GOOD) | {"b_out": -220.0}
    r = grade_file(build_workbook(hp, tmp_path / "near.xlsx", weights=near), hp)
    assert 0.9 <= r.improvement < 0.99 and r.points < 10, (r.improvement, r.points)
    text = feedback(r, hp)
    assert "Excellent" not in text and SHORT_HINT in text


PRAISE = ("excellent", "well done", "good progress", "score well", "you are at the best")


def test_solved_weights_with_typed_over_predictions_are_not_praised_and_the_fix_leads(hp, tmp_path):
    """`manualml solve`'s weights (the best this network reaches) and 200 typed over the six predictions: 10 points,
    but the feedback and `manualml check` lead with what must be undone and praise nothing."""
    from grader.report import FIX_FIRST
    from grader.student_check import check_workbook
    from workbook.solve import solve

    layout = layout_for(hp)

    def overwrite(wb):
        for row in range(layout.first_row, layout.last_row + 1):
            wb[layout.sheet][f"{layout.pred_col}{row}"] = 200

    src = build_workbook(hp, tmp_path / "src.xlsx", weights=solve(hp).weights)
    path = openpyxl_tamper(src, tmp_path / "tampered.xlsx", overwrite)
    r = grade_file(path, hp)
    assert r.points == 10 and [f.code for f in r.tamper_findings] == ["formula-overwritten"] * 6
    assert r.metric < 1e-9
    text = feedback(r, hp)
    assert not [word for word in PRAISE if word in text.lower()], text
    first = ("## Fix this first\n" + FIX_FIRST + "\n- cell J11 should hold the formula "
             "=w_h1_out*E11+w_h2_out*G11+b_out but holds 200: typed values are ignored, the grader recomputes "
             "everything from the original data\n")
    assert text.split("\n\n", 2)[2].startswith(first), text  # right under the title and the file's name
    assert text.index("## Fix this first") < text.index("- Your RMSE:") < text.index("## What the grader noticed")
    assert "\n\n## Your score\n- Your RMSE: **" in text  # the figures under their own heading
    # solve's exact fit leaves RMSE ~1e-12, its last digits set by the CPU's NumPy kernels (9.521e-13 on one
    # machine, 9.421e-13 on another): the line must state the grader's own figure
    assert f"- Your weights give RMSE {fmt(r.metric)}; manualml solve's best on this data is almost 0.\n" in text
    assert fmt(r.metric).endswith("e-13") or fmt(r.metric).endswith("e-12")
    assert text.split("## What to try next\n")[1].startswith(TAMPERED_HINT + "\n")
    assert TAMPERED_HINT == ("The grader found changes outside the yellow weight cells (listed above). Start again "
                             "from the workbook you were given and change only the weights.")
    lines = check_workbook(path).lines
    assert not [word for word in PRAISE if word in " ".join(lines).lower()], lines
    assert lines[1:3] == (
        "Fix this first: the grader found changes outside the yellow weight cells. They cannot raise your score "
        "(everything is recomputed from your weights and the original data), but they must be undone:",
        "  - You typed over a formula: cell J11 should hold the formula =w_h1_out*E11+w_h2_out*G11+b_out but holds "
        "200: typed values are ignored, the grader recomputes everything from the original data")
    assert lines[8] == f"Your RMSE: {fmt(r.metric)} (baseline 3,731, improvement 100.00%)"
    assert f"  - Your weights give RMSE {fmt(r.metric)}; manualml solve's best on this data is almost 0." in lines
    assert lines[-1] == f"Next: {TAMPERED_HINT}"


def test_the_same_weights_untouched_are_praised(hp, tmp_path):
    from workbook.solve import solve

    r = grade_file(build_workbook(hp, tmp_path / "best.xlsx", weights=solve(hp).weights), hp)
    text = feedback(r, hp)
    assert "- You are at the best this network reaches (RMSE almost 0, found by manualml solve): excellent work.\n" \
        in text and "## Fix this first" not in text
