"""Gradebook imports for LMSs, from the same results as every other output.

Canvas: the layout of a Canvas gradebook export (Student, ID, SIS User ID, SIS Login ID,
Section, "<Assignment> (<id>)") with a "Points Possible" row; Canvas matches students by
ID, SIS User ID or SIS Login ID, so roster columns with those names are carried through.
Moodle: a gradebook import CSV with an identifier column (ID number -> useridnumber, or
Email address -> useremail), the grade column and its feedback column together (importing
feedback without grades wipes grades, so both are always written).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.csvsafe import number, text
from grader.results import GradeResult
from grader.terminal import counted
from workbook.shares import percent
from workbook.spec import Assignment


def _grade(r: GradeResult) -> str:
    return number(r.points) if r.graded else ""


def _summary(r: GradeResult, assignment: Assignment) -> str:
    """One line of feedback for the LMS: the numbers and the findings counted by code, never a raw formula
    (a finding's message quotes the formula it found; the feedback file has the details)."""
    if not r.graded:
        return text(r.error or "not graded")
    line = (f"{assignment.metric_abbr} {r.metric:,.4g}, improvement {percent(r.improvement)}"
            if r.metric is not None and r.improvement is not None else "weights unusable")
    if r.findings:
        line += "; findings: " + counted([f.code for f in r.findings])
    return text(line)


def _rostered(results: Sequence[GradeResult], roster: Mapping[str, dict]) -> list[GradeResult]:
    """With a roster, one row per roster student: a file that names no student has no row to go in."""
    return [r for r in results if r.student_id in roster] if roster else list(results)


def write_canvas(results: Sequence[GradeResult], assignment: Assignment, path: Path, *,
                 roster: Mapping[str, dict] | None = None, canvas_assignment_id: str = "") -> Path:
    """Canvas gradebook import CSV."""
    roster = roster or {}
    column = f"{assignment.title} ({canvas_assignment_id})" if canvas_assignment_id else assignment.title
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", text(column)])
        writer.writerow(["Points Possible", "", "", "", "", number(assignment.rubric.max_points)])
        for r in _rostered(results, roster):
            info = roster.get(r.student_id, {})
            extra = info.get("extra", {})
            writer.writerow([text(r.student_name or info.get("name", "")), text(extra.get("ID", "")),
                             text(extra.get("SIS User ID", r.student_id)),
                             text(extra.get("SIS Login ID", info.get("email", ""))), text(extra.get("Section", "")),
                             _grade(r)])
    return path


def write_moodle(results: Sequence[GradeResult], assignment: Assignment, path: Path, *,
                 roster: Mapping[str, dict] | None = None) -> Path:
    """Moodle gradebook import CSV: map 'ID number' to useridnumber (or 'Email address' to useremail)."""
    roster = roster or {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID number", "Email address", "Full name", text(assignment.title), "Feedback"])
        for r in _rostered(results, roster):
            info = roster.get(r.student_id, {})
            writer.writerow([text(r.student_id), text(info.get("email", "")),
                             text(r.student_name or info.get("name", "")), _grade(r), _summary(r, assignment)])
    return path
