"""What changed in a submission besides the parameters (nbgrader's locked-cell checksums, for sheets).

One module for every graded sheet: it walks the sheet's `GradedSheet` description and compares
each region with what was issued: given data and constants with their issued numbers, computed
cells with their formula, defined names with their issued cells, and the saved results with
what NumPy computes from the student's parameters. Findings name the cell and what was
expected, in the same codes and words on every sheet. None of them can raise a score (grading
recomputes from the assignment's own data); the template decides whether they cost points.

Root causes first: when the cell-by-cell comparison shows what a moved row or column looks like,
`grader.structure` looks for the one insertion or deletion that explains it; if there is one, it
is a single finding (the cells it moved counted, not listed) and every issued cell is checked
again where the edit put it, so only what the edit does not explain is reported besides. A clean
file never pays for this: the fast comparison, a run of rows at a time, comes first.
"""

from __future__ import annotations

import math

import numpy as np

from grader import structure
from grader.cell import Cell, normalise_formula
from grader.per_sheet import derived
from grader.reader import MAX_LISTED, Submission, followed_weights
from grader.results import INFO, TAMPER, WEIGHT, Finding
from grader.sheet_cells import SheetCells
from grader.structure import Edit, Edits
from workbook.address import (
    MAX_COL,
    MAX_ROW,
    PLAIN_CELL,
    a1,
    box,
    cells_of,
    col_index,
    col_letter,
    corners,
    parse_reference,
    position,
    qualified,
    undollar,
)
from workbook.graded import CacheCheck, GradedSheet, Region, Role

VALUE_TOLERANCE = 1e-9  # relative: issued data and baseline are written exactly
CACHE_TOLERANCE = 1e-6  # relative: a spreadsheet's cached results vs NumPy
SYMPTOMS = {"data-edited", "formula-overwritten", "formula-edited", "layout-extended", "baseline-edited",
            "name-moved"}  # what a moved row or column looks like cell by cell: then the grader looks for one

def check(sub: Submission, sheet: GradedSheet) -> list[Finding]:
    """Every finding for one submission: how the reader found the parameters (`sub.findings`), then what
    changed. An inserted or deleted row or column is one finding, and the issued cells are then checked
    where it moved them, so only what it does not explain is reported besides."""
    findings: list[Finding] = []
    stamp(sub.properties, sheet.id, findings, layout_version=sheet.version)
    if not sub.sheet:
        return [*sub.findings, *findings]
    plain = list(findings)
    _names(sub, sheet, plain)
    changed = _formulas(sub, sheet, plain) | _given(sub, sheet, plain)
    _extent(sub, sheet, plain)
    _caches(sub, sheet, plain, changed)
    _stray(sub, sheet, plain)
    if not any(f.code in SYMPTOMS for f in [*sub.findings, *plain]):  # nothing moved: the fast path
        return [*sub.findings, *plain]
    _, _, last_row, last_col = box(sheet.extent)
    edit = structure.detect(sub.cells, sheet, (last_row + structure.MAX_SPAN, last_col + structure.MAX_SPAN),
                            names=sub.book.defined_names, where=sub.sheet,
                            far_edge=sub.book.max_row.get(sub.sheet, 0) == MAX_ROW)
    if not edit:
        return [*sub.findings, *plain]
    reader = [f for f in sub.findings if not _moved_name(f, edit)]
    reader = _deleted_weights(sub, sheet, edit, reader)
    findings += [_edit_finding(e, sheet) for e in edit.edits]
    _check_moved(sub, sheet, edit, findings)
    return [*reader, *findings]


def stamp(props: dict[str, str], assignment_id: str, findings: list[Finding], *, layout_version: str) -> None:
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


def _names(sub: Submission, sheet: GradedSheet, findings: list[Finding], edit: Edits | None = None) -> None:
    """Formulas use the defined names: one removed or moved breaks the sheet the student sees. (A weight's
    own name is the reader's: it says where the weight was read from.)"""
    followed = derived(sheet, "followed names", lambda: frozenset(r.name for r in followed_weights(sheet)),
                       layout_only=True)  # (which regions are weights, and their names: the layout's)
    defined = sub.book.defined_names
    for name, issued in sheet.names.items():
        if name in followed:
            continue
        if name not in defined:
            findings.append(Finding("name-removed", TAMPER, f"the defined name {name} was deleted; formulas that "
                                    f"use it break, and the grader read its issued cells {issued}", cell=name,
                                    expected=issued))
            continue
        if edit is not None and "#REF!" in defined[name] and any(name in _named_cells(e, sheet) for e in edit.edits):
            continue  # its cell went with a deleted row or column: the edit's finding names it
        target_sheet, ref = parse_reference(defined[name])
        if edit is not None:
            issued = _moved_area(edit, issued) or issued
        if (target_sheet, undollar(ref)) != (sub.sheet, issued):
            findings.append(Finding("name-moved", TAMPER, f"the name {name} now points at {defined[name]} instead of "
                                    f"{issued}; the grader read the issued cells", cell=name, expected=issued,
                                    found=defined[name]))


def _formulas(sub: Submission, sheet: GradedSheet, findings: list[Finding]) -> set[int]:
    """Every issued formula. A per-row column is checked a run of uniform rows at a time (all its rows hold
    one pattern with their own row number, so checking the run's first and last rows catches a reference
    that does not follow the row); rows outside runs, every row of a run that fails, and every other
    computed cell are checked one by one, in sheet order."""
    cells = sub.cells
    if not cells.runs:  # a sheet read cell by cell: every issued formula is checked, the same list every file
        checks = derived(sheet, "formulas", lambda: _issued_formulas(sheet, cells), layout_only=True)
        refs, formulas = derived(sheet, "formula lists", lambda: ([r for r, _ in checks], [f for _, f in checks]),
                                 layout_only=True)
        if cells.formulas(refs) == formulas:  # every one exactly as issued: what the loop below would find
            return set()
    else:
        checks = _issued_formulas(sheet, cells)
    overwritten, edited = [], []
    array_cells = array_members(cells)
    where = sub.sheet
    for ref, formula in checks:
        found = cells.formula(ref)
        if found is not None and (found == formula or _same_formula(found, formula)):
            continue  # as issued (compare_formula would say nothing)
        compare_formula(ref, formula, cells.get(ref), where, overwritten, edited, array_cells=array_cells)
    report_batch(findings, overwritten, "formula-overwritten", "formulas replaced by values")
    report_batch(findings, edited, "formula-edited", "formulas changed")
    return _rows_of([*overwritten, *edited])


def _issued_formulas(sheet: GradedSheet, cells: SheetCells) -> list[tuple[str, str]]:
    """(cell, issued formula) to check one by one, in sheet order: a per-row column's rows outside runs of
    uniform rows and the rows of runs that fail, then every other computed cell."""
    suspects: set[tuple[int, int, int]] = set()  # (row, column, index of the region)
    singles: list[tuple[str, str]] = []
    computed = [r for r in sheet.of(Role.COMPUTED)]
    for k, region in enumerate(computed):
        r1, c1, r2, _ = box(region.area)
        if region.array:
            singles.append((region.first, region.formula_at(region.first)))
        elif region.rows and region.formula is not None:
            col = col_letter(c1)
            for rows, formula_at in cells.formula_runs(col, r1, r2):
                ends = {int(rows[0]), int(rows[-1])}
                if not all(_same_formula(formula_at(r), region.formula.format(r=r)) for r in ends):
                    suspects.update((int(r), c1, k) for r in rows)
            suspects.update((r, c1, k) for r in cells.loose_rows(r1, r2))
        else:
            singles += [(ref, region.formula_at(ref, i)) for i, ref in enumerate(region.refs)]
    return [*((a1(r, c), computed[k].formula.format(r=r)) for r, c, k in sorted(suspects)), *singles]


def _rows_of(found: list[Finding]) -> set[int]:
    """The rows of the cells these findings name (every one, listed or not)."""
    return {position(parse_reference(f.cell)[1])[0] for f in found if f.cell}


def _same_formula(text: str | None, formula: str) -> bool:
    return text is not None and normalise_formula(text) == normalise_formula(formula)


def compare_formula(ref: str, formula: str, cell: Cell | None, sheet: str, overwritten: list[Finding],
                    edited: list[Finding], *, array_cells: set[str] | frozenset[str] = frozenset()) -> None:
    """One issued formula cell against the submission: replaced by a value, changed, or as issued.

    A cell inside an array formula the student entered (`array_cells`, from `array_members`) carries only a
    value in the file; it is an edited formula, not one typed over."""
    if (cell is None or cell.formula is None) and ref in array_cells:
        edited.append(Finding("formula-edited", TAMPER, f"cell {ref} is part of an array formula the student "
                              f"entered; it should hold {formula}", cell=qualified(sheet, ref), expected=formula,
                              found="array formula"))
    elif cell is None or cell.formula is None:
        overwritten.append(Finding("formula-overwritten", TAMPER, f"cell {ref} should hold the formula {formula} "
                                   f"but holds {describe(cell)}: typed values are ignored, the grader "
                                   "recomputes everything from the original data", cell=qualified(sheet, ref),
                                   expected=formula, found=describe(cell)))
    elif not _same_formula(cell.formula, formula):
        edited.append(Finding("formula-edited", TAMPER, f"cell {ref} should hold {formula} but holds "
                              f"{cell.formula}", cell=qualified(sheet, ref), expected=formula, found=cell.formula))


def array_members(cells: SheetCells) -> set[str]:
    """Cells covered by an array formula other than its top-left (they carry values only)."""
    members: set[str] = set()
    for cell in cells.arrays():
        if ":" in cell.array_ref:
            members.update(cells_of(cell.array_ref))
            members.discard(cell.ref)
    return members


def _given(sub: Submission, sheet: GradedSheet, findings: list[Finding]) -> set[int]:
    """The issued data, compared a whole column at a time; only differing cells are described. Constants
    (the baseline) are compared too: the issued value is what grading uses."""
    cells = sub.cells
    where = sub.sheet
    suspects: list[tuple[int, int, float, Region]] = []  # (row, column, issued value, region)
    given = derived(sheet, "given columns", lambda: _given_columns(sheet))
    small = not cells.runs and sum(len(g[2]) for g in given) <= SMALL_CELLS
    listed = derived(sheet, "given cells", lambda: _given_cell_list(given)) if small else None
    if given and listed is not None:
        # a small sheet read cell by cell: each cell compared in plain Python (NumPy's cost is per call), the
        # same decision as the arrays' below, bit for bit
        for ref, r, c, expected, region in listed:
            saved = cells.saved(ref)
            if saved is None or saved[1] is not None or not _close(saved[0], expected, VALUE_TOLERANCE, 1e-12):
                suspects.append((r, c, expected, region))
    elif given:  # every column read, then compared in one go (a few small columns: NumPy's cost is per call)
        columns = [cells.column(col, r1, r2) for _, col, _, r1, r2 in given]
        number, is_number, has_formula = (np.concatenate([getattr(c, name) for c in columns])
                                          for name in ("number", "is_number", "has_formula"))
        expected = derived(sheet, "given values", lambda: np.concatenate([g[2] for g in given]))
        bad = ~(is_number & ~has_formula & close(number, expected, VALUE_TOLERANCE, 1e-12))
        at = 0
        for region, col, values, r1, _ in given:
            c = col_index(col)
            suspects += [(r1 + int(i), c, float(values[i]), region) for i in np.flatnonzero(bad[at:at + len(values)])]
            at += len(values)
    edited = []
    for r, c, expected, region in sorted(suspects, key=lambda s: s[:2]):
        ref = a1(r, c)
        cell = cells.get(ref)
        edited.append(Finding("data-edited", TAMPER, f"cell {ref} ({region.caption}) should be {expected:g} "
                              f"but is {describe(cell)}; the original data is used for grading",
                              cell=qualified(where, ref), expected=f"{expected:g}", found=describe(cell)))
    report_batch(findings, edited, "data-edited", "data changed")
    changed = _rows_of(edited)
    for region, ref, expected in derived(sheet, "constants", lambda: _constants(sheet)):
        cell = cells.get(ref)
        if not same_number(cell, float(expected)):
            findings.append(Finding(f"{region.key}-edited", TAMPER, f"the {region.caption} cell {ref} should be "
                                    f"{expected:.6g} but is {describe(cell)}; the issued {region.caption} is used",
                                    cell=qualified(where, ref), expected=f"{expected:.17g}", found=describe(cell)))
    return changed


def _constants(sheet: GradedSheet) -> list[tuple[Region, str, np.float64]]:
    """(region, cell, issued value) of every constant (the baseline)."""
    return [(region, ref, expected) for region in sheet.of(Role.CONSTANT)
            for ref, expected in zip(region.refs, np.asarray(region.values, dtype=float).ravel(), strict=True)]


def _given_columns(sheet: GradedSheet) -> list[tuple[Region, str, np.ndarray, int, int]]:
    """(region, column letter, issued values, first row, last row) of every column of issued data."""
    found = []
    for region in sheet.of(Role.GIVEN):
        r1, c1, r2, c2 = box(region.area)
        issued = np.asarray(region.values, dtype=float).reshape(r2 - r1 + 1, c2 - c1 + 1)
        found += [(region, col_letter(c1 + j), issued[:, j], r1, r2) for j in range(c2 - c1 + 1)]
    return found


SMALL_CELLS = 256  # a sheet read cell by cell with at most this many cells to compare is compared in plain Python


def _given_cell_list(given: list[tuple[Region, str, np.ndarray, int, int]]
                     ) -> list[tuple[str, int, int, float, Region]]:
    """(cell, row, column, issued value, region) of every cell of issued data, column by column."""
    return [(a1(r1 + i, c), r1 + i, c, expected, region) for region, col, values, r1, _ in given
            for c in (col_index(col),) for i, expected in enumerate(values.tolist())]


def _close(value, expected: float, rel_tol: float, abs_tol: float) -> bool:
    """`value` is a number (not a boolean) and `close` to `expected`: one cell of the element-wise comparison,
    in plain Python (the same float64 operations, so the same answer, nan and infinities included)."""
    if not _is_number(value):
        return False
    diff = abs(value - expected)
    return value == expected or (diff < math.inf and diff <= max(rel_tol * max(abs(value), abs(expected)), abs_tol))


def close(values: np.ndarray, expected: np.ndarray, rel_tol: float, abs_tol: float) -> np.ndarray:
    """math.isclose, element-wise (symmetric, unlike numpy.isclose): an infinity is close only to itself."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(values - expected)
        return (values == expected) | (np.isfinite(diff) & (diff <= np.maximum(
            rel_tol * np.maximum(np.abs(values), np.abs(expected)), abs_tol)))


def same_number(cell: Cell | None, expected: float) -> bool:
    if cell is None or cell.formula is not None or isinstance(cell.value, bool):
        return False
    if not isinstance(cell.value, int | float):
        return False
    return math.isclose(float(cell.value), expected, rel_tol=VALUE_TOLERANCE, abs_tol=1e-12)


def _extent(sub: Submission, sheet: GradedSheet, findings: list[Finding], edit: Edits | None = None) -> None:
    """Rows or columns inserted push content beyond where the issued sheet ends."""
    max_row = sub.book.max_row.get(sub.sheet, 0)
    max_col = sub.book.max_col.get(sub.sheet, 0)
    _, _, last_row, last_col = _box_after(edit, sheet.extent)  # the sheet grew by what was inserted
    if edit is not None:  # a deletion refills the sheet's far edge (LibreOffice: a row there)
        if any(e.count < 0 for e in edit.along("row")) and max_row == MAX_ROW:
            max_row = 0
        if any(e.count < 0 for e in edit.along("column")) and max_col == MAX_COL:
            max_col = 0
    end = a1(last_row, last_col)
    if max_row > last_row or max_col > last_col:
        where = f"row {max_row}" if max_row > last_row else f"column {col_letter(max_col)}"
        findings.append(Finding("layout-extended", TAMPER, f"the sheet has content at {where}, beyond the issued "
                                f"layout (which ends at {end}): were rows or columns inserted or cells added?",
                                expected=end, found=where))


def _caches(sub: Submission, sheet: GradedSheet, findings: list[Finding], changed: set[int]) -> None:
    """Cached results must exist (the file was recalculated) and agree with NumPy on the student's weights;
    the first cell that disagrees is reported. Not where a reported change explains it (`changed`: the rows
    of data edited and formulas typed over or changed, whose saved results follow the change): neither a row
    among them, nor a one-cell result (the metric) once there is any, since it sums up every row."""
    cells = sub.cells
    if not cells.runs and (small := derived(sheet, "cache cells", lambda: _cache_cells(sheet))) is not None \
            and sum(len(refs) for _, refs in small) <= SMALL_CELLS:
        _caches_small(sub, sheet, findings, changed, small)
        return
    saved = [(check, _Saved(cells, check.area)) for check in sheet.caches]
    has_formula = any(s.formula.any() for _, s in saved)
    if has_formula and not any((s.formula & s.has_value).any() for _, s in saved):
        findings.append(_NOT_RECALCULATED)
        return
    if len(sub.weights) != derived(sheet, "parameters", lambda: len(sheet.param_cells), layout_only=True):
        return
    for check, s in saved:
        expected = np.asarray(check.expect(sub.weights), dtype=float)
        if changed and expected.size == 1:
            continue
        with np.errstate(invalid="ignore"):
            usable = s.formula & s.is_number & np.isfinite(expected) & ~s.in_rows(changed)
            wrong = np.flatnonzero(usable & ~close(s.number, expected, CACHE_TOLERANCE, 1e-9))
        if wrong.size:
            i = int(wrong[0])
            ref = s.ref(i)
            findings.append(_cache_mismatch(sub.sheet, ref, float(s.number[i]), float(expected[i])))
            return


_NOT_RECALCULATED = Finding("not-recalculated", INFO, "the workbook has no saved results: it was never opened and "
                            "recalculated in a spreadsheet (fine for grading; your weights were used)")


def _cache_mismatch(sheet_name: str, ref: str, shown: float, expected: float) -> Finding:
    """A saved result that these weights do not give (the first one found is reported)."""
    return Finding("cache-mismatch", TAMPER, f"cell {ref} shows {shown:.6g} but these weights give {expected:.6g}: "
                   "the saved results do not belong to the saved weights", cell=qualified(sheet_name, ref),
                   expected=f"{expected:.17g}", found=f"{shown:.17g}")


def _cache_cells(sheet: GradedSheet) -> list[tuple[CacheCheck, list[tuple[str, int]]]] | None:
    """Each saved-results check with its cells and their rows, when every check is one column; else None."""
    found = []
    for check in sheet.caches:
        r1, c1, r2, c2 = box(check.area)
        if c1 != c2:
            return None
        found.append((check, [(a1(r, c1), r) for r in range(r1, r2 + 1)]))
    return found


def _caches_small(sub: Submission, sheet: GradedSheet, findings: list[Finding], changed: set[int],
                  checked: list[tuple[CacheCheck, list[tuple[str, int]]]]) -> None:
    """`_caches` for a small sheet read cell by cell, in plain Python: the same cells read the same way
    (`SheetCells.saved`, as `SheetCells.column` reads them), the same comparisons, the same finding."""
    cells = sub.cells
    checks = []
    has_formula = recalculated = False
    for check, refs in checked:
        saved = [cells.saved(ref) for ref, _ in refs]
        for found in saved:
            if found is not None and found[1] is not None:
                has_formula = True
                if found[0] is not None:
                    recalculated = True
        checks.append((check, refs, saved))
    if has_formula and not recalculated:
        findings.append(_NOT_RECALCULATED)
        return
    if len(sub.weights) != derived(sheet, "parameters", lambda: len(sheet.param_cells), layout_only=True):
        return
    for check, refs, saved in checks:
        expected = np.asarray(check.expect(sub.weights), dtype=float)
        if changed and expected.size == 1:
            continue
        if expected.shape != (len(refs),):  # as NumPy would broadcast it: compared as arrays
            expected = np.broadcast_to(expected, (len(refs),))
        for (ref, row), found, value in zip(refs, saved, expected.tolist(), strict=True):
            if found is None or found[1] is None or not _is_number(found[0]) or not math.isfinite(value) \
                    or row in changed or _close(found[0], value, CACHE_TOLERANCE, 1e-9):
                continue
            findings.append(_cache_mismatch(sub.sheet, ref, found[0], value))
            return


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stray(sub: Submission, sheet: GradedSheet, findings: list[Finding], edit: Edits | None = None) -> None:
    """Numbers and formulas typed inside the layout where nothing is graded (a spacer cell, a label): a note
    that costs nothing, so a student's scratch work is not punished, yet a weight typed beside its yellow cell
    or a layout typed over is visible. Text is left alone: a note or a retitled label changes nothing.
    With an `edit`, every region is where the edit moved it (rows inserted inside a region belong to it)."""
    r1, c1, r2, c2 = _box_after(edit, sheet.extent)
    cells = sub.cells
    refs = set(cells.loose_refs())
    stray = []
    if edit is None and not cells.runs and (r2 - r1 + 1) * (c2 - c1 + 1) <= EXTENT_CELLS_MAX:
        # the usual file: each cell's address looked up among the extent's, listed once for the sheet
        extent = derived(sheet, "extent cells", lambda: _extent_cells(sheet), layout_only=True)
        inside, blank = derived(sheet, "extent sets", lambda: (frozenset(extent), frozenset(
            ref for ref, where in extent.items() if where is not None)), layout_only=True)
        for ref in refs & blank:  # (the cells where the builder wrote nothing: most files have none there)
            saved = cells.saved(ref)  # (value, formula) without a Cell: most are labels
            if saved is not None and (saved[1] is not None or isinstance(saved[0], int | float)):
                stray.append((*extent[ref], cells[ref]))
        # an address written otherwise ("a11", "A011"): looked at as below (a plain one outside is not stray)
        refs = {ref for ref in refs if ref not in inside and not PLAIN_CELL.fullmatch(ref)}  # (in the same order)
    if refs or cells.runs:
        spans: dict[int, list[tuple[int, int]]] = {}  # column -> the row spans of what the builder wrote there
        for area in [*(region.area for region in sheet.regions), *sheet.decorations]:
            q1, d1, q2, d2 = _box_after(edit, area)
            for col in range(d1, d2 + 1):
                spans.setdefault(col, []).append((q1, q2))

        def issued(row: int, col: int) -> bool:
            return any(lo <= row <= hi for lo, hi in spans.get(col, ()))

        for run in cells.runs:  # a column of uniform rows is decoded only where no region covers it
            rows = run.rows[(run.rows >= r1) & (run.rows <= r2)]
            for tc in run.template.cells if rows.size else ():
                if tc.has_children and c1 <= tc.col <= c2 and \
                        not any(lo <= int(rows[0]) and int(rows[-1]) <= hi for lo, hi in spans.get(tc.col, ())):
                    refs.update(a1(int(row), tc.col) for row in rows)
        for ref in refs:
            row, col = position(ref)
            if r1 <= row <= r2 and c1 <= col <= c2 and not issued(row, col):
                saved = cells.saved(ref)
                if saved is not None and (saved[1] is not None or isinstance(saved[0], int | float)):
                    stray.append((row, col, cells[ref]))
    _report_stray(sub, stray, findings)


EXTENT_CELLS_MAX = 20_000  # an extent up to this many cells has its cells listed once (see _extent_cells)


def _extent_cells(sheet: GradedSheet) -> dict[str, tuple[int, int] | None]:
    """Every cell of the extent as written in a file ("E12") -> its (row, column) where the builder wrote
    nothing (where _stray looks), None where it wrote something."""
    r1, c1, r2, c2 = box(sheet.extent)
    written = set()
    for area in [*(region.area for region in sheet.regions), *sheet.decorations]:
        q1, d1, q2, d2 = box(area)
        written.update((row, col) for row in range(q1, q2 + 1) for col in range(d1, d2 + 1))
    return {a1(row, col): None if (row, col) in written else (row, col)
            for row in range(r1, r2 + 1) for col in range(c1, c2 + 1)}


def _report_stray(sub: Submission, stray: list, findings: list[Finding]) -> None:
    stray.sort(key=lambda s: (s[0], s[1], s[2].ref))  # "L19" and "l19" in one order whatever the set's order
    for _, _, cell in stray[:MAX_LISTED]:
        findings.append(Finding("content-added", INFO, f"cell {cell.ref} holds {describe(cell)} where the issued "
                                "sheet has nothing to grade: the grader ignores it and reads only the yellow cells "
                                "(a weight belongs in its yellow cell)", cell=qualified(sub.sheet, cell.ref),
                                expected="nothing", found=describe(cell)))
    if len(stray) > MAX_LISTED:
        findings.append(Finding("content-added", INFO, f"... and {len(stray) - MAX_LISTED} more cells hold numbers "
                                "or formulas where the issued sheet has nothing to grade: the grader ignores them"))


def _box_after(edit: Edits | None, area: str) -> tuple[int, int, int, int]:
    """The box of `area` where `edit` moved it (as issued without one)."""
    r1, c1, r2, c2 = box(area)
    if edit is None:
        return r1, c1, r2, c2
    (r1, r2), (c1, c2) = edit.span("row", r1, r2), edit.span("column", c1, c2)
    return r1, c1, r2, c2


class _Saved:
    """The saved results of a column (read in bulk) or a block of cells, as arrays, row by row."""

    def __init__(self, cells: SheetCells, area: str) -> None:
        r1, c1, r2, c2 = box(area)
        if c1 == c2:
            column = cells.column(col_letter(c1), r1, r2)
            self.number, self.formula = column.number, column.has_formula
            self.has_value, self.is_number = column.has_value, column.is_number
            self.ref = lambda i: a1(r1 + i, c1)
            self.rows = np.arange(r1, r2 + 1)
            return
        refs = cells_of(area)
        found = [cells.get(ref) for ref in refs]
        self.is_number = np.array([_numeric(c) for c in found], dtype=bool)
        self.number = np.array([float(c.value) if _numeric(c) else np.nan for c in found])
        self.formula = np.array([c is not None and c.formula is not None for c in found], dtype=bool)
        self.has_value = np.array([c is not None and c.value is not None for c in found], dtype=bool)
        self.ref = refs.__getitem__
        self.rows = np.array([position(ref)[0] for ref in refs], dtype=int)

    def in_rows(self, rows: set[int]) -> np.ndarray:
        return np.isin(self.rows, list(rows)) if rows else np.zeros(len(self.rows), dtype=bool)


def _numeric(cell: Cell | None) -> bool:
    return cell is not None and isinstance(cell.value, int | float) and not isinstance(cell.value, bool)


# ------------------------------------------------------------------ a row or column inserted or deleted


def _moved_name(f: Finding, edit: Edits) -> bool:
    """A weight's name that moved with the edit: the reader followed it, nothing else happened to it."""
    return f.code == "name-moved" and bool(f.expected) and _moved_area(edit, f.expected) == f.found


def _moved_area(edit: Edits, area: str) -> str | None:
    try:
        first, last = corners(area)
    except ValueError:
        return None
    a, b = edit.move_ref(first), edit.move_ref(last)
    if a is None or b is None:
        return None
    return a if a == b else f"{a}:{b}"


def _deleted_weights(sub: Submission, sheet: GradedSheet, edit: Edits, reader: list[Finding]) -> list[Finding]:
    """A weight whose cell went with a deleted row or column: one finding saying so, instead of the reader's
    (its name is #REF!, and the cell it was issued in now holds something else)."""
    out = list(reader)
    for region in sheet.of(Role.EDITABLE):
        gone = [(p, ref, e) for p, ref in zip(region.params, region.refs, strict=True) if (e := edit.deleting(ref))]
        for param, ref, by in gone:
            what = f"row {by.at}" if by.axis == "row" else f"column {col_letter(by.at)}"
            what = what if by.count == -1 else by.describe().removesuffix(" were deleted")
            about = {param, region.name or "", qualified(sub.sheet, ref), qualified(sheet.sheet, ref)} - {""}
            out = [f for f in out if f.cell not in about]
            out.append(Finding("weight-deleted", WEIGHT, f"the weight {param} (issued in cell {ref}) was deleted "
                               f"with {what}, so it cannot be read: undo the deletion, or start again from "
                               "the workbook you were given", cell=region.name or qualified(sheet.sheet, ref),
                               expected=ref, found="deleted"))
    return out


def _edit_finding(edit: Edit, sheet: GradedSheet) -> Finding:
    moved = lost = 0
    for region in sheet.regions:
        m, gone = _counts(edit, region.area)
        moved, lost = moved + m, lost + gone
    gone = f", and {_cells_text(lost)} {'was' if lost == 1 else 'were'} deleted with it" if lost else ""
    named = [f"{name} (issued in cell {area})" for name, area in _named_cells(edit, sheet).items()]
    if named:  # a summary cell's name (#REF! now) is said here, not as a name of its own that "moved"
        gone += f", among them {' and '.join(named)}"
    said = f"{_cells_text(moved)} moved{gone}" if moved or not lost else gone.removeprefix(", and ")  # last lines
    return Finding(edit.code, TAMPER, f"{edit.describe()}: {said}. The grader "
                   "checked every cell where it went and grades from the issued data; undo it, or start again "
                   "from the workbook you were given", found=edit.describe(), expected="no rows or columns "
                   "inserted or deleted")


def _named_cells(edit: Edit, sheet: GradedSheet) -> dict[str, str]:
    """The named cells (not weights: those are the reader's) that `edit` deleted, every cell of them."""
    found = {}
    for name, area in sheet.result_names.items():
        if edit.count < 0:
            r1, c1, r2, c2 = box(area)
            lo, hi = (r1, r2) if edit.axis == "row" else (c1, c2)
            if all(edit.index(i) is None for i in range(lo, hi + 1)):
                found[name] = area
    return found


def _cells_text(n: int) -> str:
    return f"{n} issued cell" if n == 1 else f"{n} issued cells"


def _counts(edit: Edit, area: str) -> tuple[int, int]:
    """(cells of `area` the edit moved, cells it deleted)."""
    r1, c1, r2, c2 = box(area)
    lo, hi, width = (r1, r2, c2 - c1 + 1) if edit.axis == "row" else (c1, c2, r2 - r1 + 1)
    if edit.count > 0:
        return max(0, hi - max(lo, edit.at) + 1) * width, 0
    end = edit.at - edit.count - 1  # last deleted
    deleted = max(0, min(hi, end) - max(lo, edit.at) + 1)
    moved = max(0, hi - max(lo, end + 1) + 1)
    return moved * width, deleted * width


def _check_moved(sub: Submission, sheet: GradedSheet, edit: Edits, findings: list[Finding]) -> None:
    """Every issued cell where the edit moved it, with its formula rewritten as the spreadsheet does."""
    cells, where = sub.cells, sub.sheet
    overwritten, edited, data, constants = [], [], [], []
    array_cells = array_members(cells)
    for region in sheet.regions:
        if region.role == Role.EDITABLE:
            continue
        refs = region.refs[:1] if region.array else region.refs
        values = None if region.role == Role.COMPUTED else np.asarray(region.values, dtype=float).ravel()
        for i, ref in enumerate(refs):
            moved = edit.move_ref(ref)
            if moved is None:
                continue
            cell = cells.get(moved)
            if region.role == Role.COMPUTED:
                formula = edit.move_formula(region.formula_at(ref, i))
                compare_formula(moved, formula, cell, where, overwritten, edited, array_cells=array_cells)
            elif not same_number(cell, float(values[i])):
                expected = float(values[i])
                if region.role == Role.GIVEN:
                    data.append(Finding("data-edited", TAMPER, f"cell {moved} ({region.caption}) should be "
                                        f"{expected:g} but is {describe(cell)}; the original data is used for "
                                        "grading", cell=qualified(where, moved), expected=f"{expected:g}",
                                        found=describe(cell)))
                else:
                    constants.append(Finding(f"{region.key}-edited", TAMPER, f"the {region.caption} cell {moved} "
                                             f"should be {expected:.6g} but is {describe(cell)}; the issued "
                                             f"{region.caption} is used", cell=qualified(where, moved),
                                             expected=f"{expected:.17g}", found=describe(cell)))
    _names(sub, sheet, findings, edit)
    report_batch(findings, overwritten, "formula-overwritten", "formulas replaced by values")
    report_batch(findings, edited, "formula-edited", "formulas changed")
    report_batch(findings, data, "data-edited", "data changed")
    findings.extend(constants)
    _extent(sub, sheet, findings, edit)
    _moved_caches(sub, sheet, edit, findings, _rows_of([*overwritten, *edited, *data]))
    _stray(sub, sheet, findings, edit)


def _moved_caches(sub: Submission, sheet: GradedSheet, edit: Edits, findings: list[Finding],
                  edited_rows: set[int]) -> None:
    """Saved per-row results, where the edit moved them. A one-cell result (the metric) is not compared: the
    edit changed the range it averages, which the edit's finding already says; nor is a row whose data was
    reported edited or whose formula was typed over or changed (its saved result follows the change)."""
    if len(sub.weights) != len(sheet.param_cells):
        return
    for check in sheet.caches:
        refs = cells_of(check.area)
        if len(refs) < 2:
            continue
        expected = np.asarray(check.expect(sub.weights), dtype=float)
        for i, ref in enumerate(refs):
            moved = edit.move_ref(ref)
            cell = sub.cells.get(moved) if moved is not None and position(moved)[0] not in edited_rows else None
            if cell is None or cell.formula is None or not _numeric(cell) or not math.isfinite(expected[i]):
                continue
            if not math.isclose(float(cell.value), float(expected[i]), rel_tol=CACHE_TOLERANCE, abs_tol=1e-9):
                findings.append(_cache_mismatch(sub.sheet, moved, cell.value, float(expected[i])))
                return
