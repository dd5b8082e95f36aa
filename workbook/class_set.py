"""Writing a class set: one signed workbook per student and the manifest that lists them.

What a variant, a signature and a manifest are is `workbook.roster`'s business (the grader
reads them too); this module only builds the files, on every core.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbook import LAYOUT_VERSION, heap
from workbook.errors import WorkbookError
from workbook.model import forward_each
from workbook.roster import (
    MANIFEST_VERSION,
    Student,
    file_stem,
    sha256_file,
    signature,
    variant,
    variant_digest,
    variant_payload,
    variant_payload_text,
)
from workbook.spec import Assignment


@dataclass(frozen=True)
class ClassSet:
    """What generate_class wrote, and what it removed of the set it replaced."""

    manifest: Path
    workbooks: tuple[Path, ...]  # one per student, roster order
    removed: tuple[Path, ...] = ()  # the previous set's workbooks that this set does not overwrite (deleted)
    warning: str | None = None  # e.g. every student got the same workbook


class ClassSetExists(WorkbookError):
    """The output folder already holds a class set and --force was not given."""


class ClassCheckFailed(WorkbookError):
    """A student's workbook, checked right after it was written (`generate_class`'s `check`), does not grade
    as issued; the class set has been removed."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(str(path), problem)  # both in args: the error crosses from a worker process
        self.path, self.problem = Path(path), problem

    def __str__(self) -> str:
        return f"{self.path} does not grade as issued ({self.problem})"


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")


def previous_set(out_dir: Path) -> tuple[Path, ...] | None:
    """The workbooks an existing class set in out_dir lists (None: no class set there).

    Only plain file names with a workbook suffix count, so an edited manifest can never make
    --force delete anything outside the folder or anything that is not a workbook.
    """
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return None
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("students", [])
        names = [e.get("file") for e in entries if isinstance(e, dict)]
    except (OSError, ValueError, AttributeError):
        return ()
    return tuple(out_dir / n for n in names if isinstance(n, str) and n == Path(n).name
                 and Path(n).suffix.lower() in WORKBOOK_SUFFIXES)


def refuse_existing(out_dir: Path, *, force: bool) -> tuple[Path, ...] | None:
    """The class set already in out_dir (see previous_set); refused unless `force`."""
    old = previous_set(Path(out_dir))
    if old is not None and not force:
        raise ClassSetExists(f"{out_dir} already holds a class set ({Path(out_dir) / 'manifest.json'}); pass "
                             "--force to replace it (its workbooks that the new set does not overwrite are "
                             "deleted), or choose another --out-dir")
    return old


def sameness_warning(assignment: Assignment, students: Sequence[Student], digests: Sequence[str]) -> str | None:
    """Say so when students would get identical workbooks: one copied file would then fit everyone."""
    distinct = len(set(digests))
    if len(students) < 2 or distinct == len(students):
        return None
    if distinct == 1:
        why = ("the template names every starting weight and has no [variants]"
               if assignment.random_init is None or len(assignment.explicit_weights) == len(assignment.weights)
               else "the per-student draws all came out the same")
        return (f"every student gets the same workbook (same starting weights, same data): {why}. Add "
                '[variants] starting_weights = "random" (each student starts near the named weights) or '
                "target_noise = 0.05 to the template to give each their own")
    return (f"{len(students) - distinct} of {len(students)} students get the same workbook as a classmate "
            "(the [weights.random] range and decimals allow few distinct draws): widen the range, or add "
            "[variants] target_noise")


def generate_class(assignment: Assignment, students: Sequence[Student], out_dir: str | Path, *,
                   template_path: Path, secret: bytes | None, password: str | None = None, workers: int = 1,
                   progress: Callable[[int], None] | None = None, force: bool = False,
                   check: Callable[[Path, dict], str] | None = None, checked: Collection[int] = ()) -> ClassSet:
    """Write one signed workbook per student and DIR/manifest.json.

    A folder that already holds a class set is refused unless `force`; then the old set's
    workbooks that the new set does not overwrite are deleted (and listed in the result), so
    the folder never mixes two assignments.

    `check(path, entry)` is called for the students at the positions `checked` right after their file
    is written, in the process that wrote it (so on every core, while the others are written), with the
    student's manifest entry as it will be read back (without its sha256); a problem it returns removes
    the class set and raises `ClassCheckFailed`.
    """
    out_dir = Path(out_dir)
    old = refuse_existing(out_dir, force=force)
    _check_file_names(students)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(assignment, out_dir, secret, password, check, frozenset(checked))
    paths = [out_dir / f"{file_stem(s.id)}.xlsx" for s in students]
    try:
        written = _build_all(run, list(enumerate(students)), workers, progress)
    except ClassCheckFailed:
        for p in [*paths, out_dir / "manifest.json", *(old or ())]:
            if p.is_file():
                p.unlink()
        raise
    warning = sameness_warning(assignment, students, [w.digest for w in written])
    manifest = {
        "manifest_version": MANIFEST_VERSION, "layout": LAYOUT_VERSION, "assignment": assignment.id,
        "title": assignment.title, "template": str(template_path.resolve()),
        "template_sha256": sha256_file(template_path), "target_noise": assignment.target_noise, "signed": bool(secret),
        # the hidden test rows stay with the instructor: here and in the template, never in a workbook
        "hidden_test_rows": [list(r) for r in assignment.test.data.rows] if assignment.test else [],
        "students": [],  # each written as the process that wrote the student's file encoded it
    }
    path = out_dir / "manifest.json"
    staged = out_dir / ".manifest.json.tmp"
    staged.write_text(manifest_text(manifest, [w.line for w in written]), encoding="utf-8")
    staged.replace(path)
    names = {p.name for p in paths}
    removed = tuple(p for p in (old or ()) if p.name not in names and p.is_file())
    for p in removed:
        p.unlink()
    return ClassSet(manifest=path, workbooks=tuple(paths), removed=removed, warning=warning)


def manifest_text(manifest: dict, student_lines: Sequence[str] | None = None) -> str:
    """The manifest as JSON an instructor can read: a key a line, a student a line (`student_lines`: the
    students' lines as `json.dumps(entry, ensure_ascii=False)` made them, in place of its "students"). An
    indented dump goes through json's pure-Python encoder: 70 ms for a class of 1,000, against 20 ms a line
    at a time, made by the processes that write the files."""
    lines = []
    for key, value in manifest.items():
        if key == "students":
            rows = student_lines if student_lines is not None else [_entry_line(e) for e in value]
            body = ",\n  ".join(rows)
            text = f"[\n  {body}\n ]" if rows else "[]"
        else:
            text = json.dumps(value, ensure_ascii=False)
        lines.append(f" {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


_entry_line = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(e, ensure_ascii=False), its encoder made once


@dataclass(frozen=True)
class _Written:
    """A student's file written: what the class's manifest needs of it (the file itself is on disk)."""

    digest: str  # the variant's digest (two students with one are told)
    line: str  # the student's manifest entry, as its line of manifest.json


def _check_file_names(students: Sequence[Student]) -> None:
    """Two ids that make one file name (also on case-insensitive disks) would overwrite each other."""
    taken: dict[str, str] = {}
    for s in students:
        name = f"{file_stem(s.id)}.xlsx"
        other = taken.setdefault(name.lower(), s.id)
        if other != s.id:
            raise WorkbookError(f"students {other!r} and {s.id!r} would both be written to {name}: make the ids "
                                "differ by more than punctuation or letter case")


# The books this process has laid out, by password: a forked worker inherits them (and their remembered
# cells) instead of laying the assignment out again. Filled and emptied by _build_all.
_BOOKS: dict = {}
PARALLEL_FROM = 64  # fewer workbooks than this are written faster than a second process starts


@dataclass(frozen=True)
class _Run:
    """What writing any student's file of this class needs (handed to every worker)."""

    assignment: Assignment
    out_dir: Path
    secret: bytes | None
    password: str | None
    check: Callable[[Path, dict], str] | None
    checked: frozenset[int]


def _write_students(run: _Run, students: Sequence[tuple[int, Student]], progress=None) -> list[_Written]:
    """Each student's variant, signed workbook and manifest entry, through one shared layout: openpyxl lays
    the assignment out once and each student's file costs only their own sheets' cells and stamp
    (byte-identical to building it alone). A student at a `checked` position is checked as soon as their
    file is written. Runs in whichever process writes these students."""
    size = max(1, min(_BATCH, _BATCH_ROWS // max(1, len(run.assignment.data.rows))))
    written = []
    for start in range(0, len(students), size):
        written += _write_batch(run, students[start:start + size], progress)
    return written


_BATCH = 64  # students whose forward passes are made in one NumPy pass
_BATCH_ROWS = 128_000  # at most this many of their data rows at once (a 100,000-row class goes one by one)


def _write_batch(run: _Run, students: Sequence[tuple[int, Student]], progress) -> list[_Written]:
    """`_write_students` for a few students: their variants first, then one forward pass for all whose data
    has the same inputs as the first's (all of them, unless the data itself varies), then each file."""
    from workbook.builder import AssignmentBook

    a, written = run.assignment, []
    variants = [variant(a, s.id) for _, s in students]
    X = variants[0].data.X
    shared = [k for k, v in enumerate(variants) if v.data.X is X or np.array_equal(v.data.X, X)]
    passes = dict(zip(shared, forward_each(a.network, [variants[k].weights for k in shared], X), strict=True))
    folder = str(run.out_dir)
    for k, (i, s) in enumerate(students):
        v = variants[k]
        digest = variant_digest(v)
        props = {"variant": digest}
        if run.secret:
            props["signature"] = signature(run.secret, a.id, s.id, digest)
        name = f"{file_stem(s.id)}.xlsx"
        path = os.path.join(folder, name)  # str(run.out_dir / name), without a Path a student
        book = _BOOKS.get(run.password)
        if book is None:
            book = _BOOKS[run.password] = AssignmentBook(v, password=run.password)
        sha, baseline = book.write_student(path, v, student_id=s.id, student_name=s.name, properties=props,
                                           fwd=passes.get(k))
        entry = {"id": s.id, "name": s.name, "email": s.email, "extra": s.extra, "file": name, "sha256": sha,
                 "variant_digest": digest, "baseline": baseline}
        if run.check is not None and i in run.checked:
            told = {k: x for k, x in entry.items() if k != "sha256"} | {"variant": variant_payload(v)}
            problem = run.check(Path(path), json.loads(json.dumps(told)))
            if problem:  # checked against the entry as the manifest will give it back
                raise ClassCheckFailed(path, problem)
        # _entry_line of the entry with its "variant" last, the payload's text made by workbook.roster
        line = f'{_entry_line(entry)[:-1]}, "variant": {variant_payload_text(v)}}}'
        written.append(_Written(digest, line))
        if progress:
            progress(1)
    return written


def _build_all(run: _Run, students: list[tuple[int, Student]], workers: int, progress) -> list[_Written]:
    """Every student's file; what the manifest needs of each, in roster order. One core writes about two
    thousand workbooks a second. With more cores, where processes can be forked, this process writes the
    first student's file (laying the assignment out and remembering its cells), then forks workers that
    inherit all of that, and takes chunks of students beside them until none is left; elsewhere each
    worker lays the assignment out again."""
    _BOOKS.clear()
    with heap.kept():  # the students' zlib streams reuse freed pages (see workbook.heap); forks inherit it
        try:
            return _build_in_processes(run, students, workers, progress)
        finally:
            _BOOKS.clear()


def _build_in_processes(run: _Run, students: list[tuple[int, Student]], workers: int,
                        progress) -> list[_Written]:
    """`_build_all`'s work: this process alone, forked workers beside it, or spawned ones."""
    if workers <= 1 or len(students) < PARALLEL_FROM:
        return _write_students(run, students, progress)
    if not hasattr(os, "fork"):
        return _build_spawned(run, students, workers, progress)
    first = _write_students(run, students[:1], progress)
    return first + _build_forked(run, students[1:], workers, progress)


def _build_forked(run: _Run, students: list[tuple[int, Student]], workers: int, progress) -> list[_Written]:
    """The students' files written by this process and `workers - 1` forked ones, which inherit the laid-out
    assignment. The work is cut into chunks whose numbers wait in a pipe: each process takes the next one
    when it is free, so all finish together whatever else the machine is doing (a fixed share each left
    one core idle for up to a tenth of the run). The chunks shrink toward the end, so the last process to
    finish is never long behind. Each worker sends its students' manifest lines back through a pipe of its own.

    Plain os.fork and pipes, not concurrent.futures: importing that and multiprocessing took 25 ms and
    starting its pool 10 ms, on a run of about a second, for a pool used once; this is all a fork needs.
    A worker's error (a student's file that does not grade as issued, a disk that is full) stops the others
    after their chunk and is raised here, as it was raised there."""
    chunks = _chunks(students, workers)
    tokens, fill = os.pipe()
    try:
        os.write(fill, b"".join(_TOKEN.pack(k) for k in range(len(chunks))))  # a pipe holds 64 KiB: 32,768 chunks
    finally:
        os.close(fill)  # an empty pipe then reads as its end, so every process stops when the chunks run out
    children: list[tuple[int, int]] = []
    try:
        try:
            for _ in range(workers - 1):
                out, into = os.pipe()
                pid = os.fork()
                if pid == 0:  # the worker: never returns
                    os.close(out)
                    _serve(run, chunks, tokens, into)
                os.close(into)
                children.append((pid, out))
            done, reported = _take_chunks(run, chunks, tokens, progress)
        except BaseException:
            _drain(tokens)  # the workers stop after their chunk
            _results(children)  # reaped; this process's own error is the one raised
            raise
        results, failures = _results(children)
    finally:
        os.close(tokens)
    if failures:
        raise failures[0]
    written: list[_Written] = []
    for _, chunk_written in sorted(done + results, key=lambda d: d[0]):
        written += chunk_written
    if progress:
        progress(len(students) - reported)
    return written


_CHUNKS_EACH = 4  # a chunk is at most the remaining students / (processes x this): fewer as the end nears
_LEAST_CHUNK = 4  # students: a chunk costs a pipe read and a forward pass
_TOKEN = struct.Struct("<H")


def _chunks(students: Sequence, workers: int) -> list:
    """Consecutive chunks of `students`, each a share of what is left (guided scheduling), at most a batch."""
    chunks, start = [], 0
    while start < len(students):
        size = max(_LEAST_CHUNK, min(_BATCH, -(-(len(students) - start) // (workers * _CHUNKS_EACH))))
        chunks.append(students[start:start + size])
        start += size
    return chunks


def _take_chunks(run: _Run, chunks: list, tokens: int, progress) -> tuple[list[tuple[int, list[_Written]]], int]:
    """Write the chunks whose numbers this process reads from the pipe `tokens`, until it is empty: their
    (number, files written), and how far `progress` was moved. A chunk's number tells how many students
    were taken before it, by any process: the progress bar moves by that."""
    done, reported = [], 0
    starts = [0]
    for chunk in chunks:
        starts.append(starts[-1] + len(chunk))
    while token := os.read(tokens, _TOKEN.size):
        (k,) = _TOKEN.unpack(token)
        if progress and starts[k] > reported:
            progress(starts[k] - reported)
            reported = starts[k]
        done.append((k, _write_students(run, chunks[k])))
    return done, reported


def _serve(run: _Run, chunks: list, tokens: int, into: int) -> None:
    """A forked worker's life: take chunks, send back what they wrote (or the error that stopped it), exit."""
    code = 0
    try:
        payload = pickle.dumps(("done", _take_chunks(run, chunks, tokens, None)[0]), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent, which raises it
        code = 1
        _drain(tokens)
        try:
            payload = pickle.dumps(("failed", exc), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an error that cannot be pickled still says what it was
            payload = pickle.dumps(("failed", WorkbookError(f"a process writing the class set failed: {exc!r}")))
    try:
        with os.fdopen(into, "wb") as f:
            f.write(payload)
    finally:
        os._exit(code)  # no atexit handlers, no flushing the parent's buffers a second time


def _drain(tokens: int) -> None:
    """Take every chunk number left, so no process starts another chunk."""
    while os.read(tokens, 1 << 16):
        pass


def _results(children: list[tuple[int, int]]) -> tuple[list, list[BaseException]]:
    """Every worker's (chunk number, files written), once it has exited, and the errors that stopped any."""
    done: list = []
    failures: list[BaseException] = []
    for pid, out in children:
        with os.fdopen(out, "rb") as f:
            payload = f.read()
        _, status = os.waitpid(pid, 0)
        if not payload:
            failures.append(WorkbookError(f"a process writing the class set stopped before it finished (wait "
                                          f"status {status}): the class set is incomplete; run the command again"))
            continue
        kind, value = pickle.loads(payload)
        if kind == "failed":
            failures.append(value)
        else:
            done += value
    return done, failures


def _build_spawned(run: _Run, students, workers: int, progress) -> list[_Written]:
    """Contiguous chunks for fresh worker processes (where fork is not offered): one layout per worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(students) // (workers * 4))
    chunks = [students[i:i + size] for i in range(0, len(students), size)]
    written: list[_Written] = []
    spawn = multiprocessing.get_context("spawn")  # the only kind there is where os.fork is not
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=spawn) as pool:
        for done in pool.map(_write_students, [run] * len(chunks), chunks):
            written += done
            if progress:
                progress(len(done))
    return written
