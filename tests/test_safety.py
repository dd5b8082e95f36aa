"""Broken and hostile files: each gets its own clear error, nothing hangs, the batch goes on."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from grader.batch import Job, grade_jobs
from grader.cells import read_cells
from grader.errors import SubmissionError
from grader.grade import grade_file
from grader.safety import open_submission
from tests import hostile_corpus as corpus
from workbook.builder import build_workbook
from workbook.catalog import load

HOSTILE = ("the file contains XML entity declarations (a DTD), which spreadsheets never need; it may be crafted "
           "to attack the grader")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return build_workbook(load("house-prices"), tmp_path_factory.mktemp("good") / "good.xlsx")


CASES = [
    (corpus.empty, "empty", "the file is empty (0 bytes); save your workbook again and resubmit"),
    (corpus.text_named_xlsx, "not-a-spreadsheet",
     "this is not a spreadsheet: it looks like a text file; hand in the .xlsx or .ods file itself"),
    (corpus.csv_named_xlsx, "csv",
     "this is a CSV text file: it keeps only the values shown, no formulas and no weight names, so it cannot be "
     "graded; hand in an Excel Workbook (.xlsx) or an OpenDocument Spreadsheet (.ods) itself"),
    (corpus.pdf_named_xlsx, "not-a-spreadsheet",
     "this is not a spreadsheet: it looks like a PDF document; hand in the .xlsx or .ods file itself"),
    (corpus.encrypted, "encrypted", "the workbook was saved with a password: remove it and resubmit"),
    (corpus.legacy_xls, "legacy-xls", "this is a legacy Excel 97-2003 (.xls) file; open it and save as .xlsx (Excel "
                                      "Workbook) or .ods, then resubmit"),
    (corpus.word_document, "not-a-spreadsheet", "this is a Word document, not a spreadsheet"),
    (corpus.zip_bomb, "zip-bomb", "the part xl/workbook.xml declares 1024 MB uncompressed; the file looks like a zip "
                                  "bomb"),
]


@pytest.mark.parametrize(("build", "code", "message"), CASES, ids=[c[1] + "-" + c[0].__name__ for c in CASES])
def test_each_kind_gets_its_error(tmp_path, build, code, message):
    path = build(tmp_path)
    with pytest.raises(SubmissionError) as err:
        open_submission(path)
    assert err.value.code == code
    assert str(err.value) == f"{path}: {message}"


def test_truncated_and_missing_parts(tmp_path, good):
    path = corpus.truncated(tmp_path, good)
    with pytest.raises(SubmissionError) as err:
        open_submission(path)
    assert err.value.code == "truncated" and "save it again and resubmit" in str(err.value)
    path = corpus.missing_workbook_part(tmp_path, good)
    with pytest.raises(SubmissionError) as err:
        open_submission(path)
    assert str(err.value) == (f"{path}: the workbook is missing its part xl/workbook.xml; the file is damaged or not "
                              "a spreadsheet")


def test_lying_bomb_stopped_while_inflating(tmp_path):
    """256 MB of zeros declared as 1 KB: inflation stops at the declared size and the lie is reported."""
    path = corpus.lying_zip_bomb(tmp_path)
    tracemalloc.start()
    with open_submission(path) as archive, pytest.raises(SubmissionError) as err:
        archive.read("xl/workbook.xml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert err.value.code == "truncated"
    assert str(err.value).startswith(f"{path}: the part xl/workbook.xml is damaged (Bad CRC-32")
    assert peak < 8 * 2**20


@pytest.mark.parametrize("xml", [corpus.BILLION_LAUGHS, corpus.EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_entities_refused(tmp_path, good, xml):
    path = corpus.with_workbook_xml(tmp_path, good, "entity.xlsx", xml)
    with open_submission(path) as archive, pytest.raises(SubmissionError) as err:
        read_cells(archive, {})
    assert err.value.code == "hostile-xml" and str(err.value) == f"{path}: {HOSTILE}"


def test_million_rows_read_fast_and_small(tmp_path, good):
    path = corpus.huge_sheet(tmp_path, good)
    tracemalloc.start()
    start = time.perf_counter()
    result = grade_file(path, load("house-prices"))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.status == "graded"
    assert [f.found for f in result.findings if f.code == "layout-extended"] == ["row 100"]
    assert elapsed < 5 and peak < 50 * 2**20


def test_batch_goes_on_and_never_modifies(tmp_path, good):
    hp = load("house-prices")
    broken = [corpus.empty(tmp_path), corpus.encrypted(tmp_path), corpus.zip_bomb(tmp_path),
              corpus.text_named_xlsx(tmp_path), corpus.truncated(tmp_path, good),
              corpus.with_workbook_xml(tmp_path, good, "xxe.xlsx", corpus.EXTERNAL_ENTITY)]
    files = [good, *broken, good]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    results = grade_jobs([Job(p, hp) for p in files], workers=1)
    assert [r.status for r in results] == ["graded", *["error"] * len(broken), "graded"]
    assert [r.error_code for r in results[1:-1]] == ["empty", "encrypted", "zip-bomb", "not-a-spreadsheet",
                                                       "truncated", "hostile-xml"]
    assert all((p.read_bytes(), p.stat().st_mtime_ns) == before[p] for p in files)


def test_slow_file_is_stopped(tmp_path, good, monkeypatch):
    """A file that takes too long is stopped by the per-file alarm and reported."""
    import grader.batch as batch

    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(batch, "grade_file", slow)
    start = time.perf_counter()
    (result,) = batch.grade_jobs([Job(good, load("house-prices"))], workers=1, timeout=0.5)
    assert time.perf_counter() - start < 3
    assert result.error_code == "timeout"
    assert result.error == ("grading stopped at the time limit of 0.5 s per file; if the file is a genuine workbook, "
                            "grade it again with a longer limit (--timeout 120)")


def _with_sheet_xml(folder, good, name: str, edit) -> object:
    """The issued workbook with its main sheet's XML passed through `edit` (text -> text)."""
    import zipfile

    path = folder / name
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = edit(data.decode()).encode()
            zout.writestr(item, data)
    return path


SHEET_DTD = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'


@pytest.mark.parametrize(("name", "edit", "code"), [
    ("bomb-in-sheet", lambda x: SHEET_DTD + x.replace("<v>85</v>", "<v>&b;</v>"), "hostile-xml"),
    ("dtd-after-a-long-comment", lambda x: "<!--" + "x" * 200_000 + "-->" + SHEET_DTD + x, "hostile-xml"),
    ("xxe-in-sheet", lambda x: '<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     + x.replace("<v>85</v>", "<v>&e;</v>"), "hostile-xml"),
    ("undefined-entity", lambda x: x.replace("<v>85</v>", "<v>&e;</v>"), "damaged"),
    ("doctype-after-root", lambda x: x.replace("</worksheet>", "</worksheet>" + SHEET_DTD), "damaged"),
])
def test_sheet_xml_is_checked_for_dtds(tmp_path, good, name, edit, code):
    """Sheets go through the fast C parser once their prolog is known to be DTD-free."""
    path = _with_sheet_xml(tmp_path, good, f"{name}.xlsx", edit)
    result = grade_file(path, load("house-prices"))
    assert (result.status, result.error_code) == ("error", code), result.error
    if code == "hostile-xml":
        assert result.error == HOSTILE
    else:
        assert result.error.startswith("the part xl/worksheets/sheet2.xml is damaged and cannot be read (")


def test_parts_read_whole_are_capped(tmp_path, good):
    """Sheets are streamed; small parts are parsed whole, so they get their own, smaller cap."""
    import zipfile

    from grader.safety import Limits

    with zipfile.ZipFile(good) as z:
        size = z.getinfo("xl/workbook.xml").file_size
    assert size > 1024
    result = grade_file(good, load("house-prices"), limits=Limits(max_whole_part_bytes=1024))
    assert result.status == "error" and result.error_code == "too-large"
    assert result.error == (f"the part xl/workbook.xml is {size / 1024:.1f} KB, more than a spreadsheet needs (at most "
                            "1.0 KB); save the workbook again from Excel or LibreOffice")
    assert grade_file(good, load("house-prices")).status == "graded"


def _with_member(folder, good, name: str, member: str, edit) -> object:
    """The issued workbook with one member's text passed through `edit` (text -> text)."""
    import zipfile

    path = folder / name
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = edit(data.decode()).encode()
            zout.writestr(item, data)
    return path


def _after_declaration(dtd: str):
    """Put `dtd` right after the XML declaration (where a DTD may stand), or first if there is none."""
    def edit(text: str) -> str:
        head, sep, rest = text.partition("?>")
        return head + sep + dtd + rest if sep and head.startswith("<?xml") else dtd + text

    return edit


@pytest.mark.parametrize("member", ["docProps/custom.xml", "xl/_rels/workbook.xml.rels"])
@pytest.mark.parametrize("dtd", [
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',  # an external entity, never referenced
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    "<!DOCTYPE x>",  # no entities at all: still a DTD, which no spreadsheet part has
], ids=["xxe", "laughs", "bare-doctype"])
def test_every_part_parsed_whole_refuses_a_dtd(tmp_path, good, member, dtd):
    """The small parts lxml parses whole are refused as hostile when they declare any DTD, as the sheets are."""
    path = _with_member(tmp_path, good, "dtd.xlsx", member, _after_declaration(dtd))
    result = grade_file(path, load("house-prices"))
    assert (result.status, result.error_code, result.error) == ("error", "hostile-xml", HOSTILE)


def test_shared_strings_with_an_entity_bomb_are_refused(tmp_path, soffice):
    """A LibreOffice-saved file (its labels are shared strings) whose string table expands an entity."""
    from workbook import libreoffice

    (saved,) = libreoffice.recalculate([build_workbook(load("house-prices"), tmp_path / "s.xlsx")], tmp_path / "lo")
    dtd = '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = _with_member(tmp_path, saved, "sst.xlsx", "xl/sharedStrings.xml",
                        lambda x: _after_declaration(dtd)(x).replace("<t>", "<t>&b;", 1))
    assert grade_file(saved, load("house-prices")).status == "graded"
    result = grade_file(path, load("house-prices"))
    assert (result.status, result.error_code, result.error) == ("error", "hostile-xml", HOSTILE)


def test_an_external_entity_is_never_read(tmp_path, good):
    """Parsed whole, a part naming a local file as an entity neither reads it nor shows it anywhere."""
    from grader.xml_parse import DoctypeFound, parse_whole

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "{secret.as_uri()}">]><a>&e;</a>').encode()
    with pytest.raises(DoctypeFound):
        parse_whole(xml)
    path = corpus.with_workbook_xml(tmp_path, good, "xxe-local.xlsx", xml.decode().replace(
        "<a>&e;</a>", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
                      '<sheet name="&e;"/></sheets></workbook>'))
    result = grade_file(path, load("house-prices"))
    assert result.error_code == "hostile-xml" and "TOP-SECRET" not in repr(result)


def test_shared_strings_are_parsed_only_when_a_text_is_looked_up(tmp_path, soffice):
    """LibreOffice stores the labels as shared strings; no check of a clean file reads a label's text, so a
    string table damaged past its prolog does not stop grading, while a DTD in it is refused (above) and a
    weight that is text still shows it."""
    from workbook import libreoffice

    (saved,) = libreoffice.recalculate([build_workbook(load("house-prices"), tmp_path / "s.xlsx")], tmp_path / "lo")
    damaged = _with_member(tmp_path, saved, "damaged.xlsx", "xl/sharedStrings.xml",
                           lambda x: x.replace("</sst>", "<si><t>unclosed</si></sst>"))
    result = grade_file(damaged, load("house-prices"))
    assert (result.status, result.findings) == ("graded", ())
    assert result.metric == grade_file(saved, load("house-prices")).metric
