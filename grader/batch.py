"""Many submissions: find them, grade them on every core, never let one file stop the rest.

Each file runs under a wall-clock limit (SIGALRM in the process that grades it), so a file
crafted to be slow is stopped and reported; a crash in one file becomes that file's error
result. Small batches run in-process (a pool costs more to start than it saves).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.grade import grade_file
from grader.results import GradeResult
from workbook.spec import Assignment

SUFFIXES = (".xlsx", ".xlsm", ".ods")
ALSO_REPORTED = (".xls",)  # found in folders so the student hears why it cannot be graded
DEFAULT_TIMEOUT = 30.0
IN_PROCESS_BELOW = 16


@dataclass(frozen=True)
class Job:
    """One file to grade and what to grade it against."""

    path: Path
    assignment: Assignment
    options: dict = field(default_factory=dict)  # keyword options for grade_file


class _TimedOut(BaseException):
    """Raised by the alarm; a BaseException so no `except Exception` in a reader swallows it."""


def find_submissions(inputs: Iterable[str | Path]) -> list[Path]:
    """Files given as they are; folders searched (recursively) for spreadsheets, sorted."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and p.suffix.lower() in SUFFIXES + ALSO_REPORTED
                                and not p.name.startswith(("~$", ".~lock"))))
        else:
            found.append(path)
    return found


def _on_alarm(signum, frame):  # pragma: no cover - exercised through run_job
    raise _TimedOut


def run_job(job: Job, timeout: float = DEFAULT_TIMEOUT) -> GradeResult:
    """Grade one job under a time limit; any failure becomes an error result."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return grade_file(job.path, job.assignment, **job.options)
    except _TimedOut:
        return GradeResult(file=str(job.path), status="error", assignment=job.assignment.id,
                           max_points=job.assignment.rubric.max_points, error_code="timeout",
                           error=f"took longer than {timeout:g} s to read and was stopped; save it again in a "
                                 "spreadsheet program and resubmit")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_packed(args: tuple[Job, float]) -> GradeResult:
    return run_job(*args)


def grade_jobs(jobs: Sequence[Job], *, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
               progress: Callable[[int], None] | None = None) -> list[GradeResult]:
    """Grade every job, results in job order; `progress(n)` is called as files finish."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < IN_PROCESS_BELOW:
        results = []
        for job in jobs:
            results.append(run_job(job, timeout))
            if progress:
                progress(1)
        return results
    chunk = max(1, min(32, len(jobs) // (workers * 4)))
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_run_packed, [(j, timeout) for j in jobs], chunksize=chunk):
            results.append(result)
            if progress:
                progress(1)
    return results
