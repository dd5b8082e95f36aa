"""The library API (`manualml.api`): keyword-only calls, and generate's self-check of what it wrote."""

from __future__ import annotations

import inspect

import pytest
from click.testing import CliRunner

from manualml import api
from manualml.cli import main
from workbook.catalog import builtin_templates


@pytest.mark.parametrize("name", ["validate", "generate", "solve", "render", "grade"])
def test_every_api_function_is_keyword_only(name):
    params = inspect.signature(getattr(api, name)).parameters.values()
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


@pytest.mark.parametrize("template", [t.name for t in builtin_templates()])
def test_every_builtin_template_generates_and_grades_as_issued(template, tmp_path):
    outcome = api.generate(template=template, output=tmp_path / f"{template}.xlsx")
    (path,) = outcome.paths
    assert path.is_file() and outcome.lines[0] == f"Wrote {path.resolve()}"
    # the self-check graded it: a second, independent look through the grader agrees
    from grader.grade import grade_file
    from workbook.lecture.template import LectureTemplate

    a = outcome.data
    if isinstance(a, LectureTemplate):
        if len(a.graded_kinds) != 1:
            return
        a = a.gradable()
    result = grade_file(path, a)
    assert result.status == "graded"
    assert {f.code for f in result.findings} <= {"not-recalculated"}
    assert result.improvement == 0


def test_a_workbook_that_does_not_grade_as_issued_is_an_error_and_is_removed(tmp_path, monkeypatch):
    import workbook.builder

    real = workbook.builder.loss
    monkeypatch.setattr(workbook.builder, "loss", lambda a: real(a) + 1.0)  # a builder bug: a wrong baseline
    target = tmp_path / "hp.xlsx"
    result = CliRunner().invoke(main, ["generate", "-o", str(target)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: house-prices: the workbook written to {target} does not grade as "
                                    "issued (baseline-edited at 'Manual Machine Learning'!M14: the baseline cell M14 "
                                    "should be 3731.39 but is 3732.39; the issued baseline is used); it was removed.")
    assert not target.exists()


def _double_the_baseline(monkeypatch, which) -> None:
    """A class-set bug: the students `which` picks get a stamped baseline twice their starting loss."""
    from workbook import builder, package
    from workbook.model import loss

    def write_student(self, path, a, *, student_id, student_name="", properties=None, fwd=None):
        baseline = loss(a) * (2 if which(a) else 1)
        parts = self.parts(a, student_id=student_id, student_name=student_name, properties=properties,
                           baseline=baseline)
        return package.write_hashed(parts, path), baseline

    monkeypatch.setattr(builder.AssignmentBook, "write_student", write_student)


def test_a_class_set_that_does_not_grade_as_issued_is_removed(tmp_path, monkeypatch):
    # a class-set bug: every student's stamped baseline twice what it is (the grader's own model is untouched)
    _double_the_baseline(monkeypatch, lambda v: True)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    monkeypatch.setenv("MANUALML_SECRET", "k")
    out = tmp_path / "class"
    with pytest.raises(api.SelfCheckError, match=r"^house-prices-sigmoid: .*s1\.xlsx does not grade as issued "
                                                 r"\(baseline-edited at "):
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1)
    assert sorted(p.name for p in out.iterdir()) == []


def test_a_class_file_written_by_a_forked_worker_is_checked_too(tmp_path, monkeypatch):
    """The sampled files are graded in the process that wrote them: the last student's file is written by
    the forked worker, and its wrong baseline removes the whole set."""
    from workbook.catalog import load
    from workbook.roster import variant

    last = variant(load("house-prices-sigmoid"), "s119").weights
    _double_the_baseline(monkeypatch, lambda v: v.weights == last)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\n" + "".join(f"s{i},N {i}\n" for i in range(120)), encoding="utf-8")
    monkeypatch.setenv("MANUALML_SECRET", "k")
    out = tmp_path / "class"
    with pytest.raises(api.SelfCheckError, match=r"^house-prices-sigmoid: .*s119\.xlsx does not grade as issued "
                                                 r"\(baseline-edited at "):
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=2)
    assert sorted(p.name for p in out.iterdir()) == []


def test_a_class_plan_that_gives_a_file_to_another_student_fails_the_check(tmp_path, monkeypatch):
    import grader.classroom

    real = grader.classroom.plan

    def swapped(manifest, files, **kwargs):  # a manifest bug: the first file is matched to the second student
        made = real(manifest, files, **kwargs)
        made.jobs[0].options["student_id"] = made.jobs[1].options["student_id"]
        return made

    monkeypatch.setattr(grader.classroom, "plan", swapped)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    monkeypatch.setenv("MANUALML_SECRET", "k")
    out = tmp_path / "class"
    with pytest.raises(api.SelfCheckError, match=r"^house-prices-sigmoid: .*s1\.xlsx does not grade as issued "
                                                 r"\(the class plan gives it to 's2'\)"):
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1)
    assert sorted(p.name for p in out.iterdir()) == []


def test_usage_errors_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "nothing-here")])
    assert result.exit_code == 2
    assert result.output == f"Error: no such file or folder: {tmp_path / 'nothing-here'}\n"


def test_python_dash_m_manualml_runs_the_cli():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "manualml", "templates"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines()[0].startswith("house-prices ")


def test_listing_templates_imports_no_heavy_library():
    """`manualml --help` and `manualml templates` start fast: numpy, pandas and openpyxl load only when used."""
    import subprocess
    import sys

    probe = ("import sys\nfrom manualml.cli import main\nsys.argv = ['manualml', 'templates']\ntry:\n    main()\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('numpy', 'pandas', 'openpyxl') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("house-prices ") and lines[-1] == "[]"


def test_big_class_sets_are_checked_on_an_even_sample():
    from pathlib import Path

    files = [Path(f"s{i:04d}.xlsx") for i in range(1000)]
    sample = api.check_sample(files)
    assert len(sample) == len(set(sample)) == api.CHECK_EVERY_FILE_UP_TO == 100
    assert sample[0] == files[0] and sample[-1] == files[-1] and sample[1] == files[10]
    assert api.check_sample(files[:100]) == files[:100]


def test_validate_names_the_teaching_sheets(tmp_path):
    from workbook.catalog import resolve_template

    text = resolve_template("house-prices").read_text(encoding="utf-8")
    own = tmp_path / "taught.toml"
    own.write_text(text + "\n[hints]\ngradient = true\n\n[descent]\nsteps = 20\neta = 0.001\ndecay = 0.1\n",
                   encoding="utf-8")
    lines = api.validate(template=own).lines
    assert lines[0] == f"{own}: OK"
    assert lines[-2:] == ("  live gradients beside every weight, backprop on a 'Gradients' sheet ([hints])",
                          "  a 'Descent' sheet: 20 steps of gradient descent from the student's weights, eta 0.001, "
                          "decay 0.1 ([descent])")
    assert not any("Gradients" in line for line in api.validate(template="house-prices").lines)


def test_a_network_that_fits_every_row_is_solved_to_about_zero():
    line = api.solve(template="house-prices").lines[0]
    assert line.startswith("Manual Machine Learning: house prices: best RMSE ≈ 0 (baseline 3731.39), "
                           "predicting the average 221.743, improvement 100.00%, 10 of 10 points")


def test_a_closed_pipe_ends_the_command_quietly():
    """`manualml solve | head -1`: the reader went away; no 'Error: Broken pipe', no traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE (Python ignores SIGPIPE)
    try:
        done = subprocess.run([sys.executable, "-m", "manualml", "solve"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize("kind, sheet", [("linear-regression", "Linear Regression"), ("perceptron", "Perceptron")])
def test_the_lecture_workbook_is_checked_on_each_graded_sheet(tmp_path, monkeypatch, kind, sheet):
    """A builder bug on either graded lecture sheet (here: its baseline written one higher) stops
    `generate -t lecture` as it stops `generate -t lecture-<sheet>`; the file is removed."""
    from dataclasses import replace

    from workbook.lecture import common
    from workbook.lecture.template import SHEETS

    real, module = common.write, SHEETS[kind]

    def buggy(ws, regions, params=None):
        if ws.title == sheet:
            regions = [replace(r, values=(r.values[0] + 1,)) if r.key == "baseline" else r for r in regions]
        return real(ws, regions, params)

    monkeypatch.setattr(common, "write", buggy)
    assert module.__name__.startswith("workbook.lecture.")
    target = tmp_path / "lecture.xlsx"
    with pytest.raises(api.SelfCheckError, match=rf"^lecture: the workbook written to .*lecture\.xlsx \(sheet "
                                                 rf"'{sheet}'\) does not grade as issued \(baseline-edited at "):
        api.generate(template="lecture", output=target)
    assert not target.exists()
    monkeypatch.setattr(common, "write", real)
    api.generate(template="lecture", output=target)  # as built: both graded sheets grade as issued
    assert target.exists()
