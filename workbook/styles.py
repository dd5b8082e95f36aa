"""How each role looks: students must see at a glance what they may edit.

Yellow with a border = editable weight/bias (like an input cell in a financial model);
pale blue = the assignment's given data; grey = computed by formulas; bold = headings.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

EDITABLE_FILL = PatternFill("solid", fgColor="FFF2CC")
GIVEN_FILL = PatternFill("solid", fgColor="DDEBF7")
COMPUTED_FILL = PatternFill("solid", fgColor="F2F2F2")
RESULT_FILL = PatternFill("solid", fgColor="E2EFDA")
_thin = Side(style="thin", color="BF9000")
EDITABLE_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)

TITLE_FONT = Font(bold=True, size=14)
HEADING_FONT = Font(bold=True)
LAYER_FONT = Font(bold=True, color="1F4E78")
INFO_FONT = Font(italic=True, size=9, color="7F7F7F")
EDITABLE_FONT = Font(bold=True, color="7F6000")
RESULT_FONT = Font(bold=True, size=12)

WRAP = Alignment(wrap_text=True, vertical="top")
# Column headings sit right above their data: all of a heading row aligned at the bottom, so a tall row (a long
# label wrapped) does not leave short headings floating at the top beside others at the bottom.
# One character in from the left: a wrapped heading fills its column to the edge, and the next one's lines
# started flush against it ("predicts for that" + "in ice creams" read as one line).
HEADING_WRAP = Alignment(wrap_text=True, vertical="bottom", horizontal="left", indent=1)
SUMMARY_WRAP = Alignment(wrap_text=True, vertical="bottom")  # the metric's label: in line with the labels under it
CENTER = Alignment(horizontal="center")
RIGHT = Alignment(horizontal="right")
CLEAR_LEFT = Alignment(horizontal="left", indent=1)  # words right of a right-aligned number: one character apart

BOUNDED_FORMATS = {"sigmoid": "0.000", "tanh": "0.000", "step": "0"}  # activations with small outputs

WIDTHS = {"input": 15, "label": 17, "value": 12, "target": 13, "prediction": 15, "error": 13,
          "summary": 25, "spacer": 2}

def whole_number_format(fmt: str) -> str:
    """`fmt` without its decimals ("0.000" -> "0", "#,##0.00" -> "#,##0"): for a column of whole numbers, such as
    a 0/1 target, which "0.000" showed as 0.000 and 1.000 beside inputs shown as 2 and 6."""
    return re.sub(r"\.[0#?]+", "", fmt)


POINTS_FORMAT = "General"  # whole points as "8", linear credit as "7.25": never a stray "8.00" or "8."

PAPER_SIZES = {"A4": 9, "letter": 1, "A3": 8, "legal": 5}  # OOXML paperSize codes
DEFAULT_PAPER = "A4"
TEXT_WIDTH = 62  # characters: wrapped text that fits an A4 or Letter page upright, even where LibreOffice has
# no Calibri and draws with the wider DejaVu Sans (widths are counted in the default font's digits)
LINE_HEIGHT = 15.0  # points per line of 11 pt text
DEFAULT_WIDTH = 8.43  # a column nobody sized, in characters


def wrapped_height(text: str, width: float = TEXT_WIDTH) -> float | None:
    """The row height that shows all of `text` wrapped in a column `width` characters wide (None: one line).

    Spreadsheets do not grow a row to fit wrapped text written by a program (LibreOffice shows the first
    line or two and cuts the rest), so the height is set: lines at about 0.9 character widths per letter.
    """
    per_line = max(1, int(width * 1.05))
    lines = 0
    for part in text.split("\n"):
        words, line = part.split(), 0
        lines += 1
        for word in words:
            if line and line + 1 + len(word) > per_line:
                lines += 1
                line = len(word)
            else:
                line += (1 if line else 0) + len(word)
    return None if lines <= 1 else LINE_HEIGHT * lines + 2


# Printing. A sheet printed one page wide shrinks with its width: a 3-4-3-1 network printed at 30 % (11 pt text
# 3.3 pt tall). One that would print smaller than MIN_PRINT_SCALE is split into pages side by side instead, at
# whole blocks (a layer, a neuron's columns, the images), each page at one fixed scale.
MIN_PRINT_SCALE = 0.6
CHAR_POINTS = 7.0  # printed width of one character of column width: LibreOffice without Calibri draws with DejaVu
# Sans, whose digit is 6.99 pt at 11 pt (a 15-character column measured 37.0 mm); Excel's Calibri is 5.25 pt, so a
# plan made for the wider font holds in both (Excel's pages just keep more white on the right)
PAPER_POINTS = {"A4": (595.3, 841.9), "letter": (612.0, 792.0), "A3": (841.9, 1190.6), "legal": (612.0, 1008.0)}
NORMAL_MARGINS = {"left": 0.75, "right": 0.75, "top": 1.0, "bottom": 1.0, "header": 0.5, "footer": 0.5}  # inches
NARROW_MARGINS = {"left": 0.25, "right": 0.25, "top": 0.75, "bottom": 0.75, "header": 0.3, "footer": 0.3}  # Excel's
# "Narrow": a sheet that has to shrink shrinks 10 % less; a page of text keeps the normal, wider margins
SCALE_SLACK = 0.02  # a fixed scale this much under the plan: a page a few points wider than counted still fits
SMALLEST_SCALE = MIN_PRINT_SCALE - SCALE_SLACK  # what a page planned at the minimum prints at, at the least


@dataclass(frozen=True)
class PrintPlan:
    """How a sheet prints: one page wide (fitted by the application), or split at `breaks` at a fixed `scale`."""

    scale: float  # the scale its widest page prints at (LibreOffice without Calibri; Excel prints the same or larger)
    breaks: tuple[int, ...] = ()  # columns (1-based) that start a new page; () = fitted to one page wide
    narrow: bool = False  # printed with NARROW_MARGINS
    rows: tuple[int, ...] = ()  # rows (1-based) that start a new page (a split sheet only; `plan_rows`)
    percent: int = 0  # the fixed scale a split sheet prints at, if not the plan's less SCALE_SLACK (`plan_rows`)


def printable_width(paper: str, *, landscape: bool, narrow: bool) -> float:
    """Points across the page between the left and right margins."""
    width = PAPER_POINTS[paper][1 if landscape else 0]
    margins = NARROW_MARGINS if narrow else NORMAL_MARGINS
    return width - 72 * (margins["left"] + margins["right"])


def plan_pages(widths: Sequence[float], *, paper: str, landscape: bool, starts: Sequence[Sequence[int]] = (),
               keep: float = 0.0) -> PrintPlan:
    """The print plan for columns 1..len(widths) of these widths (characters).

    One page wide if that prints at MIN_PRINT_SCALE or more (at 100 % with the normal margins if it fits); else
    the fewest pages side by side that do, each starting at a column of `starts`: a sequence of choices, the
    first preferred (a layer's first column before a neuron's), so a page breaks between layers where it can.
    Of the splits into that many pages the one whose widest page is narrowest wins. `keep` (points from the
    left edge, a chart under the table) is never cut by a break.
    """
    points = [CHAR_POINTS * w for w in widths]
    total = sum(points)
    if total <= printable_width(paper, landscape=landscape, narrow=False):
        return PrintPlan(1.0)
    room = printable_width(paper, landscape=landscape, narrow=True)
    if total * MIN_PRINT_SCALE <= room or not starts:
        return PrintPlan(min(1.0, room / total), narrow=True)
    edges = [0.0]
    for p in points:
        edges.append(edges[-1] + p)
    best = None
    for choice in starts:
        cuts = sorted({c for c in choice if 1 < c <= len(widths) and not 0 < edges[c - 1] < keep})
        for pages in range(2, len(cuts) + 2):
            split = _narrowest_split(edges, cuts, pages)
            if split is not None and room / split[0] >= MIN_PRINT_SCALE:
                if best is None or pages < best[0]:
                    best = (pages, split)
                break
    if best is None:  # no split reads at the minimum: the one with the most pages the finest choice allows
        cuts = sorted({c for c in starts[-1] if 1 < c <= len(widths) and not 0 < edges[c - 1] < keep})
        best = (len(cuts) + 1, _narrowest_split(edges, cuts, len(cuts) + 1))
    widest, breaks = best[1]
    return PrintPlan(min(1.0, room / widest), tuple(breaks), narrow=True)


def _narrowest_split(edges: list[float], cuts: list[int], pages: int) -> tuple[float, list[int]] | None:
    """(widest page, its breaks) of the split of the columns into `pages` at `cuts` whose widest page is
    narrowest; None if there are too few cuts."""
    if pages - 1 > len(cuts):
        return None
    bounds = [1, *cuts, len(edges)]  # page k runs from bounds[i] to bounds[j] - 1

    @cache
    def best(i: int, left: int) -> tuple[float, tuple[int, ...]]:
        if left == 1:
            return edges[bounds[-1] - 1] - edges[bounds[i] - 1], ()
        options = []
        for j in range(i + 1, len(bounds) - left + 1):
            width = edges[bounds[j] - 1] - edges[bounds[i] - 1]
            rest, breaks = best(j, left - 1)
            options.append((max(width, rest), (bounds[j], *breaks)))
        return min(options)

    widest, breaks = best(0, pages)
    return widest, list(breaks)


def plan_rows(heights: Sequence[float], starts: Sequence[int], plan: PrintPlan, *, paper: str,
              landscape: bool) -> PrintPlan:
    """`plan` with row breaks at `starts` (rows a page may start at: a band of images) wherever the rows from
    the page's top to the next start would not fit under it: left to itself a page broke through an image.
    The scale may go down a few percent (never under the minimum) if that saves a page: the perceptron's two
    bands of images and its title fit on a page at 60 %, not at 61 %. `heights`: the rows' in points, from row 1."""
    if not plan.breaks:
        return plan  # fitted to a page's width, the application sets the scale: nothing to count with
    margins = NARROW_MARGINS if plan.narrow else NORMAL_MARGINS
    room = PAPER_POINTS[paper][0 if landscape else 1] - 72 * (margins["top"] + margins["bottom"])
    cuts = [*sorted(r for r in set(starts) if 1 < r <= len(heights)), len(heights) + 1]
    options = []
    for percent in range(print_percent(plan), min(print_percent(plan), round(100 * SMALLEST_SCALE)) - 1, -1):
        rows, top, previous = [], 1, None
        for start in cuts:
            if previous is not None and previous > top and percent / 100 * sum(heights[top - 1:start - 1]) > room:
                rows.append(previous)
                top = previous
            previous = start
        tops = [1, *rows, len(heights) + 1]  # a page still too tall is broken again by the application: counted
        pages = sum(math.ceil(percent / 100 * sum(heights[a - 1:b - 1]) / room) for a, b in itertools.pairwise(tops))
        options.append((pages, -percent, tuple(rows)))
    _pages, percent, rows = min(options)
    return replace(plan, rows=rows, percent=-percent)


def print_percent(plan: PrintPlan) -> int:
    """The fixed scale a split sheet is printed at, in percent: the plan's less SCALE_SLACK, unless set."""
    return plan.percent or max(10, int(100 * (plan.scale - SCALE_SLACK)))


def apply_print_plan(ws, plan: PrintPlan, *, landscape: bool, paper: str) -> None:
    """Write the plan into the sheet's page setup (orientation, paper, margins, fit or scale, column breaks)."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.pagebreak import Break, ColBreak, RowBreak

    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = PAPER_SIZES[paper]
    ws.page_margins = PageMargins(**(NARROW_MARGINS if plan.narrow else NORMAL_MARGINS))
    ws.sheet_properties.pageSetUpPr.fitToPage = not plan.breaks
    ws.col_breaks = ColBreak()
    if plan.rows:  # else the sheet's own row breaks stay (Gradient Descent's runs, each on a page of its own)
        ws.row_breaks = RowBreak()
    if plan.breaks:  # a fixed scale: applications ignore manual breaks on a sheet fitted to pages
        ws.page_setup.scale = print_percent(plan)
        ws.page_setup.pageOrder = "overThenDown"  # a page's neighbour on the right prints next, not its rows below
        for col in plan.breaks:
            ws.col_breaks.append(Break(id=col - 1))  # a break's id: the last column before it (1-based)
        for row in plan.rows:
            ws.row_breaks.append(Break(id=row - 1))
    else:
        ws.page_setup.pageOrder = None
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0


def sheet_widths(ws) -> tuple[list[float], float]:
    """(column widths in characters from A to the sheet's last column, right edge of its charts in points).

    The last column is the last one written or sized; a chart reaching further right (LibreOffice prints it)
    is counted as one more column as wide as the rest of the chart."""
    from workbook.address import col_index, col_letter, position

    dims = ws.column_dimensions
    last = max([getattr(ws, "max_column", 1), *(col_index(c) for c in dims)])
    widths = [getattr(dims.get(col_letter(c)), "width", None) or DEFAULT_WIDTH for c in range(1, last + 1)]
    right = 0.0
    for chart in ws._charts:
        col = position(chart.anchor)[1] if isinstance(chart.anchor, str) else 1
        right = max(right, CHAR_POINTS * sum(widths[:col - 1]) + chart.width * 72 / 2.54)
    beyond = right / CHAR_POINTS - sum(widths)
    return ([*widths, beyond] if beyond > 0 else widths), right
