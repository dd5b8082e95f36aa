"""Grading the lecture's graded sheets on files LibreOffice saved, as a student's would be.

Linear regression is graded by RMSE, the perceptron by accuracy; both recompute with NumPy from
the issued data, flag edits by cell, and never let a bad file stop the batch.
"""

from __future__ import annotations

import pytest

from grader.grade import grade_file, grade_files
from grader.report import feedback, gradescope
from workbook.catalog import load_any
from workbook.lecture import linear_regression, perceptron
from workbook.lecture.book import build_lecture

LR = linear_regression.SHEET


@pytest.fixture(scope="module")
def lr():
    return load_any("lecture-linear-regression")


@pytest.fixture(scope="module")
def pc():
    return load_any("lecture-perceptron")


@pytest.fixture(scope="module")
def made(uno_python, lr, pc, tmp_path_factory):
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("lecture-subs")
    lr_issued = build_lecture(lr, folder / "lr-issued.xlsx")
    pc_issued = build_lecture(pc, folder / "pc-issued.xlsx")
    best = linear_regression.solve(lr.settings("linear-regression"))
    learned = perceptron.solve(pc.settings("perceptron"))
    learned_edits = {f"{perceptron.SHEET}!{perceptron.weight_cell(*_rc(k))}": v for k, v in learned.items()
                     if k != "pc_bias" and v != 0}
    out = {}
    out["lr-best"], out["lr-best.ods"] = libreoffice.edit_and_save(
        lr_issued, {"lr_w": best["lr_w"], "lr_b": best["lr_b"]}, [folder / "lr-best.xlsx", folder / "lr-best.ods"])
    (out["lr-hand"],) = libreoffice.edit_and_save(lr_issued, {"lr_w": 50.0, "lr_b": 250000.0},
                                                  [folder / "lr-hand.xlsx"])
    (out["lr-tampered"],) = libreoffice.edit_and_save(
        lr_issued, {f"{LR}!A8": 2500.0, f"{LR}!C9": 329900.0, f"{LR}!H5": 1.0}, [folder / "lr-tampered.xlsx"])
    (out["lr-text"],) = libreoffice.edit_and_save(lr_issued, {"lr_w": "fifty"}, [folder / "lr-text.xlsx"])
    out["pc-learned"], out["pc-learned.ods"] = libreoffice.edit_and_save(
        pc_issued, {**learned_edits, "pc_bias": learned["pc_bias"]},
        [folder / "pc-learned.xlsx", folder / "pc-learned.ods"])
    (out["pc-bias"],) = libreoffice.edit_and_save(pc_issued, {"pc_bias": -1.0}, [folder / "pc-bias.xlsx"])
    out["lr-issued"], out["pc-issued"] = lr_issued, pc_issued
    return out


def _rc(key: str) -> tuple[int, int]:
    _w, r, c = key.split("_")
    return int(r[1:]), int(c[1:])


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


@pytest.mark.parametrize("name", ["lr-best", "lr-best.ods"])
def test_best_line_saved_by_libreoffice_grades_full_marks(made, lr, name):
    g = lr.gradable()
    r = grade_file(made[name], g)
    assert r.status == "graded", r.error
    assert r.metric == pytest.approx(21_149.25469771217, rel=1e-9)
    assert r.metric == pytest.approx(g.metric(linear_regression.solve(g.settings)), rel=1e-12)
    assert r.baseline == pytest.approx(67_668.94905838768, rel=1e-12)
    assert r.improvement == pytest.approx(0.6874599799, rel=1e-8)
    assert (r.points, r.max_points) == (10, 10)
    assert codes(r) == []  # saved by LibreOffice: cached values present and matching NumPy


def test_hand_tuned_line_gets_partial_credit(made, lr):
    r = grade_file(made["lr-hand"], lr.gradable())
    assert r.weights == {"lr_w": 50.0, "lr_b": 250000.0}
    assert r.metric == pytest.approx(linear_regression.rmse(linear_regression.Settings(), 50, 250000), rel=1e-12)
    assert 0.6 <= r.improvement < 0.68 and r.points == 8


def test_issued_workbook_grades_zero_improvement(made, lr):
    r = grade_file(made["lr-issued"], lr.gradable())
    assert (r.improvement, r.points) == (0.0, 0.0)
    assert codes(r) == []  # fresh from the generator, its results cached by NumPy


def test_tampered_line_is_flagged_and_earns_nothing(made, lr):
    r = grade_file(made["lr-tampered"], lr.gradable())
    found = {f.code: f for f in r.findings}
    # (the saved results follow the edited data and the typed-over cell: not reported again as cache-mismatch)
    assert set(found) == {"data-edited", "formula-overwritten", "baseline-edited"}
    assert found["data-edited"].cell == "'Linear Regression'!A8" and found["data-edited"].expected == "2104"
    assert found["formula-overwritten"].cell == "'Linear Regression'!C9"
    assert found["formula-overwritten"].expected == "=lr_w*A9+lr_b"
    assert found["baseline-edited"].found == "1"
    assert (r.improvement, r.points) == (0.0, 0.0)  # NumPy on the issued data: still the starting line


def test_text_weight_is_named(made, lr):
    r = grade_file(made["lr-text"], lr.gradable())
    (f,) = [f for f in r.findings if f.code == "weight-text"]
    assert f.message == "cell B4 (lr_w) holds text 'fifty'; type a number"
    assert r.points == 0 and r.metric is None


@pytest.mark.parametrize("name", ["pc-learned", "pc-learned.ods"])
def test_learned_perceptron_grades_full_accuracy(made, pc, name):
    g = pc.gradable()
    r = grade_file(made[name], g)
    assert r.status == "graded", r.error
    assert (r.metric, r.baseline, r.improvement, r.points) == (1.0, 0.5, 1.0, 10)
    assert len(r.weights) == 401 and codes(r) == []


def test_perceptron_accuracy_is_numpys(made, pc):
    g = pc.gradable()
    r = grade_file(made["pc-bias"], g)
    assert r.weights["pc_bias"] == -1.0
    assert r.metric == g.metric(r.weights) == 0.5  # z = -1 for every image: all called rectangles
    assert r.points == 0
    text = feedback(r, g)
    assert "Your accuracy: **50.00%**" in text and "401 values were read" in text


def test_batch_survives_a_broken_file_and_gradescope_works(made, pc, tmp_path):
    g = pc.gradable()
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip at all")
    results = grade_files([made["pc-learned"], broken, made["pc-issued"]], g)
    assert [r.status for r in results] == ["graded", "error", "graded"]
    assert results[1].error_code == "not-a-spreadsheet"
    report = gradescope(results[0], g)
    assert report["score"] == 10.0 and report["tests"][0]["name"] == "Improvement over baseline (accuracy)"


def test_wrong_assignment_is_reported(made, lr, pc):
    r = grade_file(made["lr-best"], pc.gradable())  # refused, not scored (issue 13)
    assert (r.status, r.error_code, r.error) == ("error", "other-assignment", "this is the workbook for "
                                                 "'lecture-linear-regression': grade it with -t "
                                                 "lecture-linear-regression")


def test_a_class_of_perceptrons_grades_in_worker_processes(pc, tmp_path):
    """17 files go to the process pool: the Gradable crosses process boundaries intact."""
    from grader.batch import IN_PROCESS_BELOW, Job, grade_jobs

    g = pc.gradable()
    learned = perceptron.solve(g.settings)
    solved = build_lecture(pc, tmp_path / "solved.xlsx", params=learned)
    issued = build_lecture(pc, tmp_path / "issued.xlsx")
    files = [solved if i % 2 else issued for i in range(IN_PROCESS_BELOW + 1)]
    results = grade_jobs([Job(path, g) for path in files], workers=2)
    assert [r.points for r in results] == [10.0 if i % 2 else 0.0 for i in range(len(files))]
    assert all(r.metric_name == "accuracy" for r in results)
