"""The library API: grade one file -> GradeResult; grade many -> list of GradeResults.

Usable without the CLI (a notebook, Gradescope's run_autograder, an LMS plug-in).
A file that cannot be read becomes an error result with a reason; it never raises.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from grader import identity, integrity, refusal
from grader.reader import read_submission
from grader.results import TAMPER, WEIGHT, GradeResult
from grader.safety import Limits
from grader.scoring import score


def grade_file(path: str | Path, assignment, *, on_finding: str | None = None,
               limits: Limits | None = None, student_id: str = "", student_name: str = "",
               expected: identity.Expected | None = None) -> GradeResult:
    """Grade one submission against `assignment`: anything with a `graded_sheet()` (a manual-ML
    Assignment, a lecture template's GradedSheet), whose data, starting parameters and rubric are used.

    `expected` (from a class manifest) turns on the per-student stamp and signature checks.
    """
    start = time.perf_counter()
    sheet = assignment.graded_sheet()
    base = {"file": str(path), "assignment": sheet.id, "metric_name": sheet.metric_name,
            "max_points": sheet.rubric.max_points, "student_id": student_id, "student_name": student_name}
    try:
        sub = read_submission(str(path), sheet, limits=limits)
        laid_out = refusal.as_laid_out(sub.properties, assignment)
        if laid_out is not assignment:  # a lecture workbook's manual-ML sheet: read it as the lecture lays it out
            sheet = laid_out.graded_sheet()
            sub = read_submission(str(path), sheet, limits=limits)
        refusal.check(str(path), sub.properties, sub.book.sheet_names, sub.book.defined_names, sheet,
                      sheet=sheet.sheet, names=sheet.names)
        findings = integrity.check(sub, sheet)  # the reader's findings first, then what changed
        if refusal.stamped_assignment(sub.properties, sheet) != sheet.id:  # a sheet of a lecture workbook
            findings = [f for f in findings if f.code not in ("wrong-assignment", "layout-version")]
        if expected is not None:
            whose = identity.check(sub.properties, expected)
            if any(f.code == "other-student" for f in whose):
                # its data, baseline and saved results are the other student's variant: comparing them with the
                # submitter's would only restate the one real finding
                findings = [f for f in findings if f.code not in ("data-edited", "baseline-edited", "cache-mismatch")]
            findings += whose
    except Exception as exc:  # noqa: BLE001 - one strange file must never stop a batch
        return GradeResult.unreadable(exc, time.perf_counter() - start, **base)
    if not student_id:  # no manifest: the workbook's own stamp says whose it is
        base["student_id"] = sub.properties.get("student_id", "")
        base["student_name"] = student_name or sub.properties.get("student_name", "")
    unusable = [f for f in findings if f.kind == WEIGHT]
    if unusable:
        return GradeResult(status="graded", weights=sub.weights, findings=tuple(findings), points=0.0,
                           baseline=sheet.baseline, seconds=time.perf_counter() - start, **base)
    outcome = score(sheet, sub.weights)
    policy = on_finding or sheet.integrity
    penalised = policy == "zero" and any(f.kind == TAMPER for f in findings)
    hidden = outcome.hidden
    return GradeResult(status="graded", metric=outcome.metric, baseline=outcome.baseline,
                       improvement=outcome.improvement, points=0.0 if penalised else outcome.points,
                       weights=sub.weights, findings=tuple(findings), penalised=penalised,
                       hidden_metric=hidden.metric if hidden else None,
                       hidden_baseline=hidden.baseline if hidden else None,
                       hidden_improvement=hidden.improvement if hidden else None,
                       seconds=time.perf_counter() - start, **base)


def grade_files(paths: Iterable[str | Path], assignment, **options) -> list[GradeResult]:
    """Grade several files in this process, in order (see `grader.batch` for parallel runs)."""
    return [grade_file(p, assignment, **options) for p in paths]
