"""How each role looks: students must see at a glance what they may edit.

Yellow with a border = editable weight/bias (like an input cell in a financial model);
pale blue = the assignment's given data; grey = computed by formulas; bold = headings.
"""

from __future__ import annotations

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
CENTER = Alignment(horizontal="center")
RIGHT = Alignment(horizontal="right")

BOUNDED_FORMATS = {"sigmoid": "0.000", "tanh": "0.000", "step": "0"}  # activations with small outputs

WIDTHS = {"input": 20, "label": 17, "value": 12, "target": 17, "prediction": 22, "error": 15,
          "summary": 25, "spacer": 2}

POINTS_FORMAT = "General"  # whole points as "8", linear credit as "7.25": never a stray "8.00" or "8."
