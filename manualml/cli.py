"""The `manualml` command: a thin layer over the library.

Heavy libraries (openpyxl, numpy, pandas) are
imported inside the commands, so `manualml --help` starts instantly. Library errors
become click errors here and nowhere else: a user never sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click


def _friendly(func):
    """Turn the packages' own errors into one-line click errors."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from grader.errors import GraderError
        from workbook.errors import WorkbookError

        try:
            return func(*args, **kwargs)
        except (WorkbookError, GraderError) as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # writing a gradebook into a read-only folder, a full disk...
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="manualml")
def main() -> None:
    """Teach neural networks in a spreadsheet: generate live workbooks, grade them with NumPy."""


@main.command("templates")
def templates_cmd() -> None:
    """List the built-in assignment templates."""
    from workbook.catalog import builtin_templates

    for t in builtin_templates():
        click.echo(f"{t.name:<26} {t.description}")


@main.command("validate-template")
@click.argument("template")
@_friendly
def validate_template(template: str) -> None:
    """Check a template (built-in name or .toml path) and summarise it."""
    from workbook.catalog import load_any, resolve_template
    from workbook.lecture.template import LectureTemplate
    from workbook.model import loss

    a = load_any(template)
    click.echo(f"{resolve_template(template)}: OK")
    if isinstance(a, LectureTemplate):
        click.echo(f"  {a.title}: lecture sheets {', '.join(kind for kind, _ in a.sheets)}")
        if len(a.graded_kinds) == 1:
            g = a.gradable()
            click.echo(f"  graded by {g.metric_abbr}: baseline {g.metric(g.start):,.6g}, "
                       f"{g.rubric.max_points:g} points")
        return
    click.echo(f"  {a.title}: network {a.network.shape}, {len(a.data.rows)} rows, metric {a.metric}, "
               f"baseline {a.metric_abbr} {loss(a):,.6g}, {a.rubric.max_points:g} points")


@main.command("generate")
@click.option("-t", "--template", default=None, help="Built-in template name or path to a .toml file "
              "(default: house-prices, the lecture's sheet).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Workbook to write (default: <template id>.xlsx in the current folder).")
@click.option("--password", default=None, help="Protect the sheet with this password (default: none).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV of students (student id, name, email): one signed workbook each, plus manifest.json.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the class set (with --roster; default: <template id>-class).")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File holding the signing secret (default: the MANUALML_SECRET environment variable).")
@click.option("-j", "--jobs", type=int, default=None, help="Worker processes for a class set (default: all cores).")
@_friendly
def generate(template, output, password, roster, out_dir, key_file, jobs) -> None:
    """Write an assignment workbook (or, with --roster, one per student)."""
    import os

    from workbook.builder import build_workbook
    from workbook.catalog import load_any, resolve_template
    from workbook.lecture.template import LectureTemplate
    from workbook.model import loss

    a = load_any(template)
    if isinstance(a, LectureTemplate):
        if roster is not None:
            raise _UsageProblem("--roster makes per-student workbooks of manual-ML templates; a lecture template "
                                "is the same for everyone: generate it once and share the file")
        from workbook.lecture.book import build_lecture

        path = build_lecture(a, output or Path(f"{a.id}.xlsx"))
        click.echo(f"Wrote {path.resolve()}")
        click.echo(f"  {a.title}: sheets {', '.join(kind for kind, _ in a.sheets)}")
        return
    _warn_unreachable(a)
    if roster is None:
        path = build_workbook(a, output or Path(f"{a.id}.xlsx"), password=password)
        click.echo(f"Wrote {path.resolve()}")
        click.echo(f"  {a.title}: network {a.network.shape}, {len(a.data.rows)} rows, "
                   f"baseline {a.metric_abbr} {loss(a):,.6g}")
        return
    from workbook.roster import generate_class, load_secret, read_roster

    students = read_roster(roster)
    secret = load_secret(key_file)
    folder = out_dir or Path(f"{a.id}-class")
    with click.progressbar(length=len(students), label="Generating", file=sys.stderr) as bar:
        manifest = generate_class(a, students, folder, template_path=resolve_template(template), secret=secret,
                                  password=password, workers=jobs or os.cpu_count() or 1, progress=bar.update)
    click.echo(f"Wrote {len(students)} workbooks and {manifest.resolve()}")


def _warn_unreachable(a) -> None:
    """A rubric asking for more than the network can reach is a trap for students: say so."""
    if a.data.X.shape[0] > 200 or len(a.weights) > 60:
        return  # solving big templates takes a while: run `manualml solve` explicitly
    from workbook.solve import solve

    best = solve(a, starts=6, steps=1500)
    needed = [t.min_improvement for t in a.rubric.tiers if t.points >= a.rubric.max_points
              and t.min_improvement is not None]
    if a.rubric.partial_credit == "linear":
        needed.append(a.rubric.full_improvement)
    if needed and min(needed) > best.improvement + 1e-9:
        click.echo(f"Warning: full marks need Improvement >= {min(needed):.1%}, but the best found by "
                   f"`manualml solve` is {best.improvement:.1%}", err=True)


@main.command("solve")
@click.option("-t", "--template", default=None, help="Built-in template name or .toml path.")
@click.option("--starts", default=20, show_default=True, help="Random starts.")
@click.option("--steps", default=3000, show_default=True, help="Training steps per start.")
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same answer).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a solution workbook with the best weights.")
@_friendly
def solve_cmd(template, starts, steps, seed, output) -> None:
    """Find the best loss the network can reach on the template's data (reference solution)."""
    from workbook.builder import build_workbook
    from workbook.catalog import load_any
    from workbook.lecture.template import LectureTemplate
    from workbook.solve import solve

    a = load_any(template)
    if isinstance(a, LectureTemplate):
        _solve_lecture(a, output)
        return
    best = solve(a, starts=starts, steps=steps, seed=seed)
    click.echo(f"{a.title}: best {a.metric_abbr} {best.metric:.6g} (baseline {best.baseline:.6g}), "
               f"improvement {best.improvement:.2%}, {a.rubric.points(best.improvement, best.metric):g} of "
               f"{a.rubric.max_points:g} points")
    for name, value in best.weights.items():
        click.echo(f"  {name} = {value:.6g}")
    if output:
        click.echo(f"Wrote {build_workbook(a, output, weights=best.weights).resolve()} (solution)")


def _solve_lecture(t, output: Path | None) -> None:
    """The graded lecture sheets have exact answers: the normal equation, the perceptron rule."""
    from workbook.lecture.book import build_lecture
    from workbook.lecture.template import SHEETS

    g = t.gradable()
    params = SHEETS[g.kind].solve(g.settings)
    value, baseline = g.metric(params), g.metric(g.start)
    gain = g.improvement(value)
    how = "normal equation" if g.kind == "linear-regression" else "perceptron learning rule"
    click.echo(f"{t.title}: best {g.metric_abbr} {value:.6g} by the {how} (baseline {baseline:.6g}), "
               f"improvement {gain:.2%}, {g.rubric.points(gain, value):g} of {g.rubric.max_points:g} points")
    shown = params if len(params) <= 20 else {k: v for k, v in params.items() if v != 0}
    if len(shown) > 20:
        click.echo(f"  {len(shown)} non-zero values (write them into a workbook with -o)")
    else:
        for name, v in shown.items():
            click.echo(f"  {name} = {v:.6g}")
    if output:
        click.echo(f"Wrote {build_lecture(t, output, params=params).resolve()} (solution)")


@main.command("render")
@click.argument("workbook_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("-t", "--template", default=None, help="Render a freshly generated template instead of a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("sheet.png"),
              help="PNG (or .pdf) to write.")
@click.option("--page", default=None, type=int, help="Page to render (default: the main sheet's first page).")
@_friendly
def render(workbook_file: Path | None, template: str | None, output: Path, page: int | None) -> None:
    """Render a workbook as LibreOffice computes and draws it (needs LibreOffice)."""
    import tempfile

    from workbook import libreoffice
    from workbook.builder import build_workbook
    from workbook.catalog import load_any
    from workbook.lecture.book import build_lecture
    from workbook.lecture.template import LectureTemplate

    with tempfile.TemporaryDirectory() as tmp:
        if workbook_file is None:
            a = load_any(template)
            build = build_lecture if isinstance(a, LectureTemplate) else build_workbook
            workbook_file = build(a, Path(tmp) / "sheet.xlsx")
        if output.suffix.lower() == ".pdf":
            libreoffice.render_pdf(workbook_file, output)
        else:
            libreoffice.render(workbook_file, output, page=page)
    click.echo(f"Wrote {output.resolve()}")


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot create its folder ({exc.strerror or exc})") from None


class _UsageProblem(click.ClickException):
    """A bad template, option or input list: exit code 2, like click's own usage errors."""

    exit_code = 2


@main.command("grade")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-t", "--template", default=None, help="Built-in template name or .toml path the files were made from.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A class manifest.json: grade each student against their own variant.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Signing secret for --manifest (default: MANUALML_SECRET).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the gradebook CSV.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every result and finding as JSON.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown feedback file per submission into this folder.")
@click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Gradescope results.json (exactly one submission).")
@click.option("--canvas", "canvas_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Canvas gradebook import CSV.")
@click.option("--canvas-assignment-id", default="", help="Canvas assignment id for the column header.")
@click.option("--moodle", "moodle_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Moodle gradebook import CSV.")
@click.option("--similarity", "similarity_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write pairs of students with identical or nearly identical weights.")
@click.option("--on-finding", type=click.Choice(["report", "zero"]), default=None,
              help="What an integrity finding does to the score (default: the template's [integrity] setting).")
@click.option("-j", "--jobs", type=int, default=None, help="Worker processes (default: one per core).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds allowed per file.")
@_friendly
def grade(submissions, template, manifest, key_file, csv_path, json_path, feedback_dir, gradescope_path,
          canvas_path, canvas_assignment_id, moodle_path, similarity_path, on_finding, jobs, timeout):
    """Grade submitted workbooks (files or folders) against an assignment.

    Exit code 0: every file graded; 1: some files could not be graded; 2: usage error.
    """
    from grader import report
    from grader.batch import Job, find_submissions, grade_jobs
    from workbook.catalog import load_any
    from workbook.errors import WorkbookError
    from workbook.lecture.template import LectureTemplate

    missing = [str(p) for p in submissions if not p.exists()]
    if missing:
        raise _UsageProblem(f"no such file or folder: {', '.join(missing)}")
    paths = find_submissions(submissions)
    if not paths and not manifest:
        raise _UsageProblem(f"no .xlsx, .xlsm or .ods files found in {', '.join(map(str, submissions))}")
    if gradescope_path and len(paths) != 1:
        raise _UsageProblem(f"--gradescope writes the results of exactly one submission; {len(paths)} found")
    options = {"on_finding": on_finding} if on_finding else {}
    roster: dict[str, dict] = {}
    try:
        if manifest:
            from grader.classroom import missing_results, plan
            from workbook.roster import load_secret, read_manifest

            secret = load_secret(key_file, required=read_manifest(manifest).get("signed", False))
            class_plan = plan(manifest, paths, template=template, secret=secret, options=options)
            jobs_list, base = class_plan.jobs, class_plan.base
            roster = {e["id"]: e for e in read_manifest(manifest)["students"]}
        else:
            base = load_any(template)
            if isinstance(base, LectureTemplate):
                base = base.gradable()
            jobs_list = [Job(p, base, options) for p in paths]
    except WorkbookError as exc:
        raise _UsageProblem(str(exc)) from None
    with click.progressbar(length=len(jobs_list), label="Grading", file=sys.stderr) as bar:
        results = grade_jobs(jobs_list, workers=jobs, timeout=timeout, progress=bar.update)
    assignments = [j.assignment for j in jobs_list]
    if manifest:
        for path in class_plan.unmatched:
            click.echo(f"Note: {path} names no student in the manifest; graded against the base template", err=True)
        absent = missing_results(class_plan)
        results, assignments = results + absent, assignments + [base] * len(absent)
    click.echo(report.table(results))
    _write_outputs(results, assignments, csv_path, json_path, feedback_dir, gradescope_path)
    if canvas_path or moodle_path:
        from grader import exports

        for path in (canvas_path, moodle_path):
            if path:
                _ensure_parent(path)
        if canvas_path:
            exports.write_canvas(results, base, canvas_path, roster=roster, canvas_assignment_id=canvas_assignment_id)
            click.echo(f"Canvas: {canvas_path}")
        if moodle_path:
            exports.write_moodle(results, base, moodle_path, roster=roster)
            click.echo(f"Moodle: {moodle_path}")
    if similarity_path:
        from grader.similarity import similar_pairs, write_similarity

        starting = {e["id"]: e["variant"]["weights"] for e in roster.values()} if roster else None
        pairs = similar_pairs(results, starting=starting)
        _ensure_parent(similarity_path)
        write_similarity(pairs, similarity_path)
        click.echo(f"Similarity: {len(pairs)} pair(s) in {similarity_path}")
    sys.exit(1 if any(r.status == "error" for r in results) else 0)


def _write_outputs(results, assignments, csv_path, json_path, feedback_dir, gradescope_path) -> None:
    from grader import report

    for path in (csv_path, json_path, gradescope_path):
        if path:
            _ensure_parent(path)
    if csv_path:
        click.echo(f"Gradebook: {report.write_csv(results, csv_path)}")
    if json_path:
        click.echo(f"Results: {report.write_json(results, json_path)}")
    if feedback_dir:
        written = report.write_feedback(results, assignments, feedback_dir)
        click.echo(f"Feedback: {len(written)} file(s) in {feedback_dir}")
    if gradescope_path:
        click.echo(f"Gradescope: {report.write_gradescope(results[0], assignments[0], gradescope_path)}")

