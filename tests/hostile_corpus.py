"""Broken and hostile submissions, built at test time (no binary fixtures are committed).

Each builder writes one file into a folder and returns its path. The grader must give each
its own clear error, stay within memory and time, and go on with the rest of the batch.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

SECTOR = 512
ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb(path: Path, streams: dict[str, bytes]) -> Path:
    """A minimal, structurally valid OLE2 compound file (v3, 512-byte sectors).

    Streams are padded to >= 4096 bytes so they live in regular sectors (no mini stream).
    Layout: sector 0 = FAT, sector 1 = directory, then each stream's sectors.
    """
    datas = [d.ljust(4096, b"\0") for d in streams.values()]
    starts, sector = [], 2
    for d in datas:
        starts.append(sector)
        sector += -(-len(d) // SECTOR)
    fat = [FATSECT, ENDOFCHAIN]
    for start, d in zip(starts, datas, strict=True):
        n = -(-len(d) // SECTOR)
        fat += [start + i + 1 for i in range(n - 1)] + [ENDOFCHAIN]
    fat += [FREESECT] * (SECTOR // 4 - len(fat))
    assert len(fat) == SECTOR // 4

    def entry(name: str, kind: int, start: int, size: int, child: int = NOSTREAM, right: int = NOSTREAM) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", NOSTREAM, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))

    names = list(streams)
    entries = [entry("Root Entry", 5, ENDOFCHAIN, 0, child=1)]
    for i, (name, start, d) in enumerate(zip(names, starts, datas, strict=True), start=1):
        entries.append(entry(name, 2, start, len(d), right=i + 1 if i < len(names) else NOSTREAM))
    directory = b"".join(entries).ljust(SECTOR, b"\0")[:SECTOR]
    assert len(entries) <= 4
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0))
    difat = struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108
    header = (header + difat).ljust(SECTOR, b"\0")
    body = b"".join(struct.pack("<I", x) for x in fat) + directory + b"".join(d.ljust(-(-len(d) // SECTOR) * SECTOR,
                                                                                        b"\0") for d in datas)
    path.write_bytes(header + body)
    return path


def encrypted(folder: Path) -> Path:
    """How Excel and LibreOffice store a password-protected .xlsx: OLE2 with EncryptionInfo."""
    return _cfb(folder / "encrypted.xlsx", {"EncryptionInfo": b"\x04\x00\x04\x00" + b"\x40" * 100,
                                            "EncryptedPackage": b"\x99" * 5000})


def legacy_xls(folder: Path) -> Path:
    return _cfb(folder / "old.xls", {"Workbook": b"\x09\x08" + b"\0" * 200})


def empty(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def text_named_xlsx(folder: Path) -> Path:
    path = folder / "notes.xlsx"
    path.write_text("I could not finish the assignment, sorry!\n")
    return path


def csv_named_xlsx(folder: Path) -> Path:
    path = folder / "export.xlsx"
    path.write_text("area,bathrooms,price\n85,1,200\n")
    return path


def pdf_named_xlsx(folder: Path) -> Path:
    path = folder / "printout.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    return path


def truncated(folder: Path, good: Path) -> Path:
    path = folder / "truncated.xlsx"
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def missing_workbook_part(folder: Path, good: Path) -> Path:
    path = folder / "missing.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            if item.filename != "xl/workbook.xml":
                zout.writestr(item, zin.read(item.filename))
    return path


def word_document(folder: Path) -> Path:
    path = folder / "essay.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return path


def _raw_zip(path: Path, name: str, compressed: bytes, crc: int, declared_size: int) -> Path:
    """A one-member zip written by hand, so its header can say anything."""
    fname = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(compressed), declared_size,
                        len(fname), 0) + fname
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(compressed),
                          declared_size, len(fname), 0, 0, 0, 0, 0, 0) + fname
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(compressed), 0)
    path.write_bytes(local + compressed + central + end)
    return path


def _deflate_zeros(n: int) -> tuple[bytes, int]:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * 2**20
    out, crc = [], 0
    for _ in range(n // len(chunk)):
        out.append(comp.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    out.append(comp.flush())
    return b"".join(out), crc


def zip_bomb(folder: Path) -> Path:
    """1 GB of zeros in about a megabyte, declared honestly."""
    data, crc = _deflate_zeros(2**30)
    return _raw_zip(folder / "bomb.xlsx", "xl/workbook.xml", data, crc, 2**30)


def lying_zip_bomb(folder: Path) -> Path:
    """256 MB of zeros whose header claims 1 KB: caught while inflating, not by the header."""
    data, crc = _deflate_zeros(2**28)
    path = folder / "liar.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    # add the lying member by hand after a valid one: rebuild the whole archive
    fname = b"xl/workbook.xml"
    ct = b"<Types/>"
    parts, centrals, offset = [], [], 0
    for name, payload, method, size, c in ((b"[Content_Types].xml", ct, 0, len(ct), zlib.crc32(ct)),
                                           (fname, data, 8, 1024, crc)):
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, c, len(payload), size, len(name), 0)
        parts.append(local + name + payload)
        centrals.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, c, len(payload),
                                    size, len(name), 0, 0, 0, 0, 0, offset) + name)
        offset += len(local) + len(name) + len(payload)
    central = b"".join(centrals)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(central), offset, 0)
    path.write_bytes(b"".join(parts) + central + end)
    return path


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&lol9;"/></sheets>
</workbook>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&xxe;"/></sheets>
</workbook>"""


def with_workbook_xml(folder: Path, good: Path, name: str, xml: str) -> Path:
    path = folder / name
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = xml.encode() if item.filename == "xl/workbook.xml" else zin.read(item.filename)
            zout.writestr(item, data)
    return path


def huge_sheet(folder: Path, good: Path, rows: int = 1_000_000) -> Path:
    """The issued workbook with a million extra rows of numbers appended to the main sheet."""
    path = folder / "huge.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                text = data.decode()
                extra = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(100, 100 + rows))
                text = text.replace("</sheetData>", extra + "</sheetData>").replace('<dimension ref="A1:M17"/>', "")
                zout.writestr(item, text)
            else:
                zout.writestr(item, data)
    return path
