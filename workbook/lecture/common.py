"""Shared look and small helpers for the lecture sheets (one module per sheet kind).

Each sheet module owns its cells (a lecture sheet is small and fixed, so its addresses live
in that module, next to the formulas that use them) and exposes the same four things:
`Settings` (a frozen dataclass of what a template may change), `build(wb, settings)`,
`expected(settings)` (every computed cell's value by NumPy, the truth LibreOffice is tested
against) and, for graded sheets, `regions(settings)` (every graded cell as `workbook.graded`
regions, written by `write` here) and `graded_sheet(settings, rubric, id, title)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import copy

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import NumFmt
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment, Font
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from workbook import styles
from workbook.address import absolute, col_letter, qualified
from workbook.graded import Region, Role

POINT_COLOUR = "1F4E78"
CONTENTS = "Contents"  # the lecture workbook's first sheet: never a graded one
NOTE_FONT = Font(italic=True, color="595959")
EXACT = "#,##0.00##"  # what the lecture shows (-0.19, 10), at most 4 decimals: 0.4526 beside 0.00, not 0.4526423819


def text(ws, ref: str, value: str):
    """Write `value` as a string cell whatever its first character and return the cell.

    openpyxl turns any string starting with '=' into a formula (the Gradient Descent note
    "= 1 − r², ..." became Err:501): words are marked as text on purpose; only `computed`
    writes formulas.
    """
    cell = ws[ref]
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def title(ws, text_: str, subtitle: str = "") -> None:
    text(ws, "A1", text_).font = styles.TITLE_FONT
    if subtitle:
        text(ws, "A2", subtitle).font = NOTE_FONT


def heading(ws, ref: str, words: str, *, center: bool = True, wrap: bool = True) -> None:
    text(ws, ref, words)
    ws[ref].font = styles.HEADING_FONT
    ws[ref].alignment = Alignment(wrap_text=wrap, horizontal="center" if center else None, vertical="bottom")


def label(ws, ref: str, words: str) -> None:
    text(ws, ref, words)
    ws[ref].font = styles.HEADING_FONT


def editable(ws, ref: str, value, *, name: str | None = None, fmt: str | None = None) -> None:
    """A yellow, unlocked cell a student may change; optionally a workbook-level name for it."""
    cell = text(ws, ref, value)
    cell.fill, cell.font, cell.border = styles.EDITABLE_FILL, styles.EDITABLE_FONT, styles.EDITABLE_BORDER
    cell.protection = styles.UNLOCKED
    if fmt:
        cell.number_format = fmt
    if name:
        define(ws, name, ref)


def define(ws, name: str, ref: str) -> None:
    """A workbook-level defined name for a cell or range ('B5' or 'B5:U24') of this sheet."""
    ws.parent.defined_names[name] = DefinedName(name, attr_text=absolute(ws.title, ref))


def write(ws, regions: Iterable[Region], params: Mapping[str, float] | None = None) -> None:
    """Write a graded sheet's regions (see workbook.graded): values, formulas, names, a fill by role.

    `params` replaces the issued value of editable cells (a reference solution)."""
    params = params or {}
    for region in regions:
        if region.array:
            top = region.first
            ws[top] = ArrayFormula(region.area, region.formula_at(top))
            for ref in region.refs:
                ws[ref].fill = styles.COMPUTED_FILL
                if region.fmt:
                    ws[ref].number_format = region.fmt
        elif region.role == Role.EDITABLE:
            for (ref, value), key in zip(region.cells(), region.params, strict=True):
                editable(ws, ref, params.get(key, value), fmt=region.fmt)
        elif region.role == Role.COMPUTED:
            for ref, formula in region.cells():
                computed(ws, ref, formula, region.fmt, result=region.result)
        elif region.fill:
            for ref, value in region.cells():
                given(ws, ref, value, region.fmt)
        else:
            for ref, value in region.cells():
                ws[ref] = value
                if region.fmt:
                    ws[ref].number_format = region.fmt
        if region.name:
            define(ws, region.name, region.area)


def given(ws, ref: str, value, fmt: str | None = None) -> None:
    text(ws, ref, value)
    ws[ref].fill = styles.GIVEN_FILL
    if fmt:
        ws[ref].number_format = fmt


def computed(ws, ref: str, formula, fmt: str | None = None, *, result: bool = False) -> None:
    ws[ref] = formula
    ws[ref].fill = styles.RESULT_FILL if result else styles.COMPUTED_FILL
    if result:
        ws[ref].font = styles.RESULT_FONT
    if fmt:
        ws[ref].number_format = fmt


def note(ws, ref: str, words: str) -> None:
    text(ws, ref, words)
    ws[ref].font = NOTE_FONT


def wrapped_note(ws, ref: str, words: str, through: str) -> None:
    """A note wrapped across its row from `ref` to column `through` (its height set by `fit_text`): run on to
    the right, a long note made the printed page as wide as itself, and everything on the sheet smaller."""
    ws.merge_cells(f"{ref}:{through}{ws[ref].row}")
    note(ws, ref, words)
    ws[ref].alignment = styles.WRAP


def numbers_only(ws, refs: list[str], prompt: str) -> None:
    """Reject text typed into the editable cells (a UI guard only; the grader checks too)."""
    dv = DataValidation(type="decimal", operator="between", formula1="-1E+15", formula2="1E+15",
                        allow_blank=False, showErrorMessage=True, errorTitle="Numbers only",
                        error="Type a number, e.g. 5 or -0.25", showInputMessage=True, promptTitle="Editable",
                        prompt=prompt)
    for ref in refs:
        dv.add(ref)
    ws.data_validations.append(dv)


def scatter_chart(ws, title: str, axes: tuple[str, str], x_col: int, rows: tuple[int, int],
                  series: list[tuple[int, str, str]], anchor: str, *, width: float = 14,
                  x_format: str | None = None, y_format: str | None = None) -> None:
    """A chart of columns against column `x_col` over `rows`; each series is (column, name, style) with
    style "line" (no markers), "points" (markers only) or "both". A legend only when there is a choice.
    `x_format`, `y_format`: an axis's own number format (default: its data's, so six-decimal cells gave
    ticks of 0.500000, 1.000000, ...)."""
    chart = ScatterChart(scatterStyle="lineMarker")  # c:scatterStyle is required by the schema
    chart.title = title
    chart.style = 2
    chart.x_axis.title, chart.y_axis.title = axes
    first, last = rows
    xs = Reference(ws, min_col=x_col, min_row=first, max_row=last)
    for col, name, style in series:
        line = Series(Reference(ws, min_col=col, min_row=first, max_row=last), xs, title=name)
        line.smooth = False
        if style == "line":
            line.marker.symbol = "none"
        elif style == "points":  # filled markers, large enough to see (LibreOffice draws unfilled ones faintly)
            line.marker.symbol = "circle"
            line.marker.size = 8
            line.marker.graphicalProperties = GraphicalProperties(solidFill=POINT_COLOUR)
            line.marker.graphicalProperties.line.solidFill = POINT_COLOUR
            line.graphicalProperties.line.noFill = True
        chart.series.append(line)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    # the numbers beside the plot's edges: where the axes cross at 0 they were drawn over the curves
    chart.x_axis.tickLblPos = chart.y_axis.tickLblPos = "low"
    for axis, fmt in ((chart.x_axis, x_format), (chart.y_axis, y_format)):
        if fmt is not None:
            axis.numFmt = NumFmt(formatCode=fmt, sourceLinked=False)
    if len(series) == 1:
        chart.legend = None
    chart.height, chart.width = 8, width
    ws.add_chart(chart, anchor)


def protect(ws) -> None:
    """Lock everything but the yellow cells, no password: a guard against slips, not a lock.

    Every sheet module calls this last, so the words are fitted here too (see `fit_text`)."""
    fit_text(ws)
    ws.protection.sheet = True


def _has_value(ws, row: int, column: int) -> bool:
    """Is there something in that cell? (Without creating it, as ws.cell() would: an empty cell written
    beyond the sheet's last column would read as content added to a graded sheet.)"""
    found = ws._cells.get((row, column))
    return found is not None and found.value is not None


DEFAULT_WIDTH = 8.43  # a column nobody sized


def fit_text(ws) -> None:
    """Column widths and row heights from the words: no label cut off, no heading spilling into data.

    A label that is not wrapped and has a neighbour on its right widens its column to fit; a wrapped
    heading makes its row tall enough for every line (spreadsheets do not grow rows for a program's text).
    A label with nothing on its right may run on across the empty cells, as a title does.
    """
    heights: dict[int, float] = {}
    merged = {str(r.start_cell.coordinate): [col_letter(col) for col in range(r.min_col, r.max_col + 1)]
              for r in ws.merged_cells.ranges}

    def width_of(letter: str) -> float:
        return ws.column_dimensions[letter].width if letter in ws.column_dimensions else DEFAULT_WIDTH

    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type != "s" or not isinstance(cell.value, str) or not cell.value.strip():
                continue
            _clear_of_number_on_left(ws, cell)
            letter = cell.column_letter
            width = sum(map(width_of, merged.get(cell.coordinate, [letter])))
            bold = 1.12 if cell.font is not None and cell.font.b else 1.0
            need = len(cell.value) * bold + 1.5 + (cell.alignment.indent or 0)
            wrapped = cell.alignment is not None and cell.alignment.wrap_text
            longest = max(len(word) for word in cell.value.split()) * bold + 1.5 + (cell.alignment.indent or 0)
            if wrapped and width < longest and cell.coordinate not in merged:  # no word broken ("Improvemen t")
                ws.column_dimensions[letter].width = width = longest
            if wrapped:
                height = styles.wrapped_height(cell.value, max(1.0, (width - 1) / bold))
                if height is not None:
                    heights[cell.row] = max(heights.get(cell.row, 0.0), height)
            elif need > width and _has_value(ws, cell.row, cell.column + 1):
                ws.column_dimensions[letter].width = need
    for r, height in heights.items():
        ws.row_dimensions[r].height = max(height, ws.row_dimensions[r].height or 0.0)


def _clear_of_number_on_left(ws, cell) -> None:
    """Left-aligned words right of a number (right-aligned, so flush against them) start one character in:
    the sigmoid's z = 0 beside "1 / (1 + e^(−z)) =" printed "01 / (1 + e^(−z)) =", a label 1 beside its
    shape "1circle", θ's b "247,263.2742← b"."""
    if cell.column == 1 or (cell.alignment.horizontal or "general") not in ("general", "left"):
        return
    left = ws._cells.get((cell.row, cell.column - 1))
    words = left is not None and left.data_type == "s" and isinstance(left.value, str)
    empty = left is None or (left.value is None and left.number_format == "General")  # an array's cell has a format
    if words or empty:
        return
    align = copy(cell.alignment)
    align.horizontal, align.indent = "left", max(1, align.indent or 0)
    cell.alignment = align


def widths(ws, **cols: float) -> None:
    for col, width in cols.items():
        ws.column_dimensions[col].width = width


def landscape(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def ref_of(sheet: str, ref: str) -> str:
    """Sheet-qualified reference for formulas on other sheets."""
    return qualified(sheet, ref)
