"""Root causes: a row or column inserted or deleted in LibreOffice is one finding that names it.

The files are made the way a student makes them: LibreOffice opens the issued workbook, inserts
or deletes (UNO, as a right-click would), recalculates and saves. The cells the edit moved are
counted, not listed, and what the edit does not explain (a data cell typed over elsewhere) is
still reported where it now sits.
"""

from __future__ import annotations

import pytest

from grader.grade import grade_file
from grader.structure import Edit, Edits
from workbook.address import box, position
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for

SHEET = "Manual Machine Learning"
TAIL = (". The grader checked every cell where it went and grades from the issued data; undo it, or start again "
        "from the workbook you were given")


@pytest.fixture(scope="module")
def hp():
    return load("house-prices")


@pytest.fixture(scope="module")
def edited(uno_python, hp, tmp_path_factory):
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("root-causes")
    issued = build_workbook(hp, folder / "issued.xlsx")
    lay = layout_for(hp)
    r = lay.first_row + 2  # the third data row
    plans = {
        "row-deleted": {f"delete-rows:{SHEET}!A{r}": 1},
        "row-inserted": {f"insert-rows:{SHEET}!A{r}": 1},
        "column-inserted": {f"insert-columns:{SHEET}!E{r}": 1},
        "baseline-row-deleted": {f"delete-rows:{SHEET}!A{position(hp.graded_sheet().names['baseline_rmse'])[0]}": 1},
        "metric-row-deleted": {f"delete-rows:{SHEET}!A{position(hp.graded_sheet().names['current_rmse'])[0]}": 1},
        "summary-column-deleted": {f"delete-columns:{SHEET}!M1": 1},  # the last column: nothing after it moves
        "points-row-deleted": {f"delete-rows:{SHEET}!A{box(hp.graded_sheet().extent)[2]}": 1},  # the last row
        "row-deleted-and-more": {f"delete-rows:{SHEET}!A{r}": 1, "w_in1_h1": 1.0,
                                 f"{SHEET}!{lay.input_cols[0]}{lay.last_row - 1}": 999.0},  # after the deletion
    }
    out = {}
    for name, edits in plans.items():
        out[name], out[name + ".ods"] = libreoffice.edit_and_save(issued, edits, [folder / f"{name}.xlsx",
                                                                                folder / f"{name}.ods"])
    return out


def _cells(hp, where) -> int:
    """Issued cells of every region that satisfy `where(row, column)`, counted one by one."""
    return sum(1 for region in hp.graded_sheet().regions for ref in region.refs if where(*position(ref)))


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_deleted_row_is_one_finding(edited, hp, suffix):
    r = grade_file(edited["row-deleted" + suffix], hp)
    assert r.status == "graded", r.error
    row = layout_for(hp).first_row + 2
    moved, lost = _cells(hp, lambda r, c: r > row), _cells(hp, lambda r, c: r == row)
    assert [(f.code, f.message) for f in r.findings] == [
        ("row-deleted", f"row {row} was deleted: {moved} issued cells moved, and {lost} issued cells were deleted "
                        f"with it{TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0  # graded from the issued data


@pytest.mark.parametrize("suffix", ["", ".ods"])
@pytest.mark.parametrize(("plan", "name", "cell"), [("baseline-row-deleted", "baseline_rmse", "M14"),
                                                    ("metric-row-deleted", "current_rmse", "M11")])
def test_deleted_row_with_a_named_summary_cell_is_one_finding(edited, hp, suffix, plan, name, cell):
    """The summary cell's name is #REF! after the deletion: said in the row's finding, like a weight deleted with
    its row, not as a second finding "the name baseline_rmse now points at #REF! instead of M14"."""
    r = grade_file(edited[plan + suffix], hp)
    assert r.status == "graded", r.error
    assert hp.graded_sheet().names[name] == cell
    row = position(cell)[0]
    moved, lost = _cells(hp, lambda r, c: r > row), _cells(hp, lambda r, c: r == row)
    assert [(f.code, f.message) for f in r.findings] == [
        ("row-deleted", f"row {row} was deleted: {moved} issued cells moved, and {lost} issued cells were deleted "
                        f"with it, among them {name} (issued in cell {cell}){TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_the_last_column_deleted_is_one_finding(edited, hp, suffix):
    """Column M (RMSE, Baseline, Improvement, Points) deleted: nothing after it moves, so no cell confirms it;
    its names pointing at #REF! do (emptied cells keep their names). It was six findings: name-moved twice,
    formula-overwritten thrice, baseline-edited."""
    r = grade_file(edited["summary-column-deleted" + suffix], hp)
    assert r.status == "graded", r.error
    assert [(f.code, f.message) for f in r.findings] == [
        ("column-deleted", f"column M was deleted: {_cells(hp, lambda r, c: c == 13)} issued cells were deleted with "
                           f"it, among them current_rmse (issued in cell M11) and baseline_rmse (issued in cell M14)"
                           f"{TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0


def test_the_last_row_deleted_is_one_finding(edited, hp):
    """Row 20 (Points, the layout's last) deleted: nothing after it moves; in an .xlsx, LibreOffice refilling the
    sheet's far edge (a row at 1048576) tells it from an emptied M20. It was "M20 should hold the formula … but
    holds nothing" and "the sheet has content at row 1048576". An .ods describes every row to the edge either way:
    there the emptied cell is what is seen, and said."""
    r = grade_file(edited["points-row-deleted"], hp)
    assert r.status == "graded", r.error
    last = box(hp.graded_sheet().extent)[2]
    assert last == 20 and [(f.code, f.message) for f in r.findings] == [
        ("row-deleted", f"row 20 was deleted: 1 issued cell was deleted with it{TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0
    ods = grade_file(edited["points-row-deleted.ods"], hp)
    assert [(f.code, f.cell) for f in ods.findings] == [("formula-overwritten", f"'{SHEET}'!M20")]


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_inserted_row_is_one_finding(edited, hp, suffix):
    r = grade_file(edited["row-inserted" + suffix], hp)
    assert r.status == "graded", r.error
    row = layout_for(hp).first_row + 2
    moved = _cells(hp, lambda r, c: r >= row)
    assert [(f.code, f.message) for f in r.findings] == [
        ("row-inserted", f"a row was inserted before row {row}: {moved} issued cells moved{TAIL}")]
    assert r.improvement == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_inserted_column_is_one_finding(edited, hp, suffix):
    """LibreOffice moves the weights' names with their cells: the grader follows them and says nothing else."""
    r = grade_file(edited["column-inserted" + suffix], hp)
    assert r.status == "graded", r.error
    moved = _cells(hp, lambda r, c: c >= 5)
    assert [(f.code, f.message) for f in r.findings] == [
        ("column-inserted", f"a column was inserted before E: {moved} issued cells moved{TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_what_the_edit_does_not_explain_is_still_reported(edited, hp, suffix):
    lay = layout_for(hp)
    r = grade_file(edited["row-deleted-and-more" + suffix], hp)
    found = [(f.code, f.cell) for f in r.findings]
    # the last data row moved up one with the deletion, then its input was typed over: reported where it now is
    assert found == [("row-deleted", ""), ("data-edited", f"'{SHEET}'!{lay.input_cols[0]}{lay.last_row - 1}")]
    assert r.findings[1].expected == f"{hp.data.rows[-1][0]:g}" and r.findings[1].found == "999"
    assert r.weights["w_in1_h1"] == 1.0 and r.improvement != 0.0


@pytest.mark.parametrize(("edit", "formula", "exp"), [
    (Edit("row", 14, -1), "=SQRT(AVERAGE(J12:J17))", "=SQRT(AVERAGE(J12:J16))"),
    (Edit("row", 17, -1), "=SQRT(AVERAGE(J12:J17))", "=SQRT(AVERAGE(J12:J16))"),
    (Edit("row", 12, 2), "=w_in1_h1*A12+b_h1", "=w_in1_h1*A14+b_h1"),
    (Edit("row", 14, 1), "=SQRT(AVERAGE($J$12:$J$17))", "=SQRT(AVERAGE($J$12:$J$18))"),
    (Edit("column", 5, 1), "=MAX(0,E12)+D12+\"E12\"", "=MAX(0,F12)+D12+\"E12\""),
    (Edit("column", 4, -2), "=F12+B12", "=D12+B12"),
])
def test_formulas_are_rewritten_as_the_spreadsheet_does(edit, formula, exp):
    assert Edits((edit,)).move_formula(formula) == exp


@pytest.mark.parametrize(("edit", "exp"), [
    (Edit("row", 14, -1), "row 14 was deleted"), (Edit("row", 14, -2), "rows 14–15 were deleted"),
    (Edit("row", 14, 1), "a row was inserted before row 14"), (Edit("row", 9, 3), "3 rows were inserted before row 9"),
    (Edit("column", 5, 1), "a column was inserted before E"), (Edit("column", 5, -1), "column E was deleted"),
    (Edit("column", 27, -2), "columns AA–AB were deleted"),
])
def test_edits_are_named(edit, exp):
    assert edit.describe() == exp
