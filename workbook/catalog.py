"""Every way to name a template: built-in names, paths, manual-ML or lecture.

A facade over `workbook.template_files` (files and manual-ML templates) and
`workbook.lecture.template` (lecture templates), so callers need one import.
"""

from __future__ import annotations

from pathlib import Path

from workbook.lecture.template import LectureTemplate, load_lecture
from workbook.spec import Assignment
from workbook.template_files import (
    DEFAULT_TEMPLATE,
    BuiltinTemplate,
    builtin_templates,
    is_lecture,
    load,
    resolve_template,
    templates_dir,
)

__all__ = ["DEFAULT_TEMPLATE", "BuiltinTemplate", "builtin_templates", "is_lecture", "load", "load_any",
           "resolve_template", "templates_dir"]


def load_any(name_or_path: str | Path | None) -> Assignment | LectureTemplate:
    """A manual-ML `Assignment` or, for a file with a [lecture] table, a `LectureTemplate`."""
    path = resolve_template(name_or_path)
    return load_lecture(path) if is_lecture(path) else load(path)
