"""Grade a lecture sheet (linear regression, perceptron) described by a `Gradable`.

The same discipline as the manual-ML grader, on a sheet described by the sheet module itself:
read only the sheet's region through the bounded reader, take the parameters from the issued
cells, compare every issued data cell and formula with what was issued, recompute the metric
with NumPy from the assignment's own data, and never let a file raise.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from grader import refusal
from grader.cells import read_cells
from grader.integrity import (
    CACHE_TOLERANCE,
    MAX_LISTED,
    compare_formula,
    describe,
    report_batch,
    same_number,
    stamp,
)
from grader.reader import choose_sheet, weight_value
from grader.results import INFO, TAMPER, WEIGHT, Finding, GradeResult
from grader.safety import Limits, open_submission
from workbook import LECTURE_LAYOUT_VERSION, PROPERTY_PREFIX
from workbook.address import box, corners, parse_reference, quote_sheet, undollar
from workbook.lecture.gradable import Gradable

CONTENTS = "Contents"


def grade_lecture_file(path: str | Path, g: Gradable, *, on_finding: str | None = None, limits: Limits | None = None,
                       student_id: str = "", student_name: str = "") -> GradeResult:
    """Grade one submission of a graded lecture sheet; unreadable files become error results."""
    start = time.perf_counter()
    base = {"file": str(path), "assignment": g.id, "metric_name": g.metric_name, "max_points": g.rubric.max_points,
            "student_id": student_id, "student_name": student_name}
    try:
        params, findings, props = _read(str(path), g, limits or Limits())
    except Exception as exc:  # noqa: BLE001 - one strange file must never stop a batch
        return GradeResult.unreadable(exc, time.perf_counter() - start, **base)
    if not student_id:
        base["student_id"] = props.get("student_id", "")
        base["student_name"] = student_name or props.get("student_name", "")
    baseline = g.metric(g.start)
    if any(f.kind == WEIGHT for f in findings):
        return GradeResult(status="graded", weights=params, findings=tuple(findings), points=0.0, baseline=baseline,
                           seconds=time.perf_counter() - start, **base)
    value = g.metric(params)
    if not math.isfinite(value):
        gain, points = float("-inf"), 0.0
    else:
        gain = g.improvement(value, baseline)
        points = g.rubric.points(gain, value)
    penalised = (on_finding or g.integrity) == "zero" and any(f.kind == TAMPER for f in findings)
    return GradeResult(status="graded", metric=value, baseline=baseline, improvement=gain,
                       points=0.0 if penalised else points, weights=params, findings=tuple(findings),
                       penalised=penalised, seconds=time.perf_counter() - start, **base)


def _read(path: str, g: Gradable, limits: Limits) -> tuple[dict[str, float], list[Finding], dict[str, str]]:
    with open_submission(path, limits=limits) as archive:
        book = read_cells(archive, {g.sheet: [g.region]})  # names and properties come with it: one pass
        findings: list[Finding] = []
        props = {k.removeprefix(PROPERTY_PREFIX): v for k, v in book.custom_properties.items()
                 if k.startswith(PROPERTY_PREFIX)}
        refusal.check(path, props, book.sheet_names, book.defined_names, g, sheet=g.sheet, names=g.names)
        stamp(props, refusal.stamped_assignment(props, g), findings, layout_version=LECTURE_LAYOUT_VERSION)
        sheet = choose_sheet(book, g.sheet, g.names, findings, other_than=CONTENTS,
                             guess=props.get("assignment") in (None, g.id))
        if sheet is None:
            findings.append(Finding("weight-missing", WEIGHT, f"the parameters cannot be found: the sheet '{g.sheet}' "
                                    "is missing"))
            return {}, findings, props
        if sheet != g.sheet:  # renamed: read it under its new name
            book = read_cells(archive, {sheet: [g.region]})
    cells = book.sheet(sheet)
    where = quote_sheet(sheet)
    _names(book.defined_names, sheet, g, findings)
    params, problems = {}, []
    for key, ref in g.param_cells.items():
        value = weight_value(key, f"{where}!{ref}", ref, cells.get(ref), problems)
        if value is not None:
            params[key] = value
    findings += problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        findings.append(Finding(problems[0].code, WEIGHT, f"... and {len(problems) - MAX_LISTED} more editable "
                                "cells are not plain numbers: type a number into every yellow cell"))
    _issued(cells, g, where, findings)
    _extent(book.max_row.get(sheet, 0), book.max_col.get(sheet, 0), g, findings)
    _cache(cells, g, params, where, findings)
    return params, findings, props


def _names(defined: dict[str, str], sheet: str, g: Gradable, findings: list[Finding]) -> None:
    """Formulas use the defined names: one removed or moved breaks the sheet the student sees."""
    for name, issued in g.names.items():
        if name not in defined:
            findings.append(Finding("name-removed", TAMPER, f"the defined name {name} was deleted; the grader read "
                                    f"its issued cell {issued}", cell=name, expected=issued))
            continue
        target_sheet, ref = parse_reference(defined[name])
        if (target_sheet, undollar(ref)) != (sheet, issued):
            findings.append(Finding("name-moved", TAMPER, f"the name {name} now points at {defined[name]} instead of "
                                    f"{issued}; the grader read the issued cell", cell=name, expected=issued,
                                    found=defined[name]))


def _issued(cells, g: Gradable, where: str, findings: list[Finding]) -> None:
    """Issued data and formulas, compared cell by cell with what was generated."""
    edited, overwritten, changed = [], [], []
    for ref, expected in g.values.items():
        cell = cells.get(ref)
        if same_number(cell, expected):
            continue
        if ref == g.baseline_cell:
            findings.append(Finding("baseline-edited", TAMPER, f"the baseline cell {ref} should be {expected:.6g} but "
                                    f"is {describe(cell)}; the issued baseline is used", cell=f"{where}!{ref}",
                                    expected=f"{expected:.17g}", found=describe(cell)))
            continue
        edited.append(Finding("data-edited", TAMPER, f"cell {ref} (data) should be {expected:g} but is "
                              f"{describe(cell)}; the original data is used for grading", cell=f"{where}!{ref}",
                              expected=f"{expected:g}", found=describe(cell)))
    for ref, formula in g.formulas.items():
        compare_formula(ref, formula, cells.get(ref), where, overwritten, changed)
    report_batch(findings, edited, "data-edited", "data changed")
    report_batch(findings, overwritten, "formula-overwritten", "formulas replaced by values")
    report_batch(findings, changed, "formula-edited", "formulas changed")


def _extent(max_row: int, max_col: int, g: Gradable, findings: list[Finding]) -> None:
    _, _, last_row, last_col = box(g.region)
    end = corners(g.region)[1]
    if max_row > last_row or max_col > last_col:
        where = f"row {max_row}" if max_row > last_row else f"column {max_col}"
        findings.append(Finding("layout-extended", TAMPER, f"the sheet has content at {where}, beyond the issued "
                                f"sheet (which ends at {end}): were rows or columns inserted or cells "
                                "added?", expected=end, found=where))


def _cache(cells, g: Gradable, params: dict[str, float], where: str, findings: list[Finding]) -> None:
    cell = cells.get(g.metric_cell)
    if cell is None or cell.formula is None:
        return  # reported as an overwritten formula
    if cell.value is None:
        findings.append(Finding("not-recalculated", INFO, "the workbook has no saved results: it was never opened "
                                "and recalculated in a spreadsheet (fine for grading; your values were used)"))
        return
    if len(params) != len(g.param_cells) or not isinstance(cell.value, int | float) or isinstance(cell.value, bool):
        return
    value = g.metric(params)
    if math.isfinite(value) and not math.isclose(float(cell.value), value, rel_tol=CACHE_TOLERANCE, abs_tol=1e-9):
        findings.append(Finding("cache-mismatch", TAMPER, f"cell {g.metric_cell} shows {cell.value:.6g} but these "
                                f"values give {value:.6g}: the saved results do not belong to the saved values",
                                cell=f"{where}!{g.metric_cell}", expected=f"{value:.17g}",
                                found=f"{cell.value:.17g}"))
