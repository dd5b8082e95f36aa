"""The cells read from one sheet, whether parsed one by one or taken in bulk as uniform rows.

`SheetCells` is a read-only mapping from reference to `Cell`, so code that looks up a few
cells does not care how they were read. Cells of a `RowRun` are decoded only when looked up, and
so is an .xlsx cell read one by one: the reader keeps what it saw as a tuple (formula, array
range, type, saved text), and the `Cell` is made the first time it is looked up. Most checks
of a clean file ask only for a formula or for whether a cell holds a number (`formula`,
`column`), which the tuple answers without a `Cell`, and without the shared-string table.
Checks that sweep whole columns of a big sheet use `column` and `formula_runs` instead: one
array per column, and one formula pattern per run, rather than a million lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from grader.cell import NOT_NUMERIC_KINDS, ODS_FLOAT_TYPES, Cell, ods_value, shared_child, xlsx_value
from grader.ods_runs import OdsTemplateCell
from grader.row_runs import RowRun, TemplateCell
from workbook.address import PLAIN_CELL, a1, col_index

_REF = PLAIN_CELL


@dataclass(frozen=True)
class Column:
    """One column over rows first..last, as arrays (index 0 is row `first`)."""

    number: np.ndarray  # float64: the saved number, nan where the cell holds none
    is_number: np.ndarray  # the saved value is a number (not text, not a boolean)
    has_formula: np.ndarray  # the cell holds a formula
    has_value: np.ndarray  # the cell has a saved value of any kind


_SOME_TEXT = ""  # stands for a shared string's text where only "is it a number?" is asked


class SheetCells(Mapping[str, Cell]):
    """Cells of one sheet by reference ("C5"): loose cells, plus runs of uniform rows decoded on demand."""

    def __init__(self, loose: dict[str, Cell | tuple] | None = None, runs: list[RowRun] | None = None,
                 masters: dict[str, list[tuple[int, str, str]]] | None = None, strings=None) -> None:
        # ref -> its Cell, or what the .xlsx reader saw (formula, array range, type, saved text), made a Cell
        # when first looked up
        self._loose = loose or {}
        self._runs = runs or []
        self._masters = masters or {}  # shared formula si -> [(row it was defined in, anchor ref, text)]
        self._strings = strings
        self._overrides: set[int] = set()  # rows of runs where a loose cell stands in for the run's cell

    def settle(self, misplaced: dict[str, int]) -> None:
        """Give a cell written twice the value it had last in the file, as the parser would.

        A loose cell whose reference names another row (`misplaced`: ref -> the row it was written in)
        may name a run's cell; if it was written before that run's row, the run's cell replaces it.
        """
        for ref, written_in in misplaced.items():
            m = _REF.fullmatch(ref)
            if m is None:
                continue
            row = int(m.group(2))
            if not any(run.index(row) is not None for run in self._runs):
                continue
            if row > written_in and self._from_runs(row, col_index(m.group(1)), ref) is not None:
                del self._loose[ref]  # written before the run's row: the run's cell came later and counts
            else:
                self._overrides.add(row)  # written after: it counts, so that row is checked cell by cell

    @property
    def runs(self) -> list[RowRun]:
        return self._runs

    # ------------------------------------------------------------------------------- one cell at a time

    def __getitem__(self, ref: str) -> Cell:
        cell = self._loose.get(ref)
        if cell.__class__ is tuple:
            return self._made(ref, cell)
        if cell is None and self._runs and (m := _REF.fullmatch(ref)):  # "C5:C6", "#REF!": no single cell
            cell = self._from_runs(int(m.group(2)), col_index(m.group(1)), ref)
        if cell is None:
            raise KeyError(ref)
        return cell

    def _made(self, ref: str, saved: tuple) -> Cell:
        """The Cell of what the .xlsx reader saw, decoded as `xlsx_value` decodes it (kept for the next look)."""
        formula, array_ref, kind, text = saved
        value, error = (text, None) if kind == "inlineStr" else xlsx_value(kind, text, self._strings)
        cell = self._loose[ref] = Cell(ref=ref, formula=formula, value=value, error=error, array_ref=array_ref)
        return cell

    def formula(self, ref: str) -> str | None:
        """The formula of cell `ref` ('=' included), or None: what `self.get(ref).formula` says, without a Cell."""
        cell = self._loose.get(ref)
        if cell.__class__ is tuple:
            return cell[0]
        if cell is None and self._runs:
            cell = self.get(ref)
        return None if cell is None else cell.formula

    def saved(self, ref: str) -> tuple[float | str | bool | None, str | None] | None:
        """(value, formula) of cell `ref`, None if there is none: for a check that asks only whether the value
        is a number, or there at all. A shared string's value is then "", whatever its text: no Cell is made
        and no string table is looked in."""
        cell = self._loose.get(ref)
        if cell is None:
            cell = self.get(ref) if self._runs else None
            return None if cell is None else (cell.value, cell.formula)
        if cell.__class__ is not tuple:
            return cell.value, cell.formula
        formula, _, kind, text = cell
        if kind == "inlineStr":
            return text, formula
        if kind == "s":
            return (_SOME_TEXT if text else None), formula
        return xlsx_value(kind, text, None)[0], formula

    def __iter__(self) -> Iterator[str]:
        yield from self._loose
        for run in self._runs:
            for row in run.rows.tolist():
                for tc in run.template.cells:
                    ref = a1(row, tc.col)
                    if self._run_cell(run, run.index(row), tc, ref) is not None:
                        yield ref

    def __len__(self) -> int:
        """Counting decodes every cell of every run: slow for a big sheet, meant for tests and small sheets."""
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return bool(self._loose or self._runs)

    def loose_refs(self) -> Iterator[str]:
        """The references of the cells parsed one by one (not part of a run of uniform rows)."""
        return iter(self._loose)

    def formulas(self, refs: list[str]) -> list[str | None]:
        """`[self.formula(ref) for ref in refs]`, without a call per cell when no run of rows was read."""
        if self._runs:
            return [self.formula(ref) for ref in refs]
        return [None if c is None else c[0] if c.__class__ is tuple else c.formula for c in map(self._loose.get, refs)]

    def loose_cells(self) -> Iterator[Cell]:
        """The cells parsed one by one (not part of a run of uniform rows)."""
        return (self[ref] for ref in list(self._loose))

    def arrays(self) -> list[Cell]:
        """Cells holding an array formula (never part of a run: a run's template has none)."""
        return [self[ref] for ref, c in self._loose.items() if (c[1] if c.__class__ is tuple else c.array_ref)]

    def _from_runs(self, row: int, col: int, ref: str) -> Cell | None:
        for run in self._runs:
            i = run.index(row)
            if i is not None:
                tc = run.template.by_col.get(col)
                return None if tc is None else self._run_cell(run, i, tc, ref)
        return None

    def _formula(self, tc: TemplateCell | OdsTemplateCell | None, row: int) -> str | None:
        if tc is None:
            return None
        if isinstance(tc, OdsTemplateCell):
            return tc.formula_at(row)  # already in Excel syntax, '=' included
        if tc.shared is not None:  # the master defined last before this row, as the parser meets them
            defined = [m for m in self._masters.get(tc.shared, []) if m[0] < row]
            text = shared_child(defined[-1][1:], row, tc.col) if defined else ""
        else:
            text = tc.formula_at(row) or ""
        return "=" + text if text else None

    def _run_cell(self, run: RowRun, i: int, tc: TemplateCell | OdsTemplateCell, ref: str) -> Cell | None:
        if isinstance(tc, OdsTemplateCell):
            return _ods_cell(tc, run.values[i], self._formula(tc, int(run.rows[i])), ref)
        raw = run.values[i, tc.slot].decode("ascii") if tc.slot is not None else None
        value, error = xlsx_value(tc.kind, raw, self._strings)
        formula = self._formula(tc, int(run.rows[i]))
        if formula is None and value is None and error is None:
            return None
        return Cell(ref=ref, formula=formula, value=value, error=error)

    # ------------------------------------------------------------------------------- whole columns

    def loose_rows(self, first: int, last: int) -> list[int]:
        """Rows first..last that no run covers (read cell by cell, or absent)."""
        if not self._runs:  # a small sheet, read cell by cell: every row (asked a dozen times per file)
            return list(range(first, last + 1))
        covered = np.zeros(last - first + 1, dtype=bool)
        for run, lo, hi in self._overlaps(first, last):
            covered[run.rows[lo:hi] - first] = True
        for row in self._overrides:
            if first <= row <= last:
                covered[row - first] = False
        return (np.flatnonzero(~covered) + first).tolist()

    def formula_runs(self, col: str, first: int, last: int) -> Iterator[tuple[np.ndarray, Callable[[int], str | None]]]:
        """(rows, formula at a row) for each run within first..last: one formula pattern for all its rows."""
        c = col_index(col)
        for run, lo, hi in self._overlaps(first, last):
            tc = run.template.by_col.get(c)
            yield run.rows[lo:hi], lambda row, tc=tc: self._formula(tc, row)

    def column(self, col: str, first: int, last: int) -> Column:
        n = last - first + 1
        number = np.full(n, np.nan)
        is_number, has_formula, has_value = (np.zeros(n, dtype=bool) for _ in range(3))
        c = col_index(col)
        for run, lo, hi in self._overlaps(first, last):
            tc = run.template.by_col.get(c)
            if tc is None:
                continue
            at = run.rows[lo:hi] - first
            has_formula[at] = self._formula(tc, int(run.rows[lo])) is not None
            if isinstance(tc, OdsTemplateCell):
                if tc.value_type in ODS_FLOAT_TYPES and not tc.is_error and "office:value" in tc.slots:
                    number[at], is_number[at] = _floats(run.values[lo:hi, tc.slots["office:value"]])
                    has_value[at] = True
                    continue
                for i in range(lo, hi):  # any other kind of value, as the parser would decode it
                    cell = self._run_cell(run, i, tc, "")
                    value = None if cell is None else cell.value
                    has_value[run.rows[i] - first] = value is not None
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        number[run.rows[i] - first], is_number[run.rows[i] - first] = value, True
                continue
            if tc.slot is None:
                continue
            raw = run.values[lo:hi, tc.slot]
            has_value[at] = (raw != b"") & (tc.kind != "e")
            if tc.kind not in NOT_NUMERIC_KINDS:
                values, ok = _floats(raw)
                number[at], is_number[at] = values, ok
        for row in self.loose_rows(first, last):
            saved = self.saved(a1(row, col))
            if saved is None:
                continue
            value, formula = saved
            i = row - first
            has_formula[i] = formula is not None
            has_value[i] = value is not None
            if isinstance(value, int | float) and not isinstance(value, bool):
                number[i], is_number[i] = value, True
            else:
                number[i], is_number[i] = np.nan, False
        return Column(number=number, is_number=is_number, has_formula=has_formula, has_value=has_value)

    def _overlaps(self, first: int, last: int) -> Iterator[tuple[RowRun, int, int]]:
        for run in self._runs:
            lo = int(np.searchsorted(run.rows, first))
            hi = int(np.searchsorted(run.rows, last, side="right"))
            if lo < hi:
                yield run, lo, hi


def _ods_cell(tc: OdsTemplateCell, values: np.ndarray, formula: str | None, ref: str) -> Cell:
    """An .ods run cell, decoded exactly as `grader.cells` decodes a parsed one."""
    def attr(name: str) -> str | None:
        return values[tc.slots[name]].decode("ascii") if name in tc.slots else None

    value, error = ods_value(tc.value_type, tc.is_error, attr("text") or "", attr, formula is not None)
    return Cell(ref=ref, formula=formula, value=value, error=error)


def _floats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saved number texts -> (float64 values, parsed); an empty or non-numeric text is not a number.

    NumPy parses bytes exactly as Python's float() does; the element-wise fallback only runs
    when some text is not a number, and decodes it first, as the parser would.
    """
    ok = raw != b""
    values = np.full(len(raw), np.nan)
    try:
        values[ok] = raw[ok].astype(np.float64)
    except ValueError:
        for i in np.flatnonzero(ok):
            try:
                values[i] = float(raw[i].decode("ascii"))
            except ValueError:
                ok[i] = False
    return values, ok
