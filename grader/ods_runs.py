"""Uniform rows of one sheet of an .ods (content.xml), taken in bulk like xlsx rows (`grader.row_runs`).

OpenDocument rows carry no number: they are counted from the top of their table, a row with
`table:number-rows-repeated` counting several. References in formulas do carry it
(`of:=[.A19]*w_in1_h1`), so in a template the first such number is captured and every later
one must repeat it, and a matched row's number must be the count so far plus one. Values sit
in attributes (`office:value`) and in the cell's paragraph (the displayed text); both are
captured. A run is replaced, for the parser, by one empty row repeated as often as it had rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.cell import ODS_FLOAT_TYPES, fill_row
from grader.ods_formula import ods_formula  # the one ODF -> Excel formula translation
from grader.row_runs import _VALUE, Template, _literal, _tokens, _unescape

OFFICE_NS = b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"
NAMESPACES = {  # prefixes a template relies on, as content.xml must bind them
    b"xmlns:office": OFFICE_NS,
    b"xmlns:table": b"urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    b"xmlns:text": b"urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    b"xmlns:calcext": b"urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
VALUE_ATTRS = (b"office:value", b"office:boolean-value", b"office:date-value", b"office:time-value",
               b"office:string-value")

_NAME = rb"[A-Za-z_][-A-Za-z0-9_:.]*"
_AVALUE = rb'(?:[\x20\x21\x23-\x25\x27-\x3b\x3d-\x7e]|&(?:amp|lt|gt|quot|apos);)*'  # printable ASCII, named entities
_ATTR = rb"\s+" + _NAME + rb'="' + _AVALUE + rb'"'
_ATTR_PARTS = re.compile(rb"\s+(" + _NAME + rb')="(' + _AVALUE + rb')"')
_NUMBER = rb"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"  # what float() reads, nothing it would refuse
_ROW_START = re.compile(rb"<table:table-row(?P<attrs>(?:" + _ATTR + rb")*)\s*(?P<empty>/?)>")
_CELL = re.compile(rb"<table:(?P<kind>table-cell|covered-table-cell)(?P<attrs>(?:" + _ATTR + rb")*)\s*(?:/>|>"
                   rb"(?:<text:p>(?P<text>" + _VALUE + rb")</text:p>)?</table:(?P=kind)>)")
_ROW_END = b"</table:table-row>"
_STOP = re.compile(rb"<!|<\?|xmlns")  # comment, CDATA, DTD, PI, any namespace (re)declaration: diversion ends
_NESTED_TABLE = re.compile(rb"<table:table[\s>/]")


@dataclass(frozen=True)
class OdsTemplateCell:
    """One cell of a run's rows in an .ods, as written in the template row."""

    col: int  # 1-based column
    value_type: str | None  # office:value-type
    is_error: bool  # calcext:value-type="error"
    formula: tuple[str | None, ...] | None  # the formula in Excel syntax (leading '='), None where the row goes
    slots: dict[str, int]  # "office:value"... and "text" -> index among the row's captured values
    has_text: bool  # the cell has a paragraph (its displayed text)
    has_children: bool  # content as the parser counts it: a formula, a value type or a paragraph
    shared = None  # (an .ods has no shared formulas)

    def formula_at(self, row: int) -> str | None:
        return fill_row(self.formula, row)


class OdsRows:
    """Where one sheet of an .ods keeps its rows: counted `<table:table-row>` elements of its `<table:table>`."""

    open = b"<table:table-row"
    numbered = False
    stop = _STOP

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet

    def enter(self, data: bytes) -> int | None:
        if re.search(r"[&<>\"']", self.sheet) or not self.sheet.isascii():
            return -1  # a name needing escapes is matched by the parser only
        start = re.search(rb'<table:table table:name="' + re.escape(self.sheet.encode()) + rb'"[^<>]*>', data)
        first = data.find(b"<table:table-row", start.end()) if start else -1
        if first < 0:
            return -1 if len(data) > 1 << 24 else None  # the sheet's first row must be within 16 MB of the start
        root = re.search(rb"<office:document-content((?:" + _ATTR + rb")*)\s*>", data)
        if root is None or data[:root.start()].count(b"<") != data[:root.start()].count(b"<?xml"):
            return -1
        bound = {name: value for name, value in _ATTR_PARTS.findall(root.group(1))}
        between = data[root.end():first]
        if (any(bound.get(prefix) != uri for prefix, uri in NAMESPACES.items()) or _STOP.search(between)
                or _NESTED_TABLE.search(data, start.end(), first)):
            return -1  # a prefix bound elsewhere, markup this reader does not follow, or a table inside the table
        return first

    def plain(self, row: bytes, prev: int) -> int | None:
        start = _ROW_START.match(row)
        if start is None:
            return None
        attrs = dict(_ATTR_PARTS.findall(start.group("attrs")))
        repeat = attrs.get(b"table:number-rows-repeated", b"1")
        return prev + int(repeat) if repeat.isdigit() and int(repeat) > 0 else None

    def placeholder(self, rows: list[int]) -> bytes:
        return b'<table:table-row table:number-rows-repeated="%d"/>' % len(rows)

    @staticmethod
    def make_template(row: bytes, row_no: int) -> Template | None:
        return make_ods_template(row, row_no)


def make_ods_template(row: bytes, row_no: int) -> Template | None:
    """The template of table-row number `row_no`, or None when it is not plain enough to trust."""

    start = _ROW_START.match(row)
    if start is None or start.group("empty") or not row.endswith(_ROW_END) or not row.isascii():
        return None
    if b"table:number-rows-repeated" in start.group("attrs"):
        return None
    tokens = _tokens(str(row_no).encode()) if row_no > 0 else None
    captured = [False]  # the first occurrence of the row number captures it; the rest must repeat it

    def literal(segment: bytes) -> bytes:
        if tokens is None:
            return re.escape(segment)
        out = _literal(segment, tokens)
        if not captured[0] and b"(?P=r)" in out:
            out = out.replace(b"(?P=r)", rb"(?P<r>[1-9][0-9]*)", 1)
            captured[0] = True
        return out

    pieces = [literal(row[:start.end()])]
    cells: list[OdsTemplateCell] = []
    at, col, slot, row_group = start.end(), 0, 0, None
    body_end = len(row) - len(_ROW_END)
    while at < body_end:
        m = _CELL.match(row, at, body_end)
        if m is None:
            return None
        attrs = dict(_ATTR_PARTS.findall(m.group("attrs")))
        if any(name.startswith(b"table:number-matrix") for name in attrs):
            return None  # an array formula: read by the parser
        repeat = attrs.get(b"table:number-columns-repeated", b"1")
        if not repeat.isdigit() or int(repeat) < 1:
            return None
        formula_attr = attrs.get(b"table:formula")
        content = formula_attr is not None or b"office:value-type" in attrs or m.group("text") is not None
        if content and int(repeat) > 1:
            return None
        slots: dict[str, int] = {}
        cut = at
        for a in _ATTR_PARTS.finditer(m.group("attrs"), 0):
            name = a.group(1)
            if name in VALUE_ATTRS:
                lo, hi = m.start("attrs") + a.start(2), m.start("attrs") + a.end(2)
                pattern = _NUMBER if name == b"office:value" else rb'[\x20\x21\x23-\x25\x27-\x3b\x3d-\x7e]*'
                pieces += [literal(row[cut:lo]), b"(" + pattern + b")"]
                slots[name.decode()] = slot
                slot, cut = slot + 1, hi
        value_type = attrs.get(b"office:value-type", b"").decode()
        is_error = attrs.get(b"calcext:value-type") == b"error"
        if m.group("text") is not None:
            lo, hi = m.span("text")
            if value_type in ODS_FLOAT_TYPES and not is_error:  # the value is office:value; the text is only shown
                pieces += [literal(row[cut:lo]), b"(?:" + _VALUE + b")"]
            else:
                pieces += [literal(row[cut:lo]), b"(" + _VALUE + b")"]
                slots["text"] = slot
                slot += 1
            cut = hi
        pieces.append(literal(row[cut:m.end()]))
        formula = None
        if formula_attr is not None:
            text = _unescape(formula_attr.decode())
            if tokens is not None:
                text = tokens.sub(b"\x00", text.encode()).decode()  # the same positions as in the pattern
            parts = ods_formula(text).split("\x00")
            formula = tuple(x for part in parts for x in (part, None))[:-1]
        cells.append(OdsTemplateCell(
            col=col + 1, value_type=value_type or None, is_error=is_error, formula=formula, slots=slots,
            has_text=m.group("text") is not None, has_children=content))
        col += int(repeat)
        at = m.end()
    pieces.append(literal(_ROW_END))
    pattern = re.compile(rb"\s*" + b"".join(pieces))
    if captured[0]:
        row_group = pattern.groupindex["r"] - 1
    content_cells = [c for c in cells if c.has_children]
    return Template(pattern=pattern, cells=tuple(content_cells), by_col={c.col: c for c in content_cells},
                    row_group=row_group)

