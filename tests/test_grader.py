"""The grader on submissions made the real way: LibreOffice edits weights and saves .xlsx/.ods.

The graded loss must equal NumPy's for the weights the student typed; each kind of tampering is
flagged by name and never earns points.
"""

from __future__ import annotations

import json

import pytest

from grader.grade import grade_file
from grader.report import gradescope
from tests.submissions import (
    GOOD,
    issued,
    lecture_layout,
    openpyxl_tamper,
    rewrite_member,
    set_cached_value,
    sheet_member,
)
from workbook import LAYOUT_VERSION, model
from workbook.catalog import load

SHEET = "Manual Machine Learning"


@pytest.fixture(scope="module")
def hp():
    return load("house-prices")


@pytest.fixture(scope="module")
def made(uno_python, tmp_path_factory):
    """Every LibreOffice-made submission, keyed by what the student did."""
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("subs")
    src = issued(folder)
    lay = lecture_layout()
    a = load("house-prices")
    r0 = lay.first_row
    plans = {
        "unchanged": {},
        "good": {k: v for k, v in GOOD.items() if v != a.weights[k]},
        "typed-prices": {f"{SHEET}!{lay.pred_col}{r0 + i}": float(y) for i, y in enumerate(a.data.y)},
        "formula-weight": {"w_in1_h1": "=5+2"},
        "text-weight": {"b_h1": "five"},
        "error-weight": {"w_in2_h1": "=1/0"},
        "target-edited": {f"{SHEET}!{lay.target_col}{r0}": 999.0},
        "baseline-edited": {f"{SHEET}!{lay.baseline_cell}": 1.0},
        "copied-truth": {f"{SHEET}!{lay.pred_col}{r0}": f"={lay.target_col}{r0}"},  # the cheat, by formula
        "row-inserted": {f"insert-rows:{SHEET}!A{r0 + 2}": 1},  # a student inserts a row into the data
        "column-inserted": {f"insert-columns:{SHEET}!C{r0}": 1},
    }
    out = {"issued": src}
    for name, edits in plans.items():
        xlsx, ods = libreoffice.edit_and_save(src, edits, [folder / f"{name}.xlsx", folder / f"{name}.ods"])
        out[name], out[name + ".ods"] = xlsx, ods
    (out["good.xlsm"],) = libreoffice.edit_and_save(src, plans["good"], [folder / "good-macro.xlsm"])
    return out


def _codes(result):
    return [f.code for f in result.findings]


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_unchanged_is_zero_improvement(made, hp, suffix):
    r = grade_file(made["unchanged" + suffix], hp)
    assert r.status == "graded", r.error
    assert round(r.metric) == 3731 and r.improvement == 0.0 and r.points == 0
    assert r.weights == dict(hp.weights)
    assert _codes(r) == []


@pytest.mark.parametrize("suffix", ["", ".ods", ".xlsm"])
def test_good_weights_graded_from_numpy(made, hp, suffix):
    r = grade_file(made["good" + suffix], hp)
    expected = model.loss(hp, GOOD)
    assert r.metric == pytest.approx(expected, rel=1e-12)
    assert r.improvement == pytest.approx((model.loss(hp) - expected) / model.loss(hp), rel=1e-12)
    assert r.improvement > 0.99 and r.points == 10
    assert _codes(r) == []


def test_fresh_generated_file_grades_as_issued(made, hp):
    r = grade_file(made["issued"], hp)
    assert _codes(r) == []  # its cached results are NumPy's: nothing was "never recalculated"
    assert r.improvement == 0.0


def test_typed_true_prices_flagged_and_worth_nothing(made, hp):
    r = grade_file(made["typed-prices"], hp)
    assert r.points == 0 and r.improvement == 0.0
    lay = lecture_layout()
    overwritten = [f for f in r.findings if f.code == "formula-overwritten" and f.cell]
    assert len(overwritten) == 5 and any(f.message.startswith("... and 1 more cells") for f in r.findings)
    first = overwritten[0]
    assert first.cell == f"'{SHEET}'!{lay.pred_col}{lay.first_row}"
    assert first.expected == f"=w_h1_out*E{lay.first_row}+w_h2_out*G{lay.first_row}+b_out"
    assert first.found == "200"


def test_formula_edited_to_copy_the_truth(made, hp):
    r = grade_file(made["copied-truth"], hp)
    lay = lecture_layout()
    (f,) = [f for f in r.findings if f.code == "formula-edited"]
    ref = f"{lay.pred_col}{lay.first_row}"
    assert f.message == (f"cell {ref} should hold =w_h1_out*E{lay.first_row}+w_h2_out*G{lay.first_row}+b_out "
                         f"but holds ={lay.target_col}{lay.first_row}")
    assert r.improvement == 0.0 and r.points == 0
    assert [f.code for f in grade_file(made["copied-truth.ods"], hp).findings] == ["formula-edited"]  # its saved
    # result follows the edited formula: not reported again


def test_weight_formula_uses_cached_value(made, hp):
    r = grade_file(made["formula-weight"], hp)
    assert r.weights["w_in1_h1"] == 7
    (f,) = [f for f in r.findings if f.code == "weight-formula"]
    assert f.message == "cell E6 (w_in1_h1) holds the formula =5+2; its saved value 7 was used. Type plain numbers " \
                        "into weight cells"
    assert r.metric == pytest.approx(model.loss(hp, {**hp.weights, "w_in1_h1": 7}), rel=1e-12)


def test_text_and_error_weights_are_named(made, hp):
    r = grade_file(made["text-weight"], hp)
    assert r.points == 0 and r.metric is None
    assert [f.message for f in r.findings if f.kind == "weight"] == ["cell E8 (b_h1) holds text 'five'; type a number"]
    r = grade_file(made["error-weight"], hp)
    assert [f.message for f in r.findings if f.kind == "weight"] == [
        "cell E7 (w_in2_h1) shows the error #DIV/0!; type a number"]


def test_edited_target_and_baseline_flagged(made, hp):
    r = grade_file(made["target-edited"], hp)
    lay = lecture_layout()
    (f,) = [f for f in r.findings if f.code == "data-edited"]
    assert f.cell == f"'{SHEET}'!{lay.target_col}{lay.first_row}" and f.expected == "200" and f.found == "999"
    assert r.improvement == 0.0  # graded on the original data
    r = grade_file(made["baseline-edited"], hp)
    assert "baseline-edited" in _codes(r)
    assert r.baseline == pytest.approx(model.loss(hp)) and r.improvement == 0.0


def test_policy_decides_whether_findings_cost_points(made, hp, tmp_path):
    lay = lecture_layout()

    def edit_target(wb):
        wb[SHEET][f"{lay.target_col}{lay.first_row}"] = 1

    tampered = openpyxl_tamper(made["good"], tmp_path / "t.xlsx", edit_target)
    reported = grade_file(tampered, hp)
    assert "data-edited" in _codes(reported) and reported.points == 10 and not reported.penalised
    zeroed = grade_file(tampered, hp, on_finding="zero")
    assert zeroed.points == 0 and zeroed.penalised and zeroed.metric == reported.metric


def test_stale_caches_disagree_with_numpy(made, hp, tmp_path):
    src = made["good"]
    lay = lecture_layout()
    stale = rewrite_member(src, tmp_path / "stale.xlsx", sheet_member(src),
                           lambda x: set_cached_value(x, f"{lay.pred_col}{lay.first_row}", 123456.0))
    r = grade_file(stale, hp)
    (f,) = [f for f in r.findings if f.code == "cache-mismatch"]
    assert f.cell == f"'{SHEET}'!{lay.pred_col}{lay.first_row}" and f.found == "123456"
    assert r.metric == pytest.approx(model.loss(hp, GOOD), rel=1e-12)


def test_structural_tampering(made, hp, tmp_path):
    src = made["good"]

    def drop_name(wb):
        del wb.defined_names["w_in1_h1"]

    r = grade_file(openpyxl_tamper(src, tmp_path / "noname.xlsx", drop_name), hp)
    assert "name-removed" in _codes(r)
    assert r.weights["w_in1_h1"] == 1  # read from its cell instead

    def rename(wb):
        wb[SHEET].title = "Mine"

    r = grade_file(openpyxl_tamper(src, tmp_path / "renamed.xlsx", rename), hp)
    assert "sheet-renamed" in _codes(r) and r.weights == {k: float(v) for k, v in GOOD.items()}

    def delete(wb):
        del wb[SHEET]

    r = grade_file(openpyxl_tamper(src, tmp_path / "deleted.xlsx", delete), hp)
    assert "sheet-missing" in _codes(r) and r.points == 0

    def extra_row(wb):
        wb[SHEET]["A40"] = 5

    r = grade_file(openpyxl_tamper(src, tmp_path / "extra.xlsx", extra_row), hp)
    assert "layout-extended" in _codes(r)

    old = rewrite_member(src, tmp_path / "old.xlsx", "docProps/custom.xml",
                         lambda x: x.replace(LAYOUT_VERSION, "manualml-layout-0"))
    r = grade_file(old, hp)
    (f,) = [f for f in r.findings if f.code == "layout-version"]
    assert f.found == "manualml-layout-0" and f.expected == LAYOUT_VERSION
    r = grade_file(src, load("house-prices-linear"))  # refused, not scored (issue 13)
    assert (r.status, r.error_code, r.error) == ("error", "other-assignment", "this is the workbook for "
                                                 "'house-prices': grade it with -t house-prices")


def test_grading_never_modifies_the_file(made, hp):
    path = made["good.ods"]
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    grade_file(path, hp)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_gradescope_results_fields(made, hp):
    r = grade_file(made["good"], hp)
    payload = json.loads(json.dumps(gradescope(r, hp)))
    assert set(payload) == {"score", "output", "output_format", "tests", "leaderboard"}  # issue 15: a leaderboard
    assert isinstance(payload["score"], float) and payload["score"] == 10.0
    assert payload["output_format"] in {"text", "html", "simple_format", "md", "ansi"}
    assert sum(t["max_score"] for t in payload["tests"]) == hp.rubric.max_points
    for t in payload["tests"]:
        # issue 15: the hidden-houses test carries its own visibility (after the due date)
        assert set(t) - {"visibility"} == {"name", "score", "max_score", "status", "output"}
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert isinstance(t["score"], float) and isinstance(t["max_score"], float)
        assert t["status"] in {"passed", "failed"}
    broken = gradescope(grade_file(made["issued"].parent / "nope.xlsx", hp), hp)
    assert broken["score"] == 0.0 and broken["tests"][0]["status"] == "failed"


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_row_inserted_in_libreoffice_is_flagged(made, hp, suffix):
    """A real row insertion: LibreOffice shifts the data and rewrites formulas; the grader names the insertion
    once (issue 13: root causes, not the cells it moved)."""
    r = grade_file(made["row-inserted" + suffix], hp)
    assert r.status == "graded", r.error
    row = lecture_layout().first_row + 2
    assert _codes(r) == ["row-inserted"]
    assert r.findings[0].message.startswith(f"a row was inserted before row {row}: ")
    assert r.weights == dict(hp.weights) and r.improvement == 0.0 and r.points == 0


def test_column_inserted_in_libreoffice_is_flagged(made, hp):
    r = grade_file(made["column-inserted"], hp)
    assert r.status == "graded", r.error
    assert _codes(r) == ["column-inserted"]  # the weights' names moved with their cells: followed, not reported
    # inserted at C, but C was empty: before C or before D is the same sheet, and the finding says so
    assert r.findings[0].message.startswith("a column was inserted between columns B and D: ")
    assert r.points == 0
