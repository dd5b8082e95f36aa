"""Lecture template -> one workbook: a contents sheet, then each sheet in the template's order.

Built with openpyxl's ordinary (random-access) mode: lecture sheets are small, and they need
conditional formatting, array formulas and charts anchored anywhere. The manual-ML sheet is the
standard builder's own sheet, so it is the very sheet students are graded on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.hyperlink import Hyperlink

from workbook import LECTURE_LAYOUT_VERSION, PROPERTY_PREFIX, styles, teaching
from workbook.address import quote_sheet
from workbook.builder import save, write_main_sheet
from workbook.layout import layout_for
from workbook.lecture import common as c
from workbook.lecture.template import GRADED, MANUAL, SHEETS, LectureTemplate
from workbook.model import loss

CONTENTS = c.CONTENTS
LINK_FONT = Font(bold=True, underline="single", color="1F4E78")


def sheet_title(t: LectureTemplate, kind: str) -> str:
    if kind == MANUAL:
        assert t.manual is not None
        return t.manual.label("sheet")
    return SHEETS[kind].SHEET


def build_lecture(t: LectureTemplate, path: str | Path, *, params: Mapping[str, float] | None = None) -> Path:
    """Write the lecture workbook; `params` fills the graded sheet's editable cells (a solution)."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    _contents(wb, t)
    bodies, values = {}, {}
    planned, starts = set(), {}  # the manual-ML sheet's print is planned by the builder, on the lecture's paper
    for kind, settings in t.sheets:
        if kind == MANUAL:
            assert t.manual is not None
            layout = layout_for(t.manual)
            planned.add(layout.sheet)
            bodies[layout.sheet] = write_main_sheet(wb, t.manual, layout, loss(t.manual), "", "", None)
            teaching.add_sheets(wb, t.manual, layout)
            values |= {sheet: cells for sheet, cells in teaching.expected(t.manual, layout).items()
                       if sheet != layout.sheet}
            for name, ref in layout.defined_names().items():
                wb.defined_names[name] = DefinedName(name, attr_text=ref)
        elif kind in GRADED:  # a graded sheet shows the points its rubric gives, live
            SHEETS[kind].build(wb, settings, params, t.rubric)
            values[SHEETS[kind].SHEET] = SHEETS[kind].expected(settings, params, t.rubric)
        else:
            SHEETS[kind].build(wb, settings)
            values[SHEETS[kind].SHEET] = SHEETS[kind].expected(settings)
        if kind != MANUAL:
            page_rows = getattr(SHEETS[kind], "page_rows", None)
            starts[SHEETS[kind].SHEET] = (getattr(SHEETS[kind], "PAGE_STARTS", ()),
                                          page_rows(settings) if page_rows else ())
    for ws in wb.worksheets:  # one paper size for every page, each sheet one page wide or split where it may be
        if ws.title not in planned:
            _print_setup(ws, t.paper, *starts.get(ws.title, ((), ())))
    for key, value in {"layout": LECTURE_LAYOUT_VERSION, "assignment": t.id}.items():
        wb.custom_doc_props.append(StringProperty(name=PROPERTY_PREFIX + key, value=value))
    return save(wb, path, values=values, bodies=bodies)


def _print_setup(ws, paper: str, starts, rows) -> None:
    """One page wide on `paper` (one page, if the sheet asked: Linearity), or, a sheet too wide to read so,
    pages side by side at `starts` (columns a page may start at), each page starting at one of `rows`."""
    landscape = ws.page_setup.orientation == "landscape"
    one_page = ws.page_setup.fitToHeight == 1
    widths, chart = styles.sheet_widths(ws)
    plan = styles.plan_pages(widths, paper=paper, landscape=landscape, starts=(starts,) if starts else (), keep=chart)
    if rows:
        heights = [ws.row_dimensions[r].height or styles.LINE_HEIGHT if r in ws.row_dimensions else styles.LINE_HEIGHT
                   for r in range(1, ws.max_row + 1)]
        plan = styles.plan_rows(heights, rows, plan, paper=paper, landscape=landscape)
    if one_page and plan.breaks:  # a sheet split across pages is not also squeezed onto one
        one_page = False
    styles.apply_print_plan(ws, plan, landscape=landscape, paper=paper)
    if one_page:
        ws.page_setup.fitToHeight = 1


def _contents(wb, t: LectureTemplate) -> None:
    ws = wb.create_sheet(CONTENTS)
    c.title(ws, t.title, t.description)
    row = 4
    for paragraph in t.instructions.strip().split("\n\n") if t.instructions.strip() else []:
        c.text(ws, f"A{row}", " ".join(paragraph.split()))
        row += 1
    row += 1
    c.label(ws, f"A{row}", "Sheets (yellow cells are yours to change; everything else is computed live)")
    for kind, _settings in t.sheets:
        name = sheet_title(t, kind)
        text = t.manual.description if kind == MANUAL and t.manual else SHEETS[kind].DESCRIPTION
        entries = [(name, text)]
        if kind == MANUAL and t.manual:
            entries += teaching.extra_sheets(t.manual)  # Gradients (and Descent) follow the manual-ML sheet
        for name, text in entries:
            row += 1
            cell = c.text(ws, f"A{row}", name)  # the link alone: LibreOffice does not wrap a link's text
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheet(name)}!A1", display=name)
            cell.font = LINK_FONT
            c.text(ws, f"B{row}", text[:1].upper() + text[1:])  # a sentence of its own ("Backpropagation ...")
    graded = t.graded_kinds
    if len(graded) == 1:
        g = t.graded_sheet()
        row += 2
        c.label(ws, f"A{row}", "How it is graded")
        abbr = "accuracy" if g.metric_name == "accuracy" else "RMSE"
        for tier in sorted(g.rubric.tiers, key=lambda x: -x.points):
            row += 1
            c.text(ws, f"A{row}", f"• {tier.describe(abbr)}: {tier.points:g} of {g.rubric.max_points:g} points")
        row += 1
        c.text(ws, f"A{row}", "The grader recomputes everything from your yellow cells and the original data: "
                              "editing other cells changes nothing and is reported.")
    link_width = max(len(sheet_title(t, kind)) for kind, _ in t.sheets) + 4
    link_width = max([link_width, *(len(n) + 4 for kind, _ in t.sheets if kind == MANUAL and t.manual
                                    for n, _ in teaching.extra_sheets(t.manual))])
    widths = {"A": link_width, "B": styles.TEXT_WIDTH - link_width}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    for row_cells in ws.iter_rows(min_row=2, max_col=2):  # every line wrapped inside the page, rows tall enough
        a, b = row_cells
        if isinstance(a.value, str) and b.value is None and a.hyperlink is None:  # a paragraph: across A and B
            ws.merge_cells(start_row=a.row, start_column=1, end_row=a.row, end_column=2)
            a.alignment = styles.WRAP
            height = styles.wrapped_height(a.value)
        elif isinstance(b.value, str):
            b.alignment = styles.WRAP
            # the link at the top of its row too: at the bottom it sat right above the next sheet's description
            a.alignment = Alignment(vertical="top")
            height = styles.wrapped_height(b.value, widths["B"])
        else:
            continue
        if height is not None:
            ws.row_dimensions[a.row].height = height
    c.protect(ws)
