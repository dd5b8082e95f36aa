"""How a share such as an Improvement is shown to people: cut, never rounded, to the digits shown.

The rubric's tiers are thresholds on the exact improvement ("Improvement >= 99 % earns 10"). Rounded,
98.96 % reads "99.0 %" beside 8 points; cut, it reads "98.96 %", which is never a tier the points do not
reach. The sheet's Improvement cell is =TRUNC(gain, 4) under "0.00%" (workbook.formulas); every text the
grader and the command line print uses these same functions, so the terminal, the CSV files, the feedback,
the class report and `check` all read like the sheet.
"""

from __future__ import annotations

import math

from workbook.model import truncate

DECIMALS = 2  # decimals of a percent: 98.99 %, as the sheet's default "0.00%" shows it


def percent(share: float | None, decimals: int = DECIMALS) -> str:
    """0.98996 -> '98.99%' (cut, as the sheet shows it); '—' for no value."""
    if share is None or not math.isfinite(share):
        return "—"
    return f"{truncate(share, decimals + 2):.{decimals}%}"


def metric_text(metric_name: str, value: float | None, plain) -> str:
    """A metric as people read it: accuracy as the sheet shows it (0.5 -> '50.00%', cut), others by `plain`."""
    if metric_name == "accuracy":
        return percent(value)
    return plain(value)


def fraction(share: float, decimals: int = DECIMALS + 2) -> float:
    """The share cut to `decimals` decimals (0.98996 -> 0.9899), for a file a spreadsheet reads."""
    return truncate(share, decimals)
