"""What a class set's speed rests on, proved without timing anything: the modules a class set does not
need are not imported, the manifest is written a student a line (and reads back whole), XML text is
escaped exactly as the standard library does it, and the roster index finds the students the old
linear scan found."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from xml.sax import saxutils

from grader.classroom import _Keys, _keys
from workbook.class_set import manifest_text
from workbook.xml_text import escape, quoteattr


def test_escape_and_quoteattr_equal_the_standard_librarys():
    alphabet = "ab&<>\"'\n\r\t é"
    rng = random.Random(7)
    cases = ["", "plain", "a&b<c>d", 'say "hi"', "it's", "both \" and '", "tab\there", "line\nbreak\r"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    for text in cases:
        assert (escape(text), quoteattr(text)) == (saxutils.escape(text), saxutils.quoteattr(text)), text


def test_a_class_set_imports_neither_saxutils_nor_the_lecture_sheets():
    code = ("import sys\nfrom workbook.catalog import load_any\nimport workbook.builder, workbook.class_set\n"
            "a = load_any('house-prices-sigmoid')\n"
            "print(sorted(m for m in sys.modules if m in ('xml.sax.saxutils', 'urllib.request')"
            " or m.startswith('workbook.lecture')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_lecture_template_still_loads_its_sheets():
    code = "from workbook.catalog import load_any\nprint(type(load_any('lecture')).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "LectureTemplate"


def test_manifest_text_is_a_student_a_line_and_the_same_json():
    manifest = {"manifest_version": 1, "title": "Zoë's class", "hidden_test_rows": [[1.0, 2.0]],
                "students": [{"id": "s1", "name": "Zoë Ångström", "extra": {}}, {"id": "s2", "name": "B"}]}
    text = manifest_text(manifest)
    assert json.loads(text) == manifest
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == ' "manifest_version": 1,'
    assert lines[2] == ' "title": "Zoë\'s class",'  # not escaped to \\u00eb: readable
    assert lines[5] == '  {"id": "s1", "name": "Zoë Ångström", "extra": {}},'
    assert lines[6] == '  {"id": "s2", "name": "B"}'
    assert json.loads(manifest_text({"students": []})) == {"students": []}


def test_roster_index_finds_what_a_scan_of_every_student_finds():
    roster = {f"s{i:03d}": {"id": f"s{i:03d}", "name": f"Ann Lee{i % 7}", "email": f"a{i}@x.org"} for i in range(60)}
    roster["dup"] = {"id": "dup", "name": "Ann Lee3", "email": ""}
    keys = {sid: _keys(e) for sid, e in roster.items()}
    index = _Keys(keys)

    def scan(tokens):
        by_id = [sid for sid, (ids, _) in keys.items() if ids & tokens]
        return by_id or [sid for sid, (_, names) in keys.items() if names & tokens]

    for tokens in ({"s005"}, {"a7"}, {"annlee3"}, {"leeann3", "nobody"}, {"s001", "annlee3"}, {"zz"}, set()):
        assert index.named(tokens) == scan(tokens), tokens
    assert index.named({"annlee3"})[-1] == "dup"  # roster order, as the scan gives it


def _variant(a, weights=None, target_scale=1.0):
    from dataclasses import replace

    from workbook.spec import Dataset

    rows = tuple((*r[:-1], r[-1] * target_scale) for r in a.data.rows)
    return replace(a, data=Dataset(inputs=a.data.inputs, target=a.data.target, rows=rows),
                   weights={**a.weights, **(weights or {})})


def test_variants_of_one_assignment_share_a_layout_key_and_other_sheets_do_not():
    from workbook.catalog import load, load_any

    a = load("house-prices-sigmoid")
    one, two = a.graded_sheet(), _variant(a, {"b_out": 3.5}, target_scale=1.1).graded_sheet()
    assert one is not two and one.start != two.start and one.layout_key == two.layout_key
    others = [load(t).graded_sheet().layout_key for t in ("house-prices", "house-prices-linear", "exam-pass")]
    others += [load_any(t).graded_sheet().layout_key for t in ("lecture-perceptron", "lecture-linear-regression")]
    assert len({one.layout_key, *others}) == 6


def test_what_a_variant_shares_never_hides_what_its_own_file_holds(tmp_path):
    """Grading one variant's file first (its layout's checks then kept) must not change what another
    variant's tampered file is told: the same findings as when graded alone."""
    import openpyxl

    from grader import per_sheet
    from grader.grade import grade_file
    from workbook.builder import build_workbook
    from workbook.catalog import load

    a = load("house-prices-sigmoid")
    b = _variant(a, {"b_out": 3.5})
    clean = build_workbook(a, tmp_path / "a.xlsx")
    issued = build_workbook(b, tmp_path / "b.xlsx")
    wb = openpyxl.load_workbook(issued)
    ws = wb[b.graded_sheet().sheet]
    pred = b.graded_sheet().region("prediction") if any(r.key == "prediction" for r in b.graded_sheet().regions) \
        else next(r for r in b.graded_sheet().regions if r.role == "computed" and r.rows)
    ws[pred.first] = 123.0  # a formula typed over
    ws.cell(row=1, column=30, value=7)  # beyond the layout: content outside the extent
    wb.save(tmp_path / "b-edited.xlsx")

    per_sheet._MEMO.clear()
    per_sheet._BY_LAYOUT.clear()
    alone = grade_file(tmp_path / "b-edited.xlsx", b)
    per_sheet._MEMO.clear()
    per_sheet._BY_LAYOUT.clear()
    assert grade_file(clean, a).status == "graded"
    after = grade_file(tmp_path / "b-edited.xlsx", b)
    codes = [f.code for f in after.findings]
    assert "formula-overwritten" in codes
    said = [(f.code, f.cell, f.message) for f in after.findings]
    assert said == [(f.code, f.cell, f.message) for f in alone.findings]
    assert after.metric == alone.metric and after.points == alone.points


def test_the_manifest_baseline_is_the_loss_of_each_students_starting_weights(tmp_path):
    from workbook.catalog import load, resolve_template
    from workbook.class_set import generate_class
    from workbook.model import loss
    from workbook.roster import Student, read_manifest, student_assignment

    a = load("house-prices-sigmoid")
    students = [Student(id=f"s{i}", name=f"S {i}", email="", extra={}) for i in range(4)]
    made = generate_class(a, students, tmp_path / "class", template_path=resolve_template("house-prices-sigmoid"),
                          secret=b"k")
    entries = read_manifest(made.manifest)["students"]
    assert len({e["baseline"] for e in entries}) == 4  # each student starts from their own weights
    for e in entries:
        assert e["baseline"] == loss(student_assignment(a, e))


def test_norm_takes_a_short_cut_for_ascii_and_gives_the_same_keys():
    import string
    import unicodedata

    from grader.classroom import norm

    def reference(text):
        decomposed = unicodedata.normalize("NFKD", str(text))
        return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()

    rng = random.Random(3)
    cases = ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 15))) for _ in range(3000)]
    cases += ["Zoë Ångström", "ß Straße", "İstanbul", "O'Neil, Mary-Jo", "s001@uni.example", 42]
    for text in cases:
        assert norm(text) == reference(text), text
    assert norm("Zoë Ångström") == "zoeangstrom" and norm("O'Neil, Mary-Jo") == "oneilmaryjo"


def test_a_big_sheet_never_lists_its_given_cells_one_by_one(tmp_path):
    """The plain-Python comparison is for small sheets; a 2,000-row sheet compares its data as arrays, and
    the cell-by-cell list (900,000 addresses at 100,000 rows: 2 s of a self-check) is never made."""
    import numpy as np

    from grader import per_sheet
    from grader.grade import grade_file
    from workbook.builder import build_workbook
    from workbook.catalog import load
    from workbook.spec import Dataset

    a = load("house-prices")
    rng = np.random.default_rng(1)
    rows = tuple((float(x), float(b), float(y)) for x, b, y in
                 zip(rng.integers(40, 250, 2000), rng.integers(1, 4, 2000), rng.integers(100, 800, 2000), strict=True))
    big = _variant(a)
    from dataclasses import replace

    big = replace(big, data=Dataset(inputs=a.data.inputs, target=a.data.target, rows=rows))
    path = build_workbook(big, tmp_path / "big.xlsx")
    per_sheet._MEMO.clear()
    result = grade_file(path, big)
    assert result.status == "graded" and {f.code for f in result.findings} <= {"not-recalculated"}
    kept = per_sheet._MEMO[id(big.graded_sheet())][1]
    assert "given columns" in kept and "given cells" not in kept
    small = grade_file(build_workbook(a, tmp_path / "small.xlsx"), a)
    assert small.status == "graded" and "given cells" in per_sheet._MEMO[id(a.graded_sheet())][1]


def test_weights_drawn_in_one_call_are_those_drawn_one_by_one():
    """draw_weights asks the generator for every missing weight at once: the numbers must be those of one
    call per weight in parameter order (as it drew them before), so no student's starting weights change."""
    import numpy as np

    from workbook.catalog import load
    from workbook.spec import draw_weights

    a = load("house-prices-sigmoid")
    init = a.random_init
    for salt in ["", "s001", "Zoë", *(f"s{i}" for i in range(300))]:
        given = {"b_out": 100.0}
        digest = int.from_bytes(salt.encode("utf-8"), "big") % (2**63) if salt else 0
        rng = np.random.default_rng([init.seed, digest])
        one_by_one = {n: given[n] if n in given else round(float(rng.uniform(init.low, init.high)), init.decimals)
                      for n in a.network.parameter_names()}
        assert draw_weights(a.network, given, init, salt=salt) == one_by_one, salt
