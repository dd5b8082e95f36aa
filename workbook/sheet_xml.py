"""Cells and rows as SpreadsheetML text, written directly (no cell objects): the main sheet's body.

A 100,000-row sheet has millions of cells; building an openpyxl cell for each costs most of the
generation time. Here every data row is one `str.format` of a per-sheet row template, filled with
the row number, the row's data and the cached results NumPy computed for it. Strings are always
written as inline strings (text is text, whatever its first character); only `formula` writes a
formula, with its cached value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from string import Formatter

import numpy as np

from workbook.address import col_index, col_letter
from workbook.package import cached
from workbook.xml_text import escape

ROWS_PER_CHUNK = 500  # about 1 MB of XML for 8 inputs and 8-3-4-1: memory stays flat


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


@lru_cache(maxsize=8192)  # a class set writes the same labels for every student: made once
def text(ref: str, value: str, style: int = 0) -> str:
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'<c r="{ref}"{_style(style)} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def number(ref: str, value: float, style: int = 0) -> str:
    return f'<c r="{ref}"{_style(style)}><v>{_num(value)}</v></c>'


def number_parts(ref: str, style: int = 0) -> tuple[str, str]:
    """`number(ref, value, style)` as the text before its value's and the text after it."""
    head, _, tail = number(ref, 0, style).partition("<v>0</v>")
    return head + "<v>", "</v>" + tail


def formula(ref: str, text_: str, value, style: int = 0) -> str:
    """`text_` without or with its leading '='; `value` is its cached result."""
    kind, v = cached(value)
    return f'<c r="{ref}"{_style(style)}{kind}{_formula_text(text_)}{v}</v></c>'


@lru_cache(maxsize=8192)  # the same formulas for every student of a class: escaped once
def _formula_text(text_: str) -> str:
    return f'><f>{escape(text_.removeprefix("="))}</f><v>'


def blank(ref: str, style: int = 0) -> str:
    return f'<c r="{ref}"{_style(style)}/>'


def _num(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return short(repr(float(value)))


def short(text: str) -> str:
    """'85.0' -> '85': a whole number as spreadsheets write it (the value is the same double)."""
    return text[:-2] if text.endswith(".0") else text


def cell(ref: str, value, style: int = 0) -> str:
    """A constant: text, number or an empty styled cell."""
    if value is None:
        return blank(ref, style)
    if isinstance(value, str):
        return text(ref, value, style)
    if isinstance(value, bool):
        return f'<c r="{ref}"{_style(style)} t="b"><v>{_num(value)}</v></c>'
    return number(ref, value, style)


def row(r: int, cells: dict[int, str], height: float | None = None) -> str:
    """`<row>` of the given {column index: cell xml}, left to right; `height` in points (wrapped headings)."""
    tall = f' ht="{height:g}" customHeight="1"' if height else ""
    return f'<row r="{r}"{tall}>{"".join(cells[c] for c in sorted(cells))}</row>'


_ROW = "\x01"  # where a row template's row number goes (never in a sheet's XML: XML 1.0 forbids it)


class RowTemplate:
    """One data row as a format string: given numbers and formulas with their cached values.

    `columns` are (column letter, style, formula template with '{r}' or None for a given value).
    The formula templates come from `workbook.formulas.row_templates` (braces already doubled).
    """

    def __init__(self, columns: Sequence[tuple[str, int, str | None]]):
        parts, self.width = [], 0
        for slot, (col, style, tpl) in enumerate(columns):
            ref = f"{col}{{r}}"
            if tpl is None:
                parts.append(f'<c r="{ref}"{_style(style)}><v>{{v[{slot}]}}</v></c>')
            else:
                f = escape(tpl.removeprefix("="))
                parts.append(f'<c r="{ref}"{_style(style)}><f>{f}</f><v>{{v[{slot}]}}</v></c>')
            self.width = max(self.width, col_index(col))
        self.columns = list(columns)
        self.pattern = "".join(parts)
        # the same text as a %-pattern with the row number's places marked: str.format parses its pattern
        # again for every row, and a 100,000-row sheet fills it a million times (three times faster so)
        marked, slots = [], iter(range(len(self.columns)))
        for literal, field, _, _ in Formatter().parse(self.pattern):
            marked.append(literal.replace("%", "%%"))
            if field is not None:
                marked.append(_ROW if field == "r" else "%s" if field == f"v[{next(slots)}]" else "\x00")
        text = "".join(marked)
        self._marked = text if _ROW not in self.pattern and "\x00" not in text else None

    def fill(self, r: int, values: Sequence[str]) -> str:
        """The cells of row `r` (no <row> element) from each slot's number text."""
        if self._marked is None:
            return self.pattern.format(r=r, v=values)
        return self._marked.replace(_ROW, str(r)) % tuple(values)

    def fill_checked(self, r: int, values: Sequence) -> str:
        """The slow path for a row holding something a bare <v> cannot (an error, a non-finite number)."""
        out = []
        for (col, style, tpl), value in zip(self.columns, values, strict=True):
            ref = f"{col}{r}"
            if tpl is None:
                out.append(cell(ref, value, style))
            else:
                out.append(formula(ref, tpl.replace("{{", "\x00").replace("}}", "\x01").format(r=r)
                                   .replace("\x00", "{").replace("\x01", "}"), value, style))
        return "".join(out)


def data_rows(template: RowTemplate, first_row: int, columns: Sequence[np.ndarray],
              extras: dict[int, dict[int, str]]) -> Iterator[bytes]:
    """Every data row, in chunks of XML bytes (memory stays flat). `columns[k][i]` is slot k's value in data
    row i; `extras` are other cells right of the template's on those rows ({row: {column index: xml}})."""
    n = len(columns[0]) if len(columns) else 0
    for extra in extras.values():
        if min(extra) <= template.width:
            raise ValueError("extra cells must lie right of the data row's cells")
    for start in range(0, n, ROWS_PER_CHUNK):
        stop = min(n, start + ROWS_PER_CHUNK)
        block = np.empty((len(columns), stop - start))
        for k, c in enumerate(columns):
            block[k] = c[start:stop]
        ok = np.isfinite(block).all(axis=0).tolist()
        values = block.T.tolist()
        chunk = []
        for i in range(stop - start):
            r = first_row + start + i
            if ok[i]:
                body = template.fill(r, [t[:-2] if (t := repr(v)).endswith(".0") else t for v in values[i]])
            else:
                body = template.fill_checked(r, values[i])
            chunk.append(_data_row(r, body, extras.get(r)))
        yield "".join(chunk).encode()


def _data_row(r: int, body: str, more: dict[int, str] | None) -> str:
    tail = "".join(more[c] for c in sorted(more)) if more else ""
    return f'<row r="{r}">{body}{tail}</row>'


def data_rows_pattern(template: RowTemplate, first_row: int, n: int,
                      extras: dict[int, dict[int, str | None]]) -> tuple[str, list[tuple]] | None:
    """What `data_rows` writes for `n` rows of finite values, as one %-pattern: a class set fills it for each
    student at once instead of row by row. Its holes, in order: ("slot", row index, slot) for each row's
    values, then ("extra", row, column) for that row's extra cells given as None (the cell's text goes there)
    or as (head, tail) (the text between them; the others are text). None if the template has no %-form."""
    if template._marked is None:
        return None
    holes: list[tuple] = []
    text = []
    for i in range(n):
        r = first_row + i
        holes += [("slot", i, k) for k in range(len(template.columns))]
        more = extras.get(r)
        cells = None
        if more:
            cells = {c: "%s" if t is None else t.replace("%", "%%") if type(t) is str else
                     f"{t[0].replace('%', '%%')}%s{t[1].replace('%', '%%')}" for c, t in more.items()}
            holes += [("extra", r, c) for c in sorted(more) if type(more[c]) is not str]
        text.append(_data_row(r, template._marked.replace(_ROW, str(r)), cells))
    return "".join(text), holes


def dimension(last_row: int, last_col: int) -> str:
    return f"A1:{col_letter(max(last_col, 1))}{max(last_row, 1)}"
