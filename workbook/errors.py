"""The one exception tree of the `workbook` package.

Only the CLI turns these into click errors; every message is written for the person who
has to fix the problem (an instructor editing a template, a student fixing a file).
"""

from __future__ import annotations


class WorkbookError(Exception):
    """Base class: something the user can fix, explained in the message."""


class TemplateError(WorkbookError):
    """A template file is missing, unreadable or says something invalid."""

    def __init__(self, source: str, message: str, key: str | None = None) -> None:
        self.source = source  # the template file (or "<string>")
        self.key = key  # dotted key path inside the template, when one is to blame
        self.detail = message
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + message)


class LibreOfficeError(WorkbookError):
    """LibreOffice is missing, failed to start, or failed to load/save a file."""


class PageError(LibreOfficeError):
    """A page was asked for that the printed workbook does not have (a usage error, not a failure)."""
