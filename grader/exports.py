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

from grader.results import GradeResult
from workbook.spec import Assignment


def _grade(r: GradeResult) -> str:
    return f"{r.points:g}" if r.graded else ""


def _summary(r: GradeResult, assignment: Assignment) -> str:
    if not r.graded:
        return r.error or "not graded"
    text = (f"{assignment.metric_abbr} {r.metric:.4g}, improvement {r.improvement:.1%}"
            if r.metric is not None and r.improvement is not None else "weights unusable")
    if r.findings:
        text += "; " + "; ".join(f.message for f in r.findings[:3])
    return text


def write_canvas(results: Sequence[GradeResult], assignment: Assignment, path: Path, *,
                 roster: Mapping[str, dict] | None = None, canvas_assignment_id: str = "") -> Path:
    """Canvas gradebook import CSV."""
    roster = roster or {}
    column = f"{assignment.title} ({canvas_assignment_id})" if canvas_assignment_id else assignment.title
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", f"{assignment.rubric.max_points:g}"])
        for r in results:
            info = roster.get(r.student_id, {})
            extra = info.get("extra", {})
            writer.writerow([r.student_name or info.get("name", ""), extra.get("ID", ""),
                             extra.get("SIS User ID", r.student_id), extra.get("SIS Login ID", info.get("email", "")),
                             extra.get("Section", ""), _grade(r)])
    return path


def write_moodle(results: Sequence[GradeResult], assignment: Assignment, path: Path, *,
                 roster: Mapping[str, dict] | None = None) -> Path:
    """Moodle gradebook import CSV: map 'ID number' to useridnumber (or 'Email address' to useremail)."""
    roster = roster or {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID number", "Email address", "Full name", assignment.title, "Feedback"])
        for r in results:
            info = roster.get(r.student_id, {})
            writer.writerow([r.student_id, info.get("email", ""), r.student_name or info.get("name", ""),
                             _grade(r), _summary(r, assignment)])
    return path
