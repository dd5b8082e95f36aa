"""One cell as saved, and how its saved text becomes a value: shared by every reader.

The streaming reader (`grader.cells`) and the bulk reader of uniform rows (`grader.row_runs`)
must decode a cell identically, so the decoding lives here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from workbook.address import FORMULA_CELLS, col_index, col_letter, position

NOT_NUMERIC_KINDS = frozenset({"s", "str", "d", "b", "e", "inlineStr"})  # xlsx `t` values whose <v> is no number
ODS_FLOAT_TYPES = ("float", "percentage", "currency")  # office:value-type values whose office:value is a number


@dataclass(frozen=True)
class Cell:
    """One cell as saved: its formula (Excel syntax, leading '='), cached value or error."""

    ref: str
    formula: str | None = None
    value: float | str | bool | None = None
    error: str | None = None  # "#DIV/0!", "#VALUE!", "Err:502"...
    array_ref: str | None = None  # top-left cell of an array formula: the array's range


def xlsx_value(kind: str, raw: str | None, strings) -> tuple[float | str | bool | None, str | None]:
    """(value, error) of an xlsx cell from its type attribute `t` and the text of its <v>."""
    if raw in (None, ""):
        return None, None
    if kind == "s":
        return strings[int(raw)], None
    if kind in ("str", "d"):
        return raw, None
    if kind == "b":
        return raw.strip() == "1", None
    if kind == "e":
        return None, raw
    try:
        return float(raw), None
    except ValueError:
        return raw, None


def ods_value(value_type: str | None, is_error: bool, text: str, attr, has_formula: bool
              ) -> tuple[float | str | bool | None, str | None]:
    """(value, error) of an .ods cell from its office:value-type, calcext error flag, paragraph text and
    `attr(name)`, the value of one of its office:*-value attributes (None when absent)."""
    if is_error:
        return None, text
    if value_type in ODS_FLOAT_TYPES:
        number = attr("office:value")
        return float("nan" if number is None else number), None
    if value_type == "boolean":
        return attr("office:boolean-value") == "true", None
    if value_type == "date":
        return attr("office:date-value"), None
    if value_type == "time":
        return attr("office:time-value"), None
    if value_type == "string":
        string = attr("office:string-value")
        return (text if string is None else string), None
    if has_formula and text.startswith(("#", "Err:")):
        return None, text
    return (text or None), None


def fill_row(pieces: tuple[str | None, ...] | None, row: int) -> str | None:
    """A template's text with `row` put where the row number goes (None stands for it)."""
    if pieces is None:
        return None
    return "".join(str(row) if piece is None else piece for piece in pieces)


_TOKEN = FORMULA_CELLS


def shift_formula(formula: str, d_row: int, d_col: int) -> str:
    """Move relative references by (d_row, d_col), as Excel's shared formulas require.

    String literals, absolute parts, defined names (w_in1_h1) and function names are left alone.
    """
    def repl(m: re.Match) -> str:
        if m.group(0).startswith('"'):
            return m.group(0)
        col_abs, col, row_abs, row = m.groups()
        new_col = col if col_abs else col_letter(col_index(col) + d_col)
        new_row = row if row_abs else str(int(row) + d_row)
        return f"{col_abs}{new_col}{row_abs}{new_row}"

    return _TOKEN.sub(repl, formula)


def shared_child(master: tuple[str, str], row: int, col: int) -> str:
    """The text of a shared formula's child at (row, col), from its master's (anchor ref, text)."""
    anchor, text = master
    anchor_row, anchor_col = position(anchor)
    return shift_formula(text, row - anchor_row, col - anchor_col)


_PREFIXES = re.compile(r"_xlfn\.|_xlws\.")


@lru_cache(maxsize=1 << 14)  # the same few formulas, issued and as saved, come back in every file graded
def normalise_formula(text: str) -> str:
    """Compare formulas as a spreadsheet would: no '$', spaces or case, one leading '='."""
    if "_xl" in text:
        text = _PREFIXES.sub("", text)
    return "=" + text.lstrip("=").replace("$", "").replace(" ", "").upper()
