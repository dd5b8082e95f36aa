"""The one exception tree of the `grader` package."""

from __future__ import annotations


class GraderError(Exception):
    """Base class: a problem the instructor or student can act on, explained in the message."""


class SubmissionError(GraderError):
    """A submitted file cannot be graded (broken, hostile, encrypted, wrong format...)."""

    def __init__(self, path: str, message: str, code: str = "unreadable") -> None:
        self.path = path  # the submission, as given
        self.code = code  # short machine-readable kind, e.g. "encrypted", "zip-bomb"
        self.detail = message
        super().__init__(f"{path}: {message}")


class PlanError(GraderError):
    """The grading run itself is wrong (a key that verifies no workbook...): a usage error, before any file."""


class WrongKeyError(PlanError):
    """The signing key verifies none of the class's signatures."""
