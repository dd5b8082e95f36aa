"""Root causes: a row or column inserted or deleted, found once, so its consequences are not findings.

When a student inserts or deletes a row or column, the spreadsheet moves every cell after it and
rewrites every formula that refers to them. Compared cell by cell with what was issued, that one
act looks like dozens of edits ("J14 shows 218 but these weights give 725", "content at row
18"). So before comparing, the grader asks whether the issued content sits where one such act
would have put it. The given data tells rows apart (each data row is a fingerprint), the
non-editable cells of each column tell columns apart. If one insertion or deletion explains what
is seen, it becomes one finding that names it, and every issued cell is then checked where the
edit moved it, with its formula rewritten the way the spreadsheet rewrites it: only what the
edit does not explain is reported.

One edit is recognised (the first row or column where the content stops matching); a second one
is reported cell by cell as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from grader.cell import normalise_formula
from grader.reader import MARGIN as MAX_SPAN  # rows or columns inserted or deleted at once that are recognised
from grader.sheet_cells import SheetCells
from workbook.address import a1, box, col_index, col_letter, position
from workbook.graded import GradedSheet, Region, Role

VALUE_TOLERANCE = 1e-9

_REF = r"(\$?)([A-Z]{1,3})(\$?)([0-9]+)"
_TOKEN = re.compile(rf'"(?:[^"]|"")*"|(?<![A-Za-z0-9_.$]){_REF}(?::{_REF})?(?![A-Za-z0-9_(!])')


@dataclass(frozen=True)
class Edit:
    """One insertion or deletion of whole rows or columns, in the issued sheet's numbering."""

    axis: str  # "row" or "column"
    at: int  # the first row/column inserted before, or the first one deleted
    count: int  # rows/columns inserted (> 0) or deleted (< 0)

    def _index(self, i: int) -> int | None:
        if self.count > 0:
            return i + self.count if i >= self.at else i
        if self.at <= i < self.at - self.count:
            return None
        return i + self.count if i >= self.at else i

    def move(self, row: int, col: int) -> tuple[int, int] | None:
        """Where the issued cell (row, col) is now; None if it was deleted."""
        if self.axis == "row":
            moved = self._index(row)
            return None if moved is None else (moved, col)
        moved = self._index(col)
        return None if moved is None else (row, moved)

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """Where the issued rows (or columns) lo..hi are now, as one span: rows inserted inside it widen it,
        rows deleted from it narrow it (lo > hi when all of it was deleted)."""
        first, last = self._index(lo), self._index(hi)
        return (self.at if first is None else first), (self.at - 1 if last is None else last)

    def move_ref(self, ref: str) -> str | None:
        found = self.move(*position(ref))
        return None if found is None else a1(*found)

    def move_formula(self, formula: str) -> str:
        """The formula as the spreadsheet rewrites it: references past the edit move; a range keeps the cells
        left of a deletion (its end moves back to the last surviving row or column)."""
        def shift(row: int, col: int, end: bool) -> tuple[int, int]:
            moved = self.move(row, col)
            if moved is not None:
                return moved
            first = self.at - 1 if end else self.at  # inside a deleted span: clamp to its edge
            return (first, col) if self.axis == "row" else (row, first)

        def ref(groups, end: bool) -> str:
            col_abs, col, row_abs, row = groups
            r, c = shift(int(row), col_index(col), end)
            return f"{col_abs}{col_letter(c)}{row_abs}{r}"

        def repl(m: re.Match) -> str:
            if m.group(0).startswith('"'):
                return m.group(0)
            first = m.groups()[:4]
            if m.group(5) is None:
                return ref(first, False)
            return f"{ref(first, False)}:{ref(m.groups()[4:], True)}"

        return _TOKEN.sub(repl, formula)

    def describe(self) -> str:
        """'row 14 was deleted', 'a column was inserted before E'."""
        n = abs(self.count)
        name = (lambda i: str(i)) if self.axis == "row" else col_letter
        if self.count > 0:
            what = f"a {self.axis} was" if n == 1 else f"{n} {self.axis}s were"
            return f"{what} inserted before {self.axis} {name(self.at)}" if self.axis == "row" else \
                f"{what} inserted before {name(self.at)}"
        if n == 1:
            return f"{self.axis} {name(self.at)} was deleted"
        return f"{self.axis}s {name(self.at)}–{name(self.at + n - 1)} were deleted"

    @property
    def code(self) -> str:
        return f"{self.axis}-{'inserted' if self.count > 0 else 'deleted'}"


def detect(cells: SheetCells, sheet: GradedSheet, read_until: tuple[int, int]) -> Edit | None:
    """The one row or column insertion/deletion that explains where the issued content is, if any.

    `read_until` is the (last row, last column) the reader read: content pushed beyond it is unknown."""
    return _row_edit(cells, sheet) or _column_edit(cells, sheet, read_until)


def _row_edit(cells: SheetCells, sheet: GradedSheet) -> Edit | None:
    """Compare the data rows, all given columns at once, with the issued rows shifted up or down."""
    columns = [(region, j) for region in sheet.of(Role.GIVEN) if region.rows
               for j in range(box(region.area)[3] - box(region.area)[1] + 1)]
    if not columns:
        return None
    r1, _, r2, _ = box(columns[0][0].area)
    n = r2 - r1 + 1
    if n < 2:
        return None
    seen, issued, present = [], [], []
    for region, j in columns:
        q1, c1, q2, c2 = box(region.area)
        if (q1, q2) != (r1, r2):
            continue
        col = cells.column(col_letter(c1 + j), r1, r2)
        seen.append(np.where(col.is_number & ~col.has_formula, col.number, np.nan))
        issued.append(np.asarray(region.values, dtype=float).reshape(q2 - q1 + 1, c2 - c1 + 1)[:, j])
        present.append(col.has_value | col.has_formula)
    seen_a, issued_a, present_a = np.array(seen), np.array(issued), np.array(present)

    def rows_equal(a: slice, b: slice) -> np.ndarray:
        s, v = seen_a[:, a], issued_a[:, b]
        with np.errstate(invalid="ignore"):
            return np.all(np.abs(s - v) <= VALUE_TOLERANCE * np.maximum(np.abs(s), np.abs(v)) + 1e-12, axis=0)

    def same(a: slice, b: slice) -> bool:
        """The shifted rows match the issued ones, but for a few edited cells (at least two rows in three)."""
        matched, as_issued = int(rows_equal(a, b).sum()), int(rows_equal(a, a).sum())
        return matched >= 1 and 3 * matched >= 2 * (a.stop - a.start) and matched > as_issued

    equal = rows_equal(slice(0, n), slice(0, n))
    if equal.all():
        return None
    k = int(np.flatnonzero(~equal)[0])
    for m in range(1, MAX_SPAN + 1):
        if k + m > n:
            break
        empty = not present_a[:, k:k + m].any()
        if empty and k + m < n and same(slice(k + m, n), slice(k, n - m)):
            return Edit("row", r1 + k, m)
        if k + m < n and n - m - k >= 1 and same(slice(k, n - m), slice(k + m, n)):
            return Edit("row", r1 + k, -m)
        if k + m == n and not present_a[:, k:].any():  # the last rows are gone (or were inserted blank)
            return Edit("row", r1 + k, -m)
    return None


def _probes(sheet: GradedSheet) -> list[tuple[int, int, Region, int]]:
    """(row, column, region, index of the cell in the region): one non-editable cell per issued column."""
    found: dict[int, tuple[int, int, Region, int]] = {}
    for region in sheet.regions:
        if region.role == Role.EDITABLE or region.array:
            continue
        r1, c1, _, c2 = box(region.area)
        for col in range(c1, c2 + 1):  # the top cell of each of its columns (index: row-major)
            found.setdefault(col, (r1, col, region, col - c1))
    return [found[c] for c in sorted(found)]


def matches(cells: SheetCells, region: Region, index: int, at: str, edit: Edit | None) -> bool:
    """Whether cell `at` of the submission holds what cell `index` of `region` was issued with (its formula
    rewritten by `edit`)."""
    cell = cells.get(at)
    if region.role == Role.COMPUTED:
        ref = a1(*_nth(region, index))
        formula = region.formula_at(ref, index)
        formula = edit.move_formula(formula) if edit is not None else formula
        return cell is not None and cell.formula is not None and \
            normalise_formula(cell.formula) == normalise_formula(formula)
    expected = float(np.asarray(region.values, dtype=float).ravel()[index])
    if cell is None or cell.formula is not None or isinstance(cell.value, bool) \
            or not isinstance(cell.value, int | float):
        return False
    return abs(float(cell.value) - expected) <= VALUE_TOLERANCE * max(abs(expected), abs(cell.value)) + 1e-12


def _nth(region: Region, index: int) -> tuple[int, int]:
    """(row, column) of a region's cell `index`, row by row."""
    r1, c1, _, c2 = box(region.area)
    row, col = divmod(index, c2 - c1 + 1)
    return r1 + row, c1 + col


def _column_edit(cells: SheetCells, sheet: GradedSheet, read_until: tuple[int, int]) -> Edit | None:
    probes = _probes(sheet)
    first_bad = next((p for p in probes if not matches(cells, p[2], p[3], a1(p[0], p[1]), None)), None)
    if first_bad is None:
        return None
    c0 = first_bad[1]
    for m in range(1, MAX_SPAN + 1):
        for edit in (Edit("column", c0, m), Edit("column", c0, -m)):
            verified, ok = 0, True
            for row, col, region, i in probes:
                if col < c0:
                    continue
                moved = edit.move(row, col)
                if moved is None:
                    continue
                if moved[1] > read_until[1]:
                    continue  # pushed beyond what was read
                if matches(cells, region, i, a1(*moved), edit):
                    verified += 1
                else:
                    ok = False
                    break
            if ok and verified:
                return edit
    return None
