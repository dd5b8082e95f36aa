"""`generate` spares the garbage collector (paused while it sets up, freezing what is alive while it writes,
no collection at the process's exit) and loses nothing by it: every file closed, every line printed, the
exit code, and a caller's own collector as it was."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from manualml import api
from manualml.cli import main

ROSTER = "student_id,name,email\ns1,Ann,a@example.org\ns2,Bob,b@example.org\ns3,Cy,c@example.org\n"


def _open_for_writing() -> set[int]:
    """Every file or zip archive still open in this process (but stdin, stdout, stderr)."""
    std = {id(f) for f in (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__)}
    found = set()
    for o in gc.get_objects():
        if isinstance(o, io.IOBase | zipfile.ZipFile) and id(o) not in std:
            try:
                if not o.closed if isinstance(o, io.IOBase) else o.fp is not None:
                    found.add(id(o))
            except ValueError:  # a wrapper whose buffer is detached
                continue
    return found


@pytest.fixture
def roster(tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SECRET", "test-secret")
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    return path


def test_nothing_is_left_open_when_generate_returns(tmp_path, roster):
    """What makes skipping the collection at exit safe: no file waits for a collector to be closed."""
    before = _open_for_writing()
    made = api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "set", workers=1)
    single = api.generate(template="house-prices", output=tmp_path / "one.xlsx")
    assert _open_for_writing() - before == set()
    assert len(made.paths) == 4 and all(p.is_file() for p in made.paths)
    assert single.paths == (tmp_path / "one.xlsx",)


def test_the_collector_is_frozen_while_the_class_set_is_written_and_given_back(tmp_path, roster, monkeypatch):
    import workbook.class_set

    seen = []
    real = workbook.class_set.generate_class

    def spy(*args, **kwargs):
        seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(workbook.class_set, "generate_class", spy)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "set", workers=1)
    assert seen == [(True, True)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(api.WorkbookError, match="already holds a class set"):  # and after an error too
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "set")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_callers_own_collector_settings_are_left_alone(tmp_path, roster):
    gc.disable()
    try:
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "a", workers=1)
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
    gc.freeze()
    try:
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "b", workers=1)
        assert gc.isenabled() and gc.get_freeze_count() > 0  # not unfrozen behind the caller's back
    finally:
        gc.unfreeze()


def test_the_command_in_process_leaves_a_normal_collector(tmp_path, roster):
    runner = CliRunner()
    for folder in ("a", "b"):  # twice: one exit callback, however many runs
        result = runner.invoke(main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster),
                                      "--out-dir", str(tmp_path / folder)])
        assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == 0


def _manualml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "manualml"
    env = dict(os.environ, MANUALML_SECRET="test-secret")
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_real_process_prints_everything_writes_everything_and_exits_0(tmp_path, roster):
    done = _manualml("generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir", "set",
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == f"Wrote 3 workbooks and {tmp_path / 'set' / 'manifest.json'} (signed with MANUALML_SECRET)\n"
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert [e["file"] for e in manifest["students"]] == ["s1.xlsx", "s2.xlsx", "s3.xlsx"]
    for entry in manifest["students"]:
        with zipfile.ZipFile(tmp_path / "set" / entry["file"]) as z:
            assert z.testzip() is None  # every workbook complete on disk

    again = _manualml("generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir", "set",
                      cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.startswith("Error: set already holds a class set (set/manifest.json); pass --force")

    one = _manualml("generate", "-t", "house-prices", "-o", "hp.xlsx", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[0] == f"Wrote {tmp_path / 'hp.xlsx'}"
    with zipfile.ZipFile(tmp_path / "hp.xlsx") as z:
        assert z.testzip() is None


def test_nothing_is_left_open_when_grade_returns(tmp_path, roster):
    api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "set", workers=1)
    before = _open_for_writing()
    outputs = api.GradeOutputs(csv=tmp_path / "g.csv", json=tmp_path / "g.json", feedback=tmp_path / "fb",
                               canvas=tmp_path / "c.csv", moodle=tmp_path / "m.csv",
                               similarity=tmp_path / "s.csv", report=tmp_path / "r.html")
    done = api.grade(submissions=[tmp_path / "set"], manifest=tmp_path / "set" / "manifest.json",
                     outputs=outputs, workers=1)
    assert _open_for_writing() - before == set()
    assert done.exit_code == 0
    assert len((tmp_path / "g.csv").read_text().splitlines()) == 4  # a header and three students
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == ["s1.md", "s2.md", "s3.md"]


def test_the_real_grading_process_keeps_its_exit_code_and_its_files(tmp_path, roster):
    made = _manualml("generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir", "set",
                     cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    every = _manualml("grade", "set", "--manifest", "set/manifest.json", "--csv", "all.csv", cwd=tmp_path)
    assert every.returncode == 0, every.stderr
    assert every.stdout.splitlines()[-1] == "Gradebook: all.csv"
    assert len((tmp_path / "all.csv").read_text().splitlines()) == 4
    (tmp_path / "set" / "s3.xlsx").unlink()  # a student without a file: exit code 1, the gradebook still written
    some = _manualml("grade", "set", "--manifest", "set/manifest.json", "--csv", "some.csv", cwd=tmp_path)
    assert some.returncode == 1, some.stderr
    assert some.stdout.splitlines()[-1] == "Gradebook: some.csv"
    assert (tmp_path / "some.csv").read_text().splitlines()[-1] == "s3,Cy,,missing,rmse,,,,,10,False,,no submission"


def test_the_collector_works_while_a_single_workbook_is_built(tmp_path, monkeypatch):
    """Paused only while generate sets up: building a big workbook makes garbage that needs collecting."""
    import workbook.builder

    seen = []
    real = workbook.builder.build_workbook

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(workbook.builder, "build_workbook", spy)
    api.generate(template="house-prices", output=tmp_path / "hp.xlsx")
    assert seen == [True]
    assert gc.isenabled() and gc.get_freeze_count() == 0
