"""Refuse, don't score: another assignment's workbook, or a workbook that is not the assignment at all."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from grader.grade import grade_file
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import load, load_any, templates_dir
from workbook.lecture.book import build_lecture


@pytest.fixture(scope="module")
def ice_cream(tmp_path_factory):
    """A course's own template: the house-prices network and data under another assignment id."""
    folder = tmp_path_factory.mktemp("ice")
    text = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
    path = folder / "icecream.toml"
    path.write_text(text.replace('id = "house-prices"', 'id = "ice-cream"', 1), encoding="utf-8")
    for extra in templates_dir().glob("house-prices*.csv"):
        shutil.copy(extra, folder)
    return load(path)


def test_another_assignments_workbook_is_refused(tmp_path, ice_cream):
    assert ice_cream.id == "ice-cream"
    hp = build_workbook(load("house-prices"), tmp_path / "s001.xlsx")
    r = grade_file(hp, ice_cream)
    assert (r.status, r.error_code, r.error) == ("error", "other-assignment", "this is the workbook for "
                                                 "'house-prices': grade it with -t house-prices")
    ice = build_workbook(ice_cream, tmp_path / "ice.xlsx")
    r = grade_file(ice, load("house-prices"))
    # not "-t ice-cream": no built-in has that name, so that -t is a usage error
    assert r.error == ("this is the workbook for 'ice-cream': grade it with -t FILE.toml (the template the workbook "
                       "was made from, id 'ice-cream')")
    assert grade_file(ice, ice_cream).status == "graded"


def test_workbooks_made_elsewhere_are_refused(tmp_path, soffice):
    """A workbook from openpyxl and one LibreOffice made from a CSV: no stamp, no sheet, no weight names."""
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B2"] = "budget", 12.5
    wb.save(tmp_path / "budget.xlsx")
    (tmp_path / "prices.csv").write_text("area,price\n85,200\n120,260\n")
    (made,) = libreoffice.recalculate([tmp_path / "prices.csv"], tmp_path / "lo")
    (as_ods,) = libreoffice.recalculate([tmp_path / "prices.csv"], tmp_path / "lo", fmt="ods")
    for path in (tmp_path / "budget.xlsx", made, as_ods):
        r = grade_file(path, load("house-prices"))
        assert (r.status, r.error_code, r.error) == ("error", "not-the-workbook", "not the house-prices workbook: "
                                                     "hand in the workbook you were given"), path
    r = grade_file(made, load_any("lecture-perceptron").gradable())
    assert r.error == "not the lecture-perceptron workbook: hand in the workbook you were given"


def test_our_workbook_without_its_stamp_is_still_graded(tmp_path):
    """Properties stripped (some tools drop them): the sheet and names say it is ours; the missing stamp is a
    finding, not a refusal."""
    from tests.submissions import rewrite_member

    src = build_workbook(load("house-prices"), tmp_path / "issued.xlsx")
    stripped = rewrite_member(src, tmp_path / "nostamp.xlsx", "docProps/custom.xml",
                              lambda x: x.replace("manualml_", "other_"))
    r = grade_file(stripped, load("house-prices"))
    assert r.status == "graded" and "no-stamp" in [f.code for f in r.findings]


def test_lecture_workbook_graded_for_one_of_its_sheets(tmp_path):
    """`generate -t lecture` then grading with -t lecture-linear-regression: the same assignment."""
    lecture = build_lecture(load_any("lecture"), tmp_path / "lecture.xlsx")
    g = load_any("lecture-linear-regression").gradable()
    r = grade_file(lecture, g)
    assert r.status == "graded", r.error
    assert "wrong-assignment" not in [f.code for f in r.findings]
    alone = grade_file(build_lecture(load_any("lecture-linear-regression"), tmp_path / "lr.xlsx"), g)
    assert (r.metric, r.baseline, r.points) == (alone.metric, alone.baseline, alone.points)
    r = grade_file(lecture, load("house-prices"))  # its Manual Machine Learning sheet is house-prices'
    assert r.status == "graded" and [f.code for f in r.findings] == []  # its results are cached
    assert r.baseline == pytest.approx(grade_file(build_workbook(load("house-prices"), tmp_path / "hp.xlsx"),
                                                  load("house-prices")).baseline)
    r = grade_file(lecture, load("house-prices-sigmoid"))
    # not "grade it with -t lecture": that -t is refused (it has several graded sheets)
    assert r.error == f"this is the workbook for 'lecture', which has 3 graded sheets: {EACH}"


EACH = ("grade each on its own with -t lecture-perceptron, -t lecture-linear-regression or -t house-prices (its "
        "Manual Machine Learning sheet)")


def test_the_whole_lecture_is_refused_naming_each_graded_sheet(tmp_path):
    """`generate -t lecture` then `grade lecture.xlsx`: it was graded as house-prices (its Manual Machine Learning
    sheet, RMSE 3,731.39, ok, exit 0) without a word about Linear Regression and Perceptron; `-t lecture` was a
    bare usage error. Both now say which -t grades each graded sheet, and each of those grades it."""
    from click.testing import CliRunner

    from manualml.cli import main

    runner = CliRunner()
    book = tmp_path / "lecture.xlsx"
    assert runner.invoke(main, ["generate", "-t", "lecture", "-o", str(book)]).exit_code == 0
    plain = runner.invoke(main, ["grade", str(book)])
    assert plain.exit_code == 1
    said = " ".join(plain.output.split())
    assert f"lecture.xlsx — — — — several-sheets the lecture workbook 'lecture' has 3 graded sheets: {EACH} " \
           "0 of 1 graded; 1 could not be graded." in said, plain.output
    whole = runner.invoke(main, ["grade", str(book), "-t", "lecture"])
    assert (whole.exit_code, whole.output) == (2, f"Error: lecture: the lecture template 'lecture' has 3 graded "
                                                  f"sheets: {EACH}\n")
    for option, metric in (("lecture-perceptron", "ACCURACY"), ("lecture-linear-regression", "RMSE"),
                           ("house-prices", "RMSE")):
        one = runner.invoke(main, ["grade", str(book), "-t", option])
        assert one.exit_code == 0 and metric in one.output.splitlines()[0] and "1 of 1 graded." in one.output, \
            (option, one.output)
    gradescope = tmp_path / "results.json"  # an upload with no -t: the reason is the student's result
    assert runner.invoke(main, ["grade", str(book), "--gradescope", str(gradescope)]).exit_code == 0
    import json

    assert json.loads(gradescope.read_text("utf-8"))["output"] == (
        f"This file could not be graded: the lecture workbook 'lecture' has 3 graded sheets: {EACH}")


def test_gnumeric_made_and_gnumeric_saved(tmp_path, ssconvert):
    """Another program: a sheet Gnumeric made from a CSV is refused; our workbook saved by Gnumeric is graded."""
    from workbook import gnumeric

    (tmp_path / "prices.csv").write_text("area,price\n85,200\n120,260\n")
    ours = build_workbook(load("house-prices"), tmp_path / "ours.xlsx")
    made, saved = gnumeric.recalculate([tmp_path / "prices.csv", ours], tmp_path / "gnumeric")
    r = grade_file(made, load("house-prices"))
    assert (r.error_code, r.error) == ("not-the-workbook", "not the house-prices workbook: hand in the workbook "
                                                           "you were given")
    r = grade_file(saved, load("house-prices"))
    assert r.status == "graded", r.error
    assert r.metric == pytest.approx(grade_file(ours, load("house-prices")).metric)


def test_the_hint_for_a_custom_template_can_be_followed(tmp_path):
    """`generate -t my.toml` (id "my-course"), then `grade my.xlsx`: the hint names the template file, since
    `grade my.xlsx -t my-course` is a usage error (no built-in template of that name); `-t my.toml` grades it."""
    from click.testing import CliRunner

    from manualml.cli import main

    text = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
    toml = tmp_path / "my.toml"
    toml.write_text(text.replace('id = "house-prices"', 'id = "my-course"', 1), encoding="utf-8")
    for extra in templates_dir().glob("house-prices*.csv"):
        shutil.copy(extra, tmp_path)
    runner = CliRunner()
    book = tmp_path / "my.xlsx"
    assert runner.invoke(main, ["generate", "-t", str(toml), "-o", str(book)]).exit_code == 0
    refused = runner.invoke(main, ["grade", str(book)])
    assert refused.exit_code == 1
    assert ("this is the workbook for 'my-course': grade it with -t FILE.toml (the template the workbook was made "
            "from, id 'my-course')") in " ".join(refused.output.split())
    assert runner.invoke(main, ["grade", str(book), "-t", "my-course"]).exit_code == 2  # why the hint says FILE.toml
    graded = runner.invoke(main, ["grade", str(book), "-t", str(toml)])
    assert graded.exit_code == 0 and "1 of 1 graded." in graded.output
