"""The in-memory zip reader gives exactly zipfile's answers: the same parts, the same errors, the same grades.

Each case is read twice, through `grader.zip_parts` and with it switched off (zipfile alone, as
before it existed); every member's bytes or error, and the whole grade, must be the same.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from grader import zip_parts
from grader.errors import SubmissionError
from grader.grade import grade_file
from grader.safety import open_submission
from tests import hostile_corpus as corpus
from workbook.builder import build_workbook
from workbook.catalog import load


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return build_workbook(load("house-prices"), tmp_path_factory.mktemp("lean") / "good.xlsx")


def _rezip(good: Path, path: Path, *, comment: bytes = b"", stored: str = "", extra: str = "") -> Path:
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, item.date_time)
            info.compress_type = zipfile.ZIP_STORED if item.filename == stored else zipfile.ZIP_DEFLATED
            if item.filename == extra:
                info.extra = struct.pack("<HH", 0xCAFE, 2) + b"ok"
            zout.writestr(info, zin.read(item.filename))
        zout.comment = comment
    return path


def _central_entry(data: bytes, name: str) -> int:
    """The offset of `name`'s entry in the central directory (of a zip without a comment)."""
    at = struct.unpack_from("<L", data, len(data) - 22 + 16)[0]
    while True:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, at + 28)
        if data[at + 46:at + 46 + name_length] == name.encode():
            return at
        at += 46 + name_length + extra_length + comment_length


def _patched(good: Path, path: Path, edit) -> Path:
    data = bytearray(good.read_bytes())
    edit(data)
    path.write_bytes(bytes(data))
    return path


def _bad_crc(good: Path, path: Path) -> Path:
    def edit(data: bytearray) -> None:
        at = _central_entry(bytes(data), "xl/workbook.xml") + 16
        data[at:at + 4] = struct.pack("<L", (struct.unpack_from("<L", data, at)[0] + 1) & 0xFFFFFFFF)
    return _patched(good, path, edit)


def _local_name_differs(good: Path, path: Path) -> Path:
    def edit(data: bytearray) -> None:
        local = struct.unpack_from("<L", data, _central_entry(bytes(data), "xl/workbook.xml") + 42)[0]
        data[local + 30:local + 32] = b"XL"
    return _patched(good, path, edit)


def _declares_more(good: Path, path: Path) -> Path:
    """workbook.xml's central entry claims one byte more than it inflates to."""
    def edit(data: bytearray) -> None:
        at = _central_entry(bytes(data), "xl/workbook.xml") + 24
        data[at:at + 4] = struct.pack("<L", struct.unpack_from("<L", data, at)[0] + 1)
    return _patched(good, path, edit)


def _damaged_deflate(good: Path, path: Path) -> Path:
    def edit(data: bytearray) -> None:
        entry = _central_entry(bytes(data), "xl/workbook.xml")
        local = struct.unpack_from("<L", data, entry + 42)[0]
        start = local + 30 + sum(struct.unpack_from("<HH", data, local + 26))
        data[start:start + 8] = b"\xff" * 8
    return _patched(good, path, edit)


def _prefixed(good: Path, path: Path) -> Path:
    path.write_bytes(b"#!/bin/sh\n" + good.read_bytes())
    return path


CASES = {
    "as-built": lambda good, path: _rezip(good, path),
    "stored-part": lambda good, path: _rezip(good, path, stored="xl/workbook.xml"),
    "extra-field": lambda good, path: _rezip(good, path, extra="xl/workbook.xml"),
    "archive-comment": lambda good, path: _rezip(good, path, comment=b"made by hand"),
    "bytes-before-the-zip": _prefixed,
    "bad-crc": _bad_crc,
    "local-name-differs": _local_name_differs,
    "declares-more-than-it-holds": _declares_more,
    "damaged-deflate": _damaged_deflate,
    "truncated": lambda good, path: corpus.truncated(path.parent, good),
    "lying-bomb": lambda good, path: corpus.lying_zip_bomb(path.parent),
    "missing-part": lambda good, path: corpus.missing_workbook_part(path.parent, good),
}
READ_HERE = {"as-built", "stored-part", "bad-crc", "local-name-differs", "declares-more-than-it-holds",
             "damaged-deflate", "lying-bomb", "missing-part"}  # the directory is ordinary: zip_parts opens them


def _outcome(path: Path) -> tuple:
    """Every member's bytes (or the error reading it), or the error opening the file."""
    try:
        archive = open_submission(path)
    except SubmissionError as exc:
        return ("refused", exc.code, str(exc))
    with archive:
        got = []
        for name in archive.names():
            try:
                got.append((name, archive.read(name)))
            except SubmissionError as exc:
                got.append((name, exc.code, str(exc)))
            except Exception as exc:  # noqa: BLE001 - whatever it is, both readers must raise the same
                got.append((name, type(exc).__name__, str(exc)))
        return (archive.kind, archive.workbook_part, got)


def _graded(path: Path) -> dict:
    result = grade_file(path, load("house-prices")).to_dict()
    result.pop("seconds", None)
    return result


@pytest.mark.parametrize("case", list(CASES))
def test_same_answers_as_zipfile(tmp_path, good, monkeypatch, case):
    path = CASES[case](good, tmp_path / f"{case}.xlsx")
    read_here = zip_parts.read_ordinary(path.read_bytes()) is not None
    assert read_here == (case in READ_HERE)
    fast, fast_grade = _outcome(path), _graded(path)
    monkeypatch.setattr(zip_parts, "read_ordinary", lambda data: None)  # zipfile alone, as before
    assert fast == _outcome(path)
    assert fast_grade == _graded(path)


def test_ordinary_parts_come_from_memory(good):
    """The workbook as built is read without zipfile: every part inflates exactly as declared."""
    lean = zip_parts.read_ordinary(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        assert lean.namelist() == z.namelist()
        for member, info in zip(lean.infolist(), z.infolist(), strict=True):
            assert (member.filename, member.file_size, member.compress_size, member.CRC) == \
                   (info.filename, info.file_size, info.compress_size, info.CRC)
            assert lean._inflated(member) == z.read(info)
    assert lean._zipfile is None  # never needed


def test_a_broken_deflate_stream_is_damage(tmp_path, good):
    path = _damaged_deflate(good, tmp_path / "deflate.xlsx")
    result = grade_file(path, load("house-prices"))
    assert (result.status, result.error_code) == ("error", "truncated")
    assert result.error == ("the part xl/workbook.xml is damaged (Error -3 while decompressing data: invalid block "
                            "type); the file was cut short or corrupted")


def test_errors_read_through_zipfile(tmp_path, good):
    path = _bad_crc(good, tmp_path / "crc.xlsx")
    with open_submission(path) as archive, pytest.raises(SubmissionError) as err:
        archive.read("xl/workbook.xml")
    assert str(err.value) == (f"{path}: the part xl/workbook.xml is damaged (Bad CRC-32 for file 'xl/workbook.xml'); "
                              "the file was cut short or corrupted")
    assert archive.read("[Content_Types].xml").startswith(b"<Types")  # the other parts are read as before


def test_a_part_never_inflates_past_its_declared_size(tmp_path):
    """A 1 KB declaration over 4 MB of zeros: zip_parts stops one byte past it and hands over to zipfile."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = zeros.compress(b"\0" * 2**22) + zeros.flush()
    lean = zip_parts.read_ordinary(corpus._raw_zip(tmp_path / "liar.xlsx", "a.xml", data, zlib.crc32(b"\0" * 1024),
                                                   1024).read_bytes())
    assert lean._inflated(lean.getinfo("a.xml")) is None
    assert lean.read("a.xml") == b"\0" * 1024  # what zipfile makes of it: the declared size, whose CRC matches
    assert lean._zipfile is not None
