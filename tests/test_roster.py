"""Class sets: per-student variants, signatures, manifests; and the reference solution."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest

from workbook import model
from workbook.catalog import load, resolve_template
from workbook.class_set import generate_class
from workbook.errors import WorkbookError
from workbook.roster import (
    load_secret,
    read_manifest,
    read_roster,
    sha256_file,
    signature,
    student_assignment,
    variant,
    variant_digest,
)
from workbook.solve import solve


def _roster(tmp_path, n=30):
    path = tmp_path / "roster.csv"
    lines = ["student_id,name,email,Section"] + [f"s{i:03d},Student {i},s{i}@uni.example,A" for i in range(1, n + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_roster_keeps_other_columns(tmp_path):
    students = read_roster(_roster(tmp_path, 3))
    assert [s.id for s in students] == ["s001", "s002", "s003"]
    assert students[0].name == "Student 1" and students[0].email == "s1@uni.example"
    assert students[0].extra == {"Section": "A"}


@pytest.mark.parametrize(("text", "exp"), [
    ("name,email\nA,a@x\n", "the roster needs a student id column (one of: student_id, id, student id, sis user id, "
                            "username); found: name, email"),
    ("id,name\ns1,A\ns1,B\n", "line 3: student id 's1' appears twice"),
    ("id,name\n,A\n", "line 2 has no student id"),
    ("id,name\n", "the roster lists no students"),
])
def test_roster_errors(tmp_path, text, exp):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(WorkbookError) as err:
        read_roster(path)
    assert str(err.value) == f"{path}: {exp}"


def test_variants_differ_per_student_and_are_reproducible():
    a = load("house-prices-sigmoid")
    v1, v2 = variant(a, "s001", target_noise=0.05), variant(a, "s002", target_noise=0.05)
    assert v1.weights != v2.weights and v1.data.rows != v2.data.rows
    assert v1.weights["b_out"] == 100  # explicit weights stay as the template says
    assert variant(a, "s001", target_noise=0.05) == v1
    ratio = v1.data.y / a.data.y
    assert np.all(np.abs(ratio - 1) <= 0.05) and not np.allclose(ratio, 1)
    assert v1.data.X.tolist() == a.data.X.tolist()


def test_signature_depends_on_everything():
    base = signature(b"k", "hp", "s001", "d1")
    assert base != signature(b"k2", "hp", "s001", "d1")
    assert base != signature(b"k", "hp2", "s001", "d1")
    assert base != signature(b"k", "hp", "s002", "d1")
    assert base != signature(b"k", "hp", "s001", "d2")
    assert base == signature(b"k", "hp", "s001", "d1")


def test_secret_required(monkeypatch, tmp_path):
    monkeypatch.delenv("MANUALML_SECRET", raising=False)
    with pytest.raises(WorkbookError, match="no signing secret: set MANUALML_SECRET or pass --key-file"):
        load_secret()
    key = tmp_path / "key"
    key.write_text("abc\n")
    assert load_secret(key) == b"abc"
    monkeypatch.setenv("MANUALML_SECRET", "xyz")
    assert load_secret() == b"xyz"


def test_class_of_thirty(tmp_path):
    a = load("house-prices-sigmoid")
    students = read_roster(_roster(tmp_path))
    out = tmp_path / "class"
    manifest_path = generate_class(a, students, out, template_path=resolve_template("house-prices-sigmoid"),
                                   secret=b"secret", workers=2)
    manifest = read_manifest(manifest_path)
    assert manifest["assignment"] == a.id and len(manifest["students"]) == 30
    digests = set()
    for entry in manifest["students"]:
        path = out / entry["file"]
        assert sha256_file(path) == entry["sha256"]
        v = student_assignment(a, entry)
        assert variant_digest(v) == entry["variant_digest"]
        assert entry["baseline"] == pytest.approx(model.loss(v), rel=1e-12)
        digests.add(entry["variant_digest"])
    assert len(digests) == 30
    wb = openpyxl.load_workbook(out / "s007.xlsx")
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["manualml_student_id"] == "s007"
    entry7 = manifest["students"][6]
    assert props["manualml_signature"] == signature(b"secret", a.id, "s007", entry7["variant_digest"])
    assert "Student 7" in wb["Manual Machine Learning"]["A2"].value
    assert "secret" not in json.dumps(manifest)
    # same command, same files
    again = generate_class(a, students, tmp_path / "again", template_path=resolve_template("house-prices-sigmoid"),
                           secret=b"secret")
    assert [e["variant_digest"] for e in read_manifest(again)["students"]] == [e["variant_digest"] for e in
                                                                                manifest["students"]]


def test_solve_reaches_the_best_line_and_is_reproducible():
    a = load("house-prices")
    X = np.c_[a.data.X, np.ones(len(a.data.rows))]
    theta = np.linalg.lstsq(X, a.data.y, rcond=None)[0]
    best_line = float(np.sqrt(np.mean((X @ theta - a.data.y) ** 2)))
    assert round(best_line, 2) == 22.09
    first = solve(a, starts=6, steps=1500, seed=3)
    assert first.metric <= best_line
    assert first.improvement > 0.99
    assert solve(a, starts=6, steps=1500, seed=3).weights == first.weights
    assert model.loss(a, first.weights) == first.metric
