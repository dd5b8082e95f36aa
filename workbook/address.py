"""Cell addresses: the one module that spells, quotes and parses them.

Every other module asks here instead of slicing strings: turning (row, column) into A1 text,
column numbers into letters and back, quoting a sheet name, building the absolute references
defined names point at, and reading references back (quoted names with doubled quotes, `$`,
ranges, LibreOffice's `$'Sheet'.$C$5`). One module means one quoting rule: Excel's. A sheet
name is written bare only when it is a plain identifier (ASCII letters, digits, underscore, not
starting with a digit) that cannot be mistaken for a cell (`A1`, `XFD1048576`) or an R1C1
reference (`R1C1`, `R`, `C2`); otherwise it is quoted and a `'` inside is doubled, as in
`'Kim''s sheet'!$E$6`. Quoting more than Excel needs is always valid; quoting less is not,
which is what turned every formula of a sheet called "Kim's sheet" into #VALUE!.
(XlsxWriter keeps its A1 conversion and quoting in one utility module for the same reason.)
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_ROW = 1_048_576
MAX_COL = 16_384  # XFD
SHEET_NAME_MAX = 31  # Excel's limit; LibreOffice allows more but Excel would refuse the file
SHEET_NAME_FORBIDDEN = set(":\\/?*[]")

CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")  # one cell, e.g. "E12", "$E$12"
PLAIN_CELL_TEXT = r"[A-Z]{1,3}[1-9][0-9]*"  # as files store a cell's own address: "E12" (no $, no leading 0)
PLAIN_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")  # the same, column and row as groups
PLAIN_CELL_BYTES = re.compile(PLAIN_CELL.pattern.encode())  # the same over a sheet's XML bytes
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOKS_LIKE_A1 = re.compile(r"[A-Za-z]{1,3}[0-9]+")
_LOOKS_LIKE_R1C1 = re.compile(r"[Rr][0-9]*([Cc][0-9]*)?|[Cc][0-9]*")
_WORDS = {"TRUE", "FALSE"}


# References inside a formula's text. Each pattern also matches a string literal ("…", with "" inside) so a
# substitution can hand it back unchanged; a reference is not part of a longer name (w_in1_h1, LOG10) and is
# not a function call. Groups: ($ of the column, letters, $ of the row, row digits).
_FORMULA_REF = r"(\$?)([A-Z]{1,3})(\$?)([0-9]+)"
FORMULA_CELLS = re.compile(rf'"(?:[^"]|"")*"|(?<![A-Za-z0-9_.$]){_FORMULA_REF}(?![A-Za-z0-9_(!])')
#   every cell reference, also one into another sheet (Sheet1!A1): what a shared formula's children shift
FORMULA_LOCAL_AREAS = re.compile(
    rf'"(?:[^"]|"")*"|(?<![A-Za-z0-9_.$!]){_FORMULA_REF}(?::{_FORMULA_REF})?(?![A-Za-z0-9_(!])')
#   this sheet's own cells and ranges (A1, B2:C9; groups 5-8 the range's end): what moves with its rows and
#   columns when one is inserted or deleted; a reference into another sheet does not


class AddressError(ValueError):
    """Text that is not a cell reference."""


def col_letter(index: int) -> str:
    """1 -> 'A', 27 -> 'AA', 16384 -> 'XFD'."""
    if index < 1:
        raise AddressError(f"column {index} does not exist (columns start at 1)")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=4096)
def col_index(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27 (case-insensitive)."""
    if not letters or not letters.isascii() or not letters.isalpha():
        raise AddressError(f"{letters!r} is not a column")
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def a1(row: int, col: int | str) -> str:
    """(12, 5) or (12, 'E') -> 'E12'."""
    letters = col if isinstance(col, str) else col_letter(col)
    return f"{letters}{row}"


def split_ref(ref: str) -> tuple[str, int]:
    """'E12' or '$E$12' -> ('E', 12)."""
    m = CELL.fullmatch(ref.strip())
    if m is None:
        raise AddressError(f"{ref!r} is not a cell reference")
    return m.group(1).upper(), int(m.group(2))


def row_of(ref: str) -> int:
    """'E12' -> 12."""
    return split_ref(ref)[1]


def col_of(ref: str) -> str:
    """'E12' -> 'E'."""
    return split_ref(ref)[0]


def position(ref: str) -> tuple[int, int]:
    """'E12' -> (12, 5): row and column numbers."""
    col, row = split_ref(ref)
    return row, col_index(col)


def offset(ref: str, rows: int = 0, cols: int = 0) -> str:
    """The cell `rows` down and `cols` right of `ref`: offset('K10', 1, 1) -> 'L11'."""
    row, col = position(ref)
    return a1(row + rows, col + cols)


def span(first: str, last: str) -> str:
    """('K8', 'L10') -> 'K8:L10'."""
    return f"{first}:{last}"


@lru_cache(maxsize=4096)  # the same few areas are asked about for every file graded
def box(area: str) -> tuple[int, int, int, int]:
    """'K8:L10' (or one cell, '$ allowed') -> (first row, first column, last row, last column), normalised."""
    first, _, last = area.strip().partition(":")
    (r1, c1), (r2, c2) = position(first), position(last or first)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def corners(area: str) -> tuple[str, str]:
    """'K8:L10' -> ('K8', 'L10'); one cell 'K8' -> ('K8', 'K8')."""
    r1, c1, r2, c2 = box(area)
    return a1(r1, c1), a1(r2, c2)


def cells_of(area: str) -> list[str]:
    """Every cell of a range, row by row: 'K8:L9' -> ['K8', 'L8', 'K9', 'L9']."""
    r1, c1, r2, c2 = box(area)
    return [a1(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def area_of(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """(8, 11, 10, 12) -> 'K8:L10'."""
    return span(a1(first_row, first_col), a1(last_row, last_col))


def within(ref: str, area: str) -> bool:
    """Whether every cell of `ref` ('$C$5', 'C5:D6') lies inside `area` ('A1:S16'); False if not a reference."""
    try:
        r1, c1, r2, c2 = box(area)
        q1, d1, q2, d2 = box(ref)
    except AddressError:
        return False
    return r1 <= q1 and q2 <= r2 and c1 <= d1 and d2 <= c2


def dollar(ref: str) -> str:
    """'E6' -> '$E$6'; 'B5:U24' -> '$B$5:$U$24'."""
    return ":".join("${}${}".format(*split_ref(part)) for part in ref.split(":"))


def undollar(ref: str) -> str:
    """'$E$6' -> 'E6'."""
    return ref.replace("$", "")


def needs_quotes(sheet: str) -> bool:
    """Excel's rule: anything but a plain identifier that cannot be read as a cell or R1C1 reference."""
    return not (_IDENTIFIER.fullmatch(sheet) and not _LOOKS_LIKE_A1.fullmatch(sheet)
                and not _LOOKS_LIKE_R1C1.fullmatch(sheet) and sheet.upper() not in _WORDS)


def quote_sheet(sheet: str) -> str:
    """'Data' -> 'Data'; "Kim's sheet" -> "'Kim''s sheet'"; '2024 prices' -> "'2024 prices'"."""
    return "'" + sheet.replace("'", "''") + "'" if needs_quotes(sheet) else sheet


def qualified(sheet: str, ref: str) -> str:
    """A reference on another sheet, as formulas write it: ('My sheet', 'B5') -> "'My sheet'!B5"."""
    return f"{quote_sheet(sheet)}!{ref}"


def absolute(sheet: str, ref: str) -> str:
    """What a defined name points at: ("Kim's sheet", 'E6') -> "'Kim''s sheet'!$E$6" (ranges too)."""
    return qualified(sheet, dollar(ref))


@lru_cache(maxsize=4096)  # the same few names are parsed for every file graded
def parse_reference(text: str) -> tuple[str, str]:
    """"'Kim''s sheet'!$C$5" -> ("Kim's sheet", '$C$5'); 'Sheet1!A1:B2' -> ('Sheet1', 'A1:B2'); 'C5' -> ('', 'C5').

    A quoted name may hold anything, '!' included; a repeated sheet in a range
    ("'S'!A1:'S'!B2") is dropped. Text that is no reference comes back as it is, with sheet ''.
    """
    text = text.strip().lstrip("=")
    sheet, rest = _take_sheet(text)
    if sheet is None:
        return "", text
    if ":" in rest:
        first, last = rest.split(":", 1)
        other, tail = _take_sheet(last)
        if other is not None:
            rest = f"{first}:{tail}"
    return sheet, rest


def _take_sheet(text: str) -> tuple[str | None, str]:
    if text.startswith("'"):
        i, name = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1:i + 2] == "'":
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(text[i])
            i += 1
        if text[i + 1:i + 2] == "!":
            return "".join(name), text[i + 2:]
        return None, text
    sheet, bang, rest = text.partition("!")
    return (sheet, rest) if bang else (None, text)


def parse_ods_reference(address: str) -> tuple[str, str]:
    """LibreOffice's "$'My Sheet'.$C$5:.$C$9" or 'Sheet1.A1' -> ('My Sheet', '$C$5:$C$9'); '.A12' -> ('', 'A12')."""
    parts, sheet = [], ""
    for k, part in enumerate(_ods_parts(address.strip())):
        name, ref = _ods_split(part)
        if k == 0:
            sheet = name
        parts.append(ref)
    return sheet, ":".join(parts)


def ods_to_excel(address: str) -> str:
    """"$'My Sheet'.$C$5" -> "'My Sheet'!$C$5"; '.A12' -> 'A12' (Excel syntax, one quoting rule)."""
    sheet, ref = parse_ods_reference(address)
    return qualified(sheet, ref) if sheet else ref


def _ods_parts(address: str) -> list[str]:
    """Split a range at ':' outside quotes."""
    parts, current, quoted = [], [], False
    for ch in address:
        if ch == "'":
            quoted = not quoted  # a doubled quote flips twice: still inside
        if ch == ":" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _ods_split(part: str) -> tuple[str, str]:
    """"$'My Sheet'.$C$5" -> ('My Sheet', '$C$5'); '.C5' -> ('', 'C5')."""
    body = part[1:] if part.startswith("$") else part
    if body.startswith("'"):
        i = 1
        while i < len(body):
            if body[i] == "'":
                if body[i + 1:i + 2] == "'":
                    i += 2
                    continue
                break
            i += 1
        name, rest = body[1:i].replace("''", "'"), body[i + 1:]
        return name, rest.removeprefix(".")
    name, _, ref = body.rpartition(".")
    return name, ref


def check_sheet_name(name: str) -> str | None:
    """Why Excel would refuse `name` as a sheet name, or None if it is fine."""
    if not name.strip():
        return "a sheet name cannot be empty"
    if len(name) > SHEET_NAME_MAX:
        return f"a sheet name has at most {SHEET_NAME_MAX} characters ({name!r} has {len(name)})"
    bad = sorted(SHEET_NAME_FORBIDDEN & set(name))
    if bad:
        return f"a sheet name cannot contain {' '.join(bad)} ({name!r})"
    if name.startswith("'") or name.endswith("'"):
        return f"a sheet name cannot start or end with an apostrophe ({name!r})"
    if name.casefold() == "history":
        return "Excel reserves the sheet name 'History'"
    return None
