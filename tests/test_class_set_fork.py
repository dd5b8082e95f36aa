"""A class set written by forked workers that take chunks from a shared pipe (workbook.class_set._build_forked):
the same files and manifest as one process writes, in roster order, whatever process took which chunk; a
worker's error is raised in the parent as it was raised there; a worker that dies is told, not waited for;
the progress bar ends at the class size exactly; and no worker outlives the run."""

from __future__ import annotations

import json
import os

import pytest

from workbook import class_set
from workbook.catalog import load, resolve_template
from workbook.class_set import ClassCheckFailed, _chunks, generate_class, manifest_text
from workbook.errors import WorkbookError
from workbook.roster import Student

TEMPLATE = "house-prices-sigmoid"


def _students(n: int) -> list[Student]:
    return [Student(f"s{i:03d}", f"Student {i}", f"s{i}@example.org") for i in range(n)]


def _generate(out, students, workers, **kwargs):
    return generate_class(load(TEMPLATE), students, out, template_path=resolve_template(TEMPLATE),
                          secret=b"k", workers=workers, **kwargs)


def _no_children_left():
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_three_processes_write_what_one_writes_in_roster_order(tmp_path):
    students = _students(203)
    steps: list[int] = []
    alone = _generate(tmp_path / "one", students, 1)
    forked = _generate(tmp_path / "three", students, 3, progress=steps.append)
    one = json.loads(alone.manifest.read_text())["students"]
    three = json.loads(forked.manifest.read_text())["students"]
    assert [e["id"] for e in three] == [s.id for s in students]
    assert three == one  # every entry, sha256 of every file included
    for a, b in zip(alone.workbooks, forked.workbooks, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert sum(steps) == len(students) and all(k > 0 for k in steps) and len(steps) > 3
    text = forked.manifest.read_text(encoding="utf-8")  # the workers' lines are what one encoder makes of it
    assert manifest_text(json.loads(text)) == text
    _no_children_left()


@pytest.mark.parametrize(("n", "workers"), [(999, 2), (64, 2), (5, 3), (100_000, 8), (1, 2)])
def test_chunks_shrink_toward_the_end_and_cover_everyone_once(n, workers):
    chunks = _chunks(list(range(n)), workers)
    assert [i for c in chunks for i in c] == list(range(n))
    sizes = [len(c) for c in chunks]
    assert sizes == sorted(sizes, reverse=True) and max(sizes) <= 64 and all(s >= 4 for s in sizes[:-1])
    assert len(chunks) < 32_768  # the pipe holds them all


def test_a_workers_error_is_raised_in_the_parent_and_the_others_stop(tmp_path, monkeypatch):
    parent = os.getpid()
    real = class_set._write_students
    written_by_parent: list[int] = []

    def failing(run, students, progress=None):
        if os.getpid() != parent:
            raise ClassCheckFailed(run.out_dir / "x.xlsx", "planted in a worker")
        written_by_parent.append(len(students))
        return real(run, students, progress)

    monkeypatch.setattr(class_set, "_write_students", failing)
    with pytest.raises(ClassCheckFailed, match=r"x\.xlsx does not grade as issued \(planted in a worker\)$"):
        _generate(tmp_path / "class", _students(400), 2)
    assert sum(written_by_parent) < 400 - 1  # the worker's failure emptied the pipe of chunks
    assert not (tmp_path / "class" / "manifest.json").exists()
    _no_children_left()


def test_a_worker_that_dies_is_told(tmp_path, monkeypatch):
    parent = os.getpid()
    real = class_set._write_students

    def dying(run, students, progress=None):
        if os.getpid() != parent:
            os._exit(3)
        return real(run, students, progress)

    monkeypatch.setattr(class_set, "_write_students", dying)
    with pytest.raises(WorkbookError, match=r"^a process writing the class set stopped before it finished \(wait "
                                            r"status 768\): the class set is incomplete; run the command again$"):
        _generate(tmp_path / "class", _students(100), 2)
    _no_children_left()


def test_the_parents_own_error_wins_and_no_worker_is_left(tmp_path, monkeypatch):
    parent = os.getpid()
    real = class_set._write_students
    calls = []

    def parent_fails(run, students, progress=None):
        if os.getpid() == parent:
            calls.append(len(students))
            if len(calls) == 2:  # the first call writes the first student, before the fork
                raise WorkbookError("planted in the parent")
        return real(run, students, progress)

    monkeypatch.setattr(class_set, "_write_students", parent_fails)
    with pytest.raises(WorkbookError, match=r"^planted in the parent$"):
        _generate(tmp_path / "class", _students(300), 2)
    _no_children_left()


def test_without_fork_spawned_workers_write_the_same_files(tmp_path, monkeypatch):
    students = _students(130)
    alone = _generate(tmp_path / "one", students, 1)
    monkeypatch.delattr(os, "fork")  # as on Windows: the spawned path, each worker laying the assignment out
    spawned = _generate(tmp_path / "two", students, 2)
    assert json.loads(spawned.manifest.read_text())["students"] == json.loads(alone.manifest.read_text())["students"]
    for a, b in zip(alone.workbooks, spawned.workbooks, strict=True):
        assert a.read_bytes() == b.read_bytes()
