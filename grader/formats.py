"""What a handed-in file is, when it is not a workbook the grader reads, and what to do about it.

Students hand in whatever their program saved: Excel Binary, Excel 95 or 2.x, CSV, Apple
Numbers, LibreOffice's flat XML, Excel 2003 XML. Each is recognised by its bytes (never by its
name) and gets its own message saying how to save the file the grader reads. `grader.safety`
calls these before opening anything; nothing here inflates more than a few small parts.
"""

from __future__ import annotations

import re
import zipfile
from functools import lru_cache
from pathlib import Path

from grader.errors import SubmissionError

ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
XLSX = "hand in an Excel Workbook (.xlsx) or an OpenDocument Spreadsheet (.ods)"

# code -> message, one per format the grader does not read
MESSAGES = {
    "xlsb": "this is an Excel Binary Workbook (.xlsb), which the grader cannot read: in Excel, File → Save As → "
            "Excel Workbook (.xlsx), then resubmit",
    "legacy-xls": "this is a legacy Excel 97-2003 (.xls) file; open it and save as .xlsx (Excel Workbook) or .ods, "
                  "then resubmit",
    "legacy-xls-95": "this is an Excel 5.0/95 (.xls) file, older than Excel 97: open it in Excel or LibreOffice and "
                     "save as .xlsx (Excel Workbook) or .ods, then resubmit",
    "legacy-xls-2": "this is an Excel 2.x-4.0 worksheet (.xls/.xlw) from before 1995: open it in LibreOffice and "
                    "save as .xlsx (Excel Workbook) or .ods, then resubmit",
    "csv": "this is a CSV text file: it keeps only the values shown, no formulas and no weight names, so it cannot "
           "be graded; " + XLSX + " itself",
    "numbers": "this is an Apple Numbers file: in Numbers, File → Export To → Excel… (.xlsx), then resubmit",
    "fods": "this is a flat OpenDocument spreadsheet (.fods): in LibreOffice, File → Save As → ODF Spreadsheet (.ods) "
            "or Excel 2007-365 (.xlsx), then resubmit",
    "excel-2003-xml": "this is an Excel 2003 XML spreadsheet: open it in Excel or LibreOffice and save it as an "
                      "Excel Workbook (.xlsx) or .ods, then resubmit",
    "encrypted": "the workbook was saved with a password: remove it and resubmit",
    "archive": "this is a zip archive of other files, not a workbook: unzip it and hand in (or grade) the workbook "
               "inside",
}


def refuse(path: Path, code: str) -> SubmissionError:
    """The error for a file of a format the grader does not read."""
    return SubmissionError(str(path), MESSAGES[code], code=code.removesuffix("-95").removesuffix("-2"))


def text_kind(head: bytes) -> str | None:
    """An XML spreadsheet the grader does not read (flat ODF, Excel 2003 XML), from the first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if not text.startswith(b"<"):
        return None
    if b'progid="Excel.Sheet"' in text or b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "excel-2003-xml"
    if re.search(rb'office:mimetype="application/vnd\.oasis\.opendocument\.spreadsheet"', text):
        return "fods"
    return None


def is_biff_2_to_4(head: bytes) -> bool:
    """Excel 2.x-4.0 worksheets are bare BIFF records (no OLE container): a BOF record first."""
    return len(head) >= 4 and head[0] == 0x09 and head[1] in (0x00, 0x02, 0x04) and head[2] in (4, 6, 8, 16) \
        and head[3] == 0


def ole_kind(path: Path) -> str:
    """An OLE2 compound file: a password-protected OOXML workbook, Excel 97-2003 or Excel 5.0/95.

    The directory names are UTF-16: 'EncryptionInfo' (an encrypted .xlsx or .xlsb), 'Workbook'
    (BIFF8, Excel 97 and later), 'Book' (BIFF5, Excel 5.0/95).
    """
    with path.open("rb") as handle:
        data = handle.read()
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"
    if "Workbook".encode("utf-16-le") in data:
        return "legacy-xls"
    if "Book".encode("utf-16-le") + b"\0\0" in data:
        return "legacy-xls-95"
    return "legacy-xls"


def zip_kind(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    """A zip the grader does not read (Excel Binary, Apple Numbers), or None."""
    if "xl/workbook.bin" in names or any(n.endswith(".bin") and n.startswith("xl/worksheets/") for n in names):
        return "xlsb"
    if any(n.startswith("Index/") and n.endswith(".iwa") for n in names) or "Index.zip" in names:
        return "numbers"
    if not names & {"[Content_Types].xml", "content.xml", "mimetype"} and any(
            n.lower().endswith((".xlsx", ".xlsm", ".ods", ".xls", ".csv")) for n in names):
        return "archive"  # an LMS bulk download, or a student's zipped folder
    return None


def ods_encrypted(zf: zipfile.ZipFile, names: set[str]) -> bool:
    """LibreOffice encrypts an .ods part by part (its zip is not encrypted): the manifest says so."""
    if "META-INF/manifest.xml" not in names or zf.getinfo("META-INF/manifest.xml").file_size >= 2**20:
        return False
    manifest = zf.read("META-INF/manifest.xml")
    return b"encryption-data" in manifest or b"encrypted-package" in manifest


def looks_like_ods(zf: zipfile.ZipFile, names: set[str]) -> bool:
    """An OpenDocument spreadsheet without its `mimetype` entry (some tools drop it): its manifest says so,
    or it has content.xml and none of an OOXML package's parts."""
    if "content.xml" not in names or "[Content_Types].xml" in names:
        return False
    if "META-INF/manifest.xml" in names and zf.getinfo("META-INF/manifest.xml").file_size < 2**20:
        manifest = zf.read("META-INF/manifest.xml")
        if b"opendocument" in manifest and ODS_MIME.encode() not in manifest:
            return False  # a text document or presentation without its mimetype
    return True


def office_document_part(rels: bytes | None) -> str | None:
    """The workbook part `_rels/.rels` names (its officeDocument relationship), without a leading slash."""
    if not rels:
        return None
    if len(rels) <= _REMEMBERED_RELS_BYTES:
        return _remembered_part(rels)
    return _office_document_part(rels)


_REMEMBERED_RELS_BYTES = 4096  # the usual `_rels/.rels` is some 600 bytes, the same in every file of a class


@lru_cache(maxsize=16)
def _remembered_part(rels: bytes) -> str | None:
    """`_office_document_part`, kept by the part's exact bytes: a class's files all carry the same one,
    and the answer is a function of the bytes alone (a str or None, never an error)."""
    return _office_document_part(rels)


def _office_document_part(rels: bytes) -> str | None:
    from grader.xml_parse import parse_whole

    try:
        root = parse_whole(rels)
    except Exception:  # noqa: BLE001 - a damaged .rels, or one with a DTD: fall back to the usual place
        return None
    for rel in root:
        if rel.get("Type", "").endswith("/officeDocument"):
            target = rel.get("Target", "")
            return target.lstrip("/") if target else None
    return None
