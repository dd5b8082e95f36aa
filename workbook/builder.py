"""Spec + layout -> an .xlsx workbook a student can open in Excel, LibreOffice or Google Sheets.

Written with openpyxl's write-only mode: rows are streamed to disk in order, so a template
with 100,000 data rows builds in flat memory. The workbook carries no cached values;
LibreOffice therefore computes every formula on open, and Excel is told to (fullCalcOnLoad).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.datavalidation import DataValidation

from workbook import LAYOUT_VERSION, PROPERTY_PREFIX, styles, teaching
from workbook.address import a1, col_index, position
from workbook.errors import WorkbookError
from workbook.formulas import row_templates, summary_formulas
from workbook.layout import (
    GOAL_ROW,
    INFO_ROW,
    INSTRUCTIONS_SHEET,
    LAYER_ROW,
    TITLE_ROW,
    Layout,
    activation_heading,
    layout_for,
)
from workbook.model import loss
from workbook.network import ACTIVATION_TITLES
from workbook.spec import Assignment, average_metric

CHART_ROWS = 200  # a chart of more bars than this helps nobody



def build_workbook(assignment: Assignment, path: str | Path, *, student_id: str = "", student_name: str = "",
                   password: str | None = None, properties: Mapping[str, str] | None = None,
                   weights: Mapping[str, float] | None = None) -> Path:
    """Write the assignment's workbook to `path` and return it.

    `properties` are extra custom document properties (e.g. a signature); the layout version
    and assignment id are always stamped so the grader recognises an old or foreign file.
    `weights` fills the weight cells with other values (a reference solution); the baseline
    always stays the starting weights' loss, so the file grades like a student's.
    """
    path = Path(path)
    layout = layout_for(assignment)
    baseline = loss(assignment)
    if weights is not None:
        assignment = assignment.with_weights(weights)
    wb = Workbook(write_only=True)
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    _instructions_sheet(wb, assignment, baseline, student_id, student_name)
    write_main_sheet(wb, assignment, layout, baseline, student_id, student_name, password)
    teaching.add_sheets(wb, assignment, layout)
    for name, ref in layout.defined_names().items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    stamp = {"layout": LAYOUT_VERSION, "assignment": assignment.id, "student_id": student_id,
             **({"student_name": student_name} if student_name else {}), **(properties or {})}
    for key, value in stamp.items():
        wb.custom_doc_props.append(StringProperty(name=PROPERTY_PREFIX + key, value=str(value)))
    return save(wb, path)


def save(wb, path: Path) -> Path:
    """Write the workbook, turning a full disk or a read-only folder into a message."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot write the workbook ({exc.strerror or exc})") from None
    return path


def _cell(ws, value, *, font=None, fill=None, fmt=None, align=None, border=None, protection=None,
          formula: bool = False):
    """A styled cell. A string is text whatever its first character (openpyxl would take '= Price model'
    for a formula and the sheet would show #NAME?) unless `formula` says it is one."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and not formula:
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if fmt is not None:
        cell.number_format = fmt
    if align is not None:
        cell.alignment = align
    if border is not None:
        cell.border = border
    if protection is not None:
        cell.protection = protection
    return cell


def _emit(ws, grid: dict[int, dict[int, WriteOnlyCell]], upto: int) -> None:
    """Append rows 1..upto from a sparse {row: {col: cell}} grid (write-only sheets go in order)."""
    for row in range(1, upto + 1):
        cells = grid.get(row, {})
        ws.append([cells.get(c) for c in range(1, max(cells, default=0) + 1)])


def write_main_sheet(wb, a: Assignment, layout: Layout, baseline: float, student_id: str, student_name: str,
                     password: str | None) -> None:
    """The manual-ML sheet, row by row; works in a write-only workbook and (for the lecture) an ordinary one."""
    ws = wb.create_sheet(layout.sheet)
    fmt = a.display.number_format
    grid: dict[int, dict[int, WriteOnlyCell]] = {}

    def put(ref: str, value) -> None:
        row, col = position(ref)
        grid.setdefault(row, {})[col] = value

    put(a1(TITLE_ROW, "A"), _cell(ws, a.title, font=styles.TITLE_FONT))
    who = f"Student: {student_name or student_id}  ·  " if (student_name or student_id) else ""
    put(a1(INFO_ROW, "A"), _cell(ws, f"{who}Assignment: {a.id}  ·  {LAYOUT_VERSION}", font=styles.INFO_FONT))
    goal = (f"Edit only the yellow cells (weights and biases) to make the {a.label('metric')} as small as "
            f"possible. {a.rubric.full_marks(a.metric_abbr)}.")
    if a.display.scale:
        goal += f" Prices and errors are in {a.display.scale}."
    put(a1(GOAL_ROW, "A"), _cell(ws, goal, font=styles.HEADING_FONT))

    put(a1(LAYER_ROW, layout.input_cols[0]), _cell(ws, "Inputs", font=styles.LAYER_FONT))
    for i, layer in enumerate(a.network.layers[:-1], start=1):
        first = layout.neurons[layer[0].label].z_col
        title = ACTIVATION_TITLES[layer[0].activation]
        put(a1(LAYER_ROW, first), _cell(ws, f"Hidden layer {i} ({title})", font=styles.LAYER_FONT))
    out = layout.neurons["out"]
    put(a1(LAYER_ROW, out.z_col), _cell(ws, f"Output ({ACTIVATION_TITLES[out.activation]})", font=styles.LAYER_FONT))

    for n in layout.neurons.values():
        for name, ref in n.params.items():
            put(n.param_labels[name], _cell(ws, n.param_texts[name], align=styles.RIGHT))
            put(ref,
                _cell(ws, a.weights[name], font=styles.EDITABLE_FONT, fill=styles.EDITABLE_FILL,
                      fmt=a.display.weight_format, border=styles.EDITABLE_BORDER, protection=styles.UNLOCKED))

    teaching.add_to_main_sheet(ws, a, layout, put)
    h = layout.header_row
    for col, column, label in zip(layout.input_cols, a.data.inputs, a.network.input_labels, strict=True):
        put(a1(h, col), _cell(ws, f"{column.heading} - {label}", font=styles.HEADING_FONT, align=styles.WRAP))
    for n in layout.neurons.values():
        if n.has_z_column:
            put(a1(h, n.z_col), _cell(ws, n.label, font=styles.HEADING_FONT, align=styles.CENTER))
            if n.label != "out":
                put(a1(h, n.a_col), _cell(ws, activation_heading(n.activation, n.label), font=styles.HEADING_FONT,
                                      align=styles.CENTER))
    put(a1(h, layout.target_col), _cell(ws, a.data.target.heading, font=styles.HEADING_FONT, align=styles.WRAP))
    put(a1(h, layout.pred_col), _cell(ws, a.label("prediction"), font=styles.HEADING_FONT, align=styles.WRAP))
    put(a1(h, layout.error_col), _cell(ws, a.label("error"), font=styles.HEADING_FONT, align=styles.WRAP))

    summary = summary_formulas(layout, a.metric, a.rubric, a.display.improvement_format,
                               average=average_metric(a.metric, a.data.y))
    put(layout.metric_label_cell, _cell(ws, a.label("metric"), font=styles.HEADING_FONT, align=styles.WRAP))
    put(layout.metric_cell, _cell(ws, summary[layout.metric_cell], font=styles.RESULT_FONT,
                                  fill=styles.RESULT_FILL, fmt=fmt, formula=True))
    put(layout.baseline_label_cell, _cell(ws, a.label("baseline"), font=styles.HEADING_FONT))
    put(layout.baseline_cell, _cell(ws, baseline, fill=styles.GIVEN_FILL, fmt=fmt))
    put(layout.improvement_label_cell, _cell(ws, a.label("improvement"),
                                                               font=styles.HEADING_FONT))
    put(layout.improvement_cell, _cell(ws, summary[layout.improvement_cell],
                                                         font=styles.RESULT_FONT, fill=styles.RESULT_FILL,
                                                         fmt=a.display.improvement_format, formula=True))
    put(layout.points_label_cell, _cell(ws, f"Points (of {a.rubric.max_points:g})", font=styles.HEADING_FONT))
    put(layout.points_cell, _cell(ws, summary[layout.points_cell], font=styles.RESULT_FONT, fill=styles.RESULT_FILL,
                                  fmt=styles.POINTS_FORMAT, formula=True))
    _column_widths(ws, layout)
    _fit_to_page_width(ws, landscape=True)  # write-only: sheet properties must precede the first row
    _emit(ws, {r: cells for r, cells in grid.items() if r < layout.first_row}, layout.first_row - 1)

    _data_rows(ws, a, layout, grid)
    tail = max([r for r in grid if r > layout.last_row], default=layout.last_row)
    for row in range(layout.last_row + 1, tail + 1):
        cells = grid.get(row, {})
        ws.append([cells.get(c) for c in range(1, max(cells, default=0) + 1)])

    _chart(ws, a, layout)
    _protect(ws, layout, password)


def _data_rows(ws, a: Assignment, layout: Layout, grid: dict[int, dict[int, WriteOnlyCell]]) -> None:
    """Stream the data rows. Styles are registered once per column and copied, formulas filled from
    per-column templates: this loop runs for every row of a 100,000-row sheet."""
    fmt = a.display.number_format
    formats = _column_formats(layout, fmt)
    given = _cell(ws, None, fill=styles.GIVEN_FILL)
    target = _cell(ws, None, fill=styles.GIVEN_FILL, fmt=fmt)
    inputs = [(col_index(c) - 1, given) for c in layout.input_cols]
    templates = [(col_index(col) - 1, tpl, _cell(ws, None, fill=styles.COMPUTED_FILL, fmt=formats[col]))
                 for col, tpl in row_templates(layout, a.metric)]
    target_at = col_index(layout.target_col) - 1
    width = max(col_index(layout.last_col), max(i for i, _, _ in templates) + 1)

    def styled(value, proto: WriteOnlyCell) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell._style = copy(proto._style)
        return cell

    for i, values in enumerate(a.data.rows):
        row = layout.first_row + i
        cells: list = [None] * width
        for (at, proto), v in zip(inputs, values[:-1], strict=True):
            cells[at] = styled(v, proto)
        cells[target_at] = styled(values[-1], target)
        for at, tpl, proto in templates:
            cells[at] = styled(tpl.format(r=row), proto)
        for c, extra in grid.get(row, {}).items():
            cells[c - 1] = extra
        while cells and cells[-1] is None:
            cells.pop()
        ws.append(cells)


def _fit_to_page_width(ws, *, landscape: bool) -> None:
    """Printed (and rendered to PDF) one page wide, so the network reads as one picture."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _column_formats(layout: Layout, fmt: str) -> dict[str, str]:
    formats = {layout.error_col: fmt}
    for n in layout.neurons.values():
        formats[n.z_col] = fmt
        formats[n.a_col] = styles.BOUNDED_FORMATS.get(n.activation, fmt)
    return formats


def _column_widths(ws, layout: Layout) -> None:
    widths = {c: styles.WIDTHS["input"] for c in layout.input_cols}
    for n in layout.neurons.values():
        widths[n.z_col] = styles.WIDTHS["label"]
        widths[n.a_col] = styles.WIDTHS["value"]
    widths.update({c: styles.WIDTHS["spacer"] for c in layout.spacer_cols})
    widths[layout.target_col] = styles.WIDTHS["target"]
    widths[layout.pred_col] = styles.WIDTHS["prediction"]
    widths[layout.error_col] = styles.WIDTHS["error"]
    widths[layout.summary_col] = styles.WIDTHS["summary"]
    for col, width in widths.items():
        ws.column_dimensions[col].width = width


def _chart(ws, a: Assignment, layout: Layout) -> None:
    """True vs predicted per row, updating live as weights change."""
    last = min(layout.last_row, layout.first_row + CHART_ROWS - 1)
    chart = BarChart()
    chart.type = "col"
    chart.title = f"{a.data.target.label} vs {a.label('prediction')}"
    chart.y_axis.title = a.display.scale or a.data.target.label
    chart.x_axis.title = "Data row"
    for col in (layout.target_col, layout.pred_col):
        ref = Reference(ws, min_col=col_index(col), min_row=layout.header_row, max_row=last)
        chart.add_data(ref, titles_from_data=True)
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, a1(layout.last_row + 3, "A"))


def _protect(ws, layout: Layout, password: str | None) -> None:
    """Lock everything but the weights; reject text typed into a weight (UI guard only)."""
    dv = DataValidation(type="decimal", operator="between", formula1="-1E+15", formula2="1E+15",
                        allow_blank=False, showErrorMessage=True, errorTitle="Numbers only",
                        error="Type a number, e.g. 5 or -0.25", showInputMessage=True,
                        promptTitle="Weight or bias", prompt="Change this number and watch the error change.")
    for ref in layout.param_cells.values():
        dv.add(ref)
    ws.data_validations.append(dv)
    ws.protection.sheet = True
    if password:
        ws.protection.password = password


def hidden_test_note(a: Assignment) -> str:
    """What students are told about the hidden test rows: that they exist and what they count for, never them."""
    test, rubric = a.test, a.rubric
    counted = {"sheet": "They do not change your points; your feedback shows how your weights do on them.",
               "hidden": f"Your points are computed on the hidden {test.noun}, with the rules above.",
               "mix": f"{rubric.hidden_weight:.0%} of your points come from the hidden {test.noun}, with the rules "
                      "above."}[rubric.score_on]
    return (f"Hidden test: the grader also tries your network on {len(test.data.rows)} more {test.noun} that are not "
            f"in this workbook, to see whether your weights work on new {test.noun} too, not only on these "
            f"{len(a.data.rows)}. {counted}")


def _instructions_sheet(wb, a: Assignment, baseline: float, student_id: str, student_name: str) -> None:
    ws = wb.create_sheet(INSTRUCTIONS_SHEET)
    ws.column_dimensions["A"].width = 100
    _fit_to_page_width(ws, landscape=False)
    rows = [_cell(ws, a.title, font=styles.TITLE_FONT)]
    if student_name or student_id:
        rows.append(_cell(ws, f"Student: {student_name} {f'({student_id})' if student_id else ''}".strip()))
    rows.append(None)
    for paragraph in (a.instructions or a.description).strip().split("\n\n"):
        rows.append(_cell(ws, " ".join(paragraph.split()), align=styles.WRAP))
    rows += [
        None,
        _cell(ws, "What to do", font=styles.HEADING_FONT),
        _cell(ws, f"1. Open the sheet '{a.label('sheet')}'."),
        _cell(ws, "2. Change the yellow cells: the weights and biases of the network. Every other cell is "
                  "locked and computed for you."),
        _cell(ws, f"3. Watch '{a.label('metric')}' go down and 'Improvement' go up."),
        _cell(ws, "4. Save the file (keep .xlsx, or save as .ods) and hand it in."),
        None,
        _cell(ws, "How it is graded", font=styles.HEADING_FONT),
        _cell(ws, f"Starting {a.metric_abbr} (baseline): {baseline:,.4g}. "
                  f"Improvement = (baseline − your {a.metric_abbr}) / baseline."),
    ]
    if a.rubric.partial_credit == "linear":
        rows.append(_cell(ws, f"Points grow in proportion to Improvement; {a.rubric.full_marks(a.metric_abbr)}."))
    else:
        for tier in sorted(a.rubric.tiers, key=lambda t: -t.points):
            rows.append(_cell(ws, f"• {tier.describe(a.metric_abbr)}: {tier.points:g} of "
                                  f"{a.rubric.max_points:g} points"))
    rows.append(_cell(ws, "The grader recomputes your network from your weights and the original data: "
                          "editing other cells changes nothing and is reported."))
    if a.test is not None:
        rows.append(_cell(ws, hidden_test_note(a)))
    for cell in rows:
        if cell is not None and cell.alignment != styles.WRAP and cell.font != styles.TITLE_FONT:
            cell.alignment = styles.WRAP
        ws.append([cell])
    ws.protection.sheet = True
