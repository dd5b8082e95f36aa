"""A sparse grid of cells written out in row order: how the computed teaching sheets are built.

The main workbook is written with openpyxl's write-only mode (rows must be appended in order,
sheet settings must precede the first row), the lecture workbook with the ordinary mode. A
`Grid` collects cells anywhere, then appends them row by row, which works in both.
"""

from __future__ import annotations

from copy import copy

from openpyxl.cell import WriteOnlyCell

from workbook.address import position


class Grid:
    """Cells by (row, column), appended to a worksheet in order by `emit`."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.rows: dict[int, dict[int, WriteOnlyCell]] = {}
        self._styles: dict[tuple, WriteOnlyCell] = {}  # one styled prototype per combination of styles

    def put(self, ref: str, value, *, font=None, fill=None, fmt=None, align=None, protection=None,
            formula: bool = False) -> None:
        """Place `value` at `ref`. A string is text whatever its first character unless `formula` says it is one
        (openpyxl would take any string starting with '=' for a formula)."""
        cell = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str) and not formula:
            cell.data_type = "s"
        key = (id(font), id(fill), fmt, id(align), id(protection))
        proto = self._styles.get(key)
        if proto is None:  # registering a style costs a hash of every part: once per combination, not per cell
            proto = self._styles[key] = WriteOnlyCell(self.ws)
            for attr, style in (("font", font), ("fill", fill), ("number_format", fmt), ("alignment", align),
                                ("protection", protection)):
                if style is not None:
                    setattr(proto, attr, style)
        cell._style = copy(proto._style)
        row, col = position(ref)
        self.rows.setdefault(row, {})[col] = cell

    def formula(self, ref: str, formula: str, **style) -> None:
        self.put(ref, formula, formula=True, **style)

    def emit(self) -> None:
        """Append every row from 1 to the last one holding a cell."""
        for row in range(1, max(self.rows, default=0) + 1):
            cells = self.rows.get(row, {})
            self.ws.append([cells.get(c) for c in range(1, max(cells, default=0) + 1)])
