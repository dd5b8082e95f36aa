"""The sheets that teach beyond the lecture's picture: live gradients and gradient descent.

One entry point for both builders (the assignment workbook and the lecture book), so each calls
two functions and knows nothing of what the hints contain.
"""

from __future__ import annotations

from collections.abc import Callable

from workbook import descent_sheet, gradient_sheet
from workbook.layout import Layout


def add_to_main_sheet(ws, assignment, layout: Layout, put: Callable) -> None:
    """Cells the hints add to the main sheet (called before its rows are written)."""
    gradient_sheet.add_to_main_sheet(ws, layout, assignment.metric, put)


def extra_sheets(assignment) -> list[tuple[str, str]]:
    """(sheet name, one line saying what it shows) of every sheet `add_sheets` writes, in order."""
    out = []
    if assignment.hints.gradient:
        out.append((gradient_sheet.SHEET, gradient_sheet.DESCRIPTION))
    if assignment.descent is not None:
        out.append((descent_sheet.SHEET, descent_sheet.DESCRIPTION))
    return out


def add_sheets(wb, assignment, layout: Layout) -> None:
    """The sheets after the main one: Gradients ([hints] gradient), Descent ([descent])."""
    if layout.grad_cells:
        gradient_sheet.write_sheet(wb, layout, assignment.metric)
    if assignment.descent is not None:
        descent_sheet.write_sheet(wb, assignment, layout)


def expected(assignment, layout: Layout, weights=None) -> dict[str, dict[str, float | str]]:
    """{sheet: {cell: value}} of every formula the hints add, by NumPy (empty when none is on)."""
    found: dict[tuple[str, str], float | str] = {}
    if layout.grad_cells:
        found |= gradient_sheet.expected(assignment, layout, weights)
    if assignment.descent is not None:
        found |= descent_sheet.expected(assignment, layout, weights)
    out: dict[str, dict[str, float | str]] = {}
    for (sheet, ref), value in found.items():
        out.setdefault(sheet, {})[ref] = value
    return out
