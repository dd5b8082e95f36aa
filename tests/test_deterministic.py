"""The same command writes byte-identical files: document times and zip timestamps come from no clock."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile

import pytest

from workbook.builder import build_workbook
from workbook.catalog import load, load_any, resolve_template
from workbook.class_set import generate_class
from workbook.lecture.book import build_lecture
from workbook.package import FIXED_DATE
from workbook.roster import Student, signature, variant
from workbook.spec import parse_template

STUDENTS = [Student("s1", "Ada Lovelace", "ada@example.org"), Student("s2", "Alan Turing"), Student("s 3/x")]


def _build_twice(make, tmp_path):
    first = make(tmp_path / "one")
    time.sleep(1.1)  # zip timestamps have a resolution of 2 s, document times of 1 s
    second = make(tmp_path / "two")
    return first, second


def test_workbooks_are_byte_identical(tmp_path):
    for name, make in [
        ("hp", lambda d: build_workbook(load("house-prices-sigmoid"), d / "hp.xlsx", student_id="s1",
                                        student_name="Ada", properties={"variant": "abc"})),
        ("lecture", lambda d: build_lecture(load_any("lecture"), d / "lecture.xlsx")),
    ]:
        one, two = _build_twice(make, tmp_path / name)
        assert one.read_bytes() == two.read_bytes(), name


def test_document_times_are_fixed(tmp_path):
    path = build_workbook(load("house-prices"), tmp_path / "hp.xlsx")
    with zipfile.ZipFile(path) as z:
        core = z.read("docProps/core.xml").decode()
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert z.testzip() is None
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert core.count(stamp) == 2 and "created" in core and "modified" in core


def test_source_date_epoch_sets_the_document_time(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    path = build_workbook(load("house-prices"), tmp_path / "hp.xlsx")
    with zipfile.ZipFile(path) as z:
        assert z.read("docProps/core.xml").decode().count("2026-01-01T00:00:00Z") == 2


def test_a_class_set_is_reproducible(tmp_path):
    def make(folder):
        return generate_class(load("house-prices-sigmoid"), STUDENTS, folder, template_path=tmp_path / "t.toml",
                              secret=b"k").manifest

    (tmp_path / "t.toml").write_text("# the template file's digest goes into the manifest\n")
    one, two = _build_twice(make, tmp_path)
    first, second = json.loads(one.read_text()), json.loads(two.read_text())
    assert [s["sha256"] for s in first["students"]] == [s["sha256"] for s in second["students"]]
    for entry in first["students"]:
        a, b = (one.parent / entry["file"]).read_bytes(), (two.parent / entry["file"]).read_bytes()
        assert a == b and hashlib.sha256(a).hexdigest() == entry["sha256"]
    assert len({s["sha256"] for s in first["students"]}) == len(STUDENTS)  # each student's own file


@pytest.mark.parametrize("workers", [1, 2])
def test_a_class_file_is_the_students_workbook_built_alone(tmp_path, workers):
    """The class path lays the assignment out once and writes each student's parts only: the bytes are those
    of a full build of that student's workbook (names, weights, targets, signature, password all differ)."""
    text = resolve_template("house-prices-sigmoid").read_text(encoding="utf-8") + "\n[variants]\ntarget_noise = 0.1\n"
    a = parse_template(text, source="noisy.toml")
    students = [Student(f"s{i}", f"Student {i}" if i % 3 else "") for i in range(101 if workers > 1 else 7)]
    made = generate_class(a, students, tmp_path / "class", template_path=resolve_template("house-prices-sigmoid"),
                          secret=b"k", password="pw", workers=workers)
    manifest = json.loads(made.manifest.read_text())
    for s, entry, path in list(zip(students, manifest["students"], made.workbooks, strict=True))[::10]:
        v = variant(a, s.id)
        alone = build_workbook(v, tmp_path / "alone" / path.name, student_id=s.id, student_name=s.name, password="pw",
                               properties={"variant": entry["variant_digest"],
                                           "signature": signature(b"k", a.id, s.id, entry["variant_digest"])})
        assert path.read_bytes() == alone.read_bytes(), s.id
    assert len({e["sha256"] for e in manifest["students"]}) == len(students)
