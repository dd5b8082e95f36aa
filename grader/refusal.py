"""Refuse, don't score: a workbook of another assignment, or one that is not the assignment at all.

Scoring such a file gives a number that means nothing (0/10 and twenty findings about a sheet
"renamed to Sheet1", an RMSE of 8e14) and buries the one real reason. So before anything is
scored the grader asks two questions of what it has already read (stamp, sheet names, defined
names) and makes the file an error result if either fails:

- the stamp names another assignment → "this is the workbook for 'X': grade it with -t X" (an id that is
  no built-in: "-t FILE.toml (the template the workbook was made from, id 'X')"); a lecture workbook graded
  for one of its own sheets is the same assignment, and one with several graded sheets names the -t of each;
- there is no stamp, no sheet of the assignment and none of its weight names → "not the
  house-prices workbook: hand in the workbook you were given".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from grader.errors import SubmissionError

MANUAL = "manual-ml"  # the lecture's sheet kind for the manual machine-learning sheet


def builtin_path(template_id: str):
    """The built-in template whose assignment id is `template_id` (its file stem), or None."""
    from workbook.catalog import builtin_templates

    return next((t.path for t in builtin_templates() if t.name == template_id), None)


@lru_cache(maxsize=64)
def builtin_lecture(template_id: str):
    """The built-in lecture template whose id is `template_id`, or None (loaded once per process)."""
    from workbook.catalog import is_lecture

    path = builtin_path(template_id)
    if path is None or not is_lecture(path):
        return None
    from workbook.lecture.template import load_lecture  # imported only for a lecture (~12 ms)

    lecture = load_lecture(path)
    return lecture if lecture.id == template_id else None


@lru_cache(maxsize=64)
def _lecture_sheets(template_id: str) -> frozenset[str]:
    """The sheet kinds of a built-in lecture template, by its id (empty if it is none)."""
    lecture = builtin_lecture(template_id)
    if lecture is None:
        return frozenset()
    kinds = {kind for kind, _ in lecture.sheets}
    if lecture.manual is not None:  # its manual-ML sheet is that template's workbook sheet
        kinds.add(f"{MANUAL}:{lecture.manual.id}")
    return frozenset(kinds)


def grade_with(assignment_id: str) -> str:
    """The -t option that grades a workbook stamped `assignment_id`: a built-in's name, else the template file
    the workbook was made from (`-t my-course` would be a usage error: no built-in has that name)."""
    if builtin_path(assignment_id) is not None:
        return f"-t {assignment_id}"
    return f"-t FILE.toml (the template the workbook was made from, id '{assignment_id}')"


def sheet_options(lecture) -> list[str]:
    """The -t options that grade a lecture workbook's graded sheets, one each, in workbook order: its Linear
    Regression and Perceptron sheets (the built-in lecture-<sheet> templates) and its Manual Machine Learning
    sheet (the template that sheet was built from)."""
    from workbook.lecture.template import GRADED  # a lecture is loaded already: no new import cost

    options = []
    for kind, _ in lecture.sheets:
        if kind == MANUAL and lecture.manual is not None:
            options.append(f"{grade_with(lecture.manual.id)} (its Manual Machine Learning sheet)")
        elif kind in GRADED:
            options.append(f"-t lecture-{kind}")
    return options


def _sheets_clause(lecture, verb: str) -> str | None:
    """'has 3 graded sheets: grade each on its own with -t a, -t b or -t c' (None: exactly one graded sheet)."""
    if len(lecture.graded_kinds) == 1:
        return None
    options = sheet_options(lecture)
    if not options:
        return "has no graded sheet (Linear Regression, Perceptron and Manual Machine Learning are graded)"
    if len(options) == 1:
        return f"has one graded sheet: {verb} it with {options[0]}"
    return f"has {len(options)} graded sheets: {verb} each on its own with {', '.join(options[:-1])} or {options[-1]}"


def several_sheets(lecture, what: str = "workbook", verb: str = "grade") -> str | None:
    """Why a lecture workbook (or template) is not graded as a whole: it has no graded sheet or several, each
    graded on its own with its own -t (the grader never picks one silently). None: one graded sheet."""
    clause = _sheets_clause(lecture, verb)
    return None if clause is None else f"the lecture {what} '{lecture.id}' {clause}"


def how_to_grade(assignment_id: str) -> str:
    """What follows "this is the workbook for 'X'": ': grade it with -t X', or for a built-in lecture with
    several graded sheets ', which has 3 graded sheets: grade each on its own with …' (one -t each)."""
    lecture = builtin_lecture(assignment_id)
    clause = _sheets_clause(lecture, "grade") if lecture is not None else None
    return f", which {clause}" if clause is not None else f": grade it with {grade_with(assignment_id)}"


def stamped_assignment(props: Mapping[str, str], assignment) -> str:
    """The assignment id the workbook counts as: its own stamp when that is `assignment`, or a lecture
    workbook that holds the graded sheet `assignment` describes; otherwise `assignment.id`."""
    stamped = props.get("assignment", "")
    if stamped == assignment.id:  # the usual file: its own assignment (no template is looked up)
        return stamped
    kind = getattr(assignment, "kind", None) or f"{MANUAL}:{assignment.id}"  # a Gradable has its sheet's kind
    if stamped and kind in _lecture_sheets(stamped):
        return stamped
    return assignment.id


def as_laid_out(props: Mapping[str, str], assignment):
    """`assignment` as the workbook lays it out: a lecture workbook's manual-ML sheet shows the lecture's hints
    (live gradients beside the weights), so it is read with them; any other workbook as `assignment` says."""
    stamped = props.get("assignment", "")
    if not stamped or getattr(assignment, "kind", None) or stamped_assignment(props, assignment) == assignment.id:
        return assignment
    lecture = builtin_lecture(stamped)
    hints = lecture.manual.hints if lecture is not None and lecture.manual is not None else None
    if hints is None or hints == assignment.hints:
        return assignment
    from dataclasses import replace

    return replace(assignment, hints=hints)


def check(path: str, props: Mapping[str, str], sheet_names: Iterable[str], defined_names: Iterable[str],
          assignment, *, sheet: str, names: Iterable[str]) -> None:
    """Raise the SubmissionError that makes this file an error result, if it is not `assignment`'s workbook.

    `sheet` and `names` are the assignment's main sheet and its parameters' defined names.
    """
    stamped = props.get("assignment", "")
    if stamped and stamped != stamped_assignment(props, assignment):
        raise SubmissionError(path, f"this is the workbook for '{stamped}'{how_to_grade(stamped)}",
                              code="other-assignment")
    if stamped:
        return
    if sheet in set(sheet_names) or set(names) & set(defined_names):
        return
    raise SubmissionError(path, f"not the {assignment.id} workbook: hand in the workbook you were given",
                          code="not-the-workbook")
