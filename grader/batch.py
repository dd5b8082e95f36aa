"""Many submissions: find them, grade them on every core, never let one file stop the rest.

Each file runs under a wall-clock limit (SIGALRM in the process that grades it), so a file
crafted to be slow is stopped and reported; a crash in one file becomes that file's error
result. Small batches run in-process (a pool costs more to start than it saves).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.grade import grade_file
from grader.results import GradeResult
from workbook.spec import Assignment

# Graded when found in a folder: the workbooks the grader reads, and the formats a student may hand in
# by mistake, each of which gets its own message (see grader.formats) instead of vanishing
SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".ods", ".ots")
ALSO_REPORTED = (".xls", ".xlw", ".xlsb", ".csv", ".numbers", ".fods", ".xml")
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


@dataclass(frozen=True)
class Skipped:
    """A file found in a folder and not graded, and why (listed so that no handed-in file vanishes)."""

    path: Path
    reason: str
    on_purpose: bool  # lock files and OS debris: never a student's work


@dataclass(frozen=True)
class Found:
    """What a walk over the inputs found: the files to grade, and every other file with the reason."""

    files: list[Path]
    skipped: list[Skipped]
    roots: list[Path] = field(default_factory=list)  # the folders searched (an unpacked zip's among them)


def _debris(path: Path, root: Path) -> str | None:
    """Why a file is never a submission (an editor's lock file, an OS's metadata), or None."""
    name = path.name
    parts = path.relative_to(root).parts if path.is_relative_to(root) else path.parts
    if "__MACOSX" in parts:
        return "macOS archive metadata (__MACOSX)"
    if name.startswith("~$"):
        return "an Excel lock file (~$…), left while the workbook was open"
    if name.startswith(".~lock.") and name.endswith("#"):
        return "a LibreOffice lock file (.~lock.…#), left while the workbook was open"
    if name in (".DS_Store", "Thumbs.db", "desktop.ini") or name.startswith("._"):
        return "operating-system metadata"
    if name == "manifest.json":
        return "a class set's manifest (manualml generate --roster writes it beside the workbooks)"
    if name == "submission_metadata.yml":
        return "the Gradescope export's list of submitters"
    if _BLACKBOARD_INFO.fullmatch(name):
        return "Blackboard's details of the attempt (…_attempt_….txt)"
    return None


# Blackboard writes one beside each attempt's files: "Homework 1_s001_attempt_2026-11-30-10-00-00.txt"
_BLACKBOARD_INFO = re.compile(r".+_attempt_\d{4}(?:-\d\d){5}\.txt", re.IGNORECASE)


def _spreadsheet_xml(path: Path) -> bool:
    """An .xml found in a folder is handed in only if it is a spreadsheet (Excel 2003 XML, flat ODF)."""
    from grader.formats import text_kind

    try:
        with path.open("rb") as handle:
            return text_kind(handle.read(4096)) is not None
    except OSError:
        return True  # let grading say why it cannot be opened


def walk(inputs: Iterable[str | Path], *, unpacker=None) -> Found:
    """Files given as they are; folders searched (recursively), sorted.

    Every file in a folder is either graded or listed with the reason it is not: spreadsheets of
    every format are graded (the ones the grader cannot read get a message saying how to save
    them), lock files and OS debris are skipped on purpose, anything else is named as not a
    spreadsheet. An Apple Numbers package (a folder named *.numbers) counts as one file. With an
    `unpacker` (grader.archives.Unpacker), a zip of files, given or found, is unpacked and walked
    as the folder it holds.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    roots: list[Path] = []

    def zipped(path: Path) -> bool:
        if unpacker is None or not unpacker.wants(path):
            return False
        folder = unpacker.unpack(path)
        if folder is None:
            skipped.append(Skipped(path, "a zip inside zips nested too deep: unzip it to grade the workbooks "
                                         "inside", False))
        else:
            search(folder)
        return True

    def search(root: Path) -> None:
        roots.append(root)
        for path in sorted(root.rglob("*")):
            if any(p.suffix.lower() == ".numbers" and p.is_dir() for p in path.parents if p != root
                   and p.is_relative_to(root)):
                continue  # inside a Numbers package
            if path.is_dir():
                if path.suffix.lower() == ".numbers" and _debris(path, root) is None:
                    files.append(path)
                continue
            why = _debris(path, root)
            if why is not None:
                skipped.append(Skipped(path, f"skipped on purpose: {why}", True))
                continue
            suffix = path.suffix.lower()
            if suffix in SUFFIXES or (suffix in ALSO_REPORTED and (suffix != ".xml" or _spreadsheet_xml(path))):
                files.append(path)
            elif not zipped(path):
                why = ("a zip archive: unzip it to grade the workbooks inside" if suffix == ".zip" else
                       "not a spreadsheet (.xlsx, .xlsm or .ods)")
                skipped.append(Skipped(path, why, False))

    for item in inputs:
        root = Path(item)
        if root.is_dir() and root.suffix.lower() != ".numbers":
            search(root)
        elif not zipped(root):
            files.append(root)
    if unpacker is not None:
        skipped += [Skipped(r.path, r.reason, False) for r in unpacker.refused]
    return Found(files=files, skipped=skipped, roots=roots)


def find_submissions(inputs: Iterable[str | Path]) -> list[Path]:
    """The files `walk` would grade."""
    return walk(inputs).files


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
                           error=f"grading stopped at the time limit of {timeout:g} s per file; if the file is "
                                 "a genuine workbook, grade it again with a longer limit (--timeout "
                                 f"{max(120, 4 * timeout):g})")
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
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing and socket: only for a pool (20 ms)

    chunk = max(1, min(32, len(jobs) // (workers * 4)))
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_run_packed, [(j, timeout) for j in jobs], chunksize=chunk):
            results.append(result)
            if progress:
                progress(1)
    return results
