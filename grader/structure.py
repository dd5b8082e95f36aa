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

Several edits are recognised one after another, in sheet order (two rows inserted at different
places, a row inserted and a column deleted): each is one finding, numbered as issued. Up to
MAX_SPAN rows or columns in all can be inserted or deleted and still be recognised; what no edit
explains is reported cell by cell. The last columns deleted move nothing: a name issued in them that
points at #REF! now tells them from columns emptied (emptying keeps the names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from grader.cell import normalise_formula
from grader.reader import MARGIN as MAX_SPAN  # rows or columns inserted or deleted at once that are recognised
from grader.sheet_cells import SheetCells
from workbook.address import (
    FORMULA_LOCAL_AREAS,
    a1,
    box,
    col_index,
    col_letter,
    parse_reference,
    position,
    undollar,
)
from workbook.graded import GradedSheet, Region, Role

VALUE_TOLERANCE = 1e-9
WINDOW = 1024  # data rows after a candidate edit that must match better shifted than not
MAX_UNEXPLAINED = 8  # data rows no edit explains before the row search gives up (each costs a pass over the rest)

_TOKEN = FORMULA_LOCAL_AREAS  # a reference into another sheet, Sheet!A1, does not move with this sheet's rows


@dataclass(frozen=True)
class Edit:
    """One insertion or deletion of whole rows or columns, in the issued sheet's numbering."""

    axis: str  # "row" or "column"
    at: int  # the first row/column inserted before, or the first one deleted
    count: int  # rows/columns inserted (> 0) or deleted (< 0)
    last: int = 0  # not 0: placed only between at and last (where nothing issued tells the lines apart); an
    #                insertion then went before one of at..last + 1, a deletion took lines among at..last

    def index(self, i: int) -> int | None:
        """Where issued row (or column) i is now; None if it was deleted."""
        if self.count > 0:
            return i + self.count if i >= self.at else i
        if self.at <= i < self.at - self.count:
            return None
        return i + self.count if i >= self.at else i

    def describe(self) -> str:
        """'row 14 was deleted', 'a column was inserted before E'."""
        n = abs(self.count)
        name = (lambda i: str(i)) if self.axis == "row" else col_letter
        if self.last:  # somewhere between two rows (columns) that say where they are
            what, lines = (f"a {self.axis}" if n == 1 else f"{n} {self.axis}s"), f"{self.axis}s"
            if self.count > 0:
                where = f"above {self.axis} {name(self.last + 1)}" if self.at == 1 else \
                    f"between {lines} {name(self.at - 1)} and {name(self.last + 1)}"
                return f"{what} {'was' if n == 1 else 'were'} inserted {where}"
            return f"{'one' if n == 1 else n} of {lines} {name(self.at)}–{name(self.last)} " \
                   f"{'was' if n == 1 else 'were'} deleted"
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


@dataclass(frozen=True)
class Edits:
    """Every insertion and deletion found, each numbered as issued: where they moved the issued cells.

    Numbered as issued, the edits add up: issued row i is now at i plus what each edit before it
    inserted, minus what each deleted."""

    edits: tuple[Edit, ...]

    def __bool__(self) -> bool:
        return bool(self.edits)

    def along(self, axis: str) -> tuple[Edit, ...]:
        return tuple(e for e in self.edits if e.axis == axis)

    def then(self, edit: Edit) -> Edits:
        return Edits((*self.edits, edit))

    def index(self, axis: str, i: int) -> int | None:
        """Where issued row (or column) i is now; None if it was deleted."""
        moved = i
        for e in self.along(axis):
            at = e.index(i)
            if at is None:
                return None
            moved += at - i
        return moved

    def move(self, row: int, col: int) -> tuple[int, int] | None:
        """Where the issued cell (row, col) is now; None if it was deleted."""
        r, c = self.index("row", row), self.index("column", col)
        return None if r is None or c is None else (r, c)

    def deleting(self, ref: str) -> Edit | None:
        """The edit that deleted the issued cell `ref`, if one did."""
        row, col = position(ref)
        return next((e for e in self.edits if e.count < 0 and e.index(row if e.axis == "row" else col) is None),
                    None)

    def move_ref(self, ref: str) -> str | None:
        found = self.move(*position(ref))
        return None if found is None else a1(*found)

    def span(self, axis: str, lo: int, hi: int) -> tuple[int, int]:
        """Where the issued rows (or columns) lo..hi are now, as one span: rows inserted inside it widen it,
        rows deleted from it narrow it (first > last when all of it was deleted)."""
        return self._edge(axis, lo, hi, False), self._edge(axis, hi, lo, True)

    def _edge(self, axis: str, i: int, limit: int, end: bool) -> int:
        """The issued index i where it is now; if i was deleted, the nearest surviving one towards `limit`
        (a range's end moves back to its last surviving row, its start on to its first)."""
        step = -1 if end else 1
        for j in range(i, limit + step, step):
            moved = self.index(axis, j)
            if moved is not None:
                return moved
        return -1 if not end else -2  # nothing survives: an empty span

    def move_formula(self, formula: str) -> str:
        """The formula as the spreadsheet rewrites it: references past an edit move; a reference to a deleted
        cell becomes #REF!; a range keeps what survives of it (#REF! when nothing does)."""
        def ref(groups) -> tuple[str, str, str, str, int, int]:
            col_abs, col, row_abs, row = groups
            return col_abs, col, row_abs, row, int(row), col_index(col)

        def spell(col_abs: str, c: int, row_abs: str, r: int) -> str:
            return f"{col_abs}{col_letter(c)}{row_abs}{r}"

        def repl(m: re.Match) -> str:
            if m.group(0).startswith('"'):
                return m.group(0)
            ca, _, ra, _, r, c = ref(m.groups()[:4])
            if m.group(5) is None:
                moved = self.move(r, c)
                return "#REF!" if moved is None else spell(ca, moved[1], ra, moved[0])
            cb, _, rb, _, r2, c2 = ref(m.groups()[4:])
            (top, bottom), (left, right) = self.span("row", r, r2), self.span("column", c, c2)
            if top > bottom or left > right:
                return "#REF!"
            return f"{spell(ca, left, ra, top)}:{spell(cb, right, rb, bottom)}"

        return _TOKEN.sub(repl, formula)

    def describe(self) -> str:
        return "; ".join(e.describe() for e in self.edits)


NONE = Edits(())


def detect(cells: SheetCells, sheet: GradedSheet, read_until: tuple[int, int], *,
           names: Mapping[str, str] | None = None, where: str = "", far_edge: bool = False) -> Edits:
    """The row and column insertions/deletions that explain where the issued content is (none: NONE).

    `read_until` is the (last row, last column) the reader read: content pushed beyond it is unknown.
    Rows are told apart by their data and columns by their issued cells, and each search needs the other's
    answer (a deleted column moves the data a row search reads), so they are asked in turn until neither
    changes (twice at most, for edits of both kinds). `names`: the submission's defined names and `where` the
    sheet read: a spreadsheet moves a weight's name with its cell, which places a row edit above the data.
    `far_edge`: the sheet has a row at its last possible row (LibreOffice refills it when a row is deleted),
    which tells the last rows deleted from the last rows emptied, like a name that points at #REF! now."""
    found = NONE
    above = _named_rows(sheet, names or {}, where)
    broken = [area for name, area in sheet.result_names.items() if "#REF!" in (names or {}).get(name, "")]
    for _ in range(3):
        rows = _row_edits(cells, sheet, Edits(found.along("column")), above, broken, far_edge)
        columns = _column_edits(cells, sheet, Edits(rows), read_until, broken)
        new = Edits((*rows, *columns))
        if new == found:
            break
        found = new
    return found


def _named_rows(sheet: GradedSheet, names: Mapping[str, str], where: str) -> list[tuple[int, int | None]]:
    """(issued row, row now; None if deleted) of every weight whose defined name says where it went."""
    found: list[tuple[int, int | None]] = []
    for region in sheet.of(Role.EDITABLE):
        target = names.get(region.name or "")
        if target is None or len(region.params) != 1:
            continue
        row = box(region.area)[0]
        if "#REF!" in target:
            found.append((row, None))
            continue
        try:
            target_sheet, ref = parse_reference(target)
            now = position(undollar(ref))[0]
        except ValueError:
            continue
        if target_sheet == where:
            found.append((row, now))
    return found


def _above(first: int, count: int, named: list[tuple[int, int | None]]) -> Edit:
    """The edit above the data table (first row `first`) that shifted it by `count`, placed by the weights'
    names: after the last row still where it was issued, before the first that moved (or at the first one
    deleted)."""
    named = [(r, now) for r, now in named if r < first]
    stayed = [r for r, now in named if now == r]
    moved = [r for r, now in named if now is not None and now != r]
    gone = [r for r, now in named if now is None]
    if count < 0 and gone:
        return Edit("row", min(gone), count)
    at, before = max(stayed, default=0) + 1, min(moved, default=first)
    if count < 0:
        return Edit("row", at, count, 0 if before - at == -count else before - 1)
    return Edit("row", at, count, 0 if before == at else before - 1)


def _row_edits(cells: SheetCells, sheet: GradedSheet, columns: Edits,
               named: list[tuple[int, int | None]] | None = None, broken: list[str] = (),
               far_edge: bool = False) -> tuple[Edit, ...]:
    """Compare the data rows, all given columns at once, with the issued rows shifted up or down, edit after
    edit from the top. `columns`: column edits already found (the data is read where they moved it). The
    rows just above the table are read too: if the whole table moved, the edit was above it (`named`: where
    the weights' names say their rows went, which places it)."""
    given = [(region, j) for region in sheet.of(Role.GIVEN) if region.rows
             for j in range(box(region.area)[3] - box(region.area)[1] + 1)]
    if not given:
        return ()
    r1, _, r2, _ = box(given[0][0].area)
    n = r2 - r1 + 1
    if n < 2:
        return ()
    above = min(MAX_SPAN, r1 - 1)  # seen index k is row r1 - above + k
    seen, issued, present = [], [], []
    for region, j in given:
        q1, c1, q2, c2 = box(region.area)
        col = columns.index("column", c1 + j)
        if (q1, q2) != (r1, r2) or col is None:
            continue
        column = cells.column(col_letter(col), r1 - above, r2 + MAX_SPAN)
        seen.append(np.where(column.is_number & ~column.has_formula, column.number, np.nan))
        issued.append(np.asarray(region.values, dtype=float).reshape(q2 - q1 + 1, c2 - c1 + 1)[:, j])
        present.append(column.has_value | column.has_formula)
    if not seen:
        return ()
    seen_a, issued_a, present_a = np.array(seen), np.array(issued), np.array(present)
    total = seen_a.shape[1]

    def equal(first: int, offset: int, stop: int | None = None) -> np.ndarray:
        """Issued rows first..stop-1 (n-1) against the seen rows `offset` below them (False where there are none)."""
        stop = n if stop is None else min(stop, n)
        out = np.zeros(stop - first, dtype=bool)
        offset += above
        lo, hi = max(first, -offset), min(stop, total - offset)
        if lo < hi:
            s, v = seen_a[:, lo + offset:hi + offset], issued_a[:, lo:hi]
            with np.errstate(invalid="ignore"):
                out[lo - first:hi - first] = np.all(
                    np.abs(s - v) <= VALUE_TOLERANCE * np.maximum(np.abs(s), np.abs(v)) + 1e-12, axis=0)
        return out

    def explains(first: int, old: int, new: int) -> bool:
        """Shifted by `new`, the issued rows from `first` match the seen ones: the next two at least (or all
        that are left), and more of the next WINDOW rows than unshifted (`old`) do (a window, so that a big
        sheet with a few edited cells costs a few short comparisons, not passes over every row)."""
        need = min(2, n - first)
        if not equal(first, new, first + need).all():
            return False
        stop = first + WINDOW
        return int(equal(first, new, stop).sum()) > int(equal(first, old, stop).sum())

    def blank(lo: int, hi: int) -> bool:
        return not present_a[:, max(lo + above, 0):max(hi + above, 0)].any()

    edits: list[Edit] = []
    offset, i, unexplained = 0, 0, 0
    if not equal(0, 0)[:2].all():  # the whole table moved: rows were inserted or deleted above it
        for m in (1, -1, 2, -2, 3, -3)[:2 * MAX_SPAN]:
            if m >= -above and explains(0, 0, m):
                edits.append(_above(r1, m, named or []))
                offset = m
                break
    while i < n:
        bad = np.flatnonzero(~equal(i, offset))
        if not bad.size:
            break
        i += int(bad[0])
        for m in range(1, MAX_SPAN + 1):
            if abs(offset + m) <= MAX_SPAN and i + offset + m + above <= total and blank(i + offset, i + offset + m) \
                    and explains(i, offset, offset + m):
                edits.append(Edit("row", r1 + i, m))
                offset += m
                break
            if abs(offset - m) <= MAX_SPAN and i + m < n and explains(i + m, offset, offset - m):
                edits.append(Edit("row", r1 + i, -m))
                offset -= m
                i += m
                break
            if i + m == n and blank(i + offset, n + offset):  # the last rows are gone (or were inserted blank)
                edits.append(Edit("row", r1 + i, -m))
                i = n
                break
        else:
            i += 1  # no edit explains this row: its data was edited, and is reported as such
            unexplained += 1
            if unexplained > MAX_UNEXPLAINED:  # not a moved table (or one read in the wrong columns): stop
                break
    below = _row_probes(sheet, r2)  # what follows the table (the summary cells): told apart by what they hold
    if below:
        last = max(box(sheet.extent)[2], below[-1][0]) + MAX_SPAN
        edits += _line_edits(cells, "row", below, Edits((*columns.edits, *edits)), (last, 10**9), r2, broken,
                             far_edge)
    return tuple(edits)


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


def matches(cells: SheetCells, region: Region, index: int, at: str, edit: Edits | None) -> bool:
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


def _column_edits(cells: SheetCells, sheet: GradedSheet, rows: Edits,
                  read_until: tuple[int, int], broken: list[str] = ()) -> tuple[Edit, ...]:
    """Each issued column's top cell, where the row edits moved it, compared column by column from the left;
    at the first that does not match, the insertion or deletion (of columns since the last one that matched)
    that makes the next ones match is an edit, and the search goes on from there. `broken`: the issued areas of
    the names that point at #REF! now (what tells the last columns deleted from the last columns emptied)."""
    return _line_edits(cells, "column", _probes(sheet), rows, read_until, 0, broken)


def _placed(edit: Edit, prev: int, c0: int) -> Edit:
    """`edit`, found between the probes on lines `prev` and `c0` (nothing issued between them tells the lines
    apart): exact when only one place fits, else placed anywhere between them (Edit.last)."""
    first, last = prev + 1, c0 - 1
    if edit.count > 0:
        return edit if first >= c0 else Edit(edit.axis, first, edit.count, last)
    if edit.at + (-edit.count) - 1 >= c0 or last - first + 1 <= -edit.count:
        return edit  # it took the probe's line itself, or the lines between are exactly the ones deleted
    return Edit(edit.axis, first, edit.count, last)


def _row_probes(sheet: GradedSheet, below: int) -> list[tuple[int, int, Region, int]]:
    """(row, column, region, index of the cell in the region): the first non-editable cell of each issued row
    below row `below` (the data table's last), by row."""
    found: dict[int, tuple[int, int, Region, int]] = {}
    for region in sheet.regions:
        if region.role == Role.EDITABLE or region.array:
            continue
        r1, c1, r2, c2 = box(region.area)
        for row in range(max(r1, below + 1), r2 + 1):
            if row not in found or c1 < found[row][1]:
                found[row] = (row, c1, region, (row - r1) * (c2 - c1 + 1))
    return [found[r] for r in sorted(found)]


def _trailing(cells: SheetCells, axis: str, probes: list[tuple[int, int, Region, int]], base: Edits,
              broken: list[str], far_edge: bool = False) -> Edit | None:
    """The last lines deleted: `probes` (the first that did not match and every one after it) are all empty
    now, and a name issued in those lines points at #REF! (a deletion; emptied cells keep their names) or,
    for rows, the sheet's far edge was refilled (`far_edge`). Nothing after them moved, so no later probe can
    confirm it."""
    line = 0 if axis == "row" else 1
    first, last = probes[0][line], max(p[line] for p in probes)
    for row, col, _, _ in probes:
        moved = base.move(row, col)
        cell = cells.get(a1(*moved)) if moved is not None else None
        if cell is not None and (cell.formula is not None or cell.value is not None):
            return None
    if not (far_edge and axis == "row") and \
            not any(first <= box(area)[line] and box(area)[line + 2] <= last for area in broken):
        return None
    return Edit(axis, first, -(last - first + 1))


def _line_edits(cells: SheetCells, axis: str, probes: list[tuple[int, int, Region, int]], base: Edits,
                read_until: tuple[int, int], prev_line: int, broken: list[str] = (),
                far_edge: bool = False) -> tuple[Edit, ...]:
    """Edits along `axis` ("row" or "column") found from probe cells in order: at the first probe that does
    not match where `base` and the edits so far put it, the insertion or deletion (of lines since the last
    probe that matched, `prev_line` before the first) that makes the next probes match is an edit."""
    found: list[Edit] = []
    line = 0 if axis == "row" else 1

    def checked(edits: Edits, start: int) -> list[tuple[int, bool]]:
        """(probe, whether it matches where `edits` put it) from probe `start` on; deleted or unread ones left out."""
        out = []
        for j in range(start, len(probes)):
            row, col, region, i = probes[j]
            moved = edits.move(row, col)
            if moved is None or moved[0] > read_until[0] or moved[1] > read_until[1]:
                continue
            out.append((j, matches(cells, region, i, a1(*moved), edits)))
        return out

    k = 0
    while k < len(probes):
        current = Edits((*base.edits, *found))
        now = checked(current, k)
        bad = next((j for j, ok in now if not ok), None)
        if bad is None:
            break
        c0, prev = probes[bad][line], (probes[bad - 1][line] if bad else prev_line)
        shift = sum(e.count for e in current.along(axis))
        before = sum(ok for j, ok in now if j >= bad)
        edit = None
        for m in range(1, MAX_SPAN + 1):
            candidates = ([Edit(axis, c0, m)] if abs(shift + m) <= MAX_SPAN else []) + \
                ([Edit(axis, at, -m) for at in range(c0, prev, -1)] if abs(shift - m) <= MAX_SPAN else [])
            for candidate in candidates:
                after = [ok for _, ok in checked(current.then(candidate), bad)]
                if after and all(after[:2]) and sum(after) > before:
                    edit = _placed(candidate, prev, c0)
                    break
            if edit is not None:
                break
        if edit is None and (broken or far_edge):
            edit = _trailing(cells, axis, probes[bad:], current, broken, far_edge)
        if edit is None:
            k = bad + 1  # no edit explains this line: its cells were edited, and are reported as such
            continue
        found.append(edit)
        k = bad
    return tuple(found)
