"""Shared look and small helpers for the lecture sheets (one module per sheet kind).

Each sheet module owns its cells (a lecture sheet is small and fixed, so its addresses live
in that module, next to the formulas that use them) and exposes the same four things:
`Settings` (a frozen dataclass of what a template may change), `build(wb, settings)`,
`expected(settings)` (every computed cell's value by NumPy, the truth LibreOffice is tested
against) and, for graded sheets, `gradable(settings, rubric)`.
"""

from __future__ import annotations

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.styles import Alignment, Font
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from workbook import styles
from workbook.address import absolute, qualified

NOTE_FONT = Font(italic=True, color="595959")
EXACT = "#,##0.00########"  # shows what the lecture shows, keeps small numbers visible


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
                  series: list[tuple[int, str, str]], anchor: str, *, width: float = 14) -> None:
    """A chart of columns against column `x_col` over `rows`; each series is (column, name, style) with
    style "line" (no markers), "points" (markers only) or "both". A legend only when there is a choice."""
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
        elif style == "points":
            line.marker.symbol = "circle"
            line.graphicalProperties.line.noFill = True
        chart.series.append(line)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if len(series) == 1:
        chart.legend = None
    chart.height, chart.width = 8, width
    ws.add_chart(chart, anchor)


def protect(ws) -> None:
    """Lock everything but the yellow cells, no password: a guard against slips, not a lock."""
    ws.protection.sheet = True


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
