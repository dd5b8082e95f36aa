"""A new instructor's first class, run as the README tells it, and what went wrong the first time.

An Outlook-style roster ("E-mail Address"), a class set, students editing in LibreOffice (one types
over a squared error), one student handing in nothing, grading with the manifest, and the signing
key of another machine. Each assertion is a message someone reads: the exports, the feedback
files, the terminal's error.
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from manualml.cli import main
from workbook.roster import read_roster

SHEET = "Manual Machine Learning"


@pytest.fixture(scope="module")
def klass(tmp_path_factory, uno_python):
    from workbook import libreoffice

    top = tmp_path_factory.mktemp("newcomer")
    env = {"XDG_CONFIG_HOME": str(top / "config"), "MANUALML_SECRET": "the class key"}
    roster = top / "roster.csv"
    roster.write_text("Student Number;Full Name;E-mail Address\n1001;Zoë Ångström;zoe@example.edu\n"
                      "1002;Bob Builder;bob@example.edu\n1004;Dana Scully;dana@example.edu\n", encoding="utf-8")
    made = CliRunner(env=env).invoke(main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster),
                                            "--out-dir", str(top / "class")])
    assert made.exit_code == 0, made.output
    subs = top / "subs"
    subs.mkdir()
    libreoffice.edit_and_save(top / "class" / "1001.xlsx", {"b_out": 250.0}, [subs / "1001.xlsx"])
    # Bob types a number over the squared error of row 14 (M14), in LibreOffice, and saves as .ods
    libreoffice.edit_and_save(top / "class" / "1002.xlsx", {"b_out": 200.0, f"{SHEET}!M14": 750.0},
                              [subs / "Bob Builder.ods"])
    return top, env, roster, subs


def test_an_outlook_roster_keeps_its_email_column(klass):
    """Outlook writes "E-mail Address": it is the email column (Moodle's export matches students by it)."""
    _, _, roster, _ = klass
    assert [(s.id, s.name, s.email, s.extra) for s in read_roster(roster)] == [
        ("1001", "Zoë Ångström", "zoe@example.edu", {}), ("1002", "Bob Builder", "bob@example.edu", {}),
        ("1004", "Dana Scully", "dana@example.edu", {})]


@pytest.fixture(scope="module")
def graded(klass):
    top, env, _, subs = klass
    out = top / "out"
    result = CliRunner(env=env).invoke(main, ["grade", str(subs), "--manifest", str(top / "class" / "manifest.json"),
                                              "--moodle", str(out / "moodle.csv"), "--feedback", str(out / "fb"),
                                              "--json", str(out / "results.json"), "--report", str(out / "class.html")])
    assert result.exit_code == 1, result.output  # one roster student without a grade
    return out


def test_a_number_typed_over_a_formula_is_one_finding_not_a_stale_cache(graded):
    """The saved RMSE follows the typed-over squared error; saying 'the saved results do not belong to the
    saved weights' besides would blame the student for something they did not do."""
    (bob,) = [r for r in json.loads((graded / "results.json").read_text())["results"] if r["student_id"] == "1002"]
    assert [(f["code"], f["cell"], f["found"]) for f in bob["findings"]] == [
        ("formula-overwritten", f"'{SHEET}'!M14", "750")]
    feedback = (graded / "fb" / "1002.md").read_text()
    assert "do not belong" not in feedback and "cell M14 should hold the formula =(L14-K14)^2 but holds 750" in feedback


def test_moodle_export_has_the_emails(graded):
    with (graded / "moodle.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["ID number"], r["Email address"]) for r in rows] == [
        ("1001", "zoe@example.edu"), ("1002", "bob@example.edu"), ("1004", "dana@example.edu")]


def test_a_student_who_handed_in_nothing_is_told_so(graded):
    """Not 'Submission: ``' and 'This file could not be graded ... Fix this and hand the file in again'."""
    assert (graded / "fb" / "1004.md").read_text(encoding="utf-8") == (
        "# Sigmoid neurons: house prices\n\nSubmission: none\nStudent: Dana Scully (1004)\n\n**Nothing was handed "
        "in for you**, so there is no grade yet. If you did hand in a workbook, tell your teacher which file it "
        "was.\n")


def test_the_wrong_key_names_the_key_that_was_tried(klass, tmp_path):
    """Grading on another machine (or with another $XDG_CONFIG_HOME) finds another key: say which one."""
    top, _, _, subs = klass
    config = tmp_path / "config"
    (config / "manualml").mkdir(parents=True)
    (config / "manualml" / "secret").write_text("another machine's key\n")
    result = CliRunner(env={"XDG_CONFIG_HOME": str(config), "MANUALML_SECRET": ""}).invoke(
        main, ["grade", str(subs), "--manifest", str(top / "class" / "manifest.json")])
    assert result.exit_code == 2
    assert result.output == (
        "Error: the signing key verifies none of the 2 signed workbook(s): it is not the key the class in "
        f"{top / 'class' / 'manifest.json'} was generated with (--key-file, or MANUALML_SECRET); the key tried was "
        f"{config / 'manualml' / 'secret'}\n")


@pytest.mark.parametrize(("text", "exp"), [
    (("hidden = [2]", "hiden = [2]"), "network.activations: gives 1 activation(s) for 0 hidden layer(s); give one "
     "per layer (or a single string for all) (this table has 'hiden': is it a misspelling of 'hidden'?)"),
    (("[rubric]", "[rubrik]"), "rubrik: unknown key 'rubrik' (allowed here: assignment, data, descent, display, "
     "hints, integrity, labels, metric, network, rubric, test, variants, weights); did you mean 'rubric'?"),
])
def test_a_typo_in_a_template_is_named(tmp_path, text, exp):
    from workbook.template_files import templates_dir

    source = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
    assert text[0] in source
    path = tmp_path / "my-course.toml"
    path.write_text(source.replace(text[0], text[1], 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate-template", str(path)])
    assert result.exit_code == 1 and result.output == f"Error: {path}: {exp}\n"


def test_a_class_graded_without_its_manifest_is_graded_against_each_students_copy(klass, graded, tmp_path):
    """`grade subs/ -t house-prices-sigmoid` (the manifest forgotten) and a Gradescope upload of one class copy:
    each workbook is its student's variant, rebuilt from the stamp as `manualml check` does. Graded against the
    template itself, every student got a "baseline-edited" finding: tampering they never did, and an improvement
    measured from the template's starting weights instead of their own."""
    _, env, _, subs = klass
    with_manifest = {r["student_id"]: r for r in json.loads((graded / "results.json").read_text())["results"]
                     if r["status"] == "graded"}
    result = CliRunner(env=env).invoke(main, ["grade", str(subs), "-t", "house-prices-sigmoid",
                                              "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    without = {r["student_id"]: r for r in json.loads((tmp_path / "r.json").read_text())["results"]}
    keys = ("metric", "baseline", "improvement", "points")
    assert {sid: [r[k] for k in keys] for sid, r in without.items()} == \
        {sid: [r[k] for k in keys] for sid, r in with_manifest.items()}
    assert [[f["code"] for f in r["findings"]] for r in without.values()] == [[], ["formula-overwritten"]]
    assert with_manifest["1001"]["baseline"] != with_manifest["1002"]["baseline"]  # each has their own
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "1001.xlsx").write_bytes((subs / "1001.xlsx").read_bytes())
    out = tmp_path / "results.json"
    done = CliRunner(env=env).invoke(main, ["grade", str(upload), "-t", "house-prices-sigmoid", "--gradescope",
                                            str(out)])
    assert done.exit_code == 0, done.output
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    assert tests["Workbook integrity"]["output"] == "Nothing but the weights was changed."
    assert f"baseline {with_manifest['1001']['baseline']:g};" in tests["Improvement over baseline (RMSE)"]["output"]
    assert json.loads(out.read_text())["score"] == with_manifest["1001"]["points"]


def test_the_class_report_counts_a_missing_student_as_no_submission(graded):
    page = (graded / "class.html").read_text(encoding="utf-8")
    assert "Class report by manualml: 2 submission(s), 2 graded, 1 student(s) handed in nothing." in page
    assert "<td>Dana Scully</td><td>missing</td>" in page and "missing: missing" not in page


def test_a_name_broken_by_a_deleted_cell_is_not_a_missing_sheet(tmp_path):
    """A name whose cell was deleted (#REF!) once read 'points at a sheet that no longer exists (#REF!)'."""
    from grader.grade import grade_file
    from tests.submissions import openpyxl_tamper
    from workbook.builder import build_workbook
    from workbook.catalog import load

    hp = load("house-prices")

    def broken(wb):
        wb.defined_names["b_h1"].attr_text = "#REF!"

    path = openpyxl_tamper(build_workbook(hp, tmp_path / "issued.xlsx"), tmp_path / "broken.xlsx", broken)
    (f,) = [f for f in grade_file(path, hp).findings if f.code == "name-broken"]
    assert f.message == "the name b_h1 is broken (#REF!): the cell it named was deleted; the weight was read from " \
                        "its cell E8"
