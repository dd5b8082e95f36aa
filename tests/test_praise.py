"""Feedback praises only what earned it: a constant predictor, a tampered file or a short score is never
told "Excellent"."""

from __future__ import annotations

import pytest

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
