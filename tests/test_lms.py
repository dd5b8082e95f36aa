"""A roster class edited in LibreOffice, laid out as each LMS downloads it, graded with the manifest.

Identity comes from the signed stamp inside each workbook (names only as a fallback): every
layout gives the same grades as the plain files, one row per roster student in every export,
the latest-saved of a student's files graded and the others listed as superseded.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from manualml.cli import main
from tests.submissions import GOOD, rewrite_member
from workbook import libreoffice
from workbook.roster import read_manifest

SECRET = "lms-secret"
NAMES = {"s001": "Zoë Ångström", "s002": '=HYPERLINK("http://evil.example","Click")', "s003": "Li Wei",
         "s004": "Seán O'Brien", "s005": "Absent Student"}


def _modified(path: Path, dst: Path, when: str) -> Path:
    """The workbook with its own last-saved time set (what Excel or LibreOffice writes on saving)."""
    import re

    return rewrite_member(path, dst, "docProps/core.xml", lambda xml: re.sub(
        r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{when}\g<2>", xml))


@pytest.fixture(scope="module")
def klass(uno_python, tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    roster = root / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email"])
        for sid, name in NAMES.items():
            writer.writerow([sid, name, f"{sid}@uni.example"])
    runner = CliRunner(env={"MANUALML_SECRET": SECRET})
    issued = root / "issued"
    result = runner.invoke(main, ["generate", "--roster", str(roster), "--out-dir", str(issued)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    saved = root / "saved"
    saved.mkdir()
    # s001 improves her weights in LibreOffice; the others open, recalculate and save
    libreoffice.edit_and_save(issued / "s001.xlsx", GOOD, [saved / "s001.xlsx"])
    for path in libreoffice.recalculate([issued / f"s00{i}.xlsx" for i in (2, 3, 4)], saved):
        assert path.exists()
    return root, issued, saved, runner


def _grade(runner, folder: Path, manifest: Path, reports: Path, *extra: str):
    result = runner.invoke(main, ["grade", str(folder), "--manifest", str(manifest), "--json",
                                  str(reports / "r.json"), "--canvas", str(reports / "canvas.csv"), "--moodle",
                                  str(reports / "moodle.csv"), "--csv", str(reports / "g.csv"), *extra],
                           catch_exceptions=False)
    results = json.loads((reports / "r.json").read_text())["results"]
    return result, results


def _layouts(saved: Path, issued: Path, root: Path) -> dict[str, Path]:
    # s001's first hand-in is her workbook as issued (0 points), her second the improved one (10 points)
    older = _modified(issued / "s001.xlsx", root / "s001-old.xlsx", "2026-11-01T10:00:00Z")
    newer = _modified(saved / "s001.xlsx", root / "s001-new.xlsx", "2026-11-30T10:00:00Z")
    layouts = {}
    canvas = root / "canvas"
    canvas.mkdir()
    shutil.copy(newer, canvas / "angstromzoe_12345_67890_house-prices.xlsx")
    shutil.copy(older, canvas / "angstromzoe_12345_67890_house-prices-1.xlsx")  # the later name, the older save
    shutil.copy(saved / "s002.xlsx", canvas / "hyperlinkclick_LATE_222_333_house-prices.xlsx")
    shutil.copy(saved / "s003.xlsx", canvas / "weili_444_555_hp.xlsx")
    shutil.copy(saved / "s004.xlsx", canvas / "obrienseán_666_777_Book1.xlsx")
    layouts["canvas"] = canvas
    moodle = root / "moodle"
    for sid, participant, (src, name) in [("s001", 101, (newer, "house-prices.xlsx")),
                                          ("s002", 102, (saved / "s002.xlsx", "mine.xlsx")),
                                          ("s003", 103, (saved / "s003.xlsx", "house-prices.xlsx")),
                                          ("s004", 104, (saved / "s004.xlsx", "final.xlsx"))]:
        folder = moodle / f"{NAMES[sid]}_{participant}_assignsubmission_file_"
        folder.mkdir(parents=True)
        shutil.copy(src, folder / name)
    (moodle / f"{NAMES['s001']}_101_assignsubmission_file_" / "house-prices (1).xlsx").write_bytes(older.read_bytes())
    layouts["moodle"] = moodle
    blackboard = root / "blackboard"
    blackboard.mkdir()
    for sid, src in [("s001", newer), ("s002", saved / "s002.xlsx"), ("s003", saved / "s003.xlsx"),
                     ("s004", saved / "s004.xlsx")]:
        shutil.copy(src, blackboard / f"Homework 1_{sid}_attempt_2026-11-30-10-00-00_house-prices.xlsx")
    (blackboard / "Homework 1_s001_attempt_2026-11-30-10-00-00.txt").write_text("Name: Zoë Ångström\n")
    layouts["blackboard"] = blackboard
    gradescope = root / "gradescope"
    meta = []
    for n, (sid, src) in enumerate([("s001", newer), ("s002", saved / "s002.xlsx"), ("s003", saved / "s003.xlsx"),
                                    ("s004", saved / "s004.xlsx")]):
        folder = gradescope / f"submission_{9000 + n}"
        folder.mkdir(parents=True)
        shutil.copy(src, folder / "house-prices.xlsx")
        meta.append(f"submission_{9000 + n}:\n  :submitters:\n  - :name: {NAMES[sid]}\n    :sid: {sid}\n"
                    f"    :email: {sid}@uni.example\n")
    (gradescope / "submission_metadata.yml").write_text("".join(meta), encoding="utf-8")
    layouts["gradescope"] = gradescope
    return layouts


def test_every_lms_layout_grades_like_the_plain_files(klass, tmp_path):
    _root, issued, saved, runner = klass
    manifest = issued / "manifest.json"
    plain = tmp_path / "plain"
    plain.mkdir()
    for sid in ("s001", "s002", "s003", "s004"):
        shutil.copy(saved / f"{sid}.xlsx", plain / f"{sid}.xlsx")
    _, reference = _grade(runner, plain, manifest, tmp_path / "ref")
    expected = {r["student_id"]: (r["status"], r["points"], r["metric"]) for r in reference}
    assert expected["s001"][:2] == ("graded", 10.0) and expected["s005"][0] == "missing"
    assert [expected[s][1] for s in ("s002", "s003", "s004")] == [0.0, 0.0, 0.0]
    layouts = _layouts(saved, issued, tmp_path)
    for lms, folder in layouts.items():
        reports = tmp_path / f"out-{lms}"
        result, results = _grade(runner, folder, manifest, reports)
        assert result.exit_code == 1, (lms, result.output)  # s005 handed in nothing
        got = {r["student_id"]: (r["status"], r["points"], r["metric"]) for r in results}
        assert got == expected, lms
        assert [r["student_name"] for r in sorted(results, key=lambda r: r["student_id"])] == list(NAMES.values())
        with (reports / "canvas.csv").open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))[2:]
        assert sorted(r[2] for r in rows) == list(NAMES), lms  # exactly one row per roster student
        assert next(r for r in rows if r[2] == "s002")[0] == "'" + NAMES["s002"]  # shown as typed, never run
        with (reports / "moodle.csv").open(encoding="utf-8") as handle:
            assert sorted(r["ID number"] for r in csv.DictReader(handle)) == list(NAMES), lms
        assert "names no student" not in result.output and "Unmatched" not in result.output, lms
    canvas_out = runner.invoke(main, ["grade", str(layouts["canvas"]), "--manifest", str(manifest)])
    assert ("Superseded: " + str(layouts["canvas"] / "angstromzoe_12345_67890_house-prices-1.xlsx")
            + " (s001): superseded by angstromzoe_12345_67890_house-prices.xlsx, saved later (2026-11-30 10:00 UTC; "
              "this one 2026-11-01 10:00)") in canvas_out.output.replace("\n    ", " ")
    blackboard_out = runner.invoke(main, ["grade", str(layouts["blackboard"]), "--manifest", str(manifest)])
    # Blackboard's own file beside each attempt is listed as skipped on purpose: not a file handed in without a
    # grade (which makes the exit code 1), as the Gradescope export's submission_metadata.yml is not
    said = " ".join(blackboard_out.output.split())
    assert "Not graded: " not in said and ("Skipped on purpose (1): " + str(layouts["blackboard"] / "Homework 1_s001_"
                                           "attempt_2026-11-30-10-00-00.txt") + " (Blackboard's details of the attempt "
                                           "(…_attempt_….txt))") in said
    gradescope_out = runner.invoke(main, ["grade", str(layouts["gradescope"]), "--manifest", str(manifest)])
    assert "Skipped on purpose (1): " + str(layouts["gradescope"] / "submission_metadata.yml") + " (the Gradescope " \
        "export's list of submitters)" in " ".join(gradescope_out.output.split())


def test_names_are_the_fallback_when_the_stamp_is_gone(klass, tmp_path):
    _root, issued, saved, runner = klass
    folder = tmp_path / "moodle" / f"{NAMES['s003']}_103_assignsubmission_file_"
    folder.mkdir(parents=True)
    rewrite_member(saved / "s003.xlsx", folder / "house-prices.xlsx", "docProps/custom.xml",
                   lambda xml: xml.replace("manualml_", "removed_"))
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    rewrite_member(saved / "s004.xlsx", canvas / "obrienseán_666_777_Book1.xlsx", "docProps/custom.xml",
                   lambda xml: xml.replace("manualml_", "removed_"))
    _, results = _grade(runner, tmp_path / "moodle", issued / "manifest.json", tmp_path / "r1")
    (r,) = [r for r in results if r["student_id"] == "s003"]
    assert r["status"] == "graded" and "no-student-stamp" in [f["code"] for f in r["findings"]]
    _, results = _grade(runner, canvas, issued / "manifest.json", tmp_path / "r2")
    (r,) = [r for r in results if r["student_id"] == "s004"]
    assert r["status"] == "graded" and r["file"].endswith("obrienseán_666_777_Book1.xlsx")


def test_without_a_manifest_the_stamp_names_the_student(klass, tmp_path):
    _root, _issued, saved, runner = klass
    folder = tmp_path / "flat"
    folder.mkdir()
    shutil.copy(saved / "s003.xlsx", folder / "download (3).xlsx")
    result = runner.invoke(main, ["grade", str(folder), "--json", str(tmp_path / "r.json")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (r,) = json.loads((tmp_path / "r.json").read_text())["results"]
    assert (r["student_id"], r["student_name"]) == ("s003", "Li Wei")
    assert "Li Wei (s003)" in result.output
    shutil.copy(saved / "s003.xlsx", folder / "copy.xlsx")
    result = runner.invoke(main, ["grade", str(folder)], catch_exceptions=False)
    assert (f"Note: 2 files carry the stamp of student s003: {folder / 'copy.xlsx'}, {folder / 'download (3).xlsx'} "
            "(one student's workbook handed in twice, or copied; grade with --manifest to keep the latest)") in \
        result.output.replace("\n    ", " ")


def test_a_wrong_key_is_one_usage_error(klass, tmp_path):
    _root, issued, saved, _ = klass
    wrong = CliRunner(env={"MANUALML_SECRET": "not-the-key"})
    result = wrong.invoke(main, ["grade", str(saved), "--manifest", str(issued / "manifest.json")])
    assert result.exit_code == 2
    assert "the signing key verifies none of the 4 signed workbook(s)" in result.output
    assert "forged" not in result.output
    assert read_manifest(issued / "manifest.json")["signed"] is True


def test_an_untrusted_stamp_never_adds_a_second_row(klass, tmp_path):
    """A file whose signature fails and whose name names nobody: graded and listed, but not in the gradebooks."""
    import re

    _root, issued, saved, runner = klass
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(saved / "s001.xlsx", folder / "s001.xlsx")
    rewrite_member(saved / "s001.xlsx", folder / "random.xlsx", "docProps/custom.xml",
                   lambda xml: re.sub(r"(manualml_signature.*?<vt:lpwstr>)(\w{8})", r"\g<1>deadbeef", xml, flags=re.S))
    from grader.stamps import peek

    assert peek(folder / "random.xlsx").stamp["signature"].startswith("deadbeef")
    assert peek(folder / "random.xlsx").student_id == "s001"
    result, results = _grade(runner, folder, issued / "manifest.json", tmp_path / "out")
    assert result.exit_code == 1
    assert "Unmatched: " + str(folder / "random.xlsx") in result.output.replace("\n    ", " ")
    forged = next(r for r in results if r["file"].endswith("random.xlsx"))
    assert forged["status"] == "graded"
    with (tmp_path / "out" / "canvas.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[2:]
    assert sorted(r[2] for r in rows) == list(NAMES)  # s001 once


def test_only_whole_names_in_a_path_can_overrule_a_stamp():
    """Blackboard's attempt time holds '10': as a word inside a name it may help find a stampless file's owner,
    but only whole names and `_` pieces can say that a stamped file was handed in by someone else."""
    from grader.classroom import path_tokens

    path = Path("/dl/Homework 1_s001_attempt_2026-11-30-10-00-00_house-prices.xlsx")
    strong, weak = path_tokens(path, Path("/dl"), strong=True), path_tokens(path, Path("/dl"))
    assert "s001" in strong and "10" not in strong and "10" in weak
    moodle = Path("/dl/Zoë Ångström_101_assignsubmission_file_/house-prices-1.xlsx")
    assert {"zoeangstrom", "101", "houseprices"} <= path_tokens(moodle, Path("/dl"), strong=True)
