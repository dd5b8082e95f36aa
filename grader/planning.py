"""Planning a grading run: which files, against which assignment, for whom — before any is graded.

The policy lives here so every caller (the CLI, a notebook, Gradescope's run_autograder) gets
the same decisions: the folder walk's verdict on every file, the assignment each workbook is
graded against (the one asked for, or with no template the one its stamp names: a built-in, or
the manifest's; a lecture workbook with several graded sheets is refused, naming the -t of
each), the class matching of `grader.classroom`, and for Gradescope the one upload to grade
(none or several: a result saying what to upload, so results.json is always written).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch import Job, Skipped, walk
from grader.errors import PlanError
from grader.results import GradeResult


@dataclass(frozen=True)
class GradingPlan:
    """Everything decided before grading; `extra` results join the graded ones in every output."""

    jobs: list[Job]
    base: object  # the assignment gradebooks are headed with (Assignment or Gradable)
    skipped: list[Skipped] = field(default_factory=list)  # files found and not graded, with why
    superseded: list = field(default_factory=list)  # classroom.Superseded
    unmatched: list[Path] = field(default_factory=list)  # files of no roster student (with a manifest)
    extra: list[GradeResult] = field(default_factory=list)  # missing students; a Gradescope upload problem
    roster: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    upload_notes: list[str] = field(default_factory=list)  # Gradescope: which upload was graded, which not

    def with_upload_notes(self, results: list[GradeResult]) -> list[GradeResult]:
        """Gradescope: the graded upload's result also tells the student which file was graded and which not."""
        if not self.upload_notes or not results or not results[0].graded:
            return results
        from dataclasses import replace

        from grader.results import INFO, Finding

        notes = tuple(Finding("other-uploads", INFO, n) for n in self.upload_notes)
        return [replace(results[0], findings=results[0].findings + notes), *results[1:]]

    def rostered(self, results: list[GradeResult]) -> list[GradeResult]:
        """The results an LMS gradebook gets: with a roster, one per roster student (a file that matched no
        student stays out, even if its stamp names one: that stamp was not believed)."""
        if not self.roster:
            return list(results)
        unmatched = {str(p) for p in self.unmatched}
        return [r for r in results if r.student_id in self.roster and r.file not in unmatched]

    @property
    def not_graded(self) -> list[Skipped]:
        """Files handed in and not graded (not a spreadsheet, a zip entry refused): each is a file without a grade,
        so the run's exit code is 1. Lock files and OS debris, skipped on purpose, are not among them."""
        return [s for s in self.skipped if not s.on_purpose]

    @property
    def assignments(self) -> list:
        return [j.assignment for j in self.jobs] + [self.base] * len(self.extra)


def _gradable(template):
    """A template name or path -> what grade_file takes (a lecture template's one graded sheet). A lecture
    with several graded sheets (or none) is a PlanError naming the -t of each: none is picked silently."""
    from grader.refusal import several_sheets
    from workbook.catalog import load_any
    from workbook.lecture.template import LectureTemplate

    loaded = load_any(template)
    if not isinstance(loaded, LectureTemplate):
        return loaded
    several = several_sheets(loaded, "template")
    if several is not None:
        raise PlanError(f"{template}: {several}")
    return loaded.gradable()


def _from_stamps(paths: list[Path], stamped_ids: dict[Path, str]) -> tuple[list[object | str], object]:
    """With no template: each workbook against the built-in its stamp names, else the default template. A
    workbook stamped with a lecture of several graded sheets gets, instead, why it is refused (a str)."""
    from grader.refusal import builtin_lecture, builtin_path, several_sheets
    from workbook.catalog import DEFAULT_TEMPLATE
    from workbook.errors import WorkbookError

    default = _gradable(DEFAULT_TEMPLATE)
    cache: dict[str, object | str] = {}
    chosen: list[object | str] = []
    for path in paths:
        stamped = stamped_ids[path]
        if stamped and stamped not in cache:
            builtin = builtin_path(stamped)
            lecture = builtin_lecture(stamped) if builtin is not None else None
            several = several_sheets(lecture) if lecture is not None else None
            try:  # the whole lecture: grading it as one of its sheets would ignore the others
                cache[stamped] = several or (_gradable(builtin) if builtin is not None else default)
            except WorkbookError:
                cache[stamped] = default
        chosen.append(cache.get(stamped, default) if stamped else default)
    graded = [a for a in chosen if not isinstance(a, str)]
    counts = Counter(id(a) for a in graded)
    base = max(graded, key=lambda a: counts[id(a)]) if graded else default
    return chosen, base


def _refused(path: Path, peek, why: str, base) -> GradeResult:
    """The error result of a workbook the plan refuses to grade (a lecture workbook with several graded sheets)."""
    return GradeResult(file=str(path), status="error", student_id=peek.student_id,
                       student_name=peek.stamp.get("student_name", ""), assignment=peek.assignment,
                       max_points=base.rubric.max_points, error_code="several-sheets", error=why)


def _varies(assignment) -> bool:
    """Whether two students' copies of `assignment` differ (their own starting weights or targets)."""
    from workbook.spec import Assignment

    if not isinstance(assignment, Assignment):
        return False
    from workbook.roster import variant, variant_digest

    return variant_digest(variant(assignment, "a")) != variant_digest(variant(assignment, "b"))


def own_copy(p, assignment):
    """A class copy graded without the manifest: the student's own variant (their starting weights, their
    targets), rebuilt from the template and the stamped student id as `manualml check` does, when the stamp's
    variant digest confirms it. Graded against the template itself, every student's own starting weights
    would read as "the baseline was edited". Anything else is graded against the template as it is."""
    from workbook.spec import Assignment

    digest = p.stamp.get("variant", "")
    if not p.student_id or not digest or not isinstance(assignment, Assignment) or p.assignment != assignment.id:
        return assignment
    from workbook.roster import variant, variant_digest

    own = variant(assignment, p.student_id)
    return own if variant_digest(own) == digest else assignment


def gradescope_upload(paths: list[Path], skipped: list[Skipped], base) -> tuple[list[Path], GradeResult | None,
                                                                                list[str]]:
    """The one upload to grade, or the result telling the student what to upload; and notes naming the rest.

    The one workbook the grader reads (.xlsx, .xlsm, .ods...) is graded and the other files are named;
    with none of those, a single other spreadsheet (a .csv, an .xls) is graded for its message.
    """
    from grader.batch import SUFFIXES

    workbooks = [p for p in paths if p.suffix.lower() in SUFFIXES]
    chosen = workbooks if len(workbooks) == 1 else paths if not workbooks and len(paths) == 1 else []
    if chosen:
        others = [p.name for p in paths if p not in chosen] + [s.path.name for s in skipped if not s.on_purpose]
        notes = [f"Graded {chosen[0].name}; also uploaded, not graded: {', '.join(others)}"] if others else []
        return chosen, None, notes
    common = {"file": "", "status": "error", "assignment": base.id, "max_points": base.rubric.max_points,
              "metric_name": getattr(base, "metric", "") or getattr(base, "metric_name", "")}
    if not paths:
        others = [s.path.name for s in skipped if not s.on_purpose]
        found = f" (uploaded: {', '.join(others)})" if others else ""
        return [], GradeResult(**common, error_code="no-workbook", error=f"no spreadsheet was uploaded{found}: "
                               "upload the workbook you were given, saved as .xlsx (or .ods)"), []
    several = workbooks or paths
    return [], GradeResult(**common, error_code="several-workbooks",
                           error=f"{len(several)} workbooks were uploaded ({', '.join(p.name for p in several)}): "
                                 "upload only the one workbook to grade, then resubmit"), []


def plan_grading(submissions: list[Path], *, template=None, manifest: Path | None = None,
                 secret: bytes | None = None, options: dict | None = None, gradescope: bool = False,
                 unpacker=None) -> GradingPlan:
    """Decide what to grade. Raises PlanError for a run that cannot be right (nothing to grade, a wrong key).

    `unpacker` (grader.archives.Unpacker): a zip of submissions is graded as the folder it holds."""
    options = dict(options or {})
    if manifest and gradescope:  # results.json holds one student's result: a class run would write the first row's
        raise PlanError("--gradescope grades one student's upload and cannot be combined with --manifest "
                        "(a whole class): run it per upload with -t TEMPLATE, or drop --gradescope")
    found = walk(submissions, unpacker=unpacker)
    paths = found.files
    roots = found.roots
    if not paths and not manifest and not gradescope:
        listed = "; ".join(f"{s.path.name}: {s.reason}" for s in found.skipped[:5])
        raise PlanError(f"no spreadsheet files found in {', '.join(map(str, submissions))}"
                        + (f" ({listed})" if listed else ""))
    if manifest:
        from grader.classroom import missing_results, plan

        class_plan = plan(manifest, paths, template=template, secret=secret, options=options, roots=roots)
        return GradingPlan(jobs=class_plan.jobs, base=class_plan.base, skipped=found.skipped,
                           superseded=class_plan.superseded, unmatched=class_plan.unmatched,
                           extra=missing_results(class_plan), roster=class_plan.roster, notes=class_plan.notes)
    from grader.stamps import peek

    if template is not None:
        base = _gradable(template)
        assignments = [base] * len(paths)
        peeks = {p: peek(p) for p in paths} if _varies(base) else {}  # a look at each file costs ~0.5 ms
    else:
        peeks = {p: peek(p) for p in paths}
        assignments, base = _from_stamps(paths, {p: peeks[p].assignment for p in paths})
    refused = [_refused(p, peeks[p], a, base) for p, a in zip(paths, assignments, strict=True) if isinstance(a, str)]
    assignments = [own_copy(peeks[p], a) if p in peeks else a for p, a in zip(paths, assignments, strict=True)]
    notes: list[str] = []
    if gradescope:
        chosen, problem, notes = gradescope_upload(paths, found.skipped, base)
        refused = [r for r in refused if Path(r.file) in chosen]
        if problem is not None or refused:
            return GradingPlan(jobs=[], base=base, skipped=found.skipped, extra=[problem] if problem else refused)
        assignments = [a for p, a in zip(paths, assignments, strict=True) if p in chosen]
        paths = chosen
    jobs = [Job(p, a, options) for p, a in zip(paths, assignments, strict=True) if not isinstance(a, str)]
    return GradingPlan(jobs=jobs, base=base, skipped=found.skipped, notes=notes, upload_notes=notes,
                       extra=refused)


def shared_stamps(results: list[GradeResult], plan: GradingPlan) -> list[str]:
    """Without a roster nothing is superseded, but files stamped for one student are worth a look (a result's
    student id comes from its workbook's stamp when there is no manifest)."""
    if plan.roster:
        return []
    by_student: dict[str, list[str]] = {}
    for r in results:
        if r.student_id and r.file:
            by_student.setdefault(r.student_id, []).append(r.file)
    return [f"{len(files)} files carry the stamp of student {sid}: {', '.join(files)} (one "
            "student's workbook handed in twice, or copied; grade with --manifest to keep the latest)"
            for sid, files in by_student.items() if len(files) > 1]
