"""Class sets: per-student variants, signatures, manifests; and the reference solution."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import openpyxl
import pytest

from workbook import model
from workbook.catalog import load, resolve_template
from workbook.class_set import ClassSetExists, generate_class, sameness_warning
from workbook.errors import WorkbookError
from workbook.roster import (
    Student,
    find_secret,
    load_secret,
    read_manifest,
    read_roster,
    secret_path,
    sha256_file,
    signature,
    student_assignment,
    variant,
    variant_digest,
)
from workbook.solve import solve
from workbook.spec import RandomInit, WeightVariants, parse_template


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


IDS = ("student id, student number, student no, student nr, matriculation number, matric number, matrikelnummer, "
       "matr nr, id number, sis user id, id, username, user name, sis login id, login id, email, email address, "
       "e mail, e mail address")


@pytest.mark.parametrize(("text", "exp"), [
    ("name,phone\nA,1\n", f"the roster needs a student id column (one of: {IDS}), or name yours with --id-column; "
                           "found: name, phone"),
    ("id,name\ns1,A\ns1,B\n", "line 3: student id 's1' appears twice (first on line 2)"),
    # physical lines: the blank line and the quoted line break count
    ("id;name\ns1;A\n\ns2;\"B\nB\"\ns1;C\n", "line 6: student id 's1' appears twice (first on line 2)"),
    ("id,name\n\n\ns1,A\n\ns1,B\n", "line 6: student id 's1' appears twice (first on line 4)"),
    ("id,name\n,A\n", "line 2 has no student id (column 'id')"),
    ("id,name\n", "the roster lists no students (only the header, line 1)"),
    ("", "the roster is empty; it needs a header line naming a student id column"),
    ("id,name,email\ns1,Doe, Jane,j@x\n", "line 2 has 4 fields but the header has 3 (an unquoted comma inside a "
                                          "value?)"),
])
def test_roster_errors(tmp_path, text, exp):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(WorkbookError) as err:
        read_roster(path)
    assert str(err.value) == f"{path}: {exp}"


def test_roster_that_is_not_utf8(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id;name\ns1;Ana\ns2;Jos\u00e9\n".encode("cp1252"))
    with pytest.raises(WorkbookError) as err:
        read_roster(path)
    assert str(err.value) == (f"{path}: line 3 is not UTF-8 text (byte 0xe9); save the roster as \"CSV UTF-8\" "
                              "(Excel: File > Save As > CSV UTF-8)")


@pytest.mark.parametrize(("data", "ids", "names", "emails"), [
    # European Excel's CSV: semicolons, and a comma inside a name needs no quotes
    (b"student_id;name;email\ns1;Doe, Jane;j@x\ns2;Roe;r@x\n", ["s1", "s2"], ["Doe, Jane", "Roe"], ["j@x", "r@x"]),
    # tab-separated, with Excel's UTF-8 BOM and Windows line ends
    ("\ufeffStudent Number\tName\r\n1001\tZo\u00eb\r\n1002\tLi\r\n".encode(), ["1001", "1002"],
     ["Zo\u00eb", "Li"], ["", ""]),
    # Excel's "Unicode Text": UTF-16 with a BOM, tabs
    ("Matriculation Number\tFull Name\n77\tA\n".encode("utf-16"), ["77"], ["A"], [""]),
    # a Canvas gradebook export: SIS User ID before Canvas's internal ID; "Points Possible" is not a student
    (b"Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\nAna,11,s1,ana,A\n", ["s1"], ["Ana"],
     [""]),
    # username before email; email is the id only when nothing else is
    (b"Email,Username\nx@u,xu\n", ["xu"], [""], ["x@u"]),
    (b"E-Mail,Name\nx@u,X\n", ["x@u"], ["X"], ["x@u"]),
    # a Moodle grade export: first and last name make the name, ID number is the id
    (b"First name,Last name,ID number,Institution,Email address\nAna,Lee,7,U,a@u\nBo,,8,U,b@u\n", ["7", "8"],
     ["Ana Lee", "Bo"], ["a@u", "b@u"]),
    # Excel writes rows it thinks are used as bare delimiters: they are blank lines
    (b"id;name;email\ns1;A;\n;;\n", ["s1"], ["A"], [""]),
])
def test_rosters_as_instructors_have_them(tmp_path, data, ids, names, emails):
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    students = read_roster(path)
    assert [s.id for s in students] == ids
    assert [s.name for s in students] == names
    assert [s.email for s in students] == emails


def test_id_column_option(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("ID,Matrikel,Name\n1,M-01,A\n2,M-02,B\n")
    assert [s.id for s in read_roster(path)] == ["1", "2"]
    students = read_roster(path, id_column="matrikel")
    assert [s.id for s in students] == ["M-01", "M-02"] and students[0].extra == {"ID": "1"}
    with pytest.raises(WorkbookError) as err:
        read_roster(path, id_column="Matrikelnr")
    assert str(err.value) == f"{path}: no column 'Matrikelnr' (--id-column); found: ID, Matrikel, Name"


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
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with pytest.raises(WorkbookError) as err:
        load_secret()
    assert str(err.value) == (f"no signing secret: set MANUALML_SECRET, pass --key-file, or keep it in "
                              f"{tmp_path / 'config' / 'manualml' / 'secret'} (where `manualml generate --roster` "
                              "creates one); keep it out of the workbooks and out of version control")
    assert not (tmp_path / "config").exists()  # grading never creates a key
    key = tmp_path / "key"
    key.write_text("abc\n")
    assert load_secret(key) == b"abc"
    monkeypatch.setenv("MANUALML_SECRET", "xyz")
    assert load_secret() == b"xyz"
    assert load_secret(key) == b"abc"  # --key-file wins over the environment
    key.write_text("\n")
    with pytest.raises(WorkbookError, match="the key file is empty; put a long random string in it"):
        load_secret(key)


def test_secret_created_once_in_the_config_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MANUALML_SECRET", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    made = find_secret(create=True, outside=tmp_path / "class")
    path = tmp_path / "config" / "manualml" / "secret"
    assert made.created and made.path == path and made.origin == str(path) == str(secret_path())
    assert len(made.value) == 64 and int(made.value, 16) >= 0  # 32 random bytes as hex
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o077 == 0
    again = find_secret(create=True)
    assert again.value == made.value and not again.created
    assert load_secret() == made.value  # grade finds the same key
    monkeypatch.setenv("MANUALML_SECRET", "env-wins")
    assert find_secret(create=True).value == b"env-wins"
    # ~/.config when XDG_CONFIG_HOME is unset (or not an absolute path, as the XDG spec says)
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/path")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert secret_path() == tmp_path / "home" / ".config" / "manualml" / "secret"


def test_secret_never_inside_the_class_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MANUALML_SECRET", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "class" / "cfg"))
    with pytest.raises(WorkbookError) as err:
        find_secret(create=True, outside=tmp_path / "class")
    path = tmp_path / "class" / "cfg" / "manualml" / "secret"
    assert str(err.value) == (f"{path}: the signing secret must not be inside the class folder {tmp_path / 'class'} "
                              "(whatever is there may reach students); keep it elsewhere")
    assert not path.exists()
    key = tmp_path / "class" / "key.txt"
    key.parent.mkdir()
    key.write_text("k")
    with pytest.raises(WorkbookError, match=r"key\.txt: the signing secret must not be inside the class folder"):
        find_secret(key, outside=tmp_path / "class")


def test_class_of_thirty(tmp_path):
    a = load("house-prices-sigmoid")
    students = read_roster(_roster(tmp_path))
    out = tmp_path / "class"
    made = generate_class(a, students, out, template_path=resolve_template("house-prices-sigmoid"),
                          secret=b"secret", workers=2)
    assert made.warning is None and made.removed == () and len(made.workbooks) == 30
    manifest = read_manifest(made.manifest)
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
    # same command, same variants
    again = generate_class(a, students, tmp_path / "again", template_path=resolve_template("house-prices-sigmoid"),
                           secret=b"secret")
    assert [e["variant_digest"] for e in read_manifest(again.manifest)["students"]] == [
        e["variant_digest"] for e in manifest["students"]]


def test_a_class_set_is_never_silently_replaced(tmp_path):
    a = load("house-prices-sigmoid")
    template = resolve_template("house-prices-sigmoid")
    out = tmp_path / "class"
    first = generate_class(a, read_roster(_roster(tmp_path, 4)), out, template_path=template, secret=b"k")
    (out / "notes.txt").write_text("mine")
    (out / "s004.xlsx.bak").write_text("mine")
    smaller = read_roster(_roster(tmp_path, 2))
    with pytest.raises(ClassSetExists) as err:
        generate_class(a, smaller, out, template_path=template, secret=b"k")
    assert str(err.value) == (f"{out} already holds a class set ({out / 'manifest.json'}); pass --force to replace "
                              "it (its workbooks that the new set does not overwrite are deleted), or choose another "
                              "--out-dir")
    assert read_manifest(first.manifest)["students"][3]["id"] == "s004"  # untouched
    second = generate_class(a, smaller, out, template_path=template, secret=b"k", force=True)
    assert second.removed == (out / "s003.xlsx", out / "s004.xlsx")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "notes.txt", "s001.xlsx", "s002.xlsx",
                                                     "s004.xlsx.bak"]
    assert [e["id"] for e in read_manifest(second.manifest)["students"]] == ["s001", "s002"]


def test_force_deletes_only_workbooks_inside_the_folder(tmp_path):
    out = tmp_path / "class"
    out.mkdir()
    (tmp_path / "outside.xlsx").write_text("keep")
    (out / "roster.csv").write_text("keep")
    (out / "manifest.json").write_text(json.dumps({"students": [
        {"file": "../outside.xlsx"}, {"file": "roster.csv"}, {"file": "/etc/passwd"}, {"file": 7}, "x"]}))
    a = load("house-prices-sigmoid")
    made = generate_class(a, read_roster(_roster(tmp_path, 1)), out,
                          template_path=resolve_template("house-prices-sigmoid"), secret=None, force=True)
    assert made.removed == () and (tmp_path / "outside.xlsx").exists() and (out / "roster.csv").exists()
    (out / "manifest.json").write_text("{not json")  # a broken manifest still marks a class set
    with pytest.raises(ClassSetExists):
        generate_class(a, [], out, template_path=resolve_template("house-prices-sigmoid"), secret=None)


def test_ids_that_make_one_file_name(tmp_path):
    a = load("house-prices-sigmoid")
    with pytest.raises(WorkbookError) as err:
        generate_class(a, [Student("Ann Lee"), Student("ann_lee")], tmp_path / "c",
                       template_path=resolve_template("house-prices-sigmoid"), secret=None)
    assert str(err.value) == ("students 'Ann Lee' and 'ann_lee' would both be written to ann_lee.xlsx: make the ids "
                              "differ by more than punctuation or letter case")


def test_identical_workbooks_warn(tmp_path):
    a = load("house-prices")  # every weight named, no [variants]
    students = read_roster(_roster(tmp_path, 3))
    made = generate_class(a, students, tmp_path / "c", template_path=resolve_template("house-prices"), secret=None)
    assert made.warning == ("every student gets the same workbook (same starting weights, same data): the template "
                            "names every starting weight and has no [variants]. Add [variants] starting_weights = "
                            '"random" (each student starts near the named weights) or target_noise = 0.05 to the '
                            "template to give each their own")
    digests = {e["variant_digest"] for e in read_manifest(made.manifest)["students"]}
    assert len(digests) == 1
    narrow = replace(load("house-prices-sigmoid"), random_init=RandomInit(seed=1, low=0.0, high=0.004, decimals=2))
    assert sameness_warning(narrow, students, ["d1", "d1", "d2"]) == (
        "1 of 3 students get the same workbook as a classmate (the [weights.random] range and decimals allow few "
        "distinct draws): widen the range, or add [variants] target_noise")
    assert sameness_warning(narrow, students[:1], ["d1"]) is None


def test_starting_weights_random_moves_even_named_weights(tmp_path):
    text = resolve_template("house-prices").read_text() + '\n[variants]\nstarting_weights = "random"\nspread = 2\n'
    a = parse_template(text, source="hp-variants.toml")
    assert a.weight_variants == WeightVariants(spread=2.0, decimals=2)
    assert a.weights == load("house-prices").weights  # a single workbook keeps the template's weights
    named = dict(a.weights)
    starts = [variant(a, f"s{i:03d}").weights for i in range(1, 41)]
    assert len({tuple(w.values()) for w in starts}) == 40
    for w in starts:
        assert list(w) == list(named)
        assert all(abs(w[k] - named[k]) <= 2 and round(w[k], 2) == w[k] for k in named)
    offsets = np.array([[w[k] - named[k] for k in named] for w in starts])
    assert offsets.min() < -1.5 and offsets.max() > 1.5  # the whole spread is used
    assert variant(a, "s001") == variant(a, "s001")
    made = generate_class(a, read_roster(_roster(tmp_path, 3)), tmp_path / "c",
                          template_path=resolve_template("house-prices"), secret=None)
    assert made.warning is None
    sig = parse_template(resolve_template("house-prices-sigmoid").read_text()
                         + '\n[variants]\nstarting_weights = "random"\n', source="s.toml")
    assert sig.weight_variants == WeightVariants(spread=1.0, decimals=2)
    assert {variant(sig, f"s{i}").weights["b_out"] for i in range(10)} != {100.0}


@pytest.mark.parametrize(("extra", "exp"), [
    ('starting_weights = "shuffled"', "variants.starting_weights: expected 'template' or 'random', got 'shuffled'"),
    ("spread = 2", 'variants.spread: applies only with starting_weights = "random"'),
    ('starting_weights = "random"\nspread = 0', "variants.spread: must be a positive number (named weights start at "
                                                "value ± spread), got 0.0"),
    ('starting_weights = "random"\ndecimals = 9', "variants.decimals: must be between 0 and 6, got 9"),
])
def test_variants_table_errors(extra, exp):
    with pytest.raises(WorkbookError) as err:
        parse_template(resolve_template("house-prices").read_text() + f"\n[variants]\n{extra}\n", source="t.toml")
    assert str(err.value) == f"t.toml: {exp}"


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
