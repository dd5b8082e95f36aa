"""Grading the zip an LMS hands out ("download all submissions") without unzipping it first.

A Moodle-style zip of a class set (each student's folder named `Name_id_assignsubmission_file_`),
with the debris such zips carry, a student's own zip inside it, and entries that try to climb out of
the folder: every student graded by the stamp, every file named as inside the zip, the zip unchanged,
nothing left behind in the temporary folder.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from pathlib import Path

from click.testing import CliRunner

from grader.archives import Unpacker
from grader.batch import walk
from manualml.cli import main


def _class(tmp_path, env):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\n1001,Zoë Ångström,zoe@example.edu\n1002,Bob Builder,bob@example.edu\n"
                      "1003,Kim Lee,kim@example.edu\n", encoding="utf-8")
    made = CliRunner(env=env).invoke(main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster),
                                            "--out-dir", str(tmp_path / "class")])
    assert made.exit_code == 0, made.output
    return tmp_path / "class"


def test_a_moodle_zip_grades_as_the_folder_it_holds(tmp_path, monkeypatch):
    import tempfile

    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "MANUALML_SECRET": "zip key"}
    made_dirs = []
    real_mkdtemp = tempfile.mkdtemp

    def spy(*args, **kwargs):
        made_dirs.append(Path(real_mkdtemp(*args, **kwargs)))
        return str(made_dirs[-1])

    monkeypatch.setattr("grader.archives.tempfile.mkdtemp", spy)
    made = _class(tmp_path, env)
    inner = tmp_path / "kim.zip"  # Kim zipped her workbook before uploading it
    with zipfile.ZipFile(inner, "w") as z:
        z.write(made / "1003.xlsx", "house-prices-sigmoid.xlsx")
    bundle = tmp_path / "ML-assignment-1-12345.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(made / "1001.xlsx", "Zoë Ångström_1001_assignsubmission_file_/house-prices-sigmoid.xlsx")
        z.write(made / "1002.xlsx", "Bob Builder_1002_assignsubmission_file_/my sheet.xlsx")
        z.write(inner, "Kim Lee_1003_assignsubmission_file_/kim.zip")
        z.writestr("__MACOSX/Bob Builder_1002_assignsubmission_file_/._my sheet.xlsx", b"\0")
        z.writestr("Bob Builder_1002_assignsubmission_file_/notes.txt", "my notes")
        z.writestr("../../escape.xlsx", b"PK")
    before = hashlib.sha256(bundle.read_bytes()).hexdigest()
    canvas = tmp_path / "canvas.csv"
    run = CliRunner(env=env).invoke(main, ["grade", str(bundle), "--manifest", str(made / "manifest.json"),
                                           "--canvas", str(canvas), "--csv", str(tmp_path / "grades.csv")])
    # 1: notes.txt and escape.xlsx were handed in and not graded (README: "0 every file ... graded"; only lock
    # files and OS debris are skipped on purpose)
    assert run.exit_code == 1, run.output
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == before
    assert len(made_dirs) == 1 and made_dirs[0].name.startswith("manualml-unzipped-")
    assert not made_dirs[0].exists()  # the unpacked copy is gone
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").read_text("utf-8").splitlines())}
    assert sorted(rows) == ["1001", "1002", "1003"]
    assert {r["status"] for r in rows.values()} == {"graded"}
    assert rows["1001"]["file"] == f"{bundle}/Zoë Ångström_1001_assignsubmission_file_/house-prices-sigmoid.xlsx"
    assert rows["1003"]["file"] == \
        f"{bundle}/Kim Lee_1003_assignsubmission_file_/kim.zip/house-prices-sigmoid.xlsx"
    said = " ".join(run.output.split())  # the terminal wraps long lines
    assert "manualml-unzipped" not in said
    assert (f"Not graded: {bundle}/Bob Builder_1002_assignsubmission_file_/notes.txt: not a spreadsheet "
            "(.xlsx, .xlsm or .ods)") in said
    assert (f"Not graded: {bundle}/escape.xlsx: not unpacked: its name in the zip ('../../escape.xlsx') points "
            "outside it") in said
    assert (f"Skipped on purpose (1): {bundle}/__MACOSX/Bob Builder_1002_assignsubmission_file_/._my sheet.xlsx "
            "(macOS archive metadata (__MACOSX))") in said
    assert "3 of 3 graded; 2 other files not graded (listed above)." in said
    assert not (tmp_path / "escape.xlsx").exists() and not (tmp_path.parent / "escape.xlsx").exists()
    lms = list(csv.DictReader(canvas.read_text("utf-8").splitlines()))
    assert len(lms) == 3 + 1  # Canvas's "Points Possible" row, then one row per student


def test_a_zip_bomb_stops_at_the_budget(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/one.xlsx", b"\0" * 200_000)
        z.writestr("a/two.xlsx", b"\0" * 200_000)
    with Unpacker() as unpacker:
        unpacker._budget = 300_000
        found = walk([bomb], unpacker=unpacker)
        assert [p.name for p in found.files] == ["one.xlsx"]
        assert [(unpacker.show(s.path), s.reason) for s in found.skipped] == [
            (f"{bomb}/a/two.xlsx", "not unpacked: the zip inflates to more than 4 GB (a zip bomb, or not a "
                                   "class download)")]
        root = unpacker.root
    assert not root.exists()


def test_a_workbook_renamed_zip_is_graded_not_unpacked(tmp_path):
    made = tmp_path / "hp.xlsx"
    assert CliRunner().invoke(main, ["generate", "-o", str(made)]).exit_code == 0
    renamed = tmp_path / "hp.zip"
    renamed.write_bytes(made.read_bytes())
    with Unpacker() as unpacker:
        assert not unpacker.wants(renamed)
        assert walk([renamed], unpacker=unpacker).files == [renamed]
        assert unpacker.root is None


def test_an_empty_zip_is_listed_not_lost(tmp_path):
    empty = tmp_path / "class" / "all.zip"
    empty.parent.mkdir()
    empty.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with Unpacker() as unpacker:
        found = walk([empty.parent], unpacker=unpacker)
        assert found.files == []
        assert [(unpacker.show(s.path), s.reason) for s in found.skipped] == [
            (str(empty), "an empty zip archive: nothing in it to grade")]
