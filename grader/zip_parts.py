"""A small submission's zip read from its bytes in memory, with the answers zipfile would give.

Grading one saved workbook reads five or six small parts. zipfile pays per archive (a ZipInfo
of a dozen fields for each of ~15 members, their dates and extras decoded) and per part (a
ZipExtFile reading the local header through a shared file object): together more than the
parsing of the sheet itself. A file of at most `MAX_BYTES` is read whole instead (one read),
its central directory unpacked with struct, and each small part inflated by one zlib call.

Only the ordinary shape is read this way: no archive comment, no zip64, nothing before the
first member, ASCII names without extra fields, stored or deflated parts, no encryption. Any
other file is opened by zipfile as before. A part is taken from here only when its local
header names it as the central directory does and it inflates to exactly its declared size
and CRC: then zipfile would return the very same bytes. Any other part (damaged, lying about
its size, a bomb, a big one to be streamed) is read by zipfile, from the same bytes, so every
damaged or hostile file gets the same answer and the same error as before.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

MAX_BYTES = 4 * 2**20  # files up to this size are read whole (a saved submission is ~30 KB)
MAX_INFLATED = 2**20  # parts up to this size are inflated in memory; bigger ones are streamed by zipfile

_END = struct.Struct("<4s4H2LH")  # end of central directory record (zipfile's structEndArchive)
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory entry (structCentralDir)
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header (structFileHeader)
_ZIP64_LOCATOR = b"PK\x06\x07"
_UNUSUAL_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, patched data, strong encryption: zipfile's own checks


class Member:
    """One member as the central directory describes it (the fields of zipfile.ZipInfo the grader reads)."""

    __slots__ = (
        "CRC",
        "_raw_name",
        "compress_size",
        "compress_type",
        "file_size",
        "filename",
        "flag_bits",
        "header_offset",
    )

    def __init__(self, filename: str, raw_name: bytes, fields: tuple) -> None:
        self.filename, self._raw_name = filename, raw_name
        (self.flag_bits, self.compress_type, self.CRC, self.compress_size, self.file_size,
         self.header_offset) = fields


class LeanZip:
    """The part of zipfile.ZipFile's reading interface the grader uses, over a file's bytes in memory."""

    def __init__(self, data: bytes, members: list[Member]) -> None:
        self._data, self._members = data, members
        self._by_name = {m.filename: m for m in members}  # the last of a repeated name, as zipfile keeps it
        self._zipfile: zipfile.ZipFile | None = None

    def infolist(self) -> list[Member]:
        return list(self._members)

    def namelist(self) -> list[str]:
        return [m.filename for m in self._members]

    def getinfo(self, name: str) -> Member:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"There is no item named {name!r} in the archive") from None

    def read(self, member: str | Member) -> bytes:
        with self.open(member) as stream:
            return stream.read()

    def open(self, member: str | Member):
        """A stream of the member's inflated bytes: from memory when it is ordinary, else zipfile's own."""
        if isinstance(member, str):
            member = self.getinfo(member)
        data = self._inflated(member)
        if data is not None:
            return io.BytesIO(data)
        return self._real().open(self._real().infolist()[self._members.index(member)])  # the same entry there

    def close(self) -> None:
        if self._zipfile is not None:
            self._zipfile.close()

    def _real(self) -> zipfile.ZipFile:
        """zipfile over the same bytes, for whatever is not read here; made the first time it is needed."""
        if self._zipfile is None:
            self._zipfile = zipfile.ZipFile(io.BytesIO(self._data))
        return self._zipfile

    def _inflated(self, m: Member) -> bytes | None:
        """The member's bytes exactly as zipfile would return them, or None if anything is out of the ordinary."""
        if m.file_size > MAX_INFLATED:
            return None
        data, start = self._data, m.header_offset
        header = data[start:start + _LOCAL.size]
        if len(header) != _LOCAL.size:
            return None
        sig, *_, name_length, extra_length = _LOCAL.unpack(header)
        start += _LOCAL.size
        if sig != b"PK\x03\x04" or data[start:start + name_length] != m._raw_name:
            return None
        start += name_length + extra_length
        raw = data[start:start + m.compress_size]
        if len(raw) != m.compress_size:
            return None
        if m.compress_type == zipfile.ZIP_STORED:
            out = raw
        else:  # deflated (checked when the directory was read); never inflates past its declared size + 1
            inflate = zlib.decompressobj(-15)
            try:
                out = inflate.decompress(raw, m.file_size + 1)
            except zlib.error:
                return None
            if not inflate.eof:
                return None
        if len(out) != m.file_size or zlib.crc32(out) != m.CRC:
            return None
        return out


def read_ordinary(data: bytes) -> LeanZip | None:
    """`data` (a whole file) as a LeanZip when it is a zip of the ordinary shape, else None (zipfile reads it)."""
    size = len(data)
    if size < _END.size:
        return None
    sig, disk, cd_disk, _, _, cd_size, cd_offset, comment_length = _END.unpack_from(data, size - _END.size)
    if (sig != b"PK\x05\x06" or comment_length or disk or cd_disk
            or data[size - _END.size - 20:size - _END.size - 16] == _ZIP64_LOCATOR
            or cd_offset + cd_size != size - _END.size):  # data before the first member: zipfile's "concat"
        return None
    members = []
    at, end = cd_offset, cd_offset + cd_size
    unpack, entry_size = _CENTRAL.unpack_from, _CENTRAL.size
    while at < end:
        if at + entry_size > end:
            return None
        (sig, _, _, extract_version, _, flags, method, _, _, crc, compressed, inflated, name_length, extra_length,
         comment_length, _, _, _, offset) = unpack(data, at)
        at += entry_size
        raw_name = data[at:at + name_length]
        at += name_length + extra_length + comment_length
        if (sig != b"PK\x01\x02" or extract_version > zipfile.MAX_EXTRACT_VERSION or extra_length
                or flags & _UNUSUAL_FLAGS or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
                or at > end or not raw_name.isascii() or b"\0" in raw_name):
            return None
        members.append(Member(raw_name.decode("ascii"), raw_name, (flags, method, crc, compressed, inflated, offset)))
    return LeanZip(data, members)
