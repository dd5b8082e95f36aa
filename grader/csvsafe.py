"""Cells for CSV files that a spreadsheet or an LMS will open: neutralised text, sensibly rounded numbers.

A CSV cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets when the file is opened (OWASP "CSV injection"): a roster name
`=HYPERLINK("http://…","Click")` or a file named `=cmd|' /C calc'!A0.xlsx` would become one in the
instructor's gradebook. Such text gets a leading apostrophe, as OWASP recommends, so it shows as
typed. Numbers are numbers, never prefixed: a negative improvement stays -0.25.
"""

from __future__ import annotations

import math

from workbook import shares

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def text(value: object) -> str:
    """A text cell that no spreadsheet will evaluate."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(TRIGGERS) else s


def number(value: float | None, digits: int = 6) -> str:
    """A number with `digits` significant digits (no float noise like 0.9919262951291038); '' for none."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def fraction(value: float | None) -> str:
    """A share such as an improvement, cut (not rounded) to 4 decimals like the sheet shows it: 0.98996 is
    0.9899 (98.99 %), never 0.99, the 99 % tier it does not reach."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    cut = shares.fraction(value)
    return f"{cut:.4f}".rstrip("0").rstrip(".") if cut != 0 else "0"
