"""The library API: one keyword-only function per command, usable from a notebook, a script or an LMS plug-in.

This is the one module that uses both the generator (`workbook`) and the grader (`grader`): generating
a workbook ends with the grader reading it back (`self_check`), so nothing is reported as written that
would not grade as issued. Each function returns a frozen result whose `lines` are what the command
prints; the CLI only prints them. Errors are the packages' own exceptions (`WorkbookError`,
`GraderError`) or `UsageError` here; the CLI turns them into one-line messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from workbook.errors import WorkbookError

Progress = Callable[[int], Any]
ProgressFactory = Callable[[int], Any]  # n -> a context manager whose value has update(k), like click.progressbar
USER_ERRORS = (WorkbookError, GraderError)  # what a user's input can cause: shown as one line, never a traceback


class UsageError(WorkbookError):
    """A command was asked for something that cannot work (a bad combination of options, no input files)."""


class SelfCheckError(WorkbookError):
    """A workbook just written does not grade as issued: a bug in manualml, never the user's fault."""


@dataclass(frozen=True)
class Outcome:
    """What a command did: lines for the user (stdout), warnings (stderr), files written, an exit code."""

    lines: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    paths: tuple[Path, ...] = ()
    exit_code: int = 0
    data: Any = None  # the command's own result object (an Assignment, a solve result, the grade results...)


@contextmanager
def _progress(factory: ProgressFactory | None, total: int) -> Iterator[Progress | None]:
    """The `update` of a progress bar made by `factory` (or None), open while the work runs."""
    if factory is None:
        yield None
        return
    with factory(total) as bar:
        yield bar.update


# --- validate --------------------------------------------------------------------------------------------------

def validate(*, template: str | Path) -> Outcome:
    """Load a template (built-in name or .toml path) and summarise it; raises TemplateError if it is wrong."""
    from workbook.catalog import load_any, resolve_template
    from workbook.lecture.template import LectureTemplate
    from workbook.model import loss
    from workbook.shares import metric_text

    a = load_any(template)
    lines = [f"{resolve_template(template)}: OK"]
    if isinstance(a, LectureTemplate):
        lines.append(f"  {a.title}: lecture sheets {', '.join(kind for kind, _ in a.sheets)}")
        if len(a.graded_kinds) == 1:
            g = a.gradable()
            baseline = metric_text(g.metric_name, g.metric(g.start), lambda v: f"{v:,.6g}")
            lines.append(f"  graded by {g.metric_abbr}: baseline {baseline}, "
                         f"{g.rubric.max_points:g} points")
    else:
        lines.append(f"  {a.title}: network {a.network.shape}, {len(a.data.rows)} rows, metric {a.metric}, "
                     f"baseline {a.metric_abbr} {_plain(loss(a))}, {a.rubric.max_points:g} points")
        if a.test is not None:
            counted = {"sheet": "scored, not counted", "hidden": "the points come from them",
                       "mix": f"{a.rubric.hidden_weight:.0%} of the points come from them"}[a.rubric.score_on]
            lines.append(f"  hidden test: {len(a.test.data.rows)} {a.test.noun}, never in a workbook ({counted})")
        if a.hints.gradient:
            lines.append("  live gradients beside every weight, backprop on a 'Gradients' sheet ([hints])")
        if a.descent is not None:
            decay = f", decay {a.descent.decay:g}" if a.descent.decay else ""
            lines.append(f"  a 'Descent' sheet: {a.descent.steps} steps of gradient descent from the student's "
                         f"weights, eta {a.descent.eta:g}{decay} ([descent])")
    return Outcome(lines=tuple(lines), data=a)


# --- generate --------------------------------------------------------------------------------------------------

WORKBOOK_SUFFIXES = (".xlsx", ".ods")  # what `generate -o` writes (.xlsm would promise macros there are none of)


def generate(*, template: str | Path | None = None, output: Path | None = None, password: str | None = None,
             roster: Path | None = None, out_dir: Path | None = None, key_file: Path | None = None,
             workers: int | None = None, progress_factory: ProgressFactory | None = None,
             check: bool = True, force: bool = False, id_column: str | None = None) -> Outcome:
    """Write an assignment workbook (or, with `roster`, one signed workbook per student and a manifest).

    `output`'s suffix picks the format: .xlsx, or .ods (an OpenDocument spreadsheet converted by
    LibreOffice, which must be installed). A class set never silently replaces another: a folder
    holding a manifest.json is refused unless `force`. With no signing secret anywhere, one is
    created in the user's configuration folder (see `workbook.roster.find_secret`).

    Every workbook written is read back by the grader and must grade as issued (`check=False` skips it,
    for benchmarks of the writer alone); a failure removes the file and raises `SelfCheckError`.
    """
    with _Collector() as collector:
        return _generate(template=template, output=output, password=password, roster=roster, out_dir=out_dir,
                         key_file=key_file, workers=workers, progress_factory=progress_factory, check=check,
                         force=force, id_column=id_column, collector=collector)


def _generate(*, template, output, password, roster, out_dir, key_file, workers, progress_factory, check, force,
              id_column, collector: _Collector) -> Outcome:
    from workbook.builder import build_workbook
    from workbook.catalog import load_any
    from workbook.model import loss
    from workbook.spec import Assignment

    if roster is None:
        for flag, given in (("--force", force), ("--id-column", id_column), ("--out-dir", out_dir)):
            if given:
                raise UsageError(f"{flag} applies to a class set: add --roster FILE")
    elif output is not None:
        raise UsageError("-o names a single workbook; a class set is written to --out-dir")
    a = load_any(template)
    if not isinstance(a, Assignment):  # a LectureTemplate (its package is imported only for one)
        if roster is not None:
            raise UsageError("--roster makes per-student workbooks of manual-ML templates; a lecture template "
                             "is the same for everyone: generate it once and share the file")
        from workbook.lecture.book import build_lecture

        collector.writing()
        path = _write_workbook(lambda p: build_lecture(a, p), output or Path(f"{a.id}.xlsx"))
        if check:
            self_check(path, a)
        return Outcome(lines=(f"Wrote {path.resolve()}", f"  {a.title}: sheets {', '.join(k for k, _ in a.sheets)}"),
                       paths=(path,), data=a)
    if roster is None:
        target = output or Path(f"{a.id}.xlsx")
        _check_workbook_suffix(target)
        warnings = tuple(unreachable_rubric_warnings(a))
        collector.writing()  # a workbook of 100,000 rows makes garbage enough to need the collector
        path = _write_workbook(lambda p: build_workbook(a, p, password=password), target)
        if check:
            self_check(path, a)
        return Outcome(lines=(f"Wrote {path.resolve()}", f"  {a.title}: network {a.network.shape}, "
                              f"{len(a.data.rows)} rows, baseline {a.metric_abbr} {_plain(loss(a))}"),
                       warnings=warnings, paths=(path,), data=a)
    return _generate_class(a, template=template, roster=roster, out_dir=out_dir, key_file=key_file,
                           password=password, workers=workers, progress_factory=progress_factory, check=check,
                           force=force, id_column=id_column, collector=collector)


def _generate_class(a, *, template, roster: Path, out_dir: Path | None, key_file: Path | None, password,
                    workers, progress_factory, check: bool, force: bool, id_column: str | None,
                    collector: _Collector) -> Outcome:
    from functools import partial

    from workbook.catalog import resolve_template
    from workbook.class_set import ClassCheckFailed, generate_class, refuse_existing
    from workbook.roster import find_secret, read_roster

    students = read_roster(roster, id_column=id_column)
    folder = out_dir or Path(f"{a.id}-class")
    # Refused before a secret is made or a second spent solving. With --force nothing is refused, and
    # generate_class reads the old manifest anyway (for the files to delete): reading its thousand entries here
    # as well took 10 ms. Only its existence is asked, so an unreadable folder still fails here, as before.
    if force:
        (folder / "manifest.json").exists()
    else:
        refuse_existing(folder, force=False)
    warnings = list(unreachable_rubric_warnings(a))
    key = find_secret(key_file, create=True, outside=folder)
    lines = []
    if key.created:
        lines.append(f"Created a signing secret in {key.origin} (readable only by you). Keep it: grading checks "
                     "signatures with it, and it must never go into the class folder")
    if check:
        import grader.batch  # noqa: F401 - imported before the writers fork, so each has the grader at hand
    sample = set(check_sample(range(len(students)))) if check else set()
    collector.writing()
    try:
        with _progress(progress_factory, len(students)) as update:
            made = generate_class(a, students, folder, template_path=resolve_template(template), secret=key.value,
                                  password=password, workers=workers or os.cpu_count() or 1, progress=update,
                                  force=force, check=partial(grade_as_issued, a, key.value) if check else None,
                                  checked=sample)
    except ClassCheckFailed as failed:
        raise SelfCheckError(f"{a.id}: {failed.path} does not grade as issued ({failed.problem}); the class set was "
                             "removed. This is a bug in manualml: please report it with the template") from None
    if made.warning:
        warnings.append(f"Warning: {made.warning}")
    if check:
        self_check_class(made.manifest, [s.id for s in students], made.workbooks, a, secret=key.value,
                         sample=sorted(sample))
    lines.append(f"Wrote {len(students)} workbooks and {made.manifest.resolve()} (signed with {key.origin})")
    if made.removed:
        lines.append(f"Removed {len(made.removed)} workbook(s) of the class set this one replaces:")
        lines += [f"  {p.name}" for p in made.removed]
    return Outcome(lines=tuple(lines), warnings=tuple(warnings), paths=(made.manifest, *made.workbooks), data=a)


class _Collector:
    """The garbage collector during `generate`: paused while the work is set up, then sparing what is alive.

    Setting up imports openpyxl, NumPy and the grader: a hundred collections (20 ms in all) walking new
    modules and classes, none of them garbage, all before the first workbook is written. Then the class
    set's first workbook, which lays the assignment out, set off a full collection of everything (15 ms
    more before the writers fork). So the collector rests during the setup (which makes next to no
    garbage); `writing()`, called before any workbook is built, sets aside (gc.freeze) all that is alive and
    lets the collector work on what the writing makes, in every writing process (a forked writer no longer
    copies the memory pages a full collection would touch, the use gc.freeze is documented for). At the
    end everything is the collector's again, as it was; a caller who paused or froze it is left alone.
    """

    def __init__(self) -> None:
        self.paused = False

    def __enter__(self) -> _Collector:
        import gc

        self.paused = gc.isenabled() and not gc.get_freeze_count()
        if self.paused:
            gc.disable()
        return self

    def writing(self) -> None:
        import gc

        if self.paused and not gc.isenabled():
            gc.freeze()
            gc.enable()

    def __exit__(self, *exc) -> None:
        import gc

        if self.paused:
            gc.unfreeze()
            gc.enable()


def _check_workbook_suffix(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".xlsm":
        raise UsageError(f"{path}: .xlsm is Excel's name for a workbook with macros, and this one has none; "
                         "name it .xlsx (or .ods)")
    if suffix not in WORKBOOK_SUFFIXES:
        raise UsageError(f"{path}: cannot write {suffix or 'a file without a suffix'}; name the workbook .xlsx "
                         "(Excel, LibreOffice, Google Sheets) or .ods (OpenDocument, through LibreOffice)")


def _write_workbook(build: Callable[[Path], Path], path: Path) -> Path:
    """Build the workbook at `path`; an .ods is built as .xlsx and converted by LibreOffice."""
    import tempfile

    from workbook import libreoffice
    from workbook.errors import LibreOfficeError

    _check_workbook_suffix(path)
    if path.suffix.lower() != ".ods":
        return build(path)
    if not libreoffice.available():
        raise LibreOfficeError(f"{path}: writing .ods needs LibreOffice, which is not installed (apt-get install "
                               "libreoffice-calc-nogui); or write .xlsx, which LibreOffice opens as well")
    with tempfile.TemporaryDirectory(prefix="manualml-ods-") as tmp:
        staged = build(Path(tmp) / f"{path.stem}.xlsx")
        return libreoffice.convert(staged, path)


def unreachable_rubric_warnings(a) -> list[str]:
    """A rubric asking for more than the network can reach is a trap for students: say so."""
    if a.data.X.shape[0] > 200 or len(a.weights) > 60:
        return []  # solving big templates takes a while: run `manualml solve` explicitly
    needed = [t.min_improvement for t in a.rubric.tiers if t.points >= a.rubric.max_points
              and t.min_improvement is not None]
    if a.rubric.partial_credit == "linear":
        needed.append(a.rubric.full_improvement)
    if not needed:
        return []
    from workbook.solve import solve as solve_weights

    # Training stops at the first start that reaches full marks (two or three steps, not 150, on the sheet
    # before the first workbook is written); when none does, this is the full solve and its best is shown.
    best = solve_weights(a, enough=min(needed))
    if min(needed) > best.improvement + 1e-9:
        from workbook.shares import percent

        return [f"Warning: full marks need Improvement >= {min(needed) * 100:g}%, but the best found by "
                f"`manualml solve` is {percent(best.improvement)}"]
    return []


# Findings a freshly written workbook may carry: every formula is written with its cached result, so none is
# expected; `not-recalculated` (no cached results at all) would still be as issued.
_AS_ISSUED = {"not-recalculated"}


def self_check(path: Path, assignment, *, expected=None, student_id: str = "") -> None:
    """Grade a workbook just written; it must grade as issued, else it is removed and the error names the cell.

    As issued means: no finding (every formula carries its cached result; `not-recalculated` alone would be
    tolerated), the stamped baseline, Improvement 0. A lecture workbook is checked on each of its graded sheets
    (Linear Regression, Perceptron); the others carry no grade.
    """
    from grader.grade import grade_file
    from workbook.lecture.template import SHEETS, LectureTemplate

    targets = [assignment]
    if isinstance(assignment, LectureTemplate):  # each graded sheet, as `grade -t lecture-<sheet>` reads it
        targets = [SHEETS[kind].graded_sheet(assignment.settings(kind), assignment.rubric, assignment.id,
                                             assignment.title) for kind in assignment.graded_kinds]
    for target in targets:
        result = grade_file(path, target, expected=expected, student_id=student_id)
        problem = _not_as_issued(result, target)
        if problem:
            Path(path).unlink(missing_ok=True)
            sheet = f" (sheet {target.sheet!r})" if target is not assignment else ""
            raise SelfCheckError(f"{assignment.id}: the workbook written to {path}{sheet} does not grade as issued "
                                 f"({problem}); it was removed. This is a bug in manualml: please report it with the "
                                 "template")


def _not_as_issued(result, target) -> str:
    if result.status != "graded":
        return f"the grader could not read it: {result.error}"
    odd = [f for f in result.findings if f.code not in _AS_ISSUED]
    if odd:
        first = odd[0]
        where = f" at {first.cell}" if first.cell else ""
        return f"{first.code}{where}: {first.message}"
    if result.improvement is None or abs(result.improvement) > 1e-12:
        return f"Improvement is {result.improvement!r}, not 0"
    return ""


CHECK_EVERY_FILE_UP_TO = 100  # class sets larger than this are checked on an evenly spread sample of this size


def grade_as_issued(base, secret: bytes | None, path: Path, entry: dict) -> str:
    """Grade a student's workbook just written as the class grader would (their variant rebuilt from their
    manifest entry, their stamp and signature expected): '' if it grades as issued, else the problem.

    `generate_class` calls this in the process that wrote the file, right after writing it, so the
    grading runs on every core while the other students' files are written."""
    from grader.batch import Job, run_job
    from grader.cells import remembered_shapes
    from grader.identity import Expected
    from workbook.roster import student_assignment

    assignment = student_assignment(base, entry)
    expected = Expected(entry["id"], base.id, entry["variant_digest"], secret)
    job = Job(path, assignment, {"student_id": entry["id"], "student_name": entry.get("name", ""),
                                 "expected": expected})
    with remembered_shapes():  # every file checked is of the class's one shape: its sheet read from it
        return _not_as_issued(run_job(job), assignment)


def self_check_class(manifest_path: Path, student_ids: Sequence[str], workbooks: Sequence[Path], base, *,
                     secret: bytes | None, sample: Sequence[int]) -> None:
    """The class grader finds each checked student's own workbook, variant and stamp in the manifest written.

    Every file of a class of up to `CHECK_EVERY_FILE_UP_TO` students is checked, above that an evenly spread
    sample of that many, always with the first and the last: each is graded as issued (`grade_as_issued`)
    right after it is written, and here the class plan of the manifest must give each of them to the
    student it was written for and find nothing odd. Why not every file:
    grading costs about as much as writing, and every student's file is the same build with only their
    own parts changed, proved byte-identical to a full build by tests/test_deterministic.py, so a fault
    the sample misses would have to depend on one student's id or variant alone, which the sample of ids
    and variants is there to catch.

    `student_ids` and `workbooks` are what generate_class was asked for and wrote, in roster order: the
    plan, which reads the manifest itself, is held to them (not to the manifest read back a second time, 7 ms
    for a class of 1,000, which would also agree with a manifest that got an id wrong).
    """
    from grader.cells import no_cyclic_gc
    from grader.classroom import plan

    chosen = [(student_ids[i], workbooks[i]) for i in sample]
    # the collector rests until the plan is gone: the manifest read back (some 10,000 containers) is freed by
    # reference counting before it comes back, so no collection walks it after planning
    with no_cyclic_gc():
        class_plan = plan(manifest_path, [path for _, path in chosen], secret=secret)
        found = {job.path.name: job for job in class_plan.jobs}
        notes = list(class_plan.notes)
        del class_plan
    for student_id, path in chosen:
        job = found.get(path.name)
        problem = ("the class plan does not find it" if job is None else
                   f"the class plan gives it to {job.options.get('student_id')!r}"
                   if job.options.get("student_id") != student_id else "")
        if not problem and notes:
            problem = f"the class plan notes: {notes[0]}"
        if problem:
            for f in workbooks:
                f.unlink(missing_ok=True)
            manifest_path.unlink(missing_ok=True)
            raise SelfCheckError(f"{base.id}: {path} does not grade as issued ({problem}); the class set was "
                                 "removed. This is a bug in manualml: please report it with the template")


def check_sample(files: Sequence, size: int = CHECK_EVERY_FILE_UP_TO) -> list:
    """All of `files` up to `size` of them, else `size` evenly spread ones including the first and the last."""
    if len(files) <= size:
        return list(files)
    step = (len(files) - 1) / (size - 1)
    return [files[round(i * step)] for i in range(size)]


# --- solve -----------------------------------------------------------------------------------------------------

def solve(*, template: str | Path | None = None, starts: int | None = None, steps: int | None = None,
          seed: int = 0, decimals: int | None = None, output: Path | None = None,
          progress_factory: ProgressFactory | None = None) -> Outcome:
    """The best loss the network can reach on the template's data (a reference solution for a fair rubric).

    `decimals` gives weights rounded to that many decimals, refined after rounding, and their own loss:
    what a student would type. None for `starts`/`steps` leaves them to workbook.solve.
    """
    from workbook.catalog import is_lecture, load, load_any, resolve_template
    from workbook.solve import solve as solve_weights

    if output:
        _check_workbook_suffix(output)  # before the solving, not after
    path = resolve_template(template)
    if is_lecture(path):  # only then the lecture package (and openpyxl): a manual-ML solve starts in 0.2 s
        return _solve_lecture(load_any(path), output)
    a = load(path)
    with _progress(progress_factory, 100) as update:
        shown = 0

        def advance(fraction: float) -> None:
            nonlocal shown
            if update is not None and int(fraction * 100) > shown:
                update(int(fraction * 100) - shown)
                shown = int(fraction * 100)

        best = solve_weights(a, starts=starts, steps=steps, seed=seed, decimals=decimals, progress=advance)
    rounded = "" if decimals is None else f" with every weight rounded to {decimals} decimals"
    from grader.scoring import score
    from workbook.shares import percent
    from workbook.spec import average_metric

    average = average_metric(a.metric, a.data.y)  # the other reference a rubric can be placed against
    # a network that fits every row reaches 1e-13 or so: that is zero to a student, not "9.32807e-13"
    shown = "≈ 0" if 0 <= best.metric < 1e-9 * max(abs(average), abs(best.baseline), 1e-300) else f"{best.metric:.6g}"
    lines = [f"{a.title}: best {a.metric_abbr} {shown}{rounded} (baseline {best.baseline:.6g}), "
             f"predicting the average {average:.6g}, "
             f"improvement {percent(best.improvement)}, {score(a, best.weights).points:g} of "
             f"{a.rubric.max_points:g} points"]
    lines += [f"  {name} = {value:.6g}" if decimals is None else f"  {name} = {value:.{decimals}f}"
              for name, value in best.weights.items()]
    paths: tuple[Path, ...] = ()
    if output:
        from workbook.builder import build_workbook  # openpyxl: a tenth of a second, only when writing

        path = _write_workbook(lambda p: build_workbook(a, p, weights=best.weights), output)
        lines.append(f"Wrote {path.resolve()} (solution)")
        paths = (path,)
    return Outcome(lines=tuple(lines), paths=paths, data=best)


def _solve_lecture(t, output: Path | None) -> Outcome:
    """The graded lecture sheets have exact answers: the normal equation, the perceptron rule."""
    from workbook.lecture.book import build_lecture
    from workbook.lecture.template import SHEETS
    from workbook.shares import metric_text, percent

    g = t.gradable()
    params = SHEETS[g.kind].solve(g.settings)
    value, baseline = g.metric(params), g.metric(g.start)
    gain = g.improvement(value)
    how = "normal equation" if g.kind == "linear-regression" else "perceptron learning rule"
    def shown(v: float) -> str:
        return metric_text(g.metric_name, v, lambda x: f"{x:.6g}")

    lines = [f"{t.title}: best {g.metric_abbr} {shown(value)} by the {how} (baseline {shown(baseline)}), "
             f"improvement {percent(gain)}, {g.rubric.points(gain, value):g} of {g.rubric.max_points:g} points"]
    shown = params if len(params) <= 20 else {k: v for k, v in params.items() if v != 0}
    if len(shown) > 20:
        hint = " (write them into a workbook with -o)" if output is None else ""  # not when -o was given
        lines.append(f"  {len(shown)} non-zero values{hint}")
    else:
        lines += [f"  {name} = {v:.6g}" for name, v in shown.items()]
    paths: tuple[Path, ...] = ()
    if output:
        path = _write_workbook(lambda p: build_lecture(t, p, params=params), output)
        lines.append(f"Wrote {path.resolve()} (solution)")
        paths = (path,)
    return Outcome(lines=tuple(lines), paths=paths, data=params)


# --- render ----------------------------------------------------------------------------------------------------

def render(*, output: Path, workbook_file: Path | None = None, template: str | Path | None = None,
           page: int | None = None, dpi: int | None = None) -> Outcome:
    """Render a workbook (or a freshly generated template) as LibreOffice computes and draws it.

    .png and .jpg/.jpeg are one page (`page`, default the main sheet's first page) at `dpi`
    (default 110); .pdf is the whole workbook as printed. Anything else is refused.
    """
    import tempfile

    from workbook import libreoffice
    from workbook.builder import build_workbook
    from workbook.catalog import load_any
    from workbook.errors import PageError
    from workbook.lecture.book import build_lecture
    from workbook.lecture.template import LectureTemplate

    pdf = output.suffix.lower() == ".pdf"
    if pdf and (page is not None or dpi is not None):
        raise UsageError(f"{output}: --page and --dpi choose one page of an image (.png, .jpg); a PDF holds every "
                         "page, drawn at any size")
    if not pdf and output.suffix.lower() not in libreoffice.IMAGE_FORMATS:
        raise UsageError(f"{output}: cannot render to {output.suffix or 'a file without a suffix'} (choose "
                         f"{', '.join(libreoffice.IMAGE_FORMATS)} or .pdf)")
    with tempfile.TemporaryDirectory() as tmp:
        name = str(workbook_file)
        if workbook_file is None:
            a = load_any(template)
            build = build_lecture if isinstance(a, LectureTemplate) else build_workbook
            workbook_file, name = build(a, Path(tmp) / "sheet.xlsx"), f"template {a.id}"
        if pdf:
            libreoffice.render_pdf(workbook_file, output)
        else:
            try:
                libreoffice.render(workbook_file, output, page=page, dpi=dpi or 110, name=name)
            except PageError as exc:  # a page the workbook does not have: a usage error (exit 2), like --page 0
                raise UsageError(str(exc)) from None
    return Outcome(lines=(f"Wrote {output.resolve()}",), paths=(output,))


# --- grade -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GradeOutputs:
    """Where `grade` writes what (each optional)."""

    csv: Path | None = None
    json: Path | None = None
    feedback: Path | None = None  # a folder: one Markdown file per submission
    gradescope: Path | None = None
    canvas: Path | None = None
    canvas_assignment_id: str = ""
    moodle: Path | None = None
    similarity: Path | None = None
    report: Path | None = None  # the class report: one self-contained HTML page
    extra: dict = field(default_factory=dict)  # room for renderers added later, keyed by option name


def grade(*, submissions: Sequence[Path], template: str | Path | None = None, manifest: Path | None = None,
          key_file: Path | None = None, on_finding: str | None = None, workers: int | None = None,
          timeout: float = 30.0, outputs: GradeOutputs | None = None,
          progress_factory: ProgressFactory | None = None) -> Outcome:
    """Grade submitted workbooks (files or folders) and write the requested gradebooks.

    `progress_factory(n)` returns a context manager with an `update(k)` method (click's progress bar),
    called around the grading of `n` files. The policy (which files, which assignment, whose file,
    one per student, the Gradescope upload) is `grader.planning`'s. Exit code 0: every file and
    every roster student graded; 1: some file or student has no grade (with --gradescope: 0 once
    results.json is written); 2: usage error (raised as UsageError, a wrong key included).
    """
    from grader import terminal
    from grader.batch import grade_jobs
    from grader.errors import PlanError, WrongKeyError
    from grader.planning import plan_grading, shared_stamps

    outputs = outputs or GradeOutputs()
    missing = [str(p) for p in submissions if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    options = {"on_finding": on_finding} if on_finding else {}
    from grader.archives import Unpacker

    with Unpacker() as unpacker:  # a zip of submissions (an LMS's download) is graded as the folder it holds
        try:
            secret = None
            if manifest:
                from workbook.roster import find_secret, load_secret, read_manifest

                secret = load_secret(key_file, required=read_manifest(manifest).get("signed", False))
            plan = plan_grading(list(submissions), template=template, manifest=manifest, secret=secret,
                                options=options, gradescope=bool(outputs.gradescope), unpacker=unpacker)
        except WrongKeyError as exc:  # say which key was tried: a second machine or a new $HOME has another one
            key = find_secret(key_file)
            raise UsageError(unpacker.restore(f"{exc}; the key tried was {key.origin if key else 'none'}")) from None
        except (WorkbookError, PlanError) as exc:
            raise UsageError(unpacker.restore(str(exc))) from None
        with _progress(progress_factory, len(plan.jobs)) as update:
            results = grade_jobs(plan.jobs, workers=workers, timeout=timeout, progress=update)
        results = plan.with_upload_notes(results) + plan.extra
        if unpacker.shown_as:
            results, plan = _named_as_in_zip(results, plan, unpacker)
        lines = [terminal.render(results, plan, notes=shared_stamps(results, plan))]
        lines += _write_outputs(results, plan.assignments, plan.base, plan.roster, outputs,
                                rostered=plan.rostered(results))
    ungraded = any(not r.graded for r in results) or bool(plan.unmatched) or bool(plan.not_graded)
    exit_code = 0 if outputs.gradescope else int(ungraded)  # Gradescope: results.json written, the run succeeded
    return Outcome(lines=tuple(lines), exit_code=exit_code, data=results)


def _named_as_in_zip(results, plan, unpacker):
    """Results and plan with every unpacked file named as inside its zip (`subs.zip/Kim_12/hp.xlsx`): what a
    gradebook, a message and a feedback file show, never the temporary folder that is gone after the run."""
    from dataclasses import replace

    def finding(f):
        return replace(f, message=unpacker.restore(f.message))

    results = [replace(r, file=unpacker.show(r.file), error=unpacker.restore(r.error),
                       findings=tuple(finding(f) for f in r.findings)) for r in results]
    shown = [replace(s, path=Path(unpacker.show(s.path))) for s in plan.skipped]
    superseded = [replace(s, path=Path(unpacker.show(s.path)), chosen=Path(unpacker.show(s.chosen)),
                          reason=unpacker.restore(s.reason)) for s in plan.superseded]
    plan = replace(plan, skipped=shown, superseded=superseded,
                   unmatched=[Path(unpacker.show(p)) for p in plan.unmatched],
                   notes=[unpacker.restore(n) for n in plan.notes],
                   upload_notes=[unpacker.restore(n) for n in plan.upload_notes])
    return results, plan


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot create its folder ({exc.strerror or exc})") from None


def _write_outputs(results, assignments, base, roster: dict, out: GradeOutputs, *, rostered=None) -> list[str]:
    """`rostered`: the results that belong in an LMS gradebook (one per roster student; default all)."""
    from grader import report

    lines = []
    for path in (out.csv, out.json, out.gradescope, out.canvas, out.moodle, out.similarity, out.report):
        if path:
            _ensure_parent(path)
    if out.csv:
        lines.append(f"Gradebook: {report.write_csv(results, out.csv)}")
    if out.json:
        lines.append(f"Results: {report.write_json(results, out.json)}")
    written = None
    if out.feedback:
        written = report.write_feedback(results, assignments, out.feedback)
        lines.append(f"Feedback: {len(written)} file(s) in {out.feedback}")
    if out.gradescope:
        lines.append(f"Gradescope: {report.write_gradescope(results[0], assignments[0], out.gradescope)}")
    if out.canvas or out.moodle:
        from grader import exports

        if out.canvas:
            exports.write_canvas(results if rostered is None else rostered, base, out.canvas, roster=roster,
                                 canvas_assignment_id=out.canvas_assignment_id)
            lines.append(f"Canvas: {out.canvas}")
        if out.moodle:
            exports.write_moodle(results if rostered is None else rostered, base, out.moodle, roster=roster)
            lines.append(f"Moodle: {out.moodle}")
    if out.similarity or out.report:
        from grader.similarity import groups, similar_pairs, starting_weights, write_similarity

        pairs = similar_pairs(results, starting=starting_weights(results, assignments))
        if out.similarity:
            write_similarity(pairs, out.similarity)
            found = groups(pairs)
            lines.append(f"Similarity: {len(found)} group(s) of students with (nearly) identical weights, "
                         f"{sum(len(g.members) for g in found)} students, in {out.similarity}")
        if out.report:
            from grader.class_report import write_class_report

            write_class_report(results, assignments, out.report, pairs=pairs, feedback_files=written)
            lines.append(f"Class report: {out.report}")
    return lines


# --- check -----------------------------------------------------------------------------------------------------

def check(*, workbook_file: Path, template: str | Path | None = None) -> Outcome:
    """A student's self-check: what the grader will see in their own workbook (no secret, no manifest).

    The assignment comes from the workbook's stamp (a built-in template's id) unless `template` is given.
    Exit code 0: the grader can read it; 1: it cannot (the lines say why).
    """
    from grader.student_check import check_workbook

    found = check_workbook(workbook_file, template=template)
    return Outcome(lines=found.lines, exit_code=0 if found.result.graded else 1, data=found)


def templates() -> Outcome:
    """The built-in assignment templates, one line each."""
    from workbook.template_files import builtin_templates

    return Outcome(lines=tuple(f"{t.name:<26} {t.description}" for t in builtin_templates()))


def _plain(value: float) -> str:
    """3,731.39 as before, but 2,043,562 rather than 2.04356e+06 for a template of big numbers."""
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
