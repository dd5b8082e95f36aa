"""Every way to name a template: built-in names, paths, manual-ML or lecture.

A facade over `workbook.template_files` (files and manual-ML templates) and
`workbook.lecture.template` (lecture templates), so callers need one import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbook.template_files import (
    DEFAULT_TEMPLATE,
    BuiltinTemplate,
    builtin_templates,
    is_lecture,
    load,
    resolve_template,
    templates_dir,
)

if TYPE_CHECKING:
    from workbook.lecture.template import LectureTemplate
    from workbook.spec import Assignment

__all__ = ["DEFAULT_TEMPLATE", "BuiltinTemplate", "builtin_templates", "is_lecture", "load", "load_any",
           "resolve_template", "templates_dir"]


def load_any(name_or_path: str | Path | None) -> Assignment | LectureTemplate:
    """A manual-ML `Assignment` or, for a file with a [lecture] table, a `LectureTemplate`.

    The lecture package (and with it numpy and openpyxl) is imported only here, so listing or
    resolving templates (`manualml templates`) starts as fast as Python itself.
    """
    path = resolve_template(name_or_path)
    if not is_lecture(path):
        return load(path)  # the lecture package's sheets are not imported for a manual-ML sheet (~12 ms)
    from workbook.lecture.template import load_lecture

    return load_lecture(path)
