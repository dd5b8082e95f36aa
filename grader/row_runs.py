"""Rows saved with one shape, read in bulk instead of cell by cell.

A data sheet of 100,000 rows holds 2.5 million cells; handing each to the XML parser and
then to Python costs about 10 µs a cell, far too slow. But every data row is written alike:
the same cells, styles and formulas, only the row number and the values change. So the
sheet's bytes pass through a `RowDiverter` on their way to the parser. A row the parser has
read becomes a template: a regular expression of its exact bytes in which the row number is
a back-reference and each value a capture group. Following rows that match it byte for byte
(with their own row number throughout) are taken out of the stream and kept as a `RowRun`:
their row numbers and values in arrays. Everything else, including the template row itself,
goes to the parser as before, and a run is replaced by one empty `<row r="last"/>` so that
the parser still numbers any row after it correctly. Where rows are and how they are numbered
is a dialect: `XlsxRows` here, `grader.ods_runs.OdsRows` for OpenDocument.

What a run's cells hold is known exactly: the template's cells, with the row number put
back (`TemplateCell.formula_at`) and the captured value decoded as the parser would. Only
plain markup is ever taken as a template: double-quoted attributes, `<c>` with an optional
`<f>` and `<v>`, ASCII text, no entity but the five named ones in formulas. Diversion stops for
good at anything it does not follow: a comment, CDATA, a processing instruction, a namespace
declaration or anything but a row inside sheetData; the parser then reads the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from grader.cell import fill_row
from workbook.address import PLAIN_CELL_BYTES, col_index

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MAX_TEMPLATE_MISSES = 64  # templates in a row that matched nothing: this sheet has no uniform rows, stop trying
BLOCK = 8192  # rows whose values are packed into one array at a time (memory stays near the packed size)

_NAME = rb"[A-Za-z_][-A-Za-z0-9_:.]*"
_ATTR = rb'\s+' + _NAME + rb'="[^"<&]*"'
_FTEXT = rb"(?:[\x20-\x25\x27-\x3b\x3d-\x7e]|&(?:amp|lt|gt|quot|apos);)*"
_VALUE = rb"[\x20-\x25\x27-\x3b\x3d-\x7e]*"  # printable ASCII without '&' and '<'
_CELL = re.compile(rb"<c(?P<ca>(?:" + _ATTR + rb")*)\s*(?:/>|>(?:<f(?P<fa>(?:" + _ATTR + rb")*)\s*(?:/>|>(?P<ft>"
                   + _FTEXT + rb")</f>))?(?:<v>(?P<v>" + _VALUE + rb")</v>|(?P<ve><v\s*/>))?</c>)")
_ROW_START = re.compile(rb'<row r="([1-9][0-9]{0,6})"(?P<rest>(?:' + _ATTR + rb")*\s*)/?>")
_ATTRS = re.compile(rb'(' + _NAME + rb')="([^"]*)"')
_REF = PLAIN_CELL_BYTES
_STOP = re.compile(rb"<!|<\?|xmlns\s*=")  # comment, CDATA, DTD, PI, default namespace: diversion ends
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


@dataclass(frozen=True)
class TemplateCell:
    """One cell of a run's rows, as written in the template row."""

    col: int  # 1-based column
    kind: str  # the `t` attribute ("n" when absent)
    formula: tuple[str | None, ...] | None  # text pieces, None where the row number goes; None: no formula text
    shared: str | None  # `si` of a shared-formula child (its text comes from the master)
    slot: int | None  # index of its <v> text among the row's captured values; None: no value
    has_children: bool  # an <f> or <v> element: content, as the parser counts it

    def formula_at(self, row: int) -> str | None:
        """The formula text (without '=') this cell holds in `row`, unless it is a shared child."""
        return fill_row(self.formula, row)


@dataclass(frozen=True)
class Template:
    """A row's exact bytes as a pattern, and what its cells hold."""

    pattern: re.Pattern
    cells: tuple  # TemplateCell (xlsx) or OdsTemplateCell, left to right
    by_col: dict = field(default_factory=dict)  # column -> its cell
    row_group: int | None = 0  # index among the match's groups of the row number; None: the row has none

    @property
    def content_max_col(self) -> int:
        return max((c.col for c in self.cells if c.has_children), default=0)


@dataclass
class RowRun:
    """Rows matching one template: their numbers (increasing) and captured values (bytes, one column per slot)."""

    template: Template
    rows: np.ndarray
    values: np.ndarray

    def index(self, row: int) -> int | None:
        i = int(np.searchsorted(self.rows, row))
        return i if i < len(self.rows) and self.rows[i] == row else None


def _tokens(number: bytes) -> re.Pattern:
    """The row number where a reference puts it: after a column letter or '$', not inside a longer number."""
    return re.compile(rb"(?<=[A-Za-z$])" + number + rb"(?![0-9])")


def _literal(segment: bytes, tokens: re.Pattern) -> bytes:
    out, at = [], 0
    for m in tokens.finditer(segment):
        out += [re.escape(segment[at:m.start()]), rb"(?P=r)"]
        at = m.end()
    out.append(re.escape(segment[at:]))
    return b"".join(out)


def _unescape(text: str) -> str:
    return re.sub(r"&(?:amp|lt|gt|quot|apos);", lambda m: _ENTITIES[m.group(0)], text) if "&" in text else text


def make_template(row: bytes) -> Template | None:
    """The template of one complete row element, or None when the row is not plain enough to trust."""
    start = _ROW_START.match(row)
    if start is None or not row.endswith(b"</row>") or not row.isascii():
        return None
    number = start.group(1)
    tokens = _tokens(number)
    pieces = [rb'\s*<row r="(?P<r>[1-9][0-9]*)"', _literal(start.group("rest"), tokens), rb">"]  # after any indent
    cells: list[TemplateCell] = []
    at, slot, last_col = start.end(), 0, 0
    body_end = len(row) - len(b"</row>")
    while at < body_end:
        m = _CELL.match(row, at, body_end)
        if m is None:
            return None
        attrs = dict(_ATTRS.findall(m.group("ca")))
        ref = _REF.fullmatch(attrs.get(b"r", b""))
        if ref is None or ref.group(2) != number:
            return None
        col = col_index(ref.group(1).decode())
        if col <= last_col:
            return None
        last_col = col
        fattrs = dict(_ATTRS.findall(m.group("fa") or b""))
        ftype, ftext = fattrs.get(b"t"), m.group("ft")
        shared = None
        if b"ref" in fattrs or ftype not in (None, b"normal", b"shared"):
            return None  # an array or data-table formula, or a shared formula's master: read by the parser
        if ftype == b"shared":
            if ftext or b"si" not in fattrs:
                return None
            shared = fattrs[b"si"].decode()
        formula = None
        if ftext:
            parts: list[str | None] = []
            cut = 0
            for t in tokens.finditer(ftext):
                parts += [_unescape(ftext[cut:t.start()].decode()), None]
                cut = t.end()
            parts.append(_unescape(ftext[cut:].decode()))
            formula = tuple(parts)
        kind = attrs.get(b"t", b"n").decode()
        if kind == "inlineStr":
            return None
        has_value = m.group("v") is not None
        if has_value:
            v_start, v_end = m.span("v")
            pieces += [_literal(row[at:v_start], tokens), rb"(" + _VALUE + rb")", _literal(row[v_end:m.end()], tokens)]
        else:
            pieces.append(_literal(row[at:m.end()], tokens))
        cells.append(TemplateCell(col=col, kind=kind, formula=formula, shared=shared,
                                  slot=slot if has_value else None,
                                  has_children=m.group("fa") is not None or has_value or m.group("ve") is not None))
        slot += has_value
        at = m.end()
    pieces.append(rb"</row>")
    return Template(pattern=re.compile(b"".join(pieces)), cells=tuple(cells), by_col={c.col: c for c in cells})


class XlsxRows:
    """Where SpreadsheetML keeps rows: `<row r="N">` elements inside `<sheetData>`, each carrying its number."""

    open = b"<row"
    numbered = True
    stop = _STOP

    @staticmethod
    def make_template(row: bytes, row_no: int) -> Template | None:
        return make_template(row)  # an xlsx row names its own number

    def enter(self, data: bytes) -> int | None:
        """Where rows begin (all before passes to the parser); None: need more bytes; -1: do not divert."""
        found = data.find(b"<sheetData>")
        if found < 0:
            return -1 if len(data) > 1 << 20 else None  # sheetData must start within the first megabyte
        head = data[:found]
        body = head[head.find(b"?>") + 2:] if head.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else head
        root = re.match(rb'\s*<worksheet((?:' + _ATTR + rb")*)\s*>", body)
        if (root is None or dict(_ATTRS.findall(root.group(1))).get(b"xmlns") != MAIN_NS
                or _STOP.search(body, root.end())):
            return -1
        return found + len(b"<sheetData>")

    def plain(self, row: bytes, prev: int) -> int | None:
        """The last row number a parsed row takes up, or None if diversion must stop there."""
        start = _ROW_START.match(row)
        if start is None or int(start.group(1)) <= prev:
            return None
        return int(start.group(1))

    def placeholder(self, rows: list[int]) -> bytes:
        return b'<row r="%d"/>' % rows[-1]


XLSX = XlsxRows()


class RowDiverter:
    """Sits between a sheet's byte stream and the XML parser, taking out runs of uniform rows.

    `feed` returns the bytes the parser should get; rows up to `last_row` may be diverted.
    """

    def __init__(self, last_row: int, rows=XLSX) -> None:
        self.last_row = last_row
        self.dialect = rows  # XlsxRows, or grader.ods_runs.OdsRows for one sheet of an .ods
        self.runs: list[RowRun] = []
        self._pending = b""
        self._state = "prolog"  # -> "rows" (inside sheetData) -> "done" (pass everything through)
        self._template: Template | None = None
        self._previous: Template | None = None  # the last template that matched rows: tried first after a break
        self._candidate: tuple[bytes, int] | None = None  # the plain row (and number) to build a template from
        self._rows: list[int] = []
        self._values: list[tuple] = []
        self._blocks: list[np.ndarray] = []
        self._prev = 0
        self._misses = 0

    def feed(self, chunk: bytes) -> bytes:
        if self._state == "done":
            return chunk
        data = self._pending + chunk
        out: list[bytes] = []
        at = 0
        if self._state == "prolog":
            start = self.dialect.enter(data)
            if start is None:
                self._pending = data
                return b""
            if start < 0:
                self._state = "done"
            else:
                out.append(data[:start])
                at, self._state = start, "rows"
        if self._state == "rows":
            at = self._scan(data, at, out)
        if self._state == "done":
            self._end_run(out)
            out.append(data[at:])
            self._pending = b""
        else:
            self._pending = data[at:]
        return b"".join(out)

    def close(self) -> bytes:
        """What is left for the parser once the stream has ended."""
        out: list[bytes] = []
        self._end_run(out)
        out.append(self._pending)
        self._pending, self._state = b"", "done"
        return b"".join(out)

    def _scan(self, data: bytes, at: int, out: list[bytes]) -> int:
        """Rows from `at` on; returns where the unprocessed (incomplete) part begins."""
        size = len(data)
        while True:
            while at < size and data[at] in b" \t\r\n":
                at += 1
            if at >= size:
                return at
            if self._template is not None:
                match = self._template.pattern.match
                rows, values, prev, limit = self._rows, self._values, self._prev, self.last_row
                k, numbered = self._template.row_group, self.dialect.numbered
                while True:
                    m = match(data, at)
                    if m is None:
                        break
                    g = m.groups()
                    if numbered:  # xlsx: the row says its number; it must come after the last one
                        r = int(g[0])
                        if r <= prev or r > limit:
                            break
                    else:  # ods: rows are counted; a reference to the row must name this one
                        r = prev + 1
                        if r > limit or (k is not None and int(g[k]) != r):
                            break
                    rows.append(r)
                    values.append(g if k is None else g[:k] + g[k + 1:])
                    prev = r
                    at = m.end()
                    if len(values) >= BLOCK:
                        self._pack()
                        values = self._values
                self._prev = prev
                if at >= size or (m is None and self._row_end(data, at) < 0):
                    return at  # the next row is not complete yet: wait for more bytes
                if not rows and self._candidate is not None:  # the earlier template did not fit: try the row above
                    self._template = self.dialect.make_template(*self._candidate)
                    self._candidate = None
                    self._misses += 1
                    continue
                self._end_run(out)
                continue  # the row that did not match is read as a plain row (after any whitespace)
            opening = self.dialect.open
            if at + len(opening) >= size:
                return at
            if not data.startswith(opening, at) or data[at + len(opening)] not in b" \t\r\n/>":
                self._state = "done"  # the end of the rows, or something this reader does not follow
                return at
            end = self._row_end(data, at)
            if end < 0:
                return at
            row = data[at:end]
            out.append(row)
            at = end
            last = None if self.dialect.stop.search(row) else self.dialect.plain(row, self._prev)
            if last is None or last > self.last_row:
                self._state = "done"
                return at
            self._prev = last
            if self._misses >= MAX_TEMPLATE_MISSES:
                self._state = "done"  # no row has matched the one before it for a while: let the parser read
                return at
            if self._previous is not None:  # a one-off row (two equal values merged, an edit): the old shape again?
                self._template, self._candidate = self._previous, (row, last)
            else:
                self._template = self.dialect.make_template(row, last)
                self._misses += 1

    def _row_end(self, data: bytes, at: int) -> int:
        """The end of the row element starting at `at`, or -1 if it is not all there yet."""
        close = data.find(b">", at)
        if close < 0:
            return -1
        if data[close - 1:close] == b"/":
            return close + 1
        tag = b"</" + self.dialect.open[1:] + b">"
        end = data.find(tag, close)
        return -1 if end < 0 else end + len(tag)

    def _pack(self) -> None:
        if self._values:
            self._blocks.append(np.array(self._values, dtype=bytes))
            self._values = []

    def _end_run(self, out: list[bytes]) -> None:
        """Close the current run; the parser gets an empty row in its place, keeping its row count right."""
        template, self._template, self._candidate = self._template, None, None
        if template is None or not self._rows:
            return
        self._pack()
        self._misses, self._previous = 0, template
        values = np.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
        self.runs.append(RowRun(template=template, rows=np.array(self._rows, dtype=np.int64), values=values))
        out.append(self.dialect.placeholder(self._rows))
        self._rows, self._blocks = [], []
