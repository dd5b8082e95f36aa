"""Open a submitted file safely, before anything parses it.

A submission is untrusted input. It is recognised by its bytes, not its name; zip archives are
checked against declared sizes, member counts and compression ratios before anything is
inflated, and every read is counted so a member that inflates past what it declared (or past
the caps) is stopped mid-stream. Files are opened read-only and never written.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from grader import formats, zip_parts
from grader.errors import SubmissionError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile file from taking the grader's memory or time."""

    max_file_bytes: int = 100 * 2**20
    # LibreOffice writes ~2.4 KB of sheet XML per row of an 8-input network in an .xlsx and ~5.5 KB
    # in an .ods: a 100,000-row .ods is a 550 MB content.xml. Sheets are streamed, never held whole,
    # so these caps bound time, not memory; the ratio check below catches the zeros-bomb long before.
    max_member_bytes: int = 768 * 2**20  # one member, declared or actually inflated
    max_total_inflated: int = 1024 * 2**20  # everything read from one file
    max_whole_part_bytes: int = 64 * 2**20  # a small part parsed whole (workbook.xml, shared strings...)
    max_ratio: float = 200.0  # compression ratio, checked for members over 1 MB
    max_members: int = 10_000


class _Budget:
    """Inflated bytes left for this file."""

    def __init__(self, total: int) -> None:
        self.left = total


class _BoundedReader(io.RawIOBase):
    """A zip member stream that stops at its declared size and at the file's budget."""

    def __init__(self, raw, archive: SafeArchive, info: zipfile.ZipInfo) -> None:
        self.raw, self.archive, self.info, self.count = raw, archive, info, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.count += len(data)
        self.archive._spend(len(data), self.info, self.count)
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


class SafeArchive:
    """A submission's zip, with bounded reads. Use as a context manager."""

    def __init__(self, path: Path, kind: str, zf: zipfile.ZipFile | zip_parts.LeanZip, limits: Limits, *,
                 workbook_part: str = "xl/workbook.xml") -> None:
        self.path, self.kind, self.zip, self.limits = path, kind, zf, limits
        self.workbook_part = workbook_part  # an xlsx's main part, where `_rels/.rels` says it is
        self._budget = _Budget(limits.max_total_inflated)
        self._names = {i.filename: i for i in zf.infolist()}

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def names(self) -> list[str]:
        return list(self._names)

    def has(self, name: str) -> bool:
        return name in self._names

    def size(self, name: str) -> int:
        """The size a part declares (inflated); reading never goes beyond it."""
        info = self._names.get(name)
        return info.file_size if info is not None else 0

    def _fail(self, message: str, code: str) -> SubmissionError:
        return SubmissionError(str(self.path), message, code=code)

    def _spend(self, n: int, info: zipfile.ZipInfo, so_far: int) -> None:
        self._budget.left -= n
        if so_far > info.file_size or so_far > self.limits.max_member_bytes:
            raise self._fail(f"the part {info.filename} inflates to more than it declares; the file looks like a "
                             "zip bomb", "zip-bomb")
        if self._budget.left < 0:
            raise self._fail("the file inflates to more than the grader allows "
                             f"({self.limits.max_total_inflated // 2**20} MB); it looks like a zip bomb", "zip-bomb")

    def open_stream(self, name: str):
        info = self._names.get(name)
        if info is None:
            raise self._fail(f"the part {name} is missing", "missing-parts")
        try:
            raw = self.zip.open(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
            raise self._fail(f"the part {name} cannot be read ({exc}); the file is damaged", "truncated") from None
        return io.BufferedReader(_BoundedReader(_Guarded(raw, self, name), self, info), buffer_size=1 << 16)

    def read(self, name: str, *, max_bytes: int | None = None) -> bytes:
        info = self._names.get(name)
        if info is None:
            raise self._fail(f"the part {name} is missing", "missing-parts")
        if max_bytes is not None and info.file_size > max_bytes:
            raise self._fail(f"the part {name} is {_size(info.file_size)}, more than a spreadsheet needs (at most "
                             f"{_size(max_bytes)}); save the workbook again from Excel or LibreOffice", "too-large")
        try:
            raw = self.zip.open(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
            raise self._fail(f"the part {name} cannot be read ({exc}); the file is damaged", "truncated") from None
        with raw:  # one read, of at most the declared size (zipfile stops there and checks the CRC)
            data = _Guarded(raw, self, name).read(info.file_size + 1)
        self._spend(len(data), info, len(data))
        return data


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.1f} KB"


class _Guarded:
    """Turns damage found while inflating (bad CRC, short data, a broken deflate stream) into a SubmissionError."""

    def __init__(self, raw, archive: SafeArchive, name: str) -> None:
        self.raw, self.archive, self.name = raw, archive, name

    def read(self, n: int) -> bytes:
        try:
            return self.raw.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise self.archive._fail(f"the part {self.name} is damaged ({exc}); the file was cut short or corrupted",
                                     "truncated") from None

    def close(self) -> None:
        self.raw.close()


def _looks_like(head: bytes) -> str:
    text = head.lstrip()[:64].lower()
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if text.startswith(b"<?xml"):
        return "an XML file"
    if b"\0" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 50:
        return "not a spreadsheet file"
    lines = head.decode("utf-8", "replace").splitlines()  # a cut-off character or a Windows code page is fine
    sep = next((c for c in ",;\t" if lines and lines[0].count(c)), None)
    is_csv = sep is not None and len(lines) >= 2 and lines[0].count(sep) == lines[1].count(sep)
    return "a text file (CSV)" if is_csv else "a text file"


def open_submission(path: str | Path, *, limits: Limits = Limits()) -> SafeArchive:
    """Recognise, check and open a submission; raises SubmissionError with a specific code."""
    path = Path(path)
    p = str(path)
    try:
        status = os.stat(p)
    except FileNotFoundError:
        raise SubmissionError(p, "the file does not exist", code="missing") from None
    except OSError as exc:
        raise SubmissionError(p, f"the file cannot be opened ({exc.strerror})", code="unreadable") from None
    if stat.S_ISDIR(status.st_mode):
        if path.suffix.lower() == ".numbers":  # an older Numbers document is a package (a folder)
            raise formats.refuse(path, "numbers")
        raise SubmissionError(p, "this is a folder, not a spreadsheet file", code="not-a-spreadsheet")
    size = status.st_size
    if size == 0:
        raise SubmissionError(p, "the file is empty (0 bytes); save your workbook again and resubmit", code="empty")
    if size > limits.max_file_bytes:
        cap = limits.max_file_bytes // 2**20
        raise SubmissionError(p, f"the file is {size / 2**20:.0f} MB, more than the {cap} MB the grader accepts",
                              code="too-large")
    with path.open("rb") as handle:  # a small file is read whole: its zip is then read from memory
        whole = handle.read() if size <= zip_parts.MAX_BYTES else None
        head = whole[:4096] if whole is not None else handle.read(4096)
    if head.startswith(OLE_MAGIC):
        raise formats.refuse(path, formats.ole_kind(path))
    if formats.is_biff_2_to_4(head):
        raise formats.refuse(path, "legacy-xls-2")
    if not head.startswith(ZIP_MAGICS):
        other = formats.text_kind(head)
        if other is not None:
            raise formats.refuse(path, other)
        text = _looks_like(head[:512])
        if text == "a text file (CSV)" or (text == "a text file" and path.suffix.lower() in (".csv", ".tsv")):
            raise formats.refuse(path, "csv")
        raise SubmissionError(p, f"this is not a spreadsheet: it looks like {_looks_like(head)}; hand in the .xlsx "
                                 "or .ods file itself", code="not-a-spreadsheet")
    try:
        zf = zip_parts.read_ordinary(whole) if whole is not None else None
        if zf is None:
            zf = zipfile.ZipFile(path)  # read-only
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SubmissionError(p, f"the file is damaged or cut short ({exc}); save it again and resubmit",
                              code="truncated") from None
    try:
        kind, part = _check_zip(path, zf, limits)
    except BaseException:
        zf.close()
        raise
    return SafeArchive(path, kind, zf, limits, workbook_part=part)


def _check_zip(path: Path, zf: zipfile.ZipFile | zip_parts.LeanZip, limits: Limits) -> tuple[str, str]:
    """The kind of workbook ("xlsx", "xlsm", "ods") and its main part, or the SubmissionError saying why not."""
    p = str(path)
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise SubmissionError(p, f"the archive has {len(infos)} parts; a workbook has a few dozen (zip bomb?)",
                              code="zip-bomb")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise SubmissionError(p, f"the part {info.filename} declares {info.file_size / 2**20:.0f} MB uncompressed; "
                                     "the file looks like a zip bomb", code="zip-bomb")
        if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise SubmissionError(p, f"the part {info.filename} compresses {ratio}:1; the file looks like a zip bomb",
                                  code="zip-bomb")
        if info.flag_bits & 0x1:
            raise SubmissionError(p, "the workbook was saved with a password: remove it and resubmit", code="encrypted")
    if total > limits.max_total_inflated:
        raise SubmissionError(p, f"the file declares {total / 2**20:.0f} MB uncompressed; it looks like a zip bomb",
                              code="zip-bomb")
    names = set(zf.namelist())
    other = formats.zip_kind(zf, names)
    if other is not None:
        raise formats.refuse(path, other)
    if "mimetype" in names:
        mime = zf.read("mimetype") if zf.getinfo("mimetype").file_size < 200 else b""
        if mime.strip() != ODS_MIME:
            what = mime.decode("ascii", "replace").strip() or "unknown"
            raise SubmissionError(p, f"this is an OpenDocument file of type {what}, not a spreadsheet (.ods)",
                                  code="not-a-spreadsheet")
        if "content.xml" not in names:
            raise SubmissionError(p, "the spreadsheet is missing its part content.xml; the file is damaged",
                                  code="missing-parts")
        if formats.ods_encrypted(zf, names):
            raise formats.refuse(path, "encrypted")
        return "ods", "content.xml"
    if formats.looks_like_ods(zf, names):
        if formats.ods_encrypted(zf, names):
            raise formats.refuse(path, "encrypted")
        return "ods", "content.xml"
    if "word/document.xml" in names:
        raise SubmissionError(p, "this is a Word document, not a spreadsheet", code="not-a-spreadsheet")
    if "ppt/presentation.xml" in names:
        raise SubmissionError(p, "this is a PowerPoint presentation, not a spreadsheet", code="not-a-spreadsheet")
    rels = zf.getinfo("_rels/.rels") if "_rels/.rels" in names else None
    named = formats.office_document_part(zf.read(rels) if rels is not None and rels.file_size < 2**20 else None)
    workbook = named if named in names else "xl/workbook.xml"
    for part in ("[Content_Types].xml", workbook):
        if part not in names:
            raise SubmissionError(p, f"the workbook is missing its part {part}; the file is damaged or not a "
                                     "spreadsheet", code="missing-parts")
    return ("xlsm" if path.suffix.lower() in (".xlsm", ".xltm") else "xlsx"), workbook
