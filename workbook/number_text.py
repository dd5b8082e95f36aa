"""Numbers as a sheet shows them: how wide a column must be for them, and how a sentence writes one.

A template may hold any scale of number (villa prices in euros square into errors of 10^12), so widths
and the Instructions' sentences are worked out from the values, never assumed from the house-price sheet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np


def shown_text(value: float, fmt: str) -> str:
    """About what a spreadsheet shows for `value` under the number format `fmt` (its first section):
    decimals, thousands separators and a percent sign; "General" as up to 10 significant digits."""
    section = fmt.split(";")[0]
    if not math.isfinite(value):
        return "#NUM!"
    if section == "General" or "E" in section.upper().replace("GENERAL", ""):
        return f"{value:.10g}"
    found = re.search(r"\.([0#?]+)", section)
    decimals = len(found.group(1)) if found else 0
    comma = "," if "," in section else ""
    if "%" in section:
        return f"{value * 100:{comma}.{decimals}f}%"
    return f"{value:{comma}.{decimals}f}"


def shown_width(values: Iterable[float], fmt: str) -> int:
    """The characters the widest of `values` takes under `fmt` (0 for none).

    Under a fixed number of decimals the widest text is the largest or the most negative number, so only
    those two are written (a 100,000-row column costs two formats, not 100,000). A "General" cell
    gives up decimals to fit its column, so only its whole part and sign must fit."""
    array = np.asarray(values, dtype=float).ravel()
    array = array[np.isfinite(array)]
    if not array.size:
        return 0
    ends = (float(array.max()), float(array.min()))
    if fmt.split(";")[0] == "General":
        return max(len(f"{v:.0f}") for v in ends)
    return max(len(shown_text(v, fmt)) for v in ends)


def plain_number(value: float) -> str:
    """A number for a sentence: 3,731 and 2,043,876 with thousands separators, 0.4521 and 12.5 to four
    significant digits, never 2.044e+06 (which {:,.4g} wrote for a villa's baseline)."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 1e-4:
        return f"{value:.4g}"
    return f"{value:.2e}"
