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
