"""Issue 13, item 1 (audit): several files for one student, when their own saved times do not decide.

The documented rule (grader/classroom.py, README "Whose file is it?"): the file the workbook itself says was
saved last is graded; ties go to the file modified last on disk, then to the later name; a file with no saved
time of its own loses to one that has one. Each case: one graded row for the student, the others listed as
superseded with the reason, and still one row per roster student in the LMS gradebook.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil

import pytest
from click.testing import CliRunner

from manualml.cli import main
from tests.submissions import rewrite_member

SECRET = "audit-secret"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("superseded")
    roster = root / "roster.csv"
    roster.write_text("student_id,name\ns1,Ann Lee\ns2,Bo Chen\n", encoding="utf-8")
    runner = CliRunner(env={"MANUALML_SECRET": SECRET})
    result = runner.invoke(main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir",
                                  str(root / "class")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "class", runner


def _grade(klass, folder):
    issued, runner = klass
    out = folder.parent / f"{folder.name}-out"
    out.mkdir()
    result = runner.invoke(main, ["grade", str(folder), "--manifest", str(issued / "manifest.json"), "--json",
                                  str(out / "r.json"), "--canvas", str(out / "canvas.csv")], catch_exceptions=False)
    results = json.loads((out / "r.json").read_text())["results"]
    with (out / "canvas.csv").open(encoding="utf-8") as handle:
        canvas_ids = sorted(row[2] for row in list(csv.reader(handle))[2:])
    return result, results, canvas_ids


def _two_copies(klass, tmp_path, name: str):
    issued, _ = klass
    folder = tmp_path / name
    folder.mkdir()
    for copy in ("a.xlsx", "b.xlsx"):
        shutil.copy(issued / "s1.xlsx", folder / copy)
    shutil.copy(issued / "s2.xlsx", folder / "s2.xlsx")
    return folder


def _graded_file(results, sid: str) -> str:
    (row,) = [r for r in results if r["student_id"] == sid]
    assert row["status"] == "graded"
    return os.path.basename(row["file"])


def test_same_saved_time_goes_to_the_file_modified_last_on_disk(klass, tmp_path):
    folder = _two_copies(klass, tmp_path, "by-mtime")
    os.utime(folder / "a.xlsx", (2_000_000_000, 2_000_000_000))  # a.xlsx touched last, b.xlsx the later name
    os.utime(folder / "b.xlsx", (1_900_000_000, 1_900_000_000))
    result, results, canvas_ids = _grade(klass, folder)
    assert _graded_file(results, "s1") == "a.xlsx"
    assert (f"Superseded: {folder / 'b.xlsx'} (s1): superseded by a.xlsx (same saved time; the file modified later "
            "on disk, then by name)") in result.output.replace("\n    ", " ")
    assert canvas_ids == ["s1", "s2"] and result.exit_code == 0


def test_same_saved_time_and_same_disk_time_goes_to_the_later_name(klass, tmp_path):
    folder = _two_copies(klass, tmp_path, "by-name")
    for copy in ("a.xlsx", "b.xlsx"):
        os.utime(folder / copy, (1_900_000_000, 1_900_000_000))
    result, results, canvas_ids = _grade(klass, folder)
    assert _graded_file(results, "s1") == "b.xlsx"
    assert f"Superseded: {folder / 'a.xlsx'} (s1): superseded by b.xlsx (same saved time" in \
        result.output.replace("\n    ", " ")
    assert canvas_ids == ["s1", "s2"]


def test_a_file_without_a_saved_time_loses_to_one_with_it(klass, tmp_path):
    issued, _ = klass
    folder = _two_copies(klass, tmp_path, "no-time")
    rewrite_member(issued / "s1.xlsx", folder / "z.xlsx", "docProps/core.xml",
                   lambda xml: re.sub(r"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", "", xml))
    (folder / "b.xlsx").unlink()
    os.utime(folder / "z.xlsx", (2_000_000_000, 2_000_000_000))  # newest on disk and the later name: still loses
    result, results, canvas_ids = _grade(klass, folder)
    assert _graded_file(results, "s1") == "a.xlsx"
    assert (f"Superseded: {folder / 'z.xlsx'} (s1): superseded by a.xlsx: this file has no saved time of its own"
            in result.output.replace("\n    ", " "))
    assert canvas_ids == ["s1", "s2"]
