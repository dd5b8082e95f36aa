"""The .xlsx package on disk: the same workbook always gives the same bytes, with its results cached.

openpyxl lays out the workbook (styles, names, charts, validation, protection) and writes it to
memory; this module then writes the file itself, because three things openpyxl cannot do matter:

* **Cached values.** openpyxl writes every formula with an empty ``<v/>``. Excel's Protected View,
  phones, previews, pandas and calamine show caches only, so a student would first see blanks.
  Each sheet's values (computed by NumPy: `values`) are put into its formula cells; a formula
  cell left without one is an error, so no sheet can silently miss its results.
* **Sheet bodies streamed by us** (`bodies`): the main sheet's rows are written as XML text by
  `workbook.sheet_xml`, which is many times faster than openpyxl's cell objects.
* **Reproducible bytes.** Document times come from ``SOURCE_DATE_EPOCH`` or a fixed date, never the
  clock, zip entries carry a fixed timestamp, and the compressor is fixed: the same command
  writes byte-identical files, so a class manifest's digests can be re-derived.

Parts are deflated once and may be reused as they are (`Part.raw`): a class set writes the parts
every student shares once and only the student's own parts per file.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from pathlib import Path

from workbook.address import PLAIN_CELL_TEXT
from workbook.errors import WorkbookError
from workbook.xml_text import escape, quoteattr

LEVEL = 1  # fixed (the compressor is part of the bytes); 1 deflates 3x faster than 6 for 10 % more bytes
THREAD_AFTER = 4 << 20  # bytes: past these a stream is deflated in a second thread while the next chunks are made
FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)  # document times when SOURCE_DATE_EPOCH is not set
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the zip format's own epoch
_DOS_TIME = 0
_CELL = re.compile(rf'<c r="({PLAIN_CELL_TEXT})"([^>]*?)(/>|>(.*?)</c>)', re.S)
_TYPE = re.compile(r'\st="[^"]*"')
_EMPTY_V = re.compile(r"<v\s*/>|<v></v>")
_DIMENSION = re.compile(r"<dimension [^>]*/>")
_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>\s*</sheetData>")
_DATES = re.compile(r"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
_OFFSET = struct.Struct("<I").pack


class Error:
    """A spreadsheet error value as a cached result (``#NUM!``, ``#DIV/0!``)."""

    __slots__ = ("code",)

    def __init__(self, code: str):
        self.code = code

    def __eq__(self, other):
        return isinstance(other, Error) and other.code == self.code

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return f"Error({self.code!r})"


NUM = Error("#NUM!")
DIV0 = Error("#DIV/0!")


def document_date() -> datetime:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention) if set, else a fixed date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return FIXED_DATE


def cached(value) -> tuple[str, str]:
    """(type attribute, <v> text) of a formula's cached result."""
    if isinstance(value, Error):
        return ' t="e"', value.code
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, str):
        return ' t="str"', escape(value)
    if isinstance(value, int):
        return "", str(value)
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return ' t="e"', NUM.code
    text = repr(v)
    return "", text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Part:
    """One zip entry, already deflated."""

    name: str
    raw: bytes  # raw deflate stream
    crc: int
    size: int  # uncompressed size

    @cached_property  # a non-data descriptor: once made, every read is the instance's own dict's
    def records(self) -> tuple[bytes, bytes, bytes]:
        """Its local header, its central-directory record up to the offset, and its encoded name: a class
        set writes the shared parts into a thousand files, so they are packed once."""
        return _records(self)

    @classmethod
    def of(cls, name: str, data: bytes | Iterable[bytes]) -> Part:
        """Deflate `data` (bytes, or chunks made as they are needed). zlib releases the GIL, so a long stream
        is deflated in a worker thread while this one makes the next chunks: on two cores a 100,000-row
        sheet costs about the larger of the two, not their sum. The bytes are the same either way, and the
        same as one call of zlib.compress, which deflates bytes shorter than that (a student's own parts)."""
        if type(data) is bytes and len(data) < THREAD_AFTER:
            return cls(name, zlib.compress(data, LEVEL, -15), zlib.crc32(data), len(data))
        out: list[bytes] = []
        crc, size = deflate([data] if isinstance(data, bytes) else data, out.append)
        return cls(name, b"".join(out), crc, size)


def _records(part: Part) -> tuple[bytes, bytes, bytes]:
    """`Part.records`, made."""
    name = part.name.encode()
    entry = struct.pack("<IHHHHHHIIIHHHHHI", 0x02014B50, 20, 20, 0, 8, _DOS_TIME, _DOS_DATE, part.crc,
                        len(part.raw), part.size, len(name), 0, 0, 0, 0, 0)
    return _local_header(name, part.crc, len(part.raw), part.size), entry, name


@dataclass(frozen=True)
class Stream:
    """A zip entry deflated while the file is written, straight to disk (a 100,000-row sheet)."""

    name: str
    chunks: Iterable[bytes]


def deflate(data: Iterable[bytes], sink: Callable[[bytes], object]) -> tuple[int, int]:
    """Raw-deflate `data` into `sink`; returns (crc32, uncompressed size)."""
    chunks = iter(data)
    comp = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    state = [0, 0]  # crc, size

    def one(chunk: bytes) -> None:
        state[0] = zlib.crc32(chunk, state[0])
        state[1] += len(chunk)
        sink(comp.compress(chunk))

    while state[1] < THREAD_AFTER:
        chunk = next(chunks, None)
        if chunk is None:
            break
        one(chunk)
    else:
        _deflate_in_thread(chunks, one)
    sink(comp.flush())
    return state[0], state[1]


def _deflate_in_thread(chunks: Iterator[bytes], deflate: Callable[[bytes], None]) -> None:
    """Feed `deflate` from a worker thread, in order, through a short queue (memory stays flat)."""
    work: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def run() -> None:
        while (chunk := work.get()) is not None:
            if not failed:
                try:
                    deflate(chunk)
                except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                    failed.append(exc)

    worker = threading.Thread(target=run, name="manualml-deflate", daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            if failed:
                break
            work.put(chunk)
    finally:
        work.put(None)
        worker.join()
    if failed:
        raise failed[0]


def _local_header(name: bytes, crc: int, compressed: int, size: int) -> bytes:
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc, compressed, size,
                       len(name), 0) + name


def write_zip(path: Path, parts: Iterable[Part | Stream]) -> bytes | None:
    """A plain zip (no zip64: parts stay far below 4 GB) with fixed timestamps. A `Stream` is deflated
    straight into the file and its header filled in afterwards, so its bytes never sit in memory; a zip
    of `Part`s only (a class set's files) is one write, and its bytes are returned (None: streamed)."""
    parts = list(parts)
    if not any(isinstance(p, Stream) for p in parts):
        data = zip_bytes(parts)
        _write_file(path, data)
        return data
    central, offset = [], 0
    with open(path, "wb") as f:
        for p in parts:
            name = p.name.encode()
            if isinstance(p, Stream):
                f.write(_local_header(name, 0, 0, 0))
                crc, size = deflate(p.chunks, f.write)
                end = f.tell()
                compressed = end - offset - 30 - len(name)
                f.seek(offset)
                f.write(_local_header(name, crc, compressed, size))
                f.seek(end)
            else:
                crc, size, compressed = p.crc, p.size, len(p.raw)
                f.write(_local_header(name, crc, compressed, size))
                f.write(p.raw)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc,
                                       compressed, size, len(name), 0, 0, 0, 0, 0, offset) + name)
            offset += 30 + len(name) + compressed
        directory = b"".join(central)
        f.write(directory)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
    return None


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _write_file(path: str | Path, data: bytes) -> None:
    """open(path, "wb").write(data) without a buffered file object (three system calls fewer a file)."""
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        view, done = memoryview(data), 0
        while done < len(data):
            done += os.write(fd, view[done:])
    finally:
        os.close(fd)


def zip_bytes(parts: Iterable[Part]) -> bytes:
    """The bytes `write_zip` writes for these parts (each already deflated)."""
    out, central, offset = [], [], 0
    for p in parts:
        local, entry, name = p.records
        raw = p.raw
        out += (local, raw)
        central.append(entry + _OFFSET(offset) + name)
        offset += len(local) + len(raw)
    directory = b"".join(central)
    out += [directory, struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory),
                                   offset, 0)]
    return b"".join(out)


@dataclass(frozen=True)
class SheetBody:
    """Rows written by us instead of openpyxl: `rows()` yields the XML of `<row>` elements in order."""

    rows: Callable[[], Iterator[bytes]]
    dimension: str  # e.g. "A1:M17"


def openpyxl_parts(wb) -> dict[str, bytes]:
    """Every part openpyxl writes for `wb`, uncompressed, in its order."""
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def sheet_parts(parts: Mapping[str, bytes]) -> dict[str, str]:
    """Sheet title -> its part name, from xl/workbook.xml and its relationships."""
    rels = dict(re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"',
                           parts["xl/_rels/workbook.xml.rels"].decode()))
    rels |= {k: v for v, k in re.findall(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"',
                                         parts["xl/_rels/workbook.xml.rels"].decode())}
    out = {}
    for tag in re.findall(r"<sheet\b[^>]*/>", parts["xl/workbook.xml"].decode()):
        name = _unescape(re.search(r'name="([^"]*)"', tag).group(1))
        rid = re.search(r'r:id="([^"]*)"|id="([^"]*)"', tag)
        target = rels[rid.group(1) or rid.group(2)]
        out[name] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return out


def _unescape(text: str) -> str:
    return (text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))


CUSTOM = "docProps/custom.xml"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def custom_properties(props: Mapping[str, str]) -> bytes:
    """docProps/custom.xml: string properties in order (what openpyxl writes, made without it per student)."""
    items = "".join([f"{_property(k, i)}{escape(v)}</vt:lpwstr></property>"
                     for i, (k, v) in enumerate(props.items(), start=2)])
    return ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties">'
            f"{items}</Properties>").encode()


@lru_cache(maxsize=256)  # a class set stamps the same names for every student
def _property(name: str, pid: int) -> str:
    return f'<property name={quoteattr(name)} fmtid="{_FMTID}" pid="{pid}"><vt:lpwstr xmlns:vt="{_VT}">'


def fix_dates(core: bytes) -> bytes:
    stamp = document_date().strftime("%Y-%m-%dT%H:%M:%SZ")
    return _DATES.sub(lambda m: f"{m.group(1)}{stamp}{m.group(3)}", core.decode()).encode()


def put_values(sheet: str, xml: str, values: Mapping[str, object]) -> str:
    """Give every formula cell its cached result, and every other cell of an array formula's range its value."""
    missing: list[str] = []

    def one(m: re.Match) -> str:
        ref, attrs, body = m.group(1), m.group(2), m.group(4)
        if body is not None and "<f" in body:
            if ref not in values:
                missing.append(ref)
                return m.group(0)
            kind, text = cached(values[ref])
            formula = _EMPTY_V.sub("", body)
            formula = re.sub(r"<v>.*?</v>", "", formula, flags=re.S)
            return f'<c r="{ref}"{_TYPE.sub("", attrs)}{kind}>{formula}<v>{text}</v></c>'
        if not body and ref in values:  # an array formula's other cells hold only their value
            kind, text = cached(values[ref])
            return f'<c r="{ref}"{_TYPE.sub("", attrs)}{kind}><v>{text}</v></c>'
        return m.group(0)

    out = _CELL.sub(one, xml)
    if missing:
        raise WorkbookError(f"sheet {sheet!r}: no computed value for formula cell(s) {', '.join(missing[:10])}"
                            f"{' …' if len(missing) > 10 else ''} (each sheet must give the value of every formula)")
    return out


def package(wb, *, values: Mapping[str, Mapping[str, object]] | None = None,
            bodies: Mapping[str, SheetBody] | None = None, exclude: Iterable[str] = (),
            raw: Mapping[str, bytes] | None = None) -> dict[str, Part | Stream]:
    """The workbook's parts, deflated, with our values and bodies in place (`exclude`: parts left out;
    `raw`: openpyxl's parts if already made)."""
    values, bodies = values or {}, bodies or {}
    raw = openpyxl_parts(wb) if raw is None else raw
    where = sheet_parts(raw)
    by_part = {where[s]: s for s in where}
    skip = set(exclude)
    out: dict[str, Part | Stream] = {}
    for name, data in raw.items():
        if name in skip:
            continue
        if name == "docProps/core.xml":
            out[name] = Part.of(name, fix_dates(data))
        elif name in by_part:
            out[name] = sheet_part(name, by_part[name], data, values.get(by_part[name], {}), bodies.get(by_part[name]))
        else:
            out[name] = Part.of(name, data)
    return out


def sheet_part(name: str, sheet: str, data: bytes, values: Mapping[str, object],
               body: SheetBody | None, *, small: bool = False) -> Part | Stream:
    """The sheet's part: openpyxl's `data` with our cached `values`, or with our `body` as its cells
    (streamed, or deflated in memory when `small`: the same bytes either way)."""
    if body is None:
        xml = data.decode()
        return Part.of(name, (put_values(sheet, xml, values) if "<f" in xml else xml).encode())
    if values and b"<f" in data:
        head, tail = _split_frame(sheet, put_values(sheet, data.decode(), values), body.dimension)
    else:  # no values to put (a class set's sheets): the same frame for every student
        head, tail = _frame(sheet, data, body.dimension)
    if small:
        chunks = [head, *body.rows(), tail]
        return Part.of(name, b"".join(chunks) if sum(map(len, chunks)) < THREAD_AFTER else chunks)
    return Stream(name, _chain(head, body.rows(), tail))


@lru_cache(maxsize=64)  # a class set fills the same frame for every student
def _frame(sheet: str, data: bytes, dimension: str) -> tuple[bytes, bytes]:
    """`_split_frame` of `data` with no values to put (any formula it holds must not need one)."""
    xml = data.decode()
    return _split_frame(sheet, put_values(sheet, xml, {}) if "<f" in xml else xml, dimension)


def _split_frame(sheet: str, xml: str, dimension: str) -> tuple[bytes, bytes]:
    """What comes before the sheet's cells (with its dimension) and after them."""
    found = _SHEET_DATA.search(xml)
    if found is None:
        raise WorkbookError(f"sheet {sheet!r}: expected an empty sheet to fill, found cells")
    head = _DIMENSION.sub("", xml[:found.start()])
    head = head.replace("<sheetViews>", f'<dimension ref="{dimension}"/><sheetViews>', 1)
    return head.encode() + b"<sheetData>", b"</sheetData>" + xml[found.end():].encode()


def _chain(first: bytes, middle: Iterator[bytes], last: bytes) -> Iterator[bytes]:
    yield first
    yield from middle
    yield last


def save(wb, path: str | Path, *, values: Mapping[str, Mapping[str, object]] | None = None,
         bodies: Mapping[str, SheetBody] | None = None) -> Path:
    """Write the workbook reproducibly, turning a full disk or a read-only folder into a message."""
    return write_parts(package(wb, values=values, bodies=bodies).values(), path)


def write_parts(parts: Iterable[Part | Stream], path: str | Path) -> Path:
    write_hashed(parts, path)
    return Path(path)


def write_hashed(parts: Iterable[Part | Stream], path: str | Path) -> str:
    """Write the workbook's parts to `path`; the file's sha256 (of the bytes written, when they were made
    in memory: a class set's manifest lists it without reading each file back)."""
    parts = list(parts)
    try:
        try:
            data = write_zip(path, parts)
        except FileNotFoundError:  # the folder is made only when missing (not once per file of a class set)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            data = write_zip(path, parts)
        if data is None:
            with open(path, "rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise WorkbookError(f"{Path(path)}: cannot write the workbook ({exc.strerror or exc})") from None
    return hashlib.sha256(data).hexdigest()
