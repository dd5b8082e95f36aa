"""A student's self-check: what the grader will see in their own workbook, before they hand it in.

Needs no secret and no manifest (otter-grader's `otter check` is the model): the workbook's stamp says
which assignment it belongs to and whose copy it is; a per-student variant is rebuilt from the template
and the student id (it is seeded by them, not by the instructor's secret), and its digest must match
the stamp. The grade is the grader's own (`grade_file`); only the signature and whose-file checks need
the instructor's manifest. Hidden test rows are never shown: the check says they exist, and how many.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from grader import advice
from grader.cells import read_cells
from grader.errors import GraderError
from grader.grade import grade_file
from grader.report import FIX_FIRST, next_step
from grader.results import TAMPER, WEIGHT, GradeResult
from grader.safety import Limits, open_submission
from workbook import PROPERTY_PREFIX
from workbook.errors import WorkbookError
from workbook.shares import metric_text, percent
from workbook.spec import Assignment

# A student's words for each finding: the grader's message follows, naming the cell.
LEADS = {
    "formula-overwritten": "You typed over a formula",
    "formula-edited": "You changed a formula",
    "data-edited": "You changed the data",
    "baseline-edited": "You changed the baseline",
    "name-removed": "A defined name was deleted",
    "name-moved": "A defined name was moved",
    "name-broken": "A defined name is broken",
    "sheet-renamed": "A sheet was renamed",
    "sheet-missing": "A sheet is missing",
    "layout-extended": "There is content outside the issued layout",
    "cache-mismatch": "A saved result does not match your weights",
    "wrong-assignment": "This is another assignment's workbook",
    "layout-version": "This workbook has an old layout",
    "no-stamp": "This workbook carries no stamp",
}


class CheckError(GraderError):
    """The workbook cannot be checked (no stamp naming a known assignment, a variant that cannot be rebuilt)."""


@dataclass(frozen=True)
class StudentCheck:
    """What `manualml check` found: the grader's result and the model feedback, ready to print."""

    assignment_id: str
    result: GradeResult
    tips: tuple[advice.Tip, ...]
    lines: tuple[str, ...]  # what the command prints


def read_stamp(path: str | Path, *, limits: Limits | None = None) -> dict[str, str]:
    """The workbook's manualml stamp (assignment, layout, student_id, variant...), read-only."""
    with open_submission(str(path), limits=limits or Limits()) as archive:
        props = read_cells(archive, {}).custom_properties
    return {k.removeprefix(PROPERTY_PREFIX): v for k, v in props.items() if k.startswith(PROPERTY_PREFIX)}


def builtin_with_id(assignment_id: str) -> Path | None:
    """The built-in template whose [assignment] id is `assignment_id` (file names and ids may differ)."""
    from workbook.catalog import builtin_templates

    for t in builtin_templates():
        try:
            meta = tomllib.loads(t.path.read_text(encoding="utf-8")).get("assignment", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if meta.get("id") == assignment_id:
            return t.path
    return None


def _load(path: str | Path, template: str | Path | None, stamp: dict[str, str]):
    from workbook.catalog import load_any

    if template is None:
        issued = stamp.get("assignment", "")
        if not issued:
            raise CheckError(f"{path}: this workbook carries no manualml stamp naming its assignment; give the "
                             "template it was made from with -t (a built-in name or a .toml file)")
        template = builtin_with_id(issued)
        if template is None:
            raise CheckError(f"{path}: this workbook belongs to the assignment '{issued}', which is not a built-in "
                             "template; give the template your teacher shared with -t FILE.toml")
    try:
        loaded = load_any(template)
    except WorkbookError as exc:
        raise CheckError(str(exc)) from None
    from workbook.lecture.template import LectureTemplate

    if isinstance(loaded, LectureTemplate):
        from grader.refusal import several_sheets

        several = several_sheets(loaded, verb="check")  # the grader's own words, with "check" for "grade"
        if several is not None:
            raise CheckError(f"{path}: {several}")
        return loaded.graded_sheet()
    return loaded


def _variant(path: str | Path, base: Assignment, stamp: dict[str, str]) -> tuple[Assignment, list[str]]:
    """The student's own copy, rebuilt from the template and the stamped id, checked against the stamp."""
    from workbook.roster import variant, variant_digest

    student = stamp.get("student_id", "")
    if not student or not isinstance(base, Assignment):
        return base, []
    own = variant(base, student)
    if stamp.get("variant") and stamp["variant"] != variant_digest(own):
        raise CheckError(f"{path}: this workbook was issued to {student}, but its variant cannot be rebuilt from "
                         f"the template '{base.id}' (the template changed since, or the stamp was edited); ask "
                         "your teacher for the template they generated it from")
    return own, [f"Issued to: {student}"]


def _without_hidden(assignment):
    """The assignment graded on the sheet's rows alone, and what to tell the student about the hidden ones."""
    test = getattr(assignment, "test", None)
    if test is None:
        return assignment, ""
    rubric = assignment.rubric
    counted = {"sheet": "they do not change your points",
               "hidden": "your grade is computed on them, so it may differ from the points above",
               "mix": f"{rubric.hidden_weight:.0%} of your points come from them"}[rubric.score_on]
    note = (f"Hidden test: the grader also tries your network on {len(test.data.rows)} {test.noun} that are not in "
            f"your workbook ({counted}); this check does not use them.")
    return replace(assignment, test=None, rubric=replace(rubric, score_on="sheet")), note


def _noticed(f) -> str:
    """One finding as the check lists it: in a student's words first, then the grader's message."""
    lead = LEADS.get(f.code)
    return f"  - {lead}: {f.message}" if lead and f.kind == TAMPER else f"  - {f.message}"


def check_workbook(path: str | Path, *, template: str | Path | None = None,
                   limits: Limits | None = None) -> StudentCheck:
    """Grade a student's own workbook as the grader will, and say it in the student's words."""
    stamp = read_stamp(path, limits=limits)
    base = _load(path, template, stamp)
    assignment, header = _variant(path, base, stamp)
    sheet_only, hidden_note = _without_hidden(assignment)
    result = grade_file(path, sheet_only, limits=limits, student_id=stamp.get("student_id", ""))
    lines = [f"{Path(path).name}: {assignment.title} ({assignment.id})", *header]
    if not result.graded and result.error_code == "other-assignment":  # the -t given is wrong, not the file
        stamped = stamp.get("assignment", "")
        lines += [f"This workbook belongs to the assignment '{stamped}', not '{assignment.id}': run `manualml check "
                  f"{Path(path).name}` without -t (or with the template your teacher gave for '{stamped}')."]
        return StudentCheck(assignment.id, result, (), tuple(lines))
    if not result.graded:
        lines += [f"The grader cannot read this file: {result.error}", "Fix this before you hand it in."]
        return StudentCheck(assignment.id, result, (), tuple(lines))
    abbr = assignment.metric_abbr
    usable = not any(f.kind == WEIGHT for f in result.findings)
    tampered = result.tamper_findings
    if tampered:  # what must be fixed leads, as in the feedback file
        lines += [f"Fix this first: {FIX_FIRST[0].lower()}{FIX_FIRST[1:]}", *(_noticed(f) for f in tampered)]
    if usable:
        shown = {k: metric_text(result.metric_name, v, advice.fmt) for k, v in
                 (("metric", result.metric), ("baseline", result.baseline))}
        lines += [f"Your {abbr}: {shown['metric']} (baseline {shown['baseline']}, improvement "
                  f"{percent(result.improvement)})",
                  f"Points{' on your sheet' if hidden_note and assignment.rubric.score_on != 'sheet' else ''}: "
                  f"{result.points:g} of {result.max_points:g}"
                  + (" (0 because of the changes listed above)" if result.penalised else ""),
                  f"Full marks: {assignment.rubric.full_marks(abbr)}"]
    else:
        lines.append(f"Points: 0 of {result.max_points:g}: some weights cannot be read (see below)")
    shown = [f for f in result.findings if f.code != "not-recalculated" and f.kind != TAMPER]
    if shown:
        lines.append("What the grader will notice:" if not tampered else "The grader will also notice:")
        lines += [_noticed(f) for f in shown]
    elif result.findings and not tampered:  # only "not-recalculated": a file written by a program, never opened
        lines.append("The grader will notice nothing but your weights (open and save the file in your spreadsheet "
                     "program before you hand it in, so it carries its results).")
    elif not tampered:
        lines.append("The grader will notice nothing but your weights.")
    if hidden_note:
        lines.append(hidden_note)
    tips = tuple(advice.advise(sheet_only, result.weights, tampered=bool(tampered))) \
        if usable and isinstance(assignment, Assignment) else ()
    if tips:
        lines.append("What your network is doing:")
        lines += [f"  - {t.message}" for t in tips]
    lines.append(f"Next: {next_step(result, assignment, tips)}")  # the feedback file's own words
    return StudentCheck(assignment.id, result, tips, tuple(lines))
