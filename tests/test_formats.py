"""A verdict for every handed-in file: each format a student may save gets graded or its own message.

The files are made for real where a program here can make them (LibreOffice saves the student's
edited workbook as .xlsx, .xltx, .xls, .fods, .csv, and with a password), and built byte by byte
where none can (Excel Binary, Apple Numbers, Excel 5.0/95 and 2.x).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch import walk
from grader.formats import MESSAGES
from grader.grade import grade_file
from tests import hostile_corpus as corpus
from tests.submissions import GOOD
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.model import loss


@pytest.fixture(scope="module")
def saved(tmp_path_factory, uno_python):
    """The student's workbook as LibreOffice saves it in each format, and with a password."""
    folder = tmp_path_factory.mktemp("saved")
    issued = build_workbook(load("house-prices"), folder / "issued.xlsx")
    names = ["hp.xlsx", "hp.xltx", "hp.xls", "hp.fods", "hp.csv", "hp.ods"]
    libreoffice.edit_and_save(issued, GOOD, [folder / n for n in names])
    libreoffice.edit_and_save(issued, GOOD, [folder / "locked.ods"], password="secret")
    small = folder / "small.csv"
    small.write_text("area,price\n85,200\n")
    # LibreOffice's Excel 2003 XML export cannot write the whole sheet (its XSLT recurses too deep): a small one
    libreoffice.edit_and_save(small, {}, [folder / "excel2003.xml"])
    return folder


def _error(path: Path) -> tuple[str, str]:
    r = grade_file(path, load("house-prices"))
    return r.error_code, r.error


def test_libreoffice_saved_workbook_and_template_are_graded(saved):
    for name in ("hp.xlsx", "hp.xltx", "hp.ods"):
        r = grade_file(saved / name, load("house-prices"))
        assert r.status == "graded", (name, r.error)
        assert r.points == 10 and r.metric == pytest.approx(loss(load("house-prices"), GOOD)) == \
            pytest.approx(28.0268, abs=1e-4), name
        assert not [f for f in r.findings if f.kind == "tamper"], name


@pytest.mark.parametrize(("name", "code", "message"), [
    ("hp.xls", "legacy-xls", MESSAGES["legacy-xls"]),
    ("hp.fods", "fods", MESSAGES["fods"]),
    ("hp.csv", "csv", MESSAGES["csv"]),
    ("excel2003.xml", "excel-2003-xml", MESSAGES["excel-2003-xml"]),
    ("locked.ods", "encrypted", "the workbook was saved with a password: remove it and resubmit"),
])
def test_libreoffice_formats_get_their_own_message(saved, name, code, message):
    assert _error(saved / name) == (code, message)


def test_ods_without_mimetype_is_still_an_ods(saved, tmp_path):
    stripped = tmp_path / "nomime.ods"
    with zipfile.ZipFile(saved / "hp.ods") as zin, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "mimetype":
                zout.writestr(item, zin.read(item.filename))
    r = grade_file(stripped, load("house-prices"))
    assert r.status == "graded" and r.points == 10 and not r.findings


def test_workbook_part_found_through_rels(saved, tmp_path):
    """Some writers put the workbook elsewhere than xl/workbook.xml: `_rels/.rels` says where."""
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(saved / "hp.xlsx") as zin, zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            name = {"xl/workbook.xml": "xl/book1.xml",
                    "xl/_rels/workbook.xml.rels": "xl/_rels/book1.xml.rels"}.get(item.filename, item.filename)
            if item.filename in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"xl/workbook.xml", b"xl/book1.xml")
            zout.writestr(name, data)
    reference = grade_file(saved / "hp.xlsx", load("house-prices"))
    r = grade_file(moved, load("house-prices"))
    assert r.status == "graded" and r.points == reference.points and r.metric == reference.metric
    assert [f.code for f in r.findings] == [f.code for f in reference.findings]


def _xlsb(path: Path) -> Path:
    """The parts of an Excel Binary workbook as Excel writes them (the records themselves do not matter here)."""
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Override PartName="/xl/workbook.bin" ContentType="application/'
             'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
        z.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00\x82\x01\x00")
    return path


def _numbers(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Index/Document.iwa", b"\x00\x10\x00\x00")
        z.writestr("Metadata/Properties.plist", b"bplist00")
    return path


def test_formats_no_program_here_writes(tmp_path):
    xls95 = corpus._cfb(tmp_path / "excel95.xls", {"Book": b"\x09\x08\x08\x00\x00\x05" + b"\0" * 200})
    biff4 = tmp_path / "excel4.xls"
    biff4.write_bytes(b"\x09\x04\x06\x00\x00\x00\x10\x00" + b"\0" * 100)
    package = tmp_path / "old.numbers"
    (package / "Index").mkdir(parents=True)
    (package / "Index" / "Document.iwa").write_bytes(b"\0")
    bundle = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("Zoë Ångström_101_assignsubmission_file_/house-prices.xlsx", b"PK")
    assert _error(bundle) == ("archive", MESSAGES["archive"])
    assert _error(_xlsb(tmp_path / "hp.xlsb")) == ("xlsb", MESSAGES["xlsb"])
    assert _error(_numbers(tmp_path / "hp.numbers")) == ("numbers", MESSAGES["numbers"])
    assert _error(package) == ("numbers", MESSAGES["numbers"])
    assert _error(xls95) == ("legacy-xls", MESSAGES["legacy-xls-95"])
    assert _error(biff4) == ("legacy-xls", MESSAGES["legacy-xls-2"])
    assert MESSAGES["xlsb"].startswith("this is an Excel Binary Workbook (.xlsb)") and \
        "Save As → Excel Workbook (.xlsx)" in MESSAGES["xlsb"]


def test_walk_grades_every_format_and_lists_the_rest(tmp_path):
    class_dir = tmp_path / "class"
    for name in ("a.xlsx", "b.xlsb", "c.xls", "d.csv", "e.fods", "f.xltx", "g.xltm", "h.ods"):
        (class_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (class_dir / name).write_bytes(b"x")
    (class_dir / "sheet.xml").write_text('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook/>')
    (class_dir / "notes.xml").write_text('<?xml version="1.0"?><notes/>')
    (class_dir / "old.numbers" / "Index").mkdir(parents=True)
    (class_dir / "old.numbers" / "Index" / "Document.iwa").write_bytes(b"\0")
    debris = ["~$a.xlsx", ".~lock.h.ods#", ".DS_Store", "__MACOSX/._a.xlsx", "Thumbs.db"]
    for name in debris:
        (class_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (class_dir / name).write_bytes(b"x")
    (class_dir / "readme.txt").write_text("hello")
    (class_dir / "all.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    found = walk([class_dir])
    assert [p.name for p in found.files] == ["a.xlsx", "b.xlsb", "c.xls", "d.csv", "e.fods", "f.xltx", "g.xltm",
                                             "h.ods", "old.numbers", "sheet.xml"]
    why = {s.path.relative_to(class_dir).as_posix(): (s.reason, s.on_purpose) for s in found.skipped}
    assert why == {
        ".DS_Store": ("skipped on purpose: operating-system metadata", True),
        ".~lock.h.ods#": ("skipped on purpose: a LibreOffice lock file (.~lock.…#), left while the workbook was "
                          "open", True),
        "Thumbs.db": ("skipped on purpose: operating-system metadata", True),
        "__MACOSX/._a.xlsx": ("skipped on purpose: macOS archive metadata (__MACOSX)", True),
        "notes.xml": ("not a spreadsheet (.xlsx, .xlsm or .ods)", False),
        "readme.txt": ("not a spreadsheet (.xlsx, .xlsm or .ods)", False),
        "all.zip": ("a zip archive: unzip it to grade the workbooks inside", False),
        "~$a.xlsx": ("skipped on purpose: an Excel lock file (~$…), left while the workbook was open", True),
    }
