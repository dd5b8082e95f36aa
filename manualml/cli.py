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
        from manualml.api import USER_ERRORS, UsageError

        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise _UsageProblem(str(exc)) from None
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:  # `manualml solve | head`: the reader has gone; click ends quietly (exit 1)
            raise
        except OSError as exc:  # writing a gradebook into a read-only folder, a full disk...
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="manualml")
def main() -> None:
    """Teach neural networks in a spreadsheet: generate live workbooks, grade them with NumPy."""


def _show(outcome) -> None:
    """Print what a library call reports: warnings on stderr first, then its lines."""
    for warning in outcome.warnings:
        click.echo(warning, err=True)
    for line in outcome.lines:
        click.echo(line)


class _UsageProblem(click.ClickException):
    """A bad template, option or input list: exit code 2, like click's own usage errors."""

    exit_code = 2


def _bar(label: str):
    """A progress bar on stderr, for `api` functions that take a `progress_factory`; None when stderr is not a
    terminal (a log, Gradescope's output, a pipe), where click would print the bare label "Grading" alone."""
    if not sys.stderr.isatty():
        return None
    return lambda n: click.progressbar(length=n, label=label, file=sys.stderr)


@main.command("templates")
def templates_cmd() -> None:
    """List the built-in assignment templates."""
    from manualml import api

    _show(api.templates())


@main.command("validate-template")
@click.argument("template")
@_friendly
def validate_template(template: str) -> None:
    """Check a template (built-in name or .toml path) and summarise it."""
    from manualml import api

    _show(api.validate(template=template))


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
@click.option("--id-column", default=None, metavar="NAME",
              help="The roster's student id column (default: found by name: student id, student number, ...).")
@click.option("--force", is_flag=True, help="Replace the class set already in --out-dir, deleting its workbooks "
              "that the new set does not overwrite.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File holding the signing secret (default: MANUALML_SECRET, else the one in "
              "~/.config/manualml/secret, created if missing).")
@click.option("-j", "--jobs", type=int, default=None, help="Worker processes for a class set (default: all cores).")
@_friendly
def generate(template, output, password, roster, out_dir, id_column, force, key_file, jobs) -> None:
    """Write an assignment workbook (.xlsx, or .ods through LibreOffice; or, with --roster, one per student)."""
    from manualml import api

    _show(api.generate(template=template, output=output, password=password, roster=roster, out_dir=out_dir,
                       key_file=key_file, workers=jobs, progress_factory=_bar("Generating"), force=force,
                       id_column=id_column))
    _no_collection_at_exit()


def _no_collection_at_exit() -> None:
    """When this process ends, its garbage collector is not to walk what is left (gc.freeze, from atexit).

    After a class set (or a class's grading), the objects of openpyxl, NumPy, the grader and a thousand
    manifest entries (or results) are still alive, and the collections of the interpreter's shutdown
    walked them all for nothing: 35 ms between the last line printed and the shell's prompt, for memory
    the system takes back anyway. Everything is written and closed by then (tests/test_startup_exit.py),
    so skipping the collection loses nothing; the atexit callbacks themselves still run, and so does the
    normal exit with its code. From atexit, not here: a caller running this command in-process (click's
    CliRunner) keeps a normal collector.
    """
    import atexit
    import gc

    atexit.unregister(gc.freeze)  # once, however many times the command ran in this process
    atexit.register(gc.freeze)


@main.command("solve")
@click.option("-t", "--template", default=None, help="Built-in template name or .toml path.")
@click.option("--starts", type=click.IntRange(min=1), default=None,
              help="Random starts, all trained at once (default: 64; fewer for big data sets).")
@click.option("--steps", type=click.IntRange(min=0), default=None,
              help="Levenberg-Marquardt steps per start (default: 150).")
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same answer).")
@click.option("--round", "decimals", type=click.IntRange(0, 12), default=None, metavar="N",
              help="Weights rounded to N decimals, refined after rounding, and their own loss: what a student "
              "would type.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a solution workbook with the best weights.")
@_friendly
def solve_cmd(template, starts, steps, seed, decimals, output) -> None:
    """Find the best loss the network can reach on the template's data (reference solution)."""
    from manualml import api

    bar = _bar("Solving")  # a bar only where someone watches it
    _show(api.solve(template=template, starts=starts, steps=steps, seed=seed, decimals=decimals, output=output,
                    progress_factory=bar))


@main.command("render")
@click.argument("workbook_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("-t", "--template", default=None, help="Render a freshly generated template instead of a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("sheet.png"),
              help="Image (.png, .jpg) of one page, or .pdf of the whole workbook.")
@click.option("--page", default=None, type=click.IntRange(min=1),
              help="Page to render (default: the main sheet's first page).")
@click.option("--dpi", default=None, type=click.IntRange(20, 1200), help="Image resolution (default: 110).")
@_friendly
def render(workbook_file: Path | None, template: str | None, output: Path, page: int | None,
           dpi: int | None) -> None:
    """Render a workbook as LibreOffice computes and draws it (needs LibreOffice)."""
    from manualml import api

    _show(api.render(output=output, workbook_file=workbook_file, template=template, page=page, dpi=dpi))


@main.command("check")
@click.argument("workbook_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-t", "--template", default=None,
              help="Template the workbook was made from (default: the built-in one its stamp names).")
@_friendly
def check_cmd(workbook_file: Path, template: str | None) -> None:
    """Check your own workbook before you hand it in: your error, points and what the grader will notice."""
    from manualml import api

    outcome = api.check(workbook_file=workbook_file, template=template)
    _show(outcome)
    sys.exit(outcome.exit_code)


@main.command("grade")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-t", "--template", default=None, help="Built-in template name or .toml path the files were made from.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A class manifest.json: grade each student against their own variant.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Signing secret for --manifest (default: MANUALML_SECRET, else ~/.config/manualml/secret).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the gradebook CSV.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every result and finding as JSON.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown feedback file per submission into this folder.")
@click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Gradescope results.json: the one workbook among the uploads (always written).")
@click.option("--canvas", "canvas_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Canvas gradebook import CSV.")
@click.option("--canvas-assignment-id", default="", help="Canvas assignment id for the column header.")
@click.option("--moodle", "moodle_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Moodle gradebook import CSV.")
@click.option("--similarity", "similarity_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write groups of students with identical or nearly identical weights (a CSV, one row a group; "
                   "two workbooks both still at their starting weights are not grouped).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the class report: one self-contained HTML page (charts, findings, links to feedback).")
@click.option("--on-finding", type=click.Choice(["report", "zero"]), default=None,
              help="What an integrity finding does to the score (default: the template's [integrity] setting).")
@click.option("-j", "--jobs", type=int, default=None, help="Worker processes (default: one per core).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds allowed per file.")
@_friendly
def grade(submissions, template, manifest, key_file, csv_path, json_path, feedback_dir, gradescope_path,
          canvas_path, canvas_assignment_id, moodle_path, similarity_path, report_path, on_finding, jobs, timeout):
    """Grade submitted workbooks (files or folders) against an assignment.

    Exit code 0: every file and roster student graded; 1: some file or roster student without a grade;
    2: usage error (a wrong signing key included). With --gradescope: 0 once results.json is written.
    """
    from manualml import api

    outputs = api.GradeOutputs(csv=csv_path, json=json_path, feedback=feedback_dir, gradescope=gradescope_path,
                               canvas=canvas_path, canvas_assignment_id=canvas_assignment_id, moodle=moodle_path,
                               similarity=similarity_path, report=report_path)
    outcome = api.grade(submissions=submissions, template=template, manifest=manifest, key_file=key_file,
                        on_finding=on_finding, workers=jobs, timeout=timeout, outputs=outputs,
                        progress_factory=_bar("Grading"))
    _show(outcome)
    _no_collection_at_exit()
    sys.exit(outcome.exit_code)
