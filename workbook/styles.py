"""How each role looks: students must see at a glance what they may edit.

Yellow with a border = editable weight/bias (like an input cell in a financial model);
pale blue = the assignment's given data; grey = computed by formulas; bold = headings.
"""

from __future__ import annotations

import re

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
