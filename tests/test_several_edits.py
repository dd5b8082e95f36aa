"""Several rows or columns inserted or deleted in one file, and deleted columns: each edit one finding.

Made the way a student makes them: LibreOffice opens the issued workbook, inserts or deletes whole
rows and columns (UNO, as a right-click would; each edit at the row or column the student sees then),
recalculates and saves, as .xlsx and as .ods. The grader names each edit in the issued sheet's
numbering, counts the cells it moved, and reports nothing the edits explain.
"""

from __future__ import annotations

import pytest

from grader.grade import grade_file
from grader.results import WEIGHT
from grader.structure import Edit, Edits
from workbook.address import col_index, position
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

    folder = tmp_path_factory.mktemp("several-edits")
    issued = build_workbook(hp, folder / "issued.xlsx")
    plans = {  # UNO applies them in order, each where the sheet is at that moment
        "spacer-column-deleted": {f"delete-columns:{SHEET}!H1": 1},  # between ReLU(h2) and the true price
        "weight-column-deleted": {f"delete-columns:{SHEET}!E1": 1},  # h1's weights and ReLU(h1)
        "two-rows-inserted": {f"insert-rows:{SHEET}!A15": 1, f"insert-rows:{SHEET}!A12": 1},
        "two-rows-deleted": {f"delete-rows:{SHEET}!A15": 1, f"delete-rows:{SHEET}!A12": 1},
        "row-inserted-column-deleted": {f"insert-rows:{SHEET}!A13": 1, f"delete-columns:{SHEET}!H1": 1,
                                        "w_h1_out": 1.5},
        # above the data table, where only the weights' names (moved with their cells) say which rows moved
        "blank-row-deleted": {f"delete-rows:{SHEET}!A9": 1},  # the blank row between the weights and the table
        "row-inserted-at-top": {f"insert-rows:{SHEET}!A4": 1, "b_out": 3.0},  # a row for the student's name
        "weight-row-deleted": {f"delete-rows:{SHEET}!A6": 1},  # w_in1_h1, w_in1_h2 and w_h1_out with it
        # below the data table: the summary cells (Improvement in M17, Points in M20) tell the rows apart
        "row-below-deleted": {f"delete-rows:{SHEET}!A18": 1},  # the blank row under Improvement
        "row-below-inserted": {f"insert-rows:{SHEET}!A19": 1, f"insert-rows:{SHEET}!A12": 1},
    }
    out = {}
    for name, edits in plans.items():
        out[name], out[name + ".ods"] = libreoffice.edit_and_save(issued, edits, [folder / f"{name}.xlsx",
                                                                                folder / f"{name}.ods"])
    return out


def _cells(hp, where) -> int:
    """Issued cells of every region that satisfy `where(row, column)`, counted one by one."""
    return sum(1 for region in hp.graded_sheet().regions for ref in region.refs if where(*position(ref)))


def _found(r):
    return [(f.code, f.message) for f in r.findings]


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_deleted_spacer_column(edited, hp, suffix):
    r = grade_file(edited["spacer-column-deleted" + suffix], hp)
    assert _found(r) == [("column-deleted", f"column H was deleted: {_cells(hp, lambda r, c: c > 8)} issued cells "
                                            f"moved{TAIL}")]
    assert r.weights == dict(hp.weights) and r.improvement == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_deleted_column_with_weights(edited, hp, suffix):
    """The weights went with the column: each is named as deleted (not 'a name points at a sheet that no longer
    exists', nor the text of the label that moved into its cell), and the file cannot be scored."""
    r = grade_file(edited["weight-column-deleted" + suffix], hp)
    moved, lost = _cells(hp, lambda r, c: c > 5), _cells(hp, lambda r, c: c == 5)
    assert _found(r) == [
        *(("weight-deleted", f"the weight {w} (issued in cell {ref}) was deleted with column E, so it cannot be "
                             "read: undo the deletion, or start again from the workbook you were given")
          for w, ref in [("w_in1_h1", "E6"), ("w_in2_h1", "E7"), ("b_h1", "E8")]),
        ("column-deleted", f"column E was deleted: {moved} issued cells moved, and {lost} issued cells were deleted "
                           f"with it{TAIL}")]
    assert r.findings[0].kind == WEIGHT and r.metric is None and r.points == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_two_rows_inserted_apart(edited, hp, suffix):
    r = grade_file(edited["two-rows-inserted" + suffix], hp)
    assert _found(r) == [
        ("row-inserted", f"a row was inserted before row 12: {_cells(hp, lambda r, c: r >= 12)} issued cells "
                         f"moved{TAIL}"),
        ("row-inserted", f"a row was inserted before row 15: {_cells(hp, lambda r, c: r >= 15)} issued cells "
                         f"moved{TAIL}")]
    assert r.improvement == 0.0


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_two_rows_deleted_apart(edited, hp, suffix):
    r = grade_file(edited["two-rows-deleted" + suffix], hp)
    row = lambda n: _cells(hp, lambda r, c: r == n)  # noqa: E731
    assert _found(r) == [
        ("row-deleted", f"row 12 was deleted: {_cells(hp, lambda r, c: r > 12)} issued cells moved, and {row(12)} "
                        f"issued cells were deleted with it{TAIL}"),
        ("row-deleted", f"row 15 was deleted: {_cells(hp, lambda r, c: r > 15)} issued cells moved, and {row(15)} "
                        f"issued cells were deleted with it{TAIL}")]


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_row_inserted_and_column_deleted(edited, hp, suffix):
    """The student's weight is read where its name moved it, and the edits cost nothing else."""
    r = grade_file(edited["row-inserted-column-deleted" + suffix], hp)
    assert _found(r) == [
        ("row-inserted", f"a row was inserted before row 13: {_cells(hp, lambda r, c: r >= 13)} issued cells "
                         f"moved{TAIL}"),
        ("column-deleted", f"column H was deleted: {_cells(hp, lambda r, c: c > 8)} issued cells moved{TAIL}")]
    assert r.weights["w_h1_out"] == 1.5 and r.improvement != 0.0


@pytest.mark.parametrize(("edits", "formula", "exp"), [
    ((Edit("row", 12, 1), Edit("row", 15, 1)), "=SQRT(AVERAGE(K11:K16))", "=SQRT(AVERAGE(K11:K18))"),
    ((Edit("row", 12, 1), Edit("row", 15, 1)), "=(J15-I15)^2", "=(J17-I17)^2"),
    ((Edit("row", 13, 1), Edit("column", 8, -1)), "=(J13-I13)^2", "=(I14-H14)^2"),
    ((Edit("column", 5, -1),), "=w_h1_out*E11+w_h2_out*G11+b_out", "=w_h1_out*#REF!+w_h2_out*F11+b_out"),
    ((Edit("column", 11, -1),), "=SQRT(AVERAGE(K11:K16))", "=SQRT(AVERAGE(#REF!))"),
    ((Edit("row", 11, -2), Edit("row", 16, -1)), "=SQRT(AVERAGE(K11:K16))", "=SQRT(AVERAGE(K11:K13))"),
    ((Edit("row", 12, -1),), "=Gradients!C12+C12", "=Gradients!C12+#REF!"),
])
def test_formulas_are_rewritten_for_several_edits(edits, formula, exp):
    """As LibreOffice rewrites them: a reference into a deleted cell is #REF!, one into another sheet stays."""
    assert Edits(edits).move_formula(formula) == exp


def test_edits_are_numbered_as_issued():
    both = Edits((Edit("row", 12, 1), Edit("row", 15, -1), Edit("column", col_index("H"), -1)))
    assert both.move_ref("A11") == "A11" and both.move_ref("A14") == "A15" and both.move_ref("A15") is None
    assert both.move_ref("I16") == "H16" and both.move_ref("H16") is None
    assert both.deleting("A15") == Edit("row", 15, -1) and both.deleting("H3") == Edit("column", 8, -1)
    assert layout_for(load("house-prices")).first_row == 11  # the numbers above are the issued sheet's


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_edits_above_the_data_table(edited, hp, suffix):
    """Nothing but the weights' names says where a row above the table went: the edit is placed between the
    last weight row that stayed and the first that moved, and said so when that leaves a choice."""
    r = grade_file(edited["blank-row-deleted" + suffix], hp)
    assert _found(r) == [("row-deleted", f"one of rows 9–10 was deleted: {_cells(hp, lambda r, c: r > 10)} issued "
                                         f"cells moved{TAIL}")]
    assert r.improvement == 0.0
    r = grade_file(edited["row-inserted-at-top" + suffix], hp)
    assert _found(r) == [("row-inserted", f"a row was inserted above row 6: {_cells(hp, lambda r, c: r >= 6)} "
                                          f"issued cells moved{TAIL}")]
    assert r.weights["b_out"] == 3.0
    r = grade_file(edited["weight-row-deleted" + suffix], hp)
    assert _found(r) == [
        *(("weight-deleted", f"the weight {w} (issued in cell {ref}) was deleted with row 6, so it cannot be read: "
                             "undo the deletion, or start again from the workbook you were given")
          for w, ref in [("w_in1_h1", "E6"), ("w_in1_h2", "G6"), ("w_h1_out", "J6")]),
        ("row-deleted", f"row 6 was deleted: {_cells(hp, lambda r, c: r > 6)} issued cells moved, and "
                        f"{_cells(hp, lambda r, c: r == 6)} issued cells were deleted with it{TAIL}")]


@pytest.mark.parametrize(("edit", "exp"), [
    (Edit("row", 9, -1, 10), "one of rows 9–10 was deleted"), (Edit("row", 9, -2, 11), "2 of rows 9–11 were deleted"),
    (Edit("row", 1, 1, 5), "a row was inserted above row 6"),
    (Edit("row", 9, 2, 10), "2 rows were inserted between rows 8 and 11"),
])
def test_edits_placed_between_two_rows_are_named(edit, exp):
    assert edit.describe() == exp


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_edits_below_the_data_table(edited, hp, suffix):
    r = grade_file(edited["row-below-deleted" + suffix], hp)
    assert _found(r) == [("row-deleted", f"one of rows 18–19 was deleted: 1 issued cell moved{TAIL}")]  # Points
    r = grade_file(edited["row-below-inserted" + suffix], hp)
    assert _found(r) == [
        ("row-inserted", f"a row was inserted before row 12: {_cells(hp, lambda r, c: r >= 12)} issued cells "
                         f"moved{TAIL}"),
        ("row-inserted", f"a row was inserted between rows 17 and 20: 1 issued cell moved{TAIL}")]
    assert r.improvement == 0.0
