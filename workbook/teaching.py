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


def add_sheets(wb, assignment, layout: Layout) -> None:
    """The sheets after the main one: Gradients ([hints] gradient), Descent ([descent])."""
    if layout.grad_cells:
        gradient_sheet.write_sheet(wb, layout, assignment.metric)
    if assignment.descent is not None:
        descent_sheet.write_sheet(wb, assignment, layout)
