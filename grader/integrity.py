"""What changed in a submission besides the weights (nbgrader's locked-cell checksums, for sheets).

Every cell the student was not meant to edit is compared with what was issued: the
assignment's data, the baseline constant, and the formula the layout puts there. Findings
name the cell and what was expected. None of them can raise a score (grading recomputes
from the assignment's own data); the template decides whether they cost points.
"""

from __future__ import annotations

import math
import re

import numpy as np

from grader.cell import Cell
from grader.reader import Submission
from grader.results import INFO, TAMPER, Finding
from grader.sheet_cells import SheetCells
from workbook import LAYOUT_VERSION, model
from workbook.address import a1, cells_of, col_index, col_letter, quote_sheet
from workbook.formulas import row_templates, summary_formulas
from workbook.layout import Layout
from workbook.spec import Assignment, average_metric

VALUE_TOLERANCE = 1e-9  # relative: issued data and baseline are written exactly
CACHE_TOLERANCE = 1e-6  # relative: a spreadsheet's cached results vs NumPy
MAX_LISTED = 5  # findings of one kind listed one by one; the rest summarised


_PREFIXES = re.compile(r"_xlfn\.|_xlws\.")


def normalise_formula(text: str) -> str:
    """Compare formulas as a spreadsheet would: no '$', spaces or case, one leading '='."""
    if "_xl" in text:
        text = _PREFIXES.sub("", text)
    return "=" + text.lstrip("=").replace("$", "").replace(" ", "").upper()


def check(sub: Submission, assignment: Assignment, layout: Layout) -> list[Finding]:
    """Every integrity finding for one submission."""
    findings: list[Finding] = []
    stamp(sub.properties, assignment.id, findings)
    if not sub.sheet:
        return findings
    where = quote_sheet(sub.sheet)
    _formulas(sub, layout, assignment, where, findings)
    _given(sub, assignment, layout, where, findings)
    _extent(sub, layout, findings)
    _caches(sub, assignment, layout, where, findings)
    return findings


def stamp(props: dict[str, str], assignment_id: str, findings: list[Finding], *,
          layout_version: str = LAYOUT_VERSION) -> None:
    """The layout version and assignment id stamped into the document properties at generation."""
    version = props.get("layout")
    if version is None:
        findings.append(Finding("no-stamp", TAMPER, "this workbook carries no manualml stamp: it was not made by "
                                "`manualml generate` (or its document properties were removed)",
                                expected=layout_version))
    elif version != layout_version:
        findings.append(Finding("layout-version", TAMPER, f"this workbook has layout {version}, the grader expects "
                                f"{layout_version}: it is from an older or newer version of the assignment",
                                expected=layout_version, found=version))
    issued = props.get("assignment")
    if issued is not None and issued != assignment_id:
        findings.append(Finding("wrong-assignment", TAMPER, f"this workbook belongs to assignment '{issued}', not "
                                f"'{assignment_id}'", expected=assignment_id, found=issued))


def describe(cell: Cell | None) -> str:
    if cell is None or (cell.formula is None and cell.value is None):
        return "nothing"
    if cell.formula is not None:
        return cell.formula
    return repr(cell.value) if isinstance(cell.value, str) else f"{cell.value:g}"


def report_batch(findings: list[Finding], batch: list[Finding], code: str, summary: str) -> None:
    findings.extend(batch[:MAX_LISTED])
    if len(batch) > MAX_LISTED:
        findings.append(Finding(code, TAMPER, f"... and {len(batch) - MAX_LISTED} more cells: {summary}"))


def _formulas(sub: Submission, layout: Layout, a: Assignment, where: str, findings: list[Finding]) -> None:
    """Every issued formula, checked a run of uniform rows at a time; suspect cells one by one, in sheet order.

    A run's rows all hold one formula pattern with their own row number, so the pattern is checked
    at the run's first and last rows (a reference that does not follow the row shows up at one of
    them); rows outside runs, and every row of a run that fails, are checked cell by cell.
    """
    cells = sub.cells
    first, last = layout.first_row, layout.last_row
    metric = a.metric
    templates = row_templates(layout, metric)
    loose = cells.loose_rows(first, last)
    suspects: set[tuple[int, int]] = set()  # (row, index of the column in `templates`)
    for k, (col, template) in enumerate(templates):
        for rows, formula_at in cells.formula_runs(col, first, last):
            ends = {int(rows[0]), int(rows[-1])}
            if not all(_same_formula(formula_at(r), template.format(r=r)) for r in ends):
                suspects.update((int(r), k) for r in rows)
        suspects.update((r, k) for r in loose)
    overwritten, edited = [], []
    array_cells = array_members(cells)
    checks = [(a1(r, templates[k][0]), templates[k][1].format(r=r)) for r, k in sorted(suspects)]
    for ref, formula in [*checks, *summary_formulas(layout, metric, a.rubric, a.display.improvement_format,
                                                         average=average_metric(metric, a.data.y)).items()]:
        cell = cells.get(ref)
        if (cell is None or cell.formula is None) and ref in array_cells:
            edited.append(Finding("formula-edited", TAMPER, f"cell {ref} is part of an array formula the "
                                  f"student entered; it should hold {formula}", cell=f"{where}!{ref}",
                                  expected=formula, found="array formula"))
            continue
        compare_formula(ref, formula, cell, where, overwritten, edited)
    report_batch(findings, overwritten, "formula-overwritten", "formulas replaced by values")
    report_batch(findings, edited, "formula-edited", "formulas changed")


def _same_formula(text: str | None, formula: str) -> bool:
    return text is not None and normalise_formula(text) == normalise_formula(formula)


def compare_formula(ref: str, formula: str, cell: Cell | None, where: str, overwritten: list[Finding],
                    edited: list[Finding]) -> None:
    """One issued formula cell against the submission: replaced by a value, changed, or as issued."""
    if cell is None or cell.formula is None:
        overwritten.append(Finding("formula-overwritten", TAMPER, f"cell {ref} should hold the formula {formula} "
                                   f"but holds {describe(cell)}: typed values are ignored, the grader "
                                   "recomputes everything from the original data", cell=f"{where}!{ref}",
                                   expected=formula, found=describe(cell)))
    elif not _same_formula(cell.formula, formula):
        edited.append(Finding("formula-edited", TAMPER, f"cell {ref} should hold {formula} but holds "
                              f"{cell.formula}", cell=f"{where}!{ref}", expected=formula, found=cell.formula))


def array_members(cells: SheetCells) -> set[str]:
    """Cells covered by an array formula other than its top-left (they carry values only)."""
    members: set[str] = set()
    for cell in cells.arrays():
        if ":" in cell.array_ref:
            members.update(cells_of(cell.array_ref))
            members.discard(cell.ref)
    return members


def _given(sub: Submission, a: Assignment, layout: Layout, where: str, findings: list[Finding]) -> None:
    """The issued data, compared a whole column at a time; only differing cells are described."""
    cells = sub.cells
    first, last = layout.first_row, layout.first_row + len(a.data.rows) - 1
    given = layout.given_columns()
    suspects: list[tuple[int, int]] = []  # (row, index of the column in `given`)
    for k, col in enumerate(given):
        column = cells.column(col, first, last)
        expected = a.data.y if col == layout.target_col else a.data.X[:, k]
        ok = column.is_number & ~column.has_formula & close(column.number, expected, VALUE_TOLERANCE, 1e-12)
        suspects += [(first + int(i), k) for i in np.flatnonzero(~ok)]
    edited = []
    for r, k in sorted(suspects):
        col, expected = given[k], a.data.rows[r - first][k]
        cell = cells.get(a1(r, col))
        what = "target" if col == layout.target_col else "input"
        edited.append(Finding("data-edited", TAMPER, f"cell {col}{r} ({what} data) should be {expected:g} "
                              f"but is {describe(cell)}; the original data is used for grading",
                              cell=f"{where}!{col}{r}", expected=f"{expected:g}", found=describe(cell)))
    report_batch(findings, edited, "data-edited", "data changed")
    baseline = model.loss(a)
    cell = cells.get(layout.baseline_cell)
    if not same_number(cell, baseline):
        findings.append(Finding("baseline-edited", TAMPER, f"the baseline cell {layout.baseline_cell} should be "
                                f"{baseline:.6g} but is {describe(cell)}; the issued baseline is used",
                                cell=f"{where}!{layout.baseline_cell}", expected=f"{baseline:.17g}",
                                found=describe(cell)))


def close(values: np.ndarray, expected: np.ndarray, rel_tol: float, abs_tol: float) -> np.ndarray:
    """math.isclose, element-wise (symmetric, unlike numpy.isclose)."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(values - expected)
        return (values == expected) | (diff <= np.maximum(rel_tol * np.maximum(np.abs(values), np.abs(expected)),
                                                          abs_tol))


def same_number(cell: Cell | None, expected: float) -> bool:
    if cell is None or cell.formula is not None or isinstance(cell.value, bool):
        return False
    if not isinstance(cell.value, int | float):
        return False
    return math.isclose(float(cell.value), expected, rel_tol=VALUE_TOLERANCE, abs_tol=1e-12)


def _extent(sub: Submission, layout: Layout, findings: list[Finding]) -> None:
    """Rows or columns inserted push content beyond where the layout ends."""
    max_row = sub.book.max_row.get(sub.sheet, 0)
    max_col = sub.book.max_col.get(sub.sheet, 0)
    last_row = layout.bottom_row
    if max_row > last_row or max_col > col_index(layout.last_col):
        where = f"row {max_row}" if max_row > last_row else f"column {col_letter(max_col)}"
        findings.append(Finding("layout-extended", TAMPER, f"the sheet has content at {where}, beyond the issued "
                                f"layout (which ends at {layout.last_col}{last_row}): were rows or columns inserted or "
                                "cells added?", expected=f"{layout.last_col}{last_row}", found=where))


def _caches(sub: Submission, a: Assignment, layout: Layout, where: str, findings: list[Finding]) -> None:
    """Cached results must exist (the file was recalculated) and agree with NumPy on the student's weights."""
    cells = sub.cells
    first = layout.first_row
    pred = cells.column(layout.pred_col, first, first + layout.n_rows - 1)
    metric = cells.get(layout.metric_cell)
    metric_value = metric.value if metric is not None and metric.formula is not None else None
    if (not (pred.has_formula & pred.has_value).any() and metric_value is None
            and (pred.has_formula.any() or (metric is not None and metric.formula is not None))):
        findings.append(Finding("not-recalculated", INFO, "the workbook has no saved results: it was never opened "
                                "and recalculated in a spreadsheet (fine for grading; your weights were used)"))
        return
    if len(sub.weights) != len(layout.param_cells):
        return
    fwd = model.forward(a.network, sub.weights, a.data.X)
    with np.errstate(invalid="ignore"):
        usable = pred.has_formula & pred.is_number & np.isfinite(fwd.prediction)
        wrong = np.flatnonzero(usable & ~close(pred.number, fwd.prediction, CACHE_TOLERANCE, 1e-9))
    shown: list[tuple[str, float, float]] = [(f"{layout.pred_col}{first + int(i)}", float(pred.number[i]),
                                              float(fwd.prediction[i])) for i in wrong[:1]]
    if not shown and isinstance(metric_value, int | float) and not isinstance(metric_value, bool):
        exp = model.metric_value(a.metric, a.data.y, fwd.prediction)
        if math.isfinite(exp) and not math.isclose(float(metric_value), exp, rel_tol=CACHE_TOLERANCE, abs_tol=1e-9):
            shown.append((layout.metric_cell, float(metric_value), exp))
    for ref, value, exp in shown:
        findings.append(Finding("cache-mismatch", TAMPER, f"cell {ref} shows {value:.6g} but these weights "
                                f"give {exp:.6g}: the saved results do not belong to the saved weights",
                                cell=f"{where}!{ref}", expected=f"{exp:.17g}", found=f"{value:.17g}"))
