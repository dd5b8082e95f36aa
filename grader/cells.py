"""A streaming reader for exactly the cells the grader needs, from .xlsx/.xlsm and .ods.

openpyxl builds a whole object model (milliseconds per file) and refuses .ods; pandas' odf
engine gives values without formulas or names. The grader needs formulas, cached values,
defined names and document properties from a known region, so it parses the XML itself:
one pass over the sheet, elements cleared as it goes, stopping after the last wanted row.
A spreadsheet never needs a DTD, so none is accepted (grader.xml_parse): small parts are parsed
whole by lxml, sheets by the standard library's C parser once expat has checked their prolog
(small sheets whole, then walked; big sheets and content.xml as a stream). An entity-expansion
bomb or an external entity is refused either way.
"""

from __future__ import annotations

import gc
import io
import re
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.etree.ElementTree import XML, XMLPullParser

from defusedxml import DefusedXmlException

from grader.cell import Cell, ods_value, shared_child
from grader.errors import SubmissionError
from grader.ods_formula import ods_formula
from grader.ods_runs import OdsRows
from grader.row_runs import RowDiverter
from grader.sheet_cells import SheetCells
from grader.xml_parse import CHUNK, DoctypeFound, parse_whole, prolog
from workbook.address import PLAIN_CELL, AddressError, a1, box, col_index, ods_to_excel, position

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"

BULK_CHUNK = 1 << 22  # bytes read at a time from a sheet whose uniform rows are taken in bulk
BULK_MIN_BYTES = 1 << 20  # sheets smaller than this are parsed cell by cell (bulk reading would not pay)
WHOLE_MAX_BYTES = 1 << 20  # sheets smaller than this are parsed whole, then walked (see _tree_events)
HOSTILE = ("the file contains XML entity declarations (a DTD), which spreadsheets never need; it may be crafted "
           "to attack the grader")


@dataclass(frozen=True)
class WorkbookCells:
    """What was read: sheet names, workbook-level names, wanted cells, extents, properties."""

    sheet_names: list[str]
    defined_names: dict[str, str]  # name -> "'Sheet'!$C$5"
    cells: dict[str, SheetCells] = field(default_factory=dict)  # sheet -> its wanted cells
    max_row: dict[str, int] = field(default_factory=dict)
    max_col: dict[str, int] = field(default_factory=dict)
    custom_properties: dict[str, str] = field(default_factory=dict)

    def sheet(self, name: str | None) -> SheetCells:
        """The cells read from sheet `name` (none if it was not read)."""
        found = self.cells.get(name or "")
        return SheetCells() if found is None else found


class _Wanted:
    """Requested refs/ranges of one sheet, as a fast membership test."""

    def __init__(self, specs: Iterable[str]) -> None:
        self.boxes = []
        for spec in specs:
            r1, c1, r2, c2 = box(spec)
            self.boxes.append((r1, r2, c1, c2))
        self.last_row = max((b[1] for b in self.boxes), default=0)
        self._row, self._cols = 0, []  # the column spans wanted in the row asked about last

    def __contains__(self, rc: tuple[int, int]) -> bool:
        return self.has(*rc)

    def spans(self, r: int) -> list[tuple[int, int]]:
        """The wanted (first, last) columns of row `r`."""
        if r != self._row:  # cells are asked about row by row: find the row's spans once
            self._row, self._cols = r, [(c1, c2) for r1, r2, c1, c2 in self.boxes if r1 <= r <= r2]
        return self._cols

    def has(self, r: int, c: int) -> bool:
        for c1, c2 in self.spans(r):  # noqa: SIM110 - a loop, not any(): no generator made for every cell
            if c1 <= c <= c2:
                return True
        return False


def _hostile(archive, exc: Exception) -> SubmissionError:
    return SubmissionError(str(getattr(archive, "path", "<archive>")), HOSTILE, code="hostile-xml")


def _parse(archive, name: str, *, walked: bool = False, data: bytes | None = None):
    """A whole small part as a tree: workbook.xml, rels, properties and shared strings by lxml; a small
    sheet, which is `walked` cell by cell, by the standard library's C parser once expat has found no DTD
    in its prolog (see grader.xml_parse). The standard library's elements are Python objects already, so
    walking a few hundred cells costs a third of what it costs over lxml's proxies, more than lxml saves
    in parsing, and the walk reads exactly what streaming the sheet through the same parser reads.
    `data`: the part's bytes, read already."""
    try:
        if data is None:
            data = _whole_part(archive, name)
        if walked:
            prolog(io.BytesIO(data))
            return XML(data)
        return parse_whole(data)
    except DoctypeFound as exc:
        raise _hostile(archive, exc) from None
    except SubmissionError:
        raise  # too large, truncated...: already says what is wrong
    except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged part
        raise _damaged(archive, name, exc) from None


def _damaged(archive, name: str, exc: Exception) -> SubmissionError:
    return SubmissionError(str(getattr(archive, "path", "<archive>")),
                           f"the part {name} is damaged and cannot be read ({exc})", code="damaged")


def _whole_part(archive, name: str) -> bytes:
    return archive.read(name, max_bytes=archive.limits.max_whole_part_bytes)


def _events(archive, name: str, events=("start", "end"), divert: RowDiverter | None = None):
    """Parse events of one part; the member stream is closed even when the reader stops early.

    With `divert`, the bytes pass through it first and runs of uniform rows never reach the parser.
    """
    try:
        with archive.open_stream(name) as stream:
            pull = XMLPullParser(events=events)
            chunk = prolog(stream)
            while chunk:
                pull.feed(divert.feed(chunk) if divert is not None else chunk)
                yield from pull.read_events()
                chunk = stream.read(CHUNK if divert is None else BULK_CHUNK)
            if divert is not None:
                pull.feed(divert.close())
            pull.close()
            yield from pull.read_events()
    except (DefusedXmlException, DoctypeFound) as exc:
        raise _hostile(archive, exc) from None
    except SubmissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged part, reported with its name
        raise SubmissionError(str(getattr(archive, "path", "<archive>")),
                              f"the part {name} is damaged and cannot be read ({exc})", code="damaged") from None


def read_cells(archive, wanted: Mapping[str, Iterable[str]] | None, *, max_rows: int = 1_048_576) -> WorkbookCells:
    """Read sheet names, names, properties and the wanted cells (None: every cell of every sheet).

    With `wanted`, an xlsx sheet is read only up to the first content below the wanted rows, so
    max_row tells whether anything lies beyond them, not how far: a million junk rows cost nothing.
    """
    with no_cyclic_gc():
        if archive.kind == "ods":
            return _read_ods(archive, wanted, max_rows)
        return _read_xlsx(archive, wanted, max_rows)


@contextmanager
def no_cyclic_gc():
    """Pause the cycle collector while cells pile up: every parsed element is an allocation, and each
    collection would walk the hundreds of thousands of Cells already kept (a 20,000-row sheet read
    4× slower with it). Nothing read here forms cycles; reference counting frees it all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ----------------------------------------------------------------------------------------- xlsx


def _read_xlsx(archive, wanted, max_rows) -> WorkbookCells:
    workbook_part = getattr(archive, "workbook_part", "xl/workbook.xml")
    folder, _, leaf = workbook_part.rpartition("/")
    folder = folder + "/" if folder else ""
    sheet_ids, names = _remembered(archive, workbook_part, _book_of)
    rels_part = f"{folder}_rels/{leaf}.rels"
    targets, shared_target = _remembered(archive, rels_part, _rels_of) if archive.has(rels_part) else ({}, None)

    def part_of(target: str) -> str:  # a relationship's target is relative to the workbook part's folder
        part = target.lstrip("/") if target.startswith("/") else folder + target
        return re.sub(r"(^|/)[^/]+/\.\./", r"\1", part) if "/../" in part else part  # (every match has one)

    shared = part_of(shared_target) if shared_target is not None else "xl/sharedStrings.xml"
    sheets = [(name, part_of(targets.get(rid, ""))) for name, rid in sheet_ids]
    result = WorkbookCells(sheet_names=[s for s, _ in sheets], defined_names=dict(names),
                           custom_properties=_xlsx_properties(archive))
    strings = _LazyStrings(archive, shared)
    for sheet, part in sheets:
        if wanted is not None and sheet not in wanted:
            continue
        if not archive.has(part):
            continue
        _read_xlsx_sheet(archive, part, sheet, None if wanted is None else _Wanted(wanted[sheet]), strings,
                         max_rows, result)
    if strings.wanted:
        strings.fetch()  # while the file is open; parsed if a string is looked up
    return result


def _book_of(book) -> tuple[tuple[tuple[str, str | None], ...], dict[str, str]]:
    """What workbook.xml says: each sheet's (name, relationship id) in order, and the workbook-level names."""
    sheets = tuple((s.get("name", ""), s.get(f"{REL}id")) for s in book.iter(f"{MAIN}sheet"))
    names = {}
    for dn in book.iter(f"{MAIN}definedName"):
        name = dn.get("name", "")
        if dn.get("localSheetId") is None and not name.startswith("_xlnm."):
            names[name] = (dn.text or "").strip()
    return sheets, names


def _rels_of(rels) -> tuple[dict[str | None, str], str | None]:
    """What the workbook's relationships say: id -> target, and the first shared-strings target (None: none)."""
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    shared = next((r.get("Target", "") for r in rels if r.get("Type", "").endswith("/sharedStrings")), None)
    return targets, shared


REMEMBERED_PART_BYTES = 1 << 16  # parts up to this size have what they say kept by their exact bytes
_REMEMBERED: dict[tuple, object] = {}
_REMEMBERED_KEPT = 32


def _remembered(archive, part: str, digest):
    """`digest(tree)` of a small part, kept by the part's exact bytes: every file of a class set carries the
    same workbook.xml and relationships, and what they say is a function of their bytes alone. The part is
    still read (size cap, CRC, budget) each time, in the same order; only parsing it again is skipped, and
    a part that fails to parse is never kept, so it fails (hostile or damaged) every time, as before.
    What is kept is never handed out to be changed (tuples, and dicts the caller copies or only reads)."""
    try:  # read as `_parse` reads it: the same errors
        data = _whole_part(archive, part)
    except SubmissionError:
        raise
    except Exception as exc:  # noqa: BLE001 - as in _parse
        raise _damaged(archive, part, exc) from None
    if len(data) > REMEMBERED_PART_BYTES:
        return digest(_parse(archive, part, data=data))
    key = (digest, data)
    found = _REMEMBERED.get(key)
    if found is None:
        found = digest(_parse(archive, part, data=data))
        if len(_REMEMBERED) >= _REMEMBERED_KEPT:
            del _REMEMBERED[next(iter(_REMEMBERED))]
        _REMEMBERED[key] = found
    return found


def _xlsx_properties(archive) -> dict[str, str]:
    if not archive.has("docProps/custom.xml"):
        return {}
    props = {}
    for prop in _parse(archive, "docProps/custom.xml").iter(f"{CUSTOM}property"):
        value = next(iter(prop), None)
        props[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return props


class _LazyStrings:
    """The shared-strings table: read while the file is open if a wanted cell is a shared string
    (`wanted`, then `fetch`) and refused then if it declares a DTD; parsed only when a string's text
    is first looked up (most checks ask only whether a cell holds a number, which a shared string
    never is), so a table damaged past its prolog is found only if a string is looked up."""

    def __init__(self, archive, part: str = "xl/sharedStrings.xml") -> None:
        self.archive, self.part, self.data, self.items = archive, part, None, None
        self.wanted = False

    def fetch(self) -> None:
        if self.data is None:
            self.data = _whole_part(self.archive, self.part) if self.archive.has(self.part) else b""
            try:
                prolog(io.BytesIO(self.data))  # a DTD is refused now, as if the table were parsed: hostile either way
            except DoctypeFound as exc:
                raise _hostile(self.archive, exc) from None

    def __getitem__(self, index: int) -> str:
        if self.items is None:
            self.fetch()
            self.items = ["".join(si.itertext(_T, with_tail=False))  # the text of every <t> in it, in order
                          for si in _parse(self.archive, self.part, data=self.data).iter(f"{MAIN}si")
                          ] if self.data else []
        return self.items[index] if 0 <= index < len(self.items) else ""


_REF = PLAIN_CELL
_ROW, _C, _SHEET_DATA, _DIMENSION = f"{MAIN}row", f"{MAIN}c", f"{MAIN}sheetData", f"{MAIN}dimension"
_col = col_index  # cached there


def _read_xlsx_sheet(archive, part, sheet, want: _Wanted | None, strings, max_rows, result) -> None:
    stop_row = max(want.last_row, max_rows) if want is not None else None
    last_wanted = want.last_row if want is not None else None
    size = archive.size(part)
    divert = RowDiverter(want.last_row) if want is not None and size >= BULK_MIN_BYTES else None
    read = _walked(archive, part, want, strings, stop_row, last_wanted) if divert is None and \
        size < WHOLE_MAX_BYTES else None
    if read is None:
        read = _stream_sheet(_events(archive, part, divert=divert), want, strings, stop_row, last_wanted)
    cells, masters, misplaced, max_row, max_col, dimension = read
    runs = divert.runs if divert is not None else []
    if any(tc.kind == "s" for run in runs for tc in run.template.cells):
        strings.wanted = True
    max_row, max_col = _extent_with(runs, max_row, max_col)
    if dimension is not None:
        max_row, max_col = max(max_row, dimension[0]), max(max_col, dimension[1])
    found = SheetCells(cells, runs, masters, strings)
    found.settle(misplaced)
    result.cells[sheet] = found
    result.max_row[sheet], result.max_col[sheet] = max_row, max_col


def _dimension(el) -> tuple[int, int] | None:
    """The last row and column a <dimension> names; None when it names none (the cells tell)."""
    try:
        _, _, row, col = box(el.get("ref") or "")
    except AddressError:
        return None
    return row, col


def _stream_sheet(events, want: _Wanted | None, strings, stop_row, last_wanted):
    """Read a sheet from its parse events: (cells, shared masters, misplaced cells, max row, max col, dimension).

    See _walk_sheet, which must read exactly the same from a sheet parsed whole."""
    cells: dict[str, tuple] = {}  # ref -> what _xlsx_cell read
    masters: dict[str, list[tuple[int, str, str]]] = {}  # shared formula si -> [(row defined in, anchor, text)]
    misplaced: dict[str, int] = {}  # a cell whose reference names another row -> the row it was written in
    max_row = max_col = 0
    row_no = 0
    next_col = 1
    dimension = None
    parent = None  # sheetData: rows are removed from it as they end, so memory stays flat
    for event, el in events:  # the hot loop of grading a big sheet: tags compared with constants
        tag = el.tag
        if event == "start":
            if tag == _ROW:
                row_no = int(el.get("r") or row_no + 1)
                next_col = 1
                if stop_row is not None and row_no > stop_row:
                    break
            elif tag == _SHEET_DATA:
                parent = el
            continue
        if tag == _C:
            ref = el.get("r")
            if ref:
                m = _REF.fullmatch(ref)
                col = _col(m.group(1)) if m else next_col
            else:
                m, col, ref = None, next_col, a1(row_no, next_col)
            next_col = col + 1
            if len(el) > 0:
                if row_no > max_row:
                    max_row = row_no
                if col > max_col:
                    max_col = col
                if last_wanted is not None and row_no > last_wanted:
                    break  # content beyond the wanted rows: its first row is all the grader needs
            if want is None or want.has(row_no, col):
                cell = _xlsx_cell(el, ref, row_no, col, masters, strings)
                if cell is not None:
                    cells[ref] = cell
                    if m is not None and int(m.group(2)) != row_no:
                        misplaced[ref] = row_no
            el.clear()
        elif tag == _ROW:
            el.clear()
            if parent is not None:
                parent.remove(el)
        elif tag == _DIMENSION:
            dimension = _dimension(el)
    events.close()  # an early stop must not leave the member stream open
    return cells, masters, misplaced, max_row, max_col, dimension


def _walked(archive, part: str, want: _Wanted | None, strings, stop_row, last_wanted):
    """What _walk_sheet reads from the sheet parsed whole, or None where _whole_sheet declines (streamed then).
    While shapes are remembered (`remembered_shapes`), a sheet of a shape read before is read from it."""
    if not _SHAPES_ON:
        tree = _whole_sheet(archive, part)
        return None if tree is None else _walk_sheet(*tree, want, strings, stop_row, last_wanted)
    try:  # read as _whole_sheet reads it (through _parse): the same errors, the same declining
        data = _whole_part(archive, part)
    except SubmissionError as exc:
        if exc.code == "hostile-xml":
            raise
        return None
    except Exception:  # noqa: BLE001 - as _parse: damaged, hence declined
        return None
    key = (None if want is None else tuple(want.boxes), stop_row, last_wanted)
    holes = _holes(data)
    if holes is not None:
        shape = _SHAPES.get((holes[0], key))
        if shape is not None:
            read = shape.read(holes[2], strings)
            if read is not None:
                return read
    tree = _whole_sheet(archive, part, data)
    if tree is None:
        return None
    flag = _Flag()
    read = _walk_sheet(*tree, want, flag, stop_row, last_wanted)
    if flag.wanted:
        strings.wanted = True
    if holes is not None and (holes[0], key) not in _SHAPES:
        shape = _Shape.learn(data, holes, read, flag.wanted, want, stop_row, last_wanted)
        if shape is not None:
            if len(_SHAPES) >= _SHAPES_KEPT:
                del _SHAPES[next(iter(_SHAPES))]
            _SHAPES[holes[0], key] = shape
    return read


def _whole_sheet(archive, part: str, data: bytes | None = None):
    """A small sheet parsed whole, as (root, sheetData, its rows), when it has the usual shape; else None.

    Streaming pays for every element (a start and an end event for each <f>, <v>, <c>...): a small
    sheet parsed whole and walked row by row skips most of that. Only the sheet's usual shape is
    walked (rows in sheetData, cells in rows, the dimension beside them); if any row, cell or
    dimension stands anywhere else, this returns None and the part is streamed, so the cells read
    are the same either way. So is a part that is damaged or cut short: streaming stops after the
    wanted rows and may never meet the damage, or reports it itself.
    """
    try:
        root = _parse(archive, part, walked=True, data=data)
    except SubmissionError as exc:
        if exc.code == "hostile-xml":
            raise  # a DTD: refused whichever way the part is read
        return None  # damaged or truncated: streaming says so if it reads that far
    return _usual(root)


def _usual(root):
    """(root, sheetData, its rows) of a sheet parsed whole, when it has the usual shape (see _whole_sheet)."""
    data = root.find(_SHEET_DATA)
    rows = [] if data is None else list(data)
    dimensions = [el for el in root if el.tag == _DIMENSION]
    cells = 0
    for row in rows:
        if row.tag != _ROW:
            return None
        cells += len(row.findall(_C))
    # counted in C (lists of the elements), not by a generator for each
    everywhere = len(list(root.iter(_SHEET_DATA)))  # the root too, if it is one
    below = everywhere - (root.tag == _SHEET_DATA)
    if ((data is None) != (below == 0) or everywhere > 1
            or len(list(root.iter(_ROW))) != len(rows) or len(list(root.iter(_C))) != cells
            or len(list(root.iter(_DIMENSION))) != len(dimensions)):
        return None
    return root, data, rows


def _walk_sheet(root, data, rows, want: _Wanted | None, strings, stop_row, last_wanted):
    """What _stream_sheet reads, from a sheet parsed whole (see _whole_sheet): the same steps over the
    elements it would act on, in document order, without an event for each."""
    cells: dict[str, tuple] = {}
    masters: dict[str, list[tuple[int, str, str]]] = {}
    misplaced: dict[str, int] = {}
    max_row = max_col = 0
    row_no = 0
    dimension = None
    positions = _POSITIONS
    spans = one = None  # wanted column spans of the row (None: every column); `one` if there is one only
    for top in root:
        if top.tag == _DIMENSION:
            dimension = _dimension(top)
            continue
        if top is not data:
            continue
        for row in rows:
            row_no = int(row.get("r") or row_no + 1)
            next_col = 1
            if stop_row is not None and row_no > stop_row:
                return cells, masters, misplaced, max_row, max_col, dimension
            if want is not None:
                spans = want.spans(row_no)
                one = spans[0] if len(spans) == 1 else None  # the usual row: one span, checked without a loop
            for el in row:
                if el.tag != _C:
                    continue
                ref = el.get("r")
                if ref:
                    where = positions.get(ref) or _position(ref)
                    col = where[1] or next_col
                else:
                    where, col, ref = None, next_col, a1(row_no, next_col)
                next_col = col + 1
                children = len(el)
                if children:
                    if row_no > max_row:
                        max_row = row_no
                    if col > max_col:
                        max_col = col
                    if last_wanted is not None and row_no > last_wanted:
                        return cells, masters, misplaced, max_row, max_col, dimension
                elif el.get("t") != "inlineStr":
                    continue  # no <f>, <v> or <is>: nothing to read (as _xlsx_cell finds)
                if spans is not None:
                    if one is not None:
                        if not one[0] <= col <= one[1]:
                            continue
                    else:
                        for c1, c2 in spans:
                            if c1 <= col <= c2:
                                break
                        else:
                            continue
                # the usual cells, read here as _xlsx_cell reads them, without the call: a value alone, a formula
                # of no shared or array kind with its value, an inline string of one plain text
                first = el[0] if children else None  # (an inline string cell may have no children)
                tag = first.tag if children else None
                if children == 1 and tag == _V and (kind := el.get("t", "n")) != "inlineStr":
                    saved = first.text
                    if not saved:
                        continue
                    if kind == "s":
                        int(saved)
                        strings.wanted = True
                    cell = None, None, kind, saved
                elif children == 2 and tag == _F and el[1].tag == _V and first.get("t") is None \
                        and (kind := el.get("t", "n")) != "inlineStr":
                    text = first.text
                    formula = "=" + text if text else None
                    saved = el[1].text
                    if not saved:
                        if formula is None:
                            continue
                    elif kind == "s":
                        int(saved)
                        strings.wanted = True
                    cell = formula, None, kind, saved
                elif children == 1 and tag == _IS and len(first) == 1 and (t := first[0]).tag == _T and not len(t) \
                        and el.get("t") == "inlineStr":
                    cell = None, None, "inlineStr", t.text or ""
                else:
                    cell = _xlsx_cell(el, ref, row_no, col, masters, strings)
                if cell is not None:
                    cells[ref] = cell
                    if where is not None and where[0] and where[0] != row_no:
                        misplaced[ref] = row_no
    return cells, masters, misplaced, max_row, max_col, dimension


# ------------------------------------------------------------------------------- remembered shapes
#
# The generator's self-check grades a class's files one after another, each its student's copy of one build:
# every byte of their graded sheet is the same but the text of some <v> and <t> elements (their data,
# weights, saved results, their name). A sheet's *shape* is its bytes with each such text cut out (a "hole":
# bytes between a '>' and a </v> or </t>, of characters that are plain character data wherever they stand).
# A sheet of a shape read before is read from it: what the walk read there, with each hole's text put where
# the walk put it, exactly what parsing and walking it gives, for a tenth of the cost:
#
# - a shape is learnt only from a sheet that was parsed and walked, that holds no comment, CDATA, DOCTYPE or
#   processing instruction (so every hole stands in an element's text, and any other text of the same
#   characters there leaves the sheet well-formed) and whose bytes are UTF-8 (what they are decoded as here);
# - it is then parsed and walked a second time with every hole's text changed (to a number no hole holds):
#   each cell that changed must have changed in its saved text alone, to exactly one hole's new text, and
#   nothing else read may change (cells, their order, shared formulas, extents, the dimension, whether
#   shared strings are wanted). A hole whose text nothing read is free; one read as a shared string's
#   index must come back the same (the walk checks such an index is a number);
# - a sheet is read from a shape only when its bytes with the holes cut out are the shape's, byte for byte
#   (a NUL, which no XML holds, marks each hole, so the holes sit where the shape's do), and every hole's
#   text is valid UTF-8 of XML characters: then the sheet is well-formed exactly as the learnt one was, its
#   parse the same tree but for those texts, which the walk only copies.
#
# Only while `remembered_shapes` is on (the self-check); everything else parses every sheet.

_HOLE = re.compile(rb">([^<>&\r\x00-\x08\x0b\x0c\x0e-\x1f]+)(?=</[vt]>)")  # from a '>': 3x a look-behind's speed
_PLAIN_START = re.compile(rb"(?:\xef\xbb\xbf)?(?:<\?xml version=([\"'])1\.0\1(?: encoding=([\"'])(?i:utf-8)\2)?"
                          rb"(?: standalone=([\"'])(?:yes|no)\3)?\s*\?>)?")
_SHAPES: dict[tuple, _Shape] = {}
_SHAPES_KEPT = 8
_SHAPES_ON = False


@contextmanager
def remembered_shapes():
    """Read a sheet of a shape read before from that shape (see above), while the block runs."""
    global _SHAPES_ON
    was = _SHAPES_ON
    _SHAPES_ON = True
    try:
        yield
    finally:
        _SHAPES_ON = was


class _Flag:
    """Stands in for the shared-strings table while a sheet is walked: did the walk want the strings?"""

    wanted = False


def _holes(data: bytes) -> tuple[bytes, list[bytes], list[bytes]] | None:
    """(the shape: `data` with each hole a NUL, the bytes around the holes, the holes' texts); None if `data` has
    a NUL. (Every hole follows a '>', which the split drops: it is put back between the parts.)"""
    if b"\0" in data:
        return None
    parts = _HOLE.split(data)
    around = parts[::2]
    return b">\0".join(around), around, parts[1::2]


class _Shape:
    """What the walk read from a sheet of one shape, and where each hole's text goes (see above)."""

    def __init__(self, read: tuple, wanted: bool, live: list[tuple[int, str, tuple]], fixed: list[tuple[int, bytes]]):
        cells, masters, misplaced, *self.rest = read  # copied: the caller's reading goes on to change its own
        self.cells, self.masters, self.misplaced = dict(cells), {si: list(m) for si, m in masters.items()}, \
            dict(misplaced)
        self.wanted, self.live, self.fixed = wanted, live, fixed

    def read(self, texts: list[bytes], strings):
        """What the walk reads from the sheet whose holes hold `texts`; None if one is not plain text."""
        for i, text in self.fixed:
            if texts[i] != text:
                return None
        try:
            joined = b"\0".join(texts).decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\ufffe" in joined or "\uffff" in joined:  # not XML characters (the rest of UTF-8 is, but for controls)
            return None
        said = joined.split("\0")
        cells = dict(self.cells)
        for i, ref, seen in self.live:
            cells[ref] = (*seen, said[i])
        if self.wanted:
            strings.wanted = True
        return (cells, {si: list(m) for si, m in self.masters.items()}, dict(self.misplaced), *self.rest)

    @classmethod
    def learn(cls, data: bytes, holes, read: tuple, wanted: bool, want, stop_row, last_wanted) -> _Shape | None:
        """The shape of `data`, whose walk read `read`, if it can be proved to read as its shape says."""
        start = _PLAIN_START.match(data)
        rest = data[start.end():]
        if b"<!" in rest or b"<?" in rest:
            return None
        _, around, texts = holes
        markers = {}
        changed = [around[0]]
        for i, text in enumerate(texts):
            marker = f"{i + 1}000000007".encode()
            if marker == text:
                marker = f"{i + 1}000000008".encode()
            markers[marker.decode()] = i
            changed += [b">", marker, around[i + 1]]
        try:
            other = b"".join(changed)
            prolog(io.BytesIO(other))
            tree = _usual(XML(other))
            if tree is None:
                return None
            flag = _Flag()
            again = _walk_sheet(*tree, want, flag, stop_row, last_wanted)
        except Exception:  # noqa: BLE001 - whatever fails here, the shape is not learnt
            return None
        cells, cells_again = read[0], again[0]
        if again[1:] != read[1:] or flag.wanted != wanted or list(cells_again) != list(cells):
            return None
        live, fixed, mapped = [], [], set()
        for ref, seen in cells.items():
            now = cells_again[ref]
            if now == seen:
                continue
            i = markers.get(now[3]) if isinstance(now[3], str) else None
            if i is None or i in mapped or now[:3] != seen[:3] or seen[3] != texts[i].decode("utf-8", "replace"):
                return None
            mapped.add(i)
            if seen[2] == "s":
                fixed.append((i, texts[i]))
            else:
                live.append((i, ref, seen[:3]))
        return cls(read, wanted, live, fixed)


_POSITIONS: dict[str, tuple[int, int]] = {}  # a cell's own address -> (row, column); (0, 0) if it is no plain address


def _position(ref: str) -> tuple[int, int]:
    m = _REF.fullmatch(ref)
    where = (int(m.group(2)), _col(m.group(1))) if m else (0, 0)
    if len(_POSITIONS) >= 1 << 17:  # the same few thousand addresses come back for every file graded
        _POSITIONS.clear()
    _POSITIONS[ref] = where
    return where


def _extent_with(runs, max_row: int, max_col: int) -> tuple[int, int]:
    """The sheet's extent once the rows read in bulk are counted too."""
    for run in runs:
        if run.template.content_max_col:
            max_row, max_col = max(max_row, int(run.rows[-1])), max(max_col, run.template.content_max_col)
    return max_row, max_col


_F, _V, _IS, _T = f"{MAIN}f", f"{MAIN}v", f"{MAIN}is", f"{MAIN}t"


def _xlsx_cell(el, ref, row, col, masters, strings) -> tuple | None:
    """What one <c> holds, as `grader.sheet_cells` keeps it until it is looked up: (formula, array range,
    type, saved text), or None for a cell with nothing in it. The saved text becomes a value (a shared
    string's text, a number...) only if the cell is looked at (`SheetCells`), as `xlsx_value` decodes it."""
    f = v = is_ = None
    for child in el:  # one pass over the children; the first of each kind counts, as find() would
        tag = child.tag
        if tag == _V:
            if v is None:
                v = child
        elif tag == _F:
            if f is None:
                f = child
        elif tag == _IS and is_ is None:
            is_ = child
    kind = el.get("t", "n")
    formula = array_ref = None
    if f is not None:
        text = f.text or ""
        shape = f.get("t")
        if shape == "shared":
            si = f.get("si", "")
            if text:
                masters.setdefault(si, []).append((row, ref, text))
            elif si in masters:
                text = shared_child(masters[si][-1][1:], row, col)
        elif shape == "array":
            array_ref = f.get("ref")
        formula = "=" + text if text else None
    if kind == "inlineStr":
        return formula, array_ref, kind, "".join(t.text or "" for t in is_.iter(_T)) if is_ is not None else ""
    saved = v.text if v is not None else None
    if not saved:  # no saved value (xlsx_value's None)
        return None if formula is None else (formula, array_ref, kind, saved)
    if kind == "s":
        int(saved)  # a shared string's index that is no number is damage, found while reading as before
        strings.wanted = True
    return formula, array_ref, kind, saved


# ------------------------------------------------------------------------------------------ ods



def _read_ods(archive, wanted, max_rows) -> WorkbookCells:
    result = WorkbookCells(sheet_names=[], defined_names={}, custom_properties=_ods_properties(archive))
    sheet = None
    want: _Wanted | None = None
    cells: dict[str, Cell] = {}
    row_no = 0
    col_no = 0
    max_row = max_col = 0
    stack: list = []
    row_content = False
    divert = _ods_diverter(archive, wanted)
    for event, el in _events(archive, "content.xml", divert=divert):
        tag = el.tag
        if event == "start":
            stack.append(el)
            if tag == f"{TABLE}table":
                sheet = el.get(f"{TABLE}name", "")
                result.sheet_names.append(sheet)
                want = None if wanted is None else (_Wanted(wanted[sheet]) if sheet in wanted else _Wanted([]))
                cells, row_no, max_row, max_col = {}, 0, 0, 0
            elif tag == f"{TABLE}table-row":
                row_no += 1
                col_no = 0
                row_content = False
            continue
        stack.pop()
        if tag in (f"{TABLE}table-cell", f"{TABLE}covered-table-cell"):
            repeat = int(el.get(f"{TABLE}number-columns-repeated", "1"))
            content = _ods_has_content(el)
            if content:
                row_content = True
                max_row, max_col = max(max_row, row_no), max(max_col, col_no + repeat)
            if content and sheet is not None and (want is None or want.boxes) and row_no <= max_rows:
                for k in range(min(repeat, 1024)):
                    c = col_no + 1 + k
                    if want is None or (row_no, c) in want:
                        ref = a1(row_no, c)
                        cells[ref] = _ods_cell(el, ref)
            col_no += repeat
            el.clear()
        elif tag == f"{TABLE}table-row":
            repeat = int(el.get(f"{TABLE}number-rows-repeated", "1"))
            if repeat > 1:
                if row_content:
                    max_row = max(max_row, row_no + repeat - 1)
                row_no += repeat - 1
            el.clear()
            if stack:
                stack[-1].remove(el)
        elif tag == f"{TABLE}table":
            runs = divert.runs if divert is not None and sheet == divert.dialect.sheet else []
            if runs:
                divert = None  # the runs belong to the first table of that name only
            max_row, max_col = _extent_with(runs, max_row, max_col)
            result.cells[sheet] = SheetCells(cells, runs)
            result.max_row[sheet], result.max_col[sheet] = max_row, max_col
            el.clear()
        elif tag == f"{TABLE}named-range":
            name = el.get(f"{TABLE}name", "")
            address = el.get(f"{TABLE}cell-range-address", "")
            if name and address:
                result.defined_names[name] = ods_to_excel(address)
    if wanted is not None:
        for name in list(result.cells):
            if name not in wanted:
                del result.cells[name]
    return result


def _ods_diverter(archive, wanted) -> RowDiverter | None:
    """Bulk reading for the one wanted sheet of a big .ods (grading reads one)."""
    sheets = [(s, specs) for s, specs in (wanted or {}).items() if specs]
    if len(sheets) != 1 or archive.size("content.xml") < BULK_MIN_BYTES:
        return None
    sheet, specs = sheets[0]
    return RowDiverter(_Wanted(specs).last_row, OdsRows(sheet))


def _ods_has_content(el) -> bool:
    """A value, a formula or text; a chart anchored in a cell (draw:frame) is not content."""
    return (el.get(f"{TABLE}formula") is not None or el.get(f"{OFFICE}value-type") is not None
            or el.find(f"{TEXT}p") is not None)


def _ods_cell(el, ref: str) -> Cell:
    formula = el.get(f"{TABLE}formula")
    array_ref = None
    if formula is not None:
        formula = ods_formula(formula)
        cols = el.get(f"{TABLE}number-matrix-columns-spanned")
        rows = el.get(f"{TABLE}number-matrix-rows-spanned")
        if cols and rows:
            r, c = position(ref)
            array_ref = f"{ref}:{a1(r + int(rows) - 1, c + int(cols) - 1)}"
    text = "\n".join("".join(p.itertext()) for p in el.iter(f"{TEXT}p"))
    value, error = ods_value(el.get(f"{OFFICE}value-type"), el.get(f"{CALCEXT}value-type") == "error", text,
                             lambda name: el.get(OFFICE + name.removeprefix("office:")), formula is not None)
    return Cell(ref=ref, formula=formula, value=value, error=error, array_ref=array_ref)


def _ods_properties(archive) -> dict[str, str]:
    if not archive.has("meta.xml"):
        return {}
    return {el.get(f"{META}name", ""): el.text or "" for el in _parse(archive, "meta.xml").iter(f"{META}user-defined")}
