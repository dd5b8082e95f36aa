"""Grading a class set against its manifest: each student against their own variant.

Files are matched to students by name (the generated file name, or any name that starts with
the student's id followed by a separator, or a folder named after the id), so LMS downloads
such as ``s001_attempt2.xlsx`` or ``s001/hp.xlsx`` match. A file matching nobody is graded
against the base template and reported; roster students with no file are listed as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from grader.batch import Job
from grader.identity import Expected
from grader.results import GradeResult
from workbook.catalog import load
from workbook.roster import file_stem, read_manifest, student_assignment
from workbook.spec import Assignment


@dataclass(frozen=True)
class ClassPlan:
    """What to grade, and who handed in nothing."""

    jobs: list[Job]
    missing: list[dict]  # manifest entries (id, name, email, ...) with no submission
    unmatched: list[Path]  # files that name no roster student
    base: Assignment


def _owner(path: Path, stems: dict[str, dict]) -> dict | None:
    candidates = [path.stem, path.parent.name]
    for candidate in candidates:
        if candidate in stems:
            return stems[candidate]
    for stem, entry in sorted(stems.items(), key=lambda kv: -len(kv[0])):
        if re.match(re.escape(stem) + r"([ _\-.]|$)", path.stem):
            return entry
    return None


def plan(manifest_path: str | Path, files: list[Path], *, template: str | None = None,
         secret: bytes | None = None, options: dict | None = None) -> ClassPlan:
    manifest = read_manifest(manifest_path)
    base = load(template or manifest["template"])
    stems = {file_stem(e["id"]): e for e in manifest["students"]}
    jobs, seen, unmatched = [], set(), []
    for path in files:
        entry = _owner(path, stems)
        if entry is None:
            unmatched.append(path)
            jobs.append(Job(path, base, dict(options or {})))
            continue
        seen.add(entry["id"])
        expected = Expected(entry["id"], manifest["assignment"], entry["variant_digest"], secret)
        opts = {**(options or {}), "student_id": entry["id"], "student_name": entry.get("name", ""),
                "expected": expected}
        jobs.append(Job(path, student_assignment(base, entry), opts))
    missing = [e for e in manifest["students"] if e["id"] not in seen]
    return ClassPlan(jobs=jobs, missing=missing, unmatched=unmatched, base=base)


def missing_results(plan_: ClassPlan) -> list[GradeResult]:
    """A 'missing' row per roster student without a file, so gradebooks list everyone."""
    return [GradeResult(file="", status="missing", student_id=e["id"], student_name=e.get("name", ""),
                        assignment=plan_.base.id, metric_name=plan_.base.metric,
                        max_points=plan_.base.rubric.max_points, error="no submission", error_code="missing")
            for e in plan_.missing]
