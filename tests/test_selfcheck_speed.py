"""What makes the generator's self-check cheap, proved without timing anything: whatever the grader keeps
from one file for the next is kept by something exact (a part's bytes, a sheet's layout), so a file graded
after others gets exactly the answer it gets graded alone, and the short cuts read what the long way reads."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cells as cells_module
from grader import formats, per_sheet
from grader.errors import SubmissionError
from grader.grade import grade_file
from grader.identity import Expected
from grader.stamps import peek
from manualml.api import grade_as_issued
from manualml.cli import main
from tests.submissions import rewrite_member, sheet_member
from workbook.catalog import load
from workbook.roster import read_manifest, student_assignment

SECRET = "selfcheck-secret"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A class set of five students of house-prices-sigmoid (each their own data and starting weights)."""
    root = tmp_path_factory.mktemp("selfcheck")
    roster = root / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email"])
        for i in range(1, 6):
            writer.writerow([f"s00{i}", f"Student {i}", f"s00{i}@uni.example"])
    result = CliRunner(env={"MANUALML_SECRET": SECRET}).invoke(
        main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir", str(root / "c")],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = read_manifest(root / "c" / "manifest.json")
    return root / "c", manifest, load("house-prices-sigmoid")


def _forget() -> None:
    """Everything the grader keeps between files, dropped: what a fresh process would grade with."""
    per_sheet._MEMO.clear()
    per_sheet._BY_LAYOUT.clear()
    cells_module._REMEMBERED.clear()
    formats._remembered_part.cache_clear()


def _entry(e: dict) -> dict:
    return {k: v for k, v in e.items() if k != "sha256"}


def _graded(path: Path, base, entry: dict):
    a = student_assignment(base, entry)
    return grade_file(path, a, student_id=entry["id"], student_name=entry.get("name", ""),
                      expected=Expected(entry["id"], base.id, entry["variant_digest"], SECRET.encode()))


def _said(r) -> tuple:
    return (r.status, r.error_code, r.error, r.metric, r.baseline, r.improvement, r.points,
            [(f.code, f.cell, f.message) for f in r.findings])


def test_students_graded_in_turn_each_get_their_own_variant(klass):
    folder, manifest, base = klass
    entries = manifest["students"]
    assert len({e["variant_digest"] for e in entries}) == len(entries)  # every variant is its own
    _forget()
    for e in entries * 2:  # each file after the others, twice: whatever is kept is someone else's
        path = folder / e["file"]
        assert grade_as_issued(base, SECRET.encode(), path, _entry(e)) == ""
        r = _graded(path, base, _entry(e))
        assert r.findings == () and r.improvement == 0
        assert r.baseline == pytest.approx(e["baseline"], rel=1e-12) and r.metric == r.baseline
    # a file graded against another student's variant, after their own was graded: never as issued
    first, second = entries[0], entries[1]
    problem = grade_as_issued(base, SECRET.encode(), folder / second["file"], _entry(first))
    assert problem.startswith("other-student"), problem


def _edited(src: Path, dst: Path, member: str, edit) -> Path:
    """`rewrite_member`, and the edit really changed the member."""
    def changed(text: str) -> str:
        new = edit(text)
        assert new != text, (member, dst.name)
        return new

    return rewrite_member(src, dst, member, changed)


def _tampered(folder: Path, tmp: Path, name: str) -> dict[str, Path]:
    src = folder / name
    sheet = sheet_member(src)
    out = {}
    out["data-edited"] = _edited(src, tmp / "data.xlsx", sheet, lambda x: re.sub(
        r'(<c r="A12"[^>]*><v>)[^<]*(</v>)', r"\g<1>9.5\g<2>", x, count=1))
    out["cache"] = _edited(src, tmp / "cache.xlsx", sheet, lambda x: re.sub(
        r'(<c r="L13"[^>]*><f>[^<]*</f><v>)[^<]*(</v>)', r"\g<1>1234.5\g<2>", x, count=1))
    out["formula"] = _edited(src, tmp / "formula.xlsx", sheet, lambda x: re.sub(
        r'(<c r="M14"[^>]*>)<f>[^<]*</f>(<v>[^<]*</v>)', r"\g<1>\g<2>", x, count=1))
    out["formula-edited"] = _edited(src, tmp / "edited.xlsx", sheet, lambda x: x.replace(
        "<f>(M14-L14)^2</f>", "<f>(M14-L14)^3</f>", 1) if "<f>(M14-L14)^2</f>" in x else x.replace(
        "<f>(L14-K14)^2</f>", "<f>(L14-K14)^3</f>", 1))
    out["name-removed"] = _edited(src, tmp / "name.xlsx", "xl/workbook.xml", lambda x: re.sub(
        r'<definedName name="b_out">[^<]*</definedName>', "", x, count=1))
    out["name-moved"] = _edited(src, tmp / "moved.xlsx", "xl/workbook.xml", lambda x: re.sub(
        r'(<definedName name="current_rmse">)[^<]*(</definedName>)', r"\g<1>'Manual Machine Learning'!$A$1\g<2>",
        x, count=1))
    out["dtd"] = _edited(src, tmp / "dtd.xlsx", "xl/workbook.xml", lambda x: re.sub(
        r"^(<\?xml[^>]*\?>)?", r'\g<1><!DOCTYPE workbook [<!ENTITY e "x">]>', x, count=1))
    out["damaged"] = _edited(src, tmp / "damaged.xlsx", "xl/workbook.xml", lambda x: x[: len(x) // 2])
    out["rels"] = _edited(src, tmp / "rels.xlsx", "xl/_rels/workbook.xml.rels", lambda x: x.replace(
        "worksheets/sheet2.xml", "worksheets/sheet1.xml"))
    out["stamp"] = _edited(src, tmp / "stamp.xlsx", "docProps/custom.xml", lambda x: x.replace(
        name.removesuffix(".xlsx"), "s009"))
    out["office-part"] = _edited(src, tmp / "office.xlsx", "_rels/.rels", lambda x: x.replace(
        "xl/workbook.xml", "xl/styles.xml"))
    return out


def test_a_tampered_file_after_clean_ones_is_told_what_it_is_told_alone(klass, tmp_path):
    folder, manifest, base = klass
    entries = manifest["students"]
    target = entries[2]
    files = _tampered(folder, tmp_path, target["file"])
    alone = {}
    for label, path in files.items():
        _forget()
        alone[label] = _said(_graded(path, base, _entry(target)))
    _forget()
    for e in entries:  # clean files first: their workbook part, relationships and layout are kept
        assert _graded(folder / e["file"], base, _entry(e)).findings == ()
    for label, path in files.items():
        after = _said(_graded(path, base, _entry(target)))
        assert after == alone[label], label
        assert after[0] == "error" or after[-1], label  # caught: an error or a finding, never as issued
        assert _graded(folder / target["file"], base, _entry(target)).findings == ()  # and the clean one still clean
    codes = {label: {c for c, _, _ in said[-1]} | {said[1]} for label, said in alone.items()}
    assert "data-edited" in codes["data-edited"] and "cache-mismatch" in codes["cache"]
    assert "formula-overwritten" in codes["formula"] and "name-removed" in codes["name-removed"]
    assert "formula-edited" in codes["formula-edited"]
    assert "name-moved" in codes["name-moved"] and "hostile-xml" in codes["dtd"] and "damaged" in codes["damaged"]
    assert {"other-student", "signature-invalid"} <= codes["stamp"]
    assert "formula-overwritten" in codes["rels"] and "sheet-missing" in codes["office-part"]


def _defused_peek(path: Path):
    """What peek read with defusedxml's parser (before it used the standard library's C parser)."""
    from defusedxml.ElementTree import fromstring

    from grader.stamps import CUSTOM, DCTERMS_MODIFIED, _when

    try:
        with zipfile.ZipFile(path) as z:
            stamp = {}
            for prop in fromstring(z.read("docProps/custom.xml"), forbid_dtd=True).iter(f"{CUSTOM}property"):
                value = next(iter(prop), None)
                stamp[prop.get("name", "")] = (value.text or "") if value is not None else ""
            modified = next(fromstring(z.read("docProps/core.xml"), forbid_dtd=True).iter(DCTERMS_MODIFIED), None)
            saved = _when(modified.text if modified is not None else None)
    except Exception:  # noqa: BLE001 - as peek: unreadable peeks as empty
        return {}, None
    return {k.removeprefix("manualml_"): v for k, v in stamp.items() if k.startswith("manualml_")}, saved


@pytest.mark.parametrize("edit", [
    None,
    lambda x: re.sub(r"^(<\?xml[^>]*\?>)?", r'\g<1><!DOCTYPE p [<!ENTITY e "x">]>', x, count=1),
    lambda x: re.sub(r"^(<\?xml[^>]*\?>)?", r'\g<1><!DOCTYPE p SYSTEM "file:///etc/passwd">', x, count=1),
    lambda x: x.replace("</Properties>", "<!DOCTYPE p></Properties>"),
    lambda x: x.replace("manualml-layout-2<", "manualml-layout-2&undefined;<", 1),
    lambda x: x.replace("manualml-layout-2<", "manualml-layout-2&amp;&#233;<!-- note --><?pi x?><", 1),
    lambda x: x.replace('<property name="manualml_layout"', '<property name="manualml_layout"><x/></property>'
                        '<property name="other"', 1),
    lambda x: x[: len(x) - 20],
    lambda x: '<?xml version="1.0" encoding="ISO-8859-1"?>' + x.replace("layout-2", "layout-\u00e9"),
    lambda x: '<?xml version="1.0" encoding="UTF-16"?>' + x,
])
def test_peek_reads_what_defusedxml_reads(klass, tmp_path, edit):
    folder, manifest, _ = klass
    src = folder / manifest["students"][0]["file"]
    path = src if edit is None else _edited(src, tmp_path / "p.xlsx", "docProps/custom.xml", edit)
    p = peek(path)
    assert (p.stamp, p.saved) == _defused_peek(path)
    if edit is None:
        assert p.student_id == "s001" and p.signed_by(SECRET.encode())


def test_the_roster_is_normalised_in_one_pass_as_each_text_alone():
    from grader.classroom import _keys, _roster_keys

    rosters = [
        {f"s{i}": {"id": f"s{i}", "name": f"Ann O'Lee-{i}, Jr.", "email": f"A.Lee{i}@X.org",
                   "extra": {"SIS User ID": 1000 + i, "Section": "B"}} for i in range(50)},
        {"s1": {"id": "s1", "name": "Zoë Ångström", "email": "zoe@uni.example"}, "s2": {"id": "s2", "name": "Li"}},
        {"s1": {"id": "s1", "name": "Nul\0In Name", "email": ""}, "s2": {"id": "s\0 2", "name": ""}},
        {"s1": {"id": "s1"}, "s2": {"id": 2, "name": "  ", "email": "@"}},
        {},
    ]
    for roster in rosters:
        assert _roster_keys(roster) == {sid: _keys(e) for sid, e in roster.items()}
        assert list(_roster_keys(roster)) == list(roster)


def _whole_and_streamed(monkeypatch, path: Path, a):
    got = []
    for whole in (1 << 20, 0):
        monkeypatch.setattr(cells_module, "WHOLE_MAX_BYTES", whole)
        _forget()
        r = grade_file(path, a)
        from grader.reader import read_submission

        try:
            sub = read_submission(str(path), a.graded_sheet())
        except SubmissionError as exc:  # damage: both ways must say the same
            got.append((str(exc), _said(r)))
            continue
        got.append((dict(sub.cells.items()), sub.book.max_row, sub.book.max_col, _said(r)))
    return got


@pytest.mark.parametrize("edit", [
    None,
    lambda x: re.sub(r'(<c r="L12"[^>]*><f>[^<]*</f>)<v>[^<]*</v>', r"\g<1><v></v>", x, count=1),
    lambda x: re.sub(r'(<c r="L12"[^>]*>)<f>[^<]*</f>', r"\g<1><f></f>", x, count=1),
    lambda x: re.sub(r'(<c r="L12"[^>]*>)<f>([^<]*)</f>', r'\g<1><f t="normal">\g<2></f>', x, count=1),
    lambda x: re.sub(r'(<c r="L12"[^>]*)>(<f>[^<]*</f>)<v>[^<]*</v>', r'\g<1> t="s">\g<2><v>0</v>', x, count=1),
    lambda x: re.sub(r'(<c r="L12"[^>]*)>(<f>[^<]*</f>)<v>[^<]*</v>', r'\g<1> t="str">\g<2><v>text</v>', x, count=1),
    lambda x: re.sub(r'(<c r="L12"[^>]*)>(<f>[^<]*</f>)(<v>[^<]*</v>)', r"\g<1>>\g<3>\g<2>", x, count=1),
    lambda x: re.sub(r"<is><t>Inputs</t></is>", "<is><r><t>In</t></r><r><t>puts</t></r></is>", x, count=1),
    lambda x: re.sub(r"<is><t>Inputs</t></is>", "<is><t>In<t>ner</t></t></is>", x, count=1),
    lambda x: re.sub(r"<is><t>Inputs</t></is>", "<is><t/></is>", x, count=1),
    lambda x: re.sub(r"<is><t>Inputs</t></is>", "<is><t>a</t><t>b</t></is>", x, count=1),
    lambda x: re.sub(r'(<c r="A5"[^>]*) t="inlineStr">', r"\g<1>>", x, count=1),
    lambda x: re.sub(r'(<c r="A5"[^>]*)><is><t>Inputs</t></is></c>', r"\g<1>/>", x, count=1),
])
def test_the_walk_reads_the_usual_cells_as_streaming_does(monkeypatch, klass, tmp_path, edit):
    """The walk of a sheet parsed whole reads a value, a formula with its value and an inline string itself;
    every other shape goes the long way: the same cells, extents and grade as streaming the sheet."""
    folder, manifest, base = klass
    e = manifest["students"][1]
    src = folder / e["file"]
    path = _edited(src, tmp_path / "w.xlsx", sheet_member(src), edit) if edit is not None else src
    whole, streamed = _whole_and_streamed(monkeypatch, path, student_assignment(base, _entry(e)))
    assert whole == streamed


def test_grading_imports_no_process_pool():
    import subprocess
    import sys

    code = "import sys, grader.batch, grader.classroom\nprint('concurrent.futures.process' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_class_sized_batch_still_grades_in_a_pool(klass):
    from grader.batch import IN_PROCESS_BELOW, Job, grade_jobs

    folder, manifest, base = klass
    entries = manifest["students"]
    jobs = [Job(folder / e["file"], student_assignment(base, _entry(e))) for e in entries]
    jobs = (jobs * (IN_PROCESS_BELOW // len(jobs) + 1))[:IN_PROCESS_BELOW]
    results = grade_jobs(jobs, workers=2)
    assert [r.file for r in results] == [str(j.path) for j in jobs]
    assert all(r.status == "graded" and r.improvement == 0 for r in results)


def test_what_is_kept_by_a_parts_bytes_is_never_handed_out_to_be_changed(klass):
    folder, manifest, _ = klass
    from grader.safety import open_submission

    _forget()
    path = folder / manifest["students"][0]["file"]
    with open_submission(path) as archive:
        first = cells_module.read_cells(archive, None)
        first.defined_names["b_out"] = "changed"
        first.sheet_names.append("extra")
    with open_submission(path) as archive:
        second = cells_module.read_cells(archive, None)
    assert second.defined_names["b_out"] != "changed" and "extra" not in second.sheet_names


def test_sheets_of_other_layouts_graded_in_turn_keep_their_own_checks(klass, tmp_path):
    """What is kept per layout is found again for each sheet: files of two assignments (two layouts) and a
    variant of each, graded in turn, are each graded as when graded alone."""
    from workbook.builder import build_workbook

    folder, manifest, base = klass
    other = load("house-prices")
    files = [(build_workbook(other, tmp_path / "hp.xlsx"), other),
             (build_workbook(other.with_weights({**other.weights, "b_out": 2.5}), tmp_path / "hp2.xlsx"),
              other.with_weights({**other.weights, "b_out": 2.5})),
             (folder / manifest["students"][0]["file"], student_assignment(base, _entry(manifest["students"][0])))]
    alone = []
    for path, a in files:
        _forget()
        alone.append(_said(grade_file(path, a)))
    _forget()
    for _ in range(2):
        assert [_said(grade_file(path, a)) for path, a in files] == alone
    assert all(said[0] == "graded" and said[-1] == [] and said[5] == 0 for said in alone)
    assert alone[0][4] != alone[1][4]  # the variant's baseline is its own
    wrong = _said(grade_file(files[0][0], files[1][1]))  # the first file against the variant's sheet
    assert any(code == "baseline-edited" for code, _, _ in wrong[-1])
