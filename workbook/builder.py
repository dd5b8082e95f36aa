"""Spec + layout -> an .xlsx workbook a student can open in Excel, LibreOffice or Google Sheets.

openpyxl lays out the workbook (styles, names, chart, validation, protection); the main sheet's
cells are written as XML text by `workbook.sheet_xml` and streamed into the file by
`workbook.package`, so a template with 100,000 data rows builds fast and in flat memory. Every
formula carries its result computed by NumPy (`main_sheet_values`), so Excel's Protected View,
previews and pandas see the numbers before anything recalculates; Excel is still told to
recalculate on load (fullCalcOnLoad), and LibreOffice keeps the (correct) caches.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from copy import copy
from dataclasses import dataclass, fields
from functools import lru_cache
from operator import attrgetter
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.datavalidation import DataValidation

from workbook import LAYOUT_VERSION, PROPERTY_PREFIX, number_text, package, sheet_xml, styles, teaching
from workbook.address import a1, col_index, col_letter, position
from workbook.formulas import improvement_digits, row_templates, summary_formulas
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
from workbook.model import forward, loss, metric_of_errors, metric_value, row_errors, truncate
from workbook.network import ACTIVATION_TITLES
from workbook.spec import Assignment, average_metric

CHART_ROWS = 200  # a chart of more bars than this helps nobody
SMALL_ROWS = 2000  # a sheet of fewer data rows is made in memory (a class set's); more are streamed to disk
_position = lru_cache(maxsize=4096)(position)  # the same cells for every student of a class
_wrapped_height = lru_cache(maxsize=4096)(styles.wrapped_height)  # and the same paragraphs


def build_workbook(assignment: Assignment, path: str | Path, *, student_id: str = "", student_name: str = "",
                   password: str | None = None, properties: Mapping[str, str] | None = None,
                   weights: Mapping[str, float] | None = None) -> Path:
    """Write the assignment's workbook to `path` and return it.

    `properties` are extra custom document properties (e.g. a signature); the layout version
    and assignment id are always stamped so the grader recognises an old or foreign file.
    `weights` fills the weight cells with other values (a reference solution); the baseline
    always stays the starting weights' loss, so the file grades like a student's.
    """
    baseline = loss(assignment)
    if weights is not None:
        assignment = assignment.with_weights(weights)
    book = AssignmentBook(assignment, password=password)
    return book.write(path, assignment, student_id=student_id, student_name=student_name, properties=properties,
                      baseline=baseline)


class AssignmentBook:
    """An assignment's workbook laid out once by openpyxl; `write` adds one student's cells and stamp.

    Everything but the two sheets' cells and the document properties is the same for every student
    of a class (styles, names, chart, validation, theme), so it is made and deflated once and each
    student's file costs only their own parts. `build_workbook` writes through the same object, so a
    class set's files are byte-identical to building each student's workbook alone (tested). The
    layout is probed with a student name and id, so every style a student's cells use is registered
    before styles.xml is written.
    """

    PROBE = "student"

    def __init__(self, assignment: Assignment, *, password: str | None = None):
        self.layout = layout = layout_for(assignment)
        self.password = password
        wb = Workbook(write_only=True)
        wb.calculation = CalcProperties(fullCalcOnLoad=True)
        baseline = loss(assignment)
        _instructions_sheet(wb, assignment, baseline, self.PROBE, self.PROBE)
        write_main_sheet(wb, assignment, layout, baseline, self.PROBE, self.PROBE, password)
        self._instructions, self._main = wb[INSTRUCTIONS_SHEET], wb[layout.sheet]
        teaching.add_sheets(wb, assignment, layout)
        for sheet in wb.worksheets:  # the Gradients/Descent sheets too: one paper size for every page
            sheet.page_setup.paperSize = styles.PAPER_SIZES[assignment.display.paper]
        # the teaching sheets hold the results of these weights on this data: only students with both share them
        self.taught = (dict(assignment.weights), assignment.data) if teaching.extra_sheets(assignment) else None
        values = {sheet: cells for sheet, cells in teaching.expected(assignment, layout).items()
                  if sheet != layout.sheet}
        for name, ref in layout.defined_names().items():
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
        wb.custom_doc_props.append(StringProperty(name=PROPERTY_PREFIX + "layout", value=LAYOUT_VERSION))
        self._wb, self._styles = wb, len(wb._cell_styles)
        raw = package.openpyxl_parts(wb)
        where = package.sheet_parts(raw)
        self._frames = {where[INSTRUCTIONS_SHEET]: (INSTRUCTIONS_SHEET, raw[where[INSTRUCTIONS_SHEET]]),
                        where[layout.sheet]: (layout.sheet, raw[where[layout.sheet]])}
        shared = package.package(wb, values=values, exclude=[*self._frames, package.CUSTOM], raw=raw)
        self._order = list(raw)
        self._small = layout.last_row - layout.first_row < SMALL_ROWS  # deflated in memory, written at once
        self._shared = shared

    def write(self, path: str | Path, a: Assignment, *, student_id: str = "", student_name: str = "",
              properties: Mapping[str, str] | None = None, baseline: float | None = None) -> Path:
        """`a`'s workbook (an assignment of this shape: a student's variant or a solution) at `path`."""
        self.write_hashed(path, a, student_id=student_id, student_name=student_name, properties=properties,
                          baseline=baseline)
        return Path(path)

    def write_hashed(self, path: str | Path, a: Assignment, *, student_id: str = "", student_name: str = "",
                     properties: Mapping[str, str] | None = None, baseline: float | None = None) -> str:
        """`write`, returning the file's sha256 (for a class set's manifest)."""
        return package.write_hashed(self.parts(a, student_id=student_id, student_name=student_name,
                                               properties=properties, baseline=baseline), path)

    def write_student(self, path: str | Path, a: Assignment, *, student_id: str, student_name: str = "",
                      properties: Mapping[str, str] | None = None, fwd=None) -> tuple[str, float]:
        """A student's file (`write_hashed`): its sha256 and the baseline it states, `loss(a)`, worked out
        from the same forward pass as the sheet's cached results instead of a second one (`fwd`: that pass,
        `forward` of `a`'s weights over its data, if made already)."""
        fwd = forward(a.network, a.weights, a.data.X) if fwd is None else fwd
        baseline = metric_value(a.metric, a.data.y, fwd.prediction)  # what loss(a) computes
        parts = self.parts(a, student_id=student_id, student_name=student_name, properties=properties,
                           baseline=baseline, fwd=fwd)
        return package.write_hashed(parts, path), baseline

    def parts(self, a: Assignment, *, student_id: str = "", student_name: str = "",
              properties: Mapping[str, str] | None = None, baseline: float | None = None, fwd=None) -> list:
        """The zip entries of `a`'s workbook: the shared ones as they are, the student's own made now
        (`fwd`: the forward pass of `a`'s starting weights over its data, if made already)."""
        if self.taught is not None and ((a.data is not self.taught[1] and a.data != self.taught[1])
                                        or dict(a.weights) != self.taught[0]):
            return AssignmentBook(a, password=self.password).parts(
                a, student_id=student_id, student_name=student_name, properties=properties, baseline=baseline)
        baseline = loss(a) if baseline is None else baseline
        bodies = {INSTRUCTIONS_SHEET: _instructions_sheet(self._wb, a, baseline, student_id, student_name,
                                                          ws=self._instructions),
                  self.layout.sheet: write_main_sheet(self._wb, a, self.layout, baseline, student_id, student_name,
                                                      self.password, ws=self._main, fwd=fwd)}
        if len(self._wb._cell_styles) != self._styles:
            raise RuntimeError("a student's cells need a style the shared layout does not have")
        stamp = {"layout": LAYOUT_VERSION, "assignment": a.id, "student_id": student_id,
                 **({"student_name": student_name} if student_name else {}), **(properties or {})}
        parts = []
        for name in self._order:
            if name in self._frames:
                sheet, frame = self._frames[name]
                parts.append(package.sheet_part(name, sheet, frame, {}, bodies[sheet], small=self._small))
            elif name == package.CUSTOM:
                parts.append(package.Part.of(name, package.custom_properties(
                    {PROPERTY_PREFIX + k: str(v) for k, v in stamp.items()})))
            else:
                parts.append(self._shared[name])
        return parts


save = package.save  # the lecture book saves through the same path


class _Made:
    """A cell of a look `_cell` has made before: value, type and style without openpyxl's cell object.

    A class set makes the same looks for every student; building a WriteOnlyCell (value binding,
    style copying and hashing) per cell was most of a student's file. This keeps what the sheets read
    of a cell (value, data_type, _style, style_id, has_style), with openpyxl's own typing rules for the
    plain values it is made for (text, numbers, booleans, None)."""

    __slots__ = ("_ids", "_style", "_wb", "data_type", "value")

    def __init__(self, value, data_type: str, style, wb):
        self.value, self.data_type, self._style, self._wb = value, data_type, style, wb
        self._ids = wb.__dict__.setdefault("_manualml_style_ids", {})  # style -> its index in cellXfs

    @property
    def has_style(self) -> bool:
        return self._style is not None and any(self._style)

    @property
    def style_id(self) -> int:
        """As openpyxl's: asking registers the style (an unasked one never reaches styles.xml)."""
        if self._style is None:
            self._style = StyleArray()
        key = tuple(self._style)
        known = self._ids.get(key)
        if known is None:
            known = self._ids[key] = self._wb._cell_styles.add(self._style)
        return known


def _plain_type(value, formula: bool) -> tuple[object, str] | None:
    """(value, data_type) as WriteOnlyCell binds them and `_cell` then types them; None: not a plain value."""
    kind = type(value)
    if kind is str:
        value = value[:32767]
        if ILLEGAL_CHARACTERS_RE.search(value):
            return None  # openpyxl raises its own error: let it
        if formula and len(value) > 1 and value.startswith("="):
            return value, "f"
        if formula and value in ERROR_CODES:
            return value, "e"
        return value, "s"
    if kind is bool:
        return value, "b"
    if kind is int or kind is float or value is None:
        return value, "n"
    return None


def _cell(ws, value, *, font=None, fill=None, fmt=None, align=None, border=None, protection=None,
          formula: bool = False):
    """A styled cell. A string is text whatever its first character (openpyxl would take '= Price model'
    for a formula and the sheet would show #NAME?) unless `formula` says it is one.

    Each combination of style objects is resolved by openpyxl once per workbook and then copied: hashing
    its style objects was most of the cost of a class set's per-student cells. A plain value of a look
    seen before is a `_Made` cell, not an openpyxl one."""
    look = (font, fill, fmt, align, border, protection)
    plain = look == (None,) * 6
    cache = ws.parent.__dict__.setdefault("_manualml_looks", {})
    key = () if plain else tuple(map(id, look))
    known = cache.get(key)
    if known is not None:
        typed = _plain_type(value, formula)
        if typed is not None:
            return _Made(typed[0], typed[1], copy(known[1]) if known[1] is not None else None, ws.parent)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and not formula:
        cell.data_type = "s"
    if plain:
        cache.setdefault(key, (look, None))
        return cell
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
    # the objects are kept, so their ids cannot be reused
    cache[key] = (look, copy(cell._style))
    return cell


def write_main_sheet(wb, a: Assignment, layout: Layout, baseline: float, student_id: str, student_name: str,
                     password: str | None, *, ws=None, fwd=None) -> package.SheetBody:
    """The manual-ML sheet: openpyxl gets its frame (widths, chart, protection), the returned body its cells,
    each formula with its NumPy result. Works in a write-only workbook and (for the lecture) an ordinary one.
    `ws` given (the sheet laid out for another student): only the cells are made again."""
    fresh = ws is None
    if fresh:
        ws = wb.create_sheet(layout.sheet)
    results = main_sheet_values(a, layout, baseline, fwd) | teaching.expected(a, layout).get(layout.sheet, {})
    # the cells that depend on nothing a student's variant changes are made once per sheet and copied
    frame_key = _frame_key(a, layout)
    cut = None if fresh else ws.__dict__.get("_manualml_stencil")  # (frame key, its _Stencil or None)
    if cut is not None and cut[1] is not None and _same(cut[0], frame_key):
        body = cut[1].body(a, layout, baseline, student_id, student_name, results, ws)
        if body is not None:
            return body
    fmt = a.display.number_format
    grid: dict[int, dict[int, str]] = {}
    headings: dict[int, str] = {}  # the data table's column headings, for the heading row's height

    def put(ref: str, cell: WriteOnlyCell) -> None:
        """`cell` (from `_cell`) as SpreadsheetML text, a formula with its computed result."""
        row, col = _position(ref)
        style = cell.style_id if cell.has_style else 0
        if row == layout.header_row and isinstance(cell.value, str) and cell.data_type != "f":
            headings[col] = cell.value
        if cell.data_type == "f":
            grid.setdefault(row, {})[col] = sheet_xml.formula(ref, cell.value, results[ref], style)
        else:
            grid.setdefault(row, {})[col] = sheet_xml.cell(ref, cell.value, style)

    known = ws.__dict__.setdefault("_manualml_cells", {})  # (cell, value, look) -> what put made of it

    def place(ref: str, value, **look) -> None:
        """put(ref, _cell(ws, value, **look)), remembered for the sheet: a class set writes the same labels
        and formulas for every student, so only a student's own values (and each formula's result) are
        made again. A float is never remembered (0.0 and -0.0 are equal keys but not the same text)."""
        key = (ref, type(value), value, *look, *map(id, look.values()))  # _cell keeps the looks alive
        if type(value) is float:
            key = (ref, float, *key[3:])
            made = known.get(key)
            if made is None:
                cell = _cell(ws, value, **look)
                made = known[key] = (*_position(ref), cell.style_id if cell.has_style else 0)
            grid.setdefault(made[0], {})[made[1]] = sheet_xml.number(ref, value, made[2])
            return
        made = known.get(key)
        if made is None:
            cell = _cell(ws, value, **look)
            row, col = _position(ref)
            style = cell.style_id if cell.has_style else 0
            heading = row == layout.header_row and isinstance(cell.value, str) and cell.data_type != "f"
            text = None if cell.data_type == "f" else sheet_xml.cell(ref, cell.value, style)
            made = known[key] = (row, col, style, cell.value, text, heading)
        row, col, style, value, text, heading = made
        if heading:
            headings[col] = value
        grid.setdefault(row, {})[col] = sheet_xml.formula(ref, value, results[ref], style) if text is None else text

    frame = ws.__dict__.get("_manualml_frame")
    shared = frame is not None and _same(frame[0], frame_key)
    if shared:
        for (row, col), text in frame[1].items():
            grid.setdefault(row, {})[col] = text
        headings.update(frame[2])
        goal = frame[3]
    own: set = set()  # where the student's own cells are, and the shared ones (they must never meet)
    common: set = set()
    sources: dict = {}  # own cell -> (where its value comes from, its ref, its style): how a stencil remakes it

    def add(ref: str, value, **look) -> None:
        common.add(_position(ref))
        place(ref, value, **look)

    def mine(ref: str, value, source: tuple, **look) -> None:
        here = _position(ref)
        own.add(here)
        place(ref, value, **look)
        key = (ref, type(value), value, *look, *map(id, look.values()))
        made = known.get((ref, float, *key[3:]) if type(value) is float else key)
        sources[here] = (source, ref, made[2], type(value))

    if not shared:
        add(a1(TITLE_ROW, "A"), a.title, font=styles.TITLE_FONT)
    mine(a1(INFO_ROW, "A"), _info_line(a, student_id, student_name), ("info",), font=styles.INFO_FONT)
    if not shared:
        goal = (f"Edit only the yellow cells (weights and biases) to make the {a.label('metric')} as small as "
                f"possible. {a.rubric.full_marks(a.metric_abbr)}.")
        if a.display.scale:  # the template's own words: its target label and prediction label, its unit
            goal += f" {a.data.target.label} and {a.label('prediction')} are in {a.display.scale}."
        add(a1(GOAL_ROW, "A"), goal, font=styles.HEADING_FONT, align=styles.WRAP)

        add(a1(LAYER_ROW, layout.input_cols[0]), "Inputs", font=styles.LAYER_FONT)
        for i, layer in enumerate(a.network.layers[:-1], start=1):
            first = layout.neurons[layer[0].label].z_col
            title = ACTIVATION_TITLES[layer[0].activation]
            add(a1(LAYER_ROW, first), f"Hidden layer {i} ({title})", font=styles.LAYER_FONT)
        out = layout.neurons["out"]
        add(a1(LAYER_ROW, out.z_col), f"Output ({ACTIVATION_TITLES[out.activation]})", font=styles.LAYER_FONT)

    for n in layout.neurons.values():
        for name, ref in n.params.items():
            if not shared:
                add(n.param_labels[name], n.param_texts[name], align=styles.RIGHT)
            mine(ref, a.weights[name], ("weight", name), font=styles.EDITABLE_FONT, fill=styles.EDITABLE_FILL,
                 fmt=a.display.weight_format, border=styles.EDITABLE_BORDER, protection=styles.UNLOCKED)

    def teaching_put(ref: str, cell) -> None:
        own.add(_position(ref))
        sources[_position(ref)] = None  # made by the hints' own code: a sheet with them has no stencil
        put(ref, cell)

    teaching.add_to_main_sheet(ws, a, layout, teaching_put)
    if not shared:
        h = layout.header_row
        for col, column, label in zip(layout.input_cols, a.data.inputs, a.network.input_labels, strict=True):
            add(a1(h, col), f"{column.heading} - {label}", font=styles.HEADING_FONT, align=styles.HEADING_WRAP)
        for n in layout.neurons.values():
            if n.has_z_column:
                add(a1(h, n.z_col), n.label, font=styles.HEADING_FONT, align=styles.CENTER)
                if n.label != "out":
                    add(a1(h, n.a_col), activation_heading(n.activation, n.label), font=styles.HEADING_FONT,
                        align=styles.CENTER)
        add(a1(h, layout.target_col), a.data.target.heading, font=styles.HEADING_FONT, align=styles.HEADING_WRAP)
        add(a1(h, layout.pred_col), a.label("prediction"), font=styles.HEADING_FONT, align=styles.HEADING_WRAP)
        add(a1(h, layout.error_col), a.label("error"), font=styles.HEADING_FONT, align=styles.HEADING_WRAP)

    summary = _summary(a, layout)
    if not shared:
        add(layout.metric_label_cell, a.label("metric"), font=styles.HEADING_FONT, align=styles.SUMMARY_WRAP)
    mine(layout.metric_cell, summary[layout.metric_cell], ("summary",), font=styles.RESULT_FONT,
         fill=styles.RESULT_FILL, fmt=fmt, formula=True)
    if not shared:
        add(layout.baseline_label_cell, a.label("baseline"), font=styles.HEADING_FONT)
    mine(layout.baseline_cell, baseline, ("baseline",), fill=styles.GIVEN_FILL, fmt=fmt)
    if not shared:
        add(layout.improvement_label_cell, a.label("improvement"), font=styles.HEADING_FONT)
    mine(layout.improvement_cell, summary[layout.improvement_cell], ("summary",), font=styles.RESULT_FONT,
         fill=styles.RESULT_FILL, fmt=a.display.improvement_format, formula=True)
    if not shared:
        add(layout.points_label_cell, f"Points (of {a.rubric.max_points:g})", font=styles.HEADING_FONT)
    mine(layout.points_cell, summary[layout.points_cell], ("summary",), font=styles.RESULT_FONT,
         fill=styles.RESULT_FILL, fmt=styles.POINTS_FORMAT, formula=True)
    if not shared and not fresh and not own & common:  # for the next student (a fresh sheet is a single build)
        ws.__dict__["_manualml_frame"] = (frame_key, {(r, c): grid[r][c] for r, c in common},
                                          {c: t for c, t in headings.items() if (layout.header_row, c) in common},
                                          goal)
    if fresh:
        _column_widths(ws, layout, a, results)
        _fit_to_page_width(ws, landscape=True, paper=a.display.paper, layout=layout)
    tall = ws.__dict__.setdefault("_manualml_header_heights", {})
    key = tuple(headings.items())
    if key not in tall:
        tall[key] = _header_height(ws, headings)
    heights = {layout.header_row: tall[key], GOAL_ROW: _goal_height(ws, layout, goal)}
    if fresh:  # the goal wraps across the sheet: run on to the right it set the printed page's width
        ws.merged_cells.add(f"A{GOAL_ROW}:{col_letter(_first_page_end(ws, layout))}{GOAL_ROW}")
    template, columns = _data_row_template(ws, a, layout, results)
    first, last = layout.first_row, layout.last_row
    last_col = max([template.width, *(c for cells in grid.values() for c in cells)])

    def rows():
        yield "".join(sheet_xml.row(r, grid[r], heights.get(r)) for r in sorted(grid) if r < first).encode()
        yield from sheet_xml.data_rows(template, first, columns,
                                       {r: cells for r, cells in grid.items() if first <= r <= last})
        yield "".join(sheet_xml.row(r, grid[r]) for r in sorted(grid) if r > last).encode()

    if fresh:
        _chart(ws, a, layout)
        _protect(ws, layout, password)
    elif shared and None not in sources.values() and (cut is None or not _same(cut[0], frame_key)):
        ws.__dict__["_manualml_stencil"] = (frame_key, _Stencil.of(layout, grid, sources, heights, a.data, summary))
    return package.SheetBody(rows=rows, dimension=sheet_xml.dimension(max([*grid, last]), last_col))


def _info_line(a: Assignment, student_id: str, student_name: str) -> str:
    """The main sheet's second row: who the workbook is for, the assignment and the layout version."""
    who = f"Student: {student_name or student_id}  ·  " if (student_name or student_id) else ""
    return f"{who}Assignment: {a.id}  ·  {LAYOUT_VERSION}"


def _summary(a: Assignment, layout: Layout) -> dict[str, str]:
    """The summary cells' formulas (metric, Improvement, Points)."""
    return summary_formulas(layout, a.metric, a.rubric, a.display.improvement_format,
                            average=average_metric(a.metric, a.data.y))


@dataclass(frozen=True)
class _Stencil:
    """A main sheet of one layout as text with holes, for the students of a class after the second.

    A class's students share every cell of the main sheet but their own (info line, weights, baseline,
    the summary's cached results) and their data rows, so each student's sheet is this text with those
    put in: about a fifth of building it cell by cell. It is cut from a full build of a student's sheet
    (`write_main_sheet` through the shared frame) and remakes each own cell with the same `sheet_xml`
    call that build made; tests prove a class file byte-identical to the student's workbook built
    alone. A sheet whose own cells come from the hints' code ([hints] gradient), or with an own cell in
    the heading row (its height would follow the student), has none; a value the cell-by-cell build
    would type or refuse otherwise (text openpyxl refuses) goes that way instead (`body` gives None).
    """

    before: tuple  # the rows above the data rows: text, or an own cell's (row, column)
    extras: dict  # data row -> {column index: text or own cell}: cells right of the data table on that row
    after: tuple  # the rows below the data rows
    own: dict  # own cell -> (where its value comes from, ref, style, the value's type)
    data: object  # the Dataset the summary formulas were made for (a variant with its own targets has others)
    summary: dict
    last_row: int
    wide: int  # the rightmost column of the cells outside the data table
    patterns: dict  # (row template, rows) -> `_pattern`'s answer
    given_texts: dict  # the given slots' sources -> (the dataset, weakly; `_given`'s answer for it)
    plain: dict  # a summary cell -> whether `_plain_type` takes its formula in `summary` for one as it is

    @classmethod
    def of(cls, layout: Layout, grid: dict, own: dict, heights: dict, data, summary: dict):
        if any(row == layout.header_row for row, _ in own):
            return None
        places = list(own)
        marks = {pos: f"\x00{i}\x00" for i, pos in enumerate(places)}  # \x00 is never in a sheet's XML

        def cells(r: int) -> dict[int, str]:
            return {c: marks.get((r, c), text) for c, text in grid[r].items()}

        def pieces(text: str) -> tuple:
            cut = text.split("\x00")
            return tuple(places[int(p)] if i % 2 else p for i, p in enumerate(cut))

        first, last = layout.first_row, layout.last_row
        before = "".join(sheet_xml.row(r, cells(r), heights.get(r)) for r in sorted(grid) if r < first)
        after = "".join(sheet_xml.row(r, cells(r)) for r in sorted(grid) if r > last)
        extras = {r: {c: places[int(t[1:-1])] if t.startswith("\x00") else t for c, t in cells(r).items()}
                  for r in sorted(grid) if first <= r <= last}
        return cls(pieces(before), extras, pieces(after), dict(own), data, summary, max([*grid, last]),
                   max((c for row in grid.values() for c in row), default=0), {}, {}, {})

    def _pattern(self, template: sheet_xml.RowTemplate, first: int, n: int, sources: list):
        """The whole sheet body as one %-pattern of bytes for `n` data rows of this row template, and for each
        of its holes the place of its text in `body`'s list: the own text cells' (in `self.own`'s order), the
        own numbers' (the same; a number cell's frame is in the pattern), the computed data values column by
        column, then the given ones (inputs and targets, the same for every student of one dataset) row by
        row. `sources`: where each slot's values come from (`_row_template`). None if the template has no
        %-form."""
        key = (id(template), n)
        if key not in self.patterns:
            texts = [pos for pos, (*_, kind) in self.own.items() if kind is not float and kind is not int]
            numbers = [pos for pos in self.own if pos not in texts]
            place = {pos: i for i, pos in enumerate(texts)} | {pos: len(texts) + i for i, pos in enumerate(numbers)}
            given = [k for k, (kind, _) in enumerate(sources) if kind != "results"]
            computed = [k for k, (kind, _) in enumerate(sources) if kind == "results"]
            start = len(texts) + len(numbers)
            slot = {k: (start + j * n, 1) for j, k in enumerate(computed)}  # (index of row 0's value, step)
            slot |= {k: (start + len(computed) * n + j, len(given)) for j, k in enumerate(given)}
            frames = {pos: sheet_xml.number_parts(ref, style) for pos, (_, ref, style, _) in self.own.items()
                      if pos in numbers}  # a number's cell around its text
            extras = {r: {c: t if type(t) is str else frames.get(t) for c, t in cells.items()}
                      for r, cells in self.extras.items()}
            rows = sheet_xml.data_rows_pattern(template, first, n, extras)
            if rows is None:
                self.patterns[key] = None
                return None
            pattern, order = [], []

            def outside(parts: tuple) -> None:  # the rows above or below the data rows
                for p in parts:
                    if type(p) is str:
                        pattern.append(p.replace("%", "%%"))
                    else:
                        head, tail = frames.get(p, ("", ""))
                        pattern.append(f"{head.replace('%', '%%')}%s{tail.replace('%', '%%')}")
                        order.append(place[p])

            outside(self.before)
            pattern.append(rows[0])
            for hole in rows[1]:
                if hole[0] == "slot":
                    at, step = slot[hole[2]]
                    order.append(at + hole[1] * step)
                else:
                    order.append(place[self.extras[hole[1]][hole[2]]])
            outside(self.after)
            dimension = sheet_xml.dimension(self.last_row, max(template.width, self.wide))
            self.patterns[key] = ("".join(pattern).encode(), order, texts, given, computed, dimension,
                                  template)  # the template kept: its id stays its own
        return self.patterns[key]

    def _given(self, data, sources: list, given: list) -> list[bytes] | None:
        """The given slots' number texts of `data`'s rows, row by row (None: one is not finite), worked out
        once per dataset: a class's students share theirs unless their targets are their own."""
        key = tuple(sources[k] for k in given)
        known = self.given_texts.get(key)
        if known is not None and known[0]() is data:
            return known[1]
        X, y = data.X, data.y
        block = np.array([X[:, i] if kind == "X" else y for kind, i in key], dtype=float)
        texts = _number_texts(block.T.ravel().tolist())
        self.given_texts[key] = (weakref.ref(data), texts)
        return texts

    def body(self, a: Assignment, layout: Layout, baseline: float, student_id: str, student_name: str,
             results: dict, ws) -> package.SheetBody | None:
        summary = self.summary if a.data is self.data else _summary(a, layout)
        made, numbers, spots = {}, [], []  # spots: each own number's cell
        for pos, (source, ref, style, kind) in self.own.items():
            what = source[0]
            value = (a.weights[source[1]] if what == "weight" else baseline if what == "baseline" else
                     _info_line(a, student_id, student_name) if what == "info" else summary[ref])
            if type(value) is not kind:
                return None
            if kind is str:
                formula = what == "summary"
                kept = formula and summary is self.summary  # the same formulas for every student of one dataset
                plain = self.plain.get(ref) if kept else None
                if plain is None:
                    plain = _plain_type(value, formula) == (value, "f" if formula else "s")
                    if kept:
                        self.plain[ref] = plain
                if not plain:
                    return None
                made[pos] = (sheet_xml.formula(ref, value, results[ref], style) if formula else
                             sheet_xml.text(ref, value, style))
            elif kind is float or kind is int:
                numbers.append(value)
                spots.append((pos, ref, style))
            else:
                return None
        template, sources = _row_template(ws, a, layout)
        n = len(a.data.rows)  # each slot's column of values is as long
        compiled = self._pattern(template, layout.first_row, n, sources) if n else None
        if compiled is not None:
            pattern, order, texts, given, computed, dimension, _ = compiled
            values = np.array([results[sources[k][1]] for k in computed], dtype=float).ravel().tolist()
            data = self._given(a.data, sources, given)
            own = _number_texts(numbers + values) if data is not None else None
            if own is not None:  # else a weight or a data value is not finite: written cell by cell
                holes = [made[p].encode() for p in texts] + own + data
                text = pattern % tuple(map(holes.__getitem__, order))
                return package.SheetBody(rows=lambda: iter([text]), dimension=dimension)
        for (pos, ref, style), value in zip(spots, numbers, strict=True):
            made[pos] = sheet_xml.number(ref, value, style)
        columns = _data_row_template(ws, a, layout, results)[1]
        dimension = sheet_xml.dimension(self.last_row, max(template.width, self.wide))
        before = "".join(p if type(p) is str else made[p] for p in self.before).encode()
        after = "".join(p if type(p) is str else made[p] for p in self.after).encode()
        extras = {r: {c: t if type(t) is str else made[t] for c, t in cells.items()}
                  for r, cells in self.extras.items()}

        def rows():
            yield before
            yield from sheet_xml.data_rows(template, layout.first_row, columns, extras)
            yield after

        return package.SheetBody(rows=rows, dimension=dimension)


def _frame_key(a: Assignment, layout: Layout) -> tuple:
    """What the main sheet's shared cells (titles, labels, headings) depend on: everything of the assignment
    but a student's variant (starting weights, data rows), and the layout."""
    return (layout, a.data.inputs, a.data.target,
            *_shared_fields(a))


# every field of an assignment but a student's variant (starting weights, data rows), read in one call
_shared_fields = attrgetter(*(f.name for f in fields(Assignment) if f.name not in ("weights", "data")))


def _same(one: tuple, other: tuple) -> bool:
    try:
        return one == other  # a variant shares its template's objects: mostly identity checks
    except (TypeError, ValueError):  # a field whose == is not a bool (an array): not the same, to be safe
        return False


def main_sheet_values(a: Assignment, layout: Layout, baseline: float, fwd=None) -> dict:
    """NumPy's value of every computed column ('E': array over the data rows) and summary cell ('M12': value):
    the numbers LibreOffice computes from the same formulas (same operations in the same order). `fwd`:
    `forward` of `a`'s starting weights over its data, if made already."""
    fwd = forward(a.network, a.weights, a.data.X) if fwd is None else fwd
    out: dict = {}
    for n in layout.neurons.values():
        if n.has_z_column:
            out[n.z_col] = fwd.z[n.label]
        out[n.a_col] = fwd.a[n.label] if n.has_z_column else fwd.z[n.label]
    errors = row_errors(a.metric, a.data.y, fwd.prediction)
    out[layout.error_col] = errors
    current = metric_of_errors(a.metric, errors) if np.isfinite(errors).all() else package.NUM  # metric_value
    out[layout.metric_cell] = current
    if baseline == 0:
        out[layout.improvement_cell] = package.DIV0
        gain = math.nan
    elif isinstance(current, package.Error):
        out[layout.improvement_cell] = current
        gain = math.nan
    else:
        gain = (baseline - current) / baseline
        out[layout.improvement_cell] = truncate(gain, improvement_digits(a.display.improvement_format))
    if layout.points_cell:  # =IFERROR(rubric..., 0): the grader's rule on the exact gain
        out[layout.points_cell] = a.rubric.points(gain, current if isinstance(current, float) else math.nan)
    return out


def _data_row_template(ws, a: Assignment, layout: Layout, results: dict):
    """The data rows' template (given columns, formulas from per-column templates) and each slot's column of
    values: this is what runs for every row of a 100,000-row sheet, so nothing is built per cell."""
    template, sources = _row_template(ws, a, layout)
    X, y = a.data.X, a.data.y
    pick = {"X": lambda i: X[:, i], "y": lambda _: y, "results": lambda col: results[col]}
    return template, [pick[kind](arg) for kind, arg in sources]


def _row_template(ws, a: Assignment, layout: Layout):
    """`_data_row_template`'s template, and where each slot's values come from: ("X", input index), ("y", 0)
    or ("results", column)."""
    fmt = a.display.number_format
    known = ws.__dict__.setdefault("_manualml_row_templates", {})  # one per sheet: a class set reuses it
    target_fmt = _target_format(a)
    key = (a.metric, fmt, target_fmt)
    if key not in known:
        formats = _column_formats(layout, fmt)
        given = _cell(ws, None, fill=styles.GIVEN_FILL).style_id
        target = _cell(ws, None, fill=styles.GIVEN_FILL, fmt=target_fmt).style_id
        slots = [(c, given, None, ("X", i)) for i, c in enumerate(layout.input_cols)]
        slots.append((layout.target_col, target, None, ("y", 0)))
        for col, tpl in row_templates(layout, a.metric):
            style = _cell(ws, None, fill=styles.COMPUTED_FILL, fmt=formats[col]).style_id
            slots.append((col, style, tpl, ("results", col)))
        slots.sort(key=lambda slot: col_index(slot[0]))
        known[key] = (sheet_xml.RowTemplate([(col, style, tpl) for col, style, tpl, _ in slots]),
                      [source for *_, source in slots])
    return known[key]


def _number_texts(values: list) -> list[bytes] | None:
    """Each float's (or int's) text as a cell's <v> holds it (`sheet_xml._num`: its repr, a whole number
    without '.0'), in one pass; None if one is not finite (only 'nan' and 'inf' hold an 'n')."""
    text = "\x00".join(map(repr, values))
    if "n" in text:
        return None
    if not values:
        return []
    return (text + "\x00").replace(".0\x00", "\x00").encode().split(b"\x00")[:-1]


def _target_format(a: Assignment) -> str:
    """The target column's number format: the template's, without decimals for whole numbers (a 0/1 target)."""
    fmt = a.display.number_format
    return styles.whole_number_format(fmt) if _whole_targets(a.data) else fmt


_WHOLE: list = [lambda: None, False]  # the last dataset asked about (weakly) and its answer


def _whole_targets(data) -> bool:
    """Whether every target is a whole number (asked once per dataset: a class's variants share theirs)."""
    if _WHOLE[0]() is not data:
        y = data.y
        _WHOLE[:] = [weakref.ref(data), bool(np.all(y == np.round(y)))]
    return _WHOLE[1]


def _fit_to_page_width(ws, *, landscape: bool, paper: str = styles.DEFAULT_PAPER,
                       layout: Layout | None = None) -> None:
    """Printed (and rendered to PDF) one page wide on the template's paper, so the network reads as one
    picture and every page of the workbook has the same size; a network too wide to read so (a 3-4-3-1 printed
    at 30 %) is printed on pages side by side instead, broken between layers (or neurons) clear of the chart."""
    widths, _ = styles.sheet_widths(ws)  # the chart is added later: `keep` holds its room
    starts = () if layout is None else _page_starts(layout)
    keep = 18 * 72 / 2.54  # points: `_chart`'s 18 cm under the table, never cut by a break
    plan = styles.plan_pages(widths, paper=paper, landscape=landscape, starts=starts, keep=keep)
    styles.apply_print_plan(ws, plan, landscape=landscape, paper=paper)


def _page_starts(layout: Layout) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Columns a printed page may start at: after a spacer (a layer, the output, the summary), else at a
    hidden neuron's first column (its weights' labels stay beside their values)."""
    layers = tuple(col_index(c) + 1 for c in layout.spacer_cols)
    neurons = tuple(col_index(n.z_col) for label, n in layout.neurons.items() if label != "out")
    return layers, tuple(sorted({*layers, *neurons}))


def _first_page_end(ws, layout: Layout) -> int:
    """The last column printed on the first page: where the goal wraps (merged further, it was cut across pages)."""
    return ws.col_breaks.brk[0].id if ws.col_breaks.brk else col_index(layout.summary_col)


def _goal_height(ws, layout: Layout, goal: str) -> float | None:
    """The goal row tall enough for the goal (bold) wrapped across the columns from A to the summary's."""
    dims = ws.column_dimensions
    width = sum(dims[col_letter(c)].width if col_letter(c) in dims else styles.DEFAULT_WIDTH
                for c in range(1, _first_page_end(ws, layout) + 1))
    return _wrapped_height(goal, max(1.0, width / 1.12 - 1))


def _header_height(ws, headings: dict[int, str]) -> float | None:
    """The heading row tall enough for its longest wrapped label, so no heading runs into the first data row."""
    heights = []
    for col, words in headings.items():
        letter = col_letter(col)
        width = ws.column_dimensions[letter].width if letter in ws.column_dimensions else 8.43
        heights.append(_wrapped_height(words, max(1.0, width / 1.12 - 2)) or 0.0)  # bold, one character in
    return max(heights, default=0.0) or None


def _column_formats(layout: Layout, fmt: str) -> dict[str, str]:
    formats = {layout.error_col: fmt}
    for n in layout.neurons.values():
        formats[n.z_col] = fmt
        formats[n.a_col] = styles.BOUNDED_FORMATS.get(n.activation, fmt)
    return formats


def _column_widths(ws, layout: Layout, a: Assignment, results: dict) -> None:
    """Each column's width for its role, widened where the issued numbers need more: a template of villa
    prices in euros squares errors of a million into 13 digits, which a 13-wide column shows as ###."""
    widths = {c: styles.WIDTHS["input"] for c in layout.input_cols}
    for n in layout.neurons.values():
        widths[n.z_col] = styles.WIDTHS["label"]
        widths[n.a_col] = styles.WIDTHS["value"]
    widths.update({c: styles.WIDTHS["spacer"] for c in layout.spacer_cols})
    widths[layout.target_col] = styles.WIDTHS["target"]
    widths[layout.pred_col] = styles.WIDTHS["prediction"]
    widths[layout.error_col] = styles.WIDTHS["error"]
    widths[layout.summary_col] = styles.WIDTHS["summary"]
    fmt = a.display.number_format
    shown = [(col, a.data.X[:, i], "General") for i, col in enumerate(layout.input_cols)]
    shown.append((layout.target_col, a.data.y, _target_format(a)))
    shown += [(col, results[col], f) for col, f in _column_formats(layout, fmt).items() if col in results]
    for col, values, f in shown:
        widths[col] = max(widths[col], number_text.shown_width(values, f) + 2)
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
    chart.x_axis.tickLblPos = "low"  # row numbers under the plot, not on the zero line inside negative bars
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


def _para(value: str, **look) -> tuple:
    """An instructions row: its text and look (made into a cell only the first time, see `_paragraph`)."""
    return value, tuple(look), look


def _paragraph(ws, r: int, value: str, look: dict, wrapped: dict) -> str:
    """The instructions sheet's row `r`: the text wrapped in the column (a title stays one line). A look's
    style is worked out once per sheet: a class set writes each student's own line in the same look."""
    styled = ws.__dict__.setdefault("_manualml_paragraph_styles", {})  # look -> style of a text in it
    look_key = (*look, *map(id, look.values()))  # _cell keeps the looks alive
    style = styled.get(look_key)
    if style is not None and _plain_type(value, False) == (value, "s"):
        height = _wrapped_height(value) if value else None
        return sheet_xml.row(r, {1: sheet_xml.text(a1(r, "A"), value, style)}, height)
    cell = _cell(ws, value, **look)
    before = tuple(cell._style) if cell._style is not None else ()
    if before not in wrapped:
        probe = WriteOnlyCell(ws)  # the cell may be a `_Made` one: an openpyxl cell of its style decides
        probe._style = copy(cell._style) if cell._style is not None else None
        if probe.alignment != styles.WRAP and probe.font != styles.TITLE_FONT:
            probe.alignment = styles.WRAP
        wrapped[before] = copy(probe._style)
    cell._style = copy(wrapped[before])
    height = _wrapped_height(str(cell.value)) if cell.value else None  # rows do not grow by themselves
    style = cell.style_id if cell.has_style else 0
    if type(cell.value) is str:
        styled[look_key] = style
    return sheet_xml.row(r, {1: sheet_xml.cell(a1(r, "A"), cell.value, style)}, height)


def _instructions_sheet(wb, a: Assignment, baseline: float, student_id: str, student_name: str, *,
                        ws=None) -> package.SheetBody:
    """The first sheet, one paragraph a row; `ws` given: only its cells again (for another student).

    Only two paragraphs are a student's own (who it is for, the baseline): once a sheet has been written,
    its other rows are kept as text for the next student of the same assignment (a class set)."""
    if ws is None:
        ws = wb.create_sheet(INSTRUCTIONS_SHEET)
        ws.column_dimensions["A"].width = styles.TEXT_WIDTH
        _fit_to_page_width(ws, landscape=False, paper=a.display.paper)
        ws.protection.sheet = True
    own = {_STUDENT: _student_line(student_id, student_name), _BASELINE: _baseline_line(a, baseline)}
    key = (_instructions_key(a), own[_STUDENT] is None)
    wrapped = ws.__dict__.setdefault("_manualml_wrapped", {})  # style before -> after, decided once per look
    cut = ws.__dict__.get("_manualml_instructions")  # (key, rows: UTF-8, or (row, own paragraph, look))
    if cut is None or not _same(cut[0], key):
        known = ws.__dict__.setdefault("_manualml_paragraphs", {})  # (row, text, look) -> its <row>
        made, count = [], 0
        for r, para in enumerate(_instruction_paragraphs(a, own[_STUDENT] and _STUDENT, _BASELINE), start=1):
            count = r
            if para is None:
                continue
            if para[0] in own:
                made.append((r, para[0], para[2]))
                continue
            row_key = (r, *para[:2], *map(id, para[2].values()))  # _cell keeps the looks alive
            row = known.get(row_key)
            if row is None:
                row = known[row_key] = _paragraph(ws, r, para[0], para[2], wrapped)
            made.append(row)
        made = [row.encode() if type(row) is str else row for row in made]  # the sheet's UTF-8, once
        cut = ws.__dict__["_manualml_instructions"] = (key, made, count)
    text = b"".join([row if type(row) is bytes else _paragraph(ws, row[0], own[row[1]], row[2], wrapped).encode()
                     for row in cut[1]])
    return package.SheetBody(rows=lambda: iter([text]), dimension=sheet_xml.dimension(cut[2], 1))


_STUDENT, _BASELINE = "\x00student", "\x00baseline"  # where a student's own paragraphs go (never a real text)


def _instructions_key(a: Assignment) -> tuple:
    """What the instructions' shared paragraphs depend on: everything of the assignment but a student's
    variant (starting weights, data rows), and the number of data rows (the hidden test's note)."""
    return (len(a.data.rows), a.data.inputs, a.data.target,
            *_shared_fields(a))


def _student_line(student_id: str, student_name: str) -> str | None:
    if not (student_name or student_id):
        return None
    return f"Student: {student_name} {f'({student_id})' if student_id else ''}".strip()


def _baseline_line(a: Assignment, baseline: float) -> str:
    return (f"Starting {a.metric_abbr} (baseline): {number_text.plain_number(baseline)}. "
            f"Improvement = (baseline − your {a.metric_abbr}) / baseline.")


def _instruction_paragraphs(a: Assignment, student: str | None, baseline: str) -> list:
    """The instructions, a paragraph a row (None: an empty row), with the student's line and the baseline's
    as given."""
    rows = [_para(a.title, font=styles.TITLE_FONT)]
    if student is not None:
        rows.append(_para(student))
    rows.append(None)
    for paragraph in (a.instructions or a.description).strip().split("\n\n"):
        rows.append(_para(" ".join(paragraph.split()), align=styles.WRAP))
    rows += [
        None,
        _para("What to do", font=styles.HEADING_FONT),
        _para(f"1. Open the sheet '{a.label('sheet')}'."),
        _para("2. Change the yellow cells: the weights and biases of the network. Every other cell is "
                  "locked and computed for you."),
        _para(f"3. Watch '{a.label('metric')}' go down and 'Improvement' go up."),
        _para("4. Save the file (keep .xlsx, or save as .ods) and hand it in."),
        None,
        _para("How it is graded", font=styles.HEADING_FONT),
        _para(baseline),
    ]
    if a.rubric.partial_credit == "linear":
        rows.append(_para(f"Points grow in proportion to Improvement; {a.rubric.full_marks(a.metric_abbr)}."))
    else:
        for tier in sorted(a.rubric.tiers, key=lambda t: -t.points):
            rows.append(_para(f"• {tier.describe(a.metric_abbr)}: {tier.points:g} of "
                                  f"{a.rubric.max_points:g} points"))
    rows.append(_para("The grader recomputes your network from your weights and the original data: "
                          "editing other cells changes nothing and is reported."))
    if a.test is not None:
        rows.append(_para(hidden_test_note(a)))
    return rows
