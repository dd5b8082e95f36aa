"""A class of 30: per-student variants graded against their own data, signatures checked,
missing students listed, similarity and LMS exports written — exactly the findings planted."""

from __future__ import annotations

import csv
import shutil

import pytest
from click.testing import CliRunner

from manualml.cli import main
from tests.submissions import rewrite_member
from workbook import libreoffice
from workbook.catalog import resolve_template
from workbook.roster import read_manifest, sha256_file

SECRET = "course-secret-2026"


@pytest.fixture(scope="module")
def klass(soffice, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    roster = root / "roster.csv"
    rows = ["student_id,name,email,SIS Login ID,Section"]
    rows += [f"s{i:03d},Student {i},s{i}@uni.example,login{i},Sec {1 + i % 2}" for i in range(1, 31)]
    roster.write_text("\n".join(rows) + "\n")
    runner = CliRunner(env={"MANUALML_SECRET": SECRET})
    out = root / "issued"
    template = root / "course.toml"  # the sigmoid built-in, with ±5 % noise on each student's targets
    template.write_text(resolve_template("house-prices-sigmoid").read_text() + "\n[variants]\ntarget_noise = 0.05\n")
    result = runner.invoke(main, ["generate", "--template", str(template), "--roster", str(roster),
                                  "--out-dir", str(out), "-j", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Wrote 30 workbooks and {out / 'manifest.json'}" in result.output
    manifest = read_manifest(out / "manifest.json")
    # students open and save in LibreOffice (recalculated, cached values present)
    issued = sorted(out.glob("s*.xlsx"))
    saved = libreoffice.recalculate(issued, root / "saved")
    subs = root / "submissions"
    subs.mkdir()
    for path in saved:
        shutil.copy(path, subs / path.name)
    shutil.copy(subs / "s003.xlsx", subs / "s002.xlsx")  # s002 hands in s003's workbook
    rewrite_member(saved[3], subs / "s004.xlsx", "docProps/custom.xml",  # s004 edits the hidden signature
                   lambda xml: xml.replace(manifest["students"][3]["variant_digest"][:8], "deadbeef"))
    (subs / "s005.xlsx").unlink()  # s005 submits nothing
    return root, out, subs, manifest, runner


def test_variants_are_distinct_and_files_match_digests(klass):
    _, out, _, manifest, _ = klass
    assert all(sha256_file(out / e["file"]) == e["sha256"] for e in manifest["students"])
    assert len({e["variant_digest"] for e in manifest["students"]}) == 30
    assert len({tuple(e["variant"]["weights"].values()) for e in manifest["students"]}) == 30
    assert len({tuple(r[-1] for r in e["variant"]["rows"]) for e in manifest["students"]}) == 30


def test_grading_the_class_finds_exactly_the_planted_problems(klass):
    root, out, subs, manifest, runner = klass
    reports = root / "reports"
    result = runner.invoke(main, ["grade", str(subs), "--manifest", str(out / "manifest.json"),
                                  "--json", str(reports / "r.json"), "--csv", str(reports / "g.csv"),
                                  "--canvas", str(reports / "canvas.csv"), "--moodle", str(reports / "moodle.csv"),
                                  "--similarity", str(reports / "similar.csv"), "-j", "2"], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # s005 handed in nothing: a roster student without a grade
    import json

    results = {r["student_id"]: r for r in json.loads((reports / "r.json").read_text())["results"]}
    assert len(results) == 30
    findings = {sid: sorted(f["code"] for f in r["findings"]) for sid, r in results.items() if r["findings"]}
    assert findings == {"s002": ["other-student"], "s004": ["signature-invalid", "variant-altered"]}
    assert results["s005"]["status"] == "missing"
    other = next(f for f in results["s002"]["findings"])
    assert other["message"] == "this workbook was issued to student s003, not to s002 who submitted it"
    # every student graded against their own variant: unchanged weights -> 0 % improvement
    for sid, r in results.items():
        if r["status"] == "graded" and sid != "s002":
            assert r["improvement"] == pytest.approx(0.0, abs=1e-12), sid
            assert r["baseline"] == pytest.approx(next(e["baseline"] for e in manifest["students"] if e["id"] == sid))
    # s002 is graded on s002's data with s003's weights: not s003's score
    assert results["s002"]["metric"] != pytest.approx(results["s003"]["metric"])

    with (reports / "canvas.csv").open() as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Sigmoid neurons: house prices"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "10"]
    row1 = next(r for r in canvas if r[2] == "s001")
    assert row1 == ["Student 1", "", "s001", "login1", "Sec 2", "0"]
    assert next(r for r in canvas if r[2] == "s005")[5] == ""  # missing: left blank, not zero
    with (reports / "moodle.csv").open() as handle:
        moodle = list(csv.DictReader(handle))
    assert list(moodle[0]) == ["ID number", "Email address", "Full name", "Sigmoid neurons: house prices",
                               "Feedback"]
    m1 = next(r for r in moodle if r["ID number"] == "s001")
    assert m1["Email address"] == "s1@uni.example" and m1["Sigmoid neurons: house prices"] == "0"
    assert m1["Feedback"].startswith("RMSE ")
    with (reports / "similar.csv").open() as handle:
        pairs = list(csv.DictReader(handle))
    # groups, not pairs; the 27 untouched workbooks are not pairs of anything (issue 13)
    assert [(p["group"], p["size"], p["students"], p["note"]) for p in pairs] == [("1", "2", "s002; s003",
                                                                                  "identical")]


def test_unsigned_class_and_wrong_secret(klass):
    _, out, subs, _, _ = klass
    wrong = CliRunner(env={"MANUALML_SECRET": "not-the-secret"})
    result = wrong.invoke(main, ["grade", str(subs / "s001.xlsx"), "--manifest", str(out / "manifest.json"),
                                 "--json", str(out.parent / "w.json")])
    # one usage error before grading, not a forgery per student (issue 13)
    assert result.exit_code == 2 and not (out.parent / "w.json").exists()
    assert ("the signing key verifies none of the 1 signed workbook(s): it is not the key the class in "
            f"{out / 'manifest.json'} was generated with (--key-file, or MANUALML_SECRET)") in result.output
