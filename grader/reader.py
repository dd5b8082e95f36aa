"""Submission file -> what the grader needs: parameters, formulas, cached values, names, stamps.

The file is opened through `grader.safety` (bounded, never modified) and parsed by the
streaming reader in `grader.cells`, asking only for the graded sheet's extent. Works for any
`GradedSheet`: a one-cell editable region with a defined name (a weight) is read where its
name points, falling back to its issued cell when the name is gone; the cells of a bigger
editable region (the perceptron's 400 weights) are read where they were issued.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from grader.cells import Cell, WorkbookCells, read_cells
from grader.per_sheet import derived
from grader.results import INFO, TAMPER, WEIGHT, Finding
from grader.safety import Limits, open_submission
from grader.sheet_cells import SheetCells
from workbook import PROPERTY_PREFIX
from workbook.address import area_of, box, cells_of, parse_reference, qualified, undollar, within
from workbook.graded import GradedSheet, Region, Role

_qualified = lru_cache(maxsize=4096)(qualified)  # a weight's "'Sheet'!E6", asked for every file graded

MAX_LISTED = 5  # findings of one kind listed one by one; the rest summarised
MARGIN = 3  # rows and columns read beyond the issued sheet: what an inserted row or column pushed there is seen


@dataclass(frozen=True)
class Submission:
    """The parts of a submitted workbook the grader looks at."""

    path: str
    kind: str  # "xlsx", "xlsm", "ods"
    sheet: str  # the sheet actually read (the issued one, or where the parameters' names point)
    book: WorkbookCells
    weights: dict[str, float]  # usable parameters only
    findings: list[Finding] = field(default_factory=list)  # how parameters were read, sheet/name problems

    @property
    def cells(self) -> SheetCells:
        return self.book.sheet(self.sheet)

    @cached_property  # asked for several times per file (refusal, stamp, identity)
    def properties(self) -> dict[str, str]:
        return properties(self.book)


def properties(book: WorkbookCells) -> dict[str, str]:
    """The manualml stamp's document properties, without their prefix."""
    return {k.removeprefix(PROPERTY_PREFIX): v for k, v in book.custom_properties.items()
            if k.startswith(PROPERTY_PREFIX)}


def followed_weights(sheet: GradedSheet) -> tuple[Region, ...]:
    """Editable one-cell regions read where their defined name points (a weight and its name)."""
    return derived(sheet, "followed", lambda: tuple(r for r in _editable(sheet) if r.name and len(r.params) == 1))


def _editable(sheet: GradedSheet) -> tuple[Region, ...]:
    """The sheet's editable regions (asked for several times per file)."""
    return derived(sheet, "editable", lambda: tuple(sheet.of(Role.EDITABLE)))


def read_submission(path: str, sheet: GradedSheet, *, limits: Limits | None = None) -> Submission:
    """Open, parse and pull the parameters out of one submission (raises SubmissionError if unreadable)."""
    with open_submission(path, limits=limits or Limits()) as archive:
        # Read the issued sheet's extent straight away: sheet names and defined names come with it (an
        # .ods keeps them in the same big part as the cells, so a separate first look would cost a full pass)
        issued = {sheet.sheet: [_with_margin(sheet.extent)]}
        book = read_cells(archive, issued)
        findings: list[Finding] = []
        names = [r.name for r in _editable(sheet) if r.name]
        chosen = choose_sheet(book, sheet.sheet, names, findings, other_than=sheet.other_sheet,
                              guess=properties(book).get("assignment") in (None, sheet.id))
        wanted: dict[str, list[str]] = {chosen: [_with_margin(sheet.extent)]} if chosen else {}
        for region in _editable(sheet):  # names pointing outside the extent (moved) are read too
            if region.name and region.name in book.defined_names:
                target_sheet, ref = parse_reference(book.defined_names[region.name])
                if target_sheet in book.sheet_names and not (target_sheet == chosen and within(ref, sheet.extent)):
                    wanted.setdefault(target_sheet, []).append(ref)
        if wanted != issued:  # the sheet was renamed, or a name points outside the extent: read what they need
            book = read_cells(archive, wanted)
        weights = _read_params(book, chosen, sheet, findings)
        return Submission(path=str(path), kind=archive.kind, sheet=chosen or "", book=book, weights=weights,
                          findings=findings)


def choose_sheet(book: WorkbookCells, issued: str, names: Iterable[str], findings: list[Finding], *,
                 other_than: str, guess: bool = True) -> str | None:
    """The issued sheet, or the one it was renamed to: where the parameters' `names` point, or (if `guess`
    and the names are broken too, as when a tool renamed the sheet without them) the one sheet besides
    `other_than`. A renamed or missing sheet is a finding."""
    if issued in book.sheet_names:
        return issued
    pointed = {parse_reference(book.defined_names[n])[0] for n in names if n in book.defined_names}
    pointed &= set(book.sheet_names)
    if not pointed and guess:
        pointed = set(book.sheet_names) - {other_than}
    if len(pointed) == 1:
        (sheet,) = pointed
        findings.append(Finding("sheet-renamed", TAMPER, f"the sheet '{issued}' was renamed to '{sheet}'; "
                                "it was read anyway, but please keep the sheet names as issued",
                                expected=issued, found=sheet))
        return sheet
    findings.append(Finding("sheet-missing", TAMPER, f"the sheet '{issued}' is missing (sheets found: "
                            f"{', '.join(book.sheet_names) or 'none'}); hand in the workbook you were given",
                            expected=issued, found=", ".join(book.sheet_names)))
    return None


def _moved_block(book: WorkbookCells, sheet: str, region: Region) -> str | None:
    """Where a named block of weights is now, when a row or column inserted or deleted above or left of it
    moved it whole: its defined name points at a block of the same shape elsewhere on the sheet (LibreOffice
    and Excel move the name with the cells). The weights are read there, as a one-cell weight is read where
    its name points; the edit itself is reported by the structure check."""
    if not region.name or region.name not in book.defined_names:
        return None
    try:
        target, ref = parse_reference(book.defined_names[region.name])
        r1, c1, r2, c2 = box(ref)
    except ValueError:
        return None
    i1, j1, i2, j2 = box(region.area)
    if (target and target != sheet) or (r2 - r1, c2 - c1) != (i2 - i1, j2 - j1) or (r1, c1) == (i1, j1):
        return None
    return area_of(r1, c1, r2, c2)


@lru_cache(maxsize=256)
def _with_margin(area: str) -> str:
    r1, c1, r2, c2 = box(area)
    return area_of(r1, c1, r2 + MARGIN, c2 + MARGIN)


def _read_params(book: WorkbookCells, sheet: str | None, graded: GradedSheet,
                 findings: list[Finding]) -> dict[str, float]:
    weights: dict[str, float] = {}
    problems: list[Finding] = []
    followed = {r.key for r in followed_weights(graded)}
    for region in _editable(graded):
        if region.key in followed:
            _read_named(book, sheet, graded, region, weights, findings)
            continue
        if sheet is None:
            findings.append(Finding("weight-missing", WEIGHT, f"{region.key} cannot be found (its sheet is missing)",
                                    cell=region.name or region.key))
            continue
        cells = book.sheet(sheet)
        moved = _moved_block(book, sheet, region) if len(region.params) > 1 else None
        for key, ref in zip(region.params, cells_of(moved) if moved else region.refs, strict=True):
            value = _plain_number(cells, ref)
            if value is None:
                value = weight_value(key, _qualified(sheet, ref), ref, cells.get(ref), problems)
            if value is not None:
                weights[key] = value
    findings += problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        findings.append(Finding(problems[0].code, WEIGHT, f"... and {len(problems) - MAX_LISTED} more editable "
                                "cells are not plain numbers: type a number into every yellow cell"))
    return weights


def _read_named(book: WorkbookCells, sheet: str | None, graded: GradedSheet, region: Region,
                weights: dict[str, float], findings: list[Finding]) -> None:
    """One weight, read where its defined name points (a moved or broken name is a finding)."""
    name, home = region.name, region.area
    expected = _qualified(graded.sheet, home)
    target_sheet, ref = sheet, home
    pointed_sheet = parse_reference(book.defined_names[name])[0] if name in book.defined_names else None
    if pointed_sheet is not None and pointed_sheet not in book.sheet_names:
        what = "is broken (#REF!): the cell it named was deleted" if "#REF!" in book.defined_names[name] else \
            f"points at a sheet that no longer exists ({book.defined_names[name]})"
        findings.append(Finding("name-broken", TAMPER, f"the name {name} {what}; the weight was read from its "
                                f"cell {home}", cell=name, expected=expected, found=book.defined_names[name]))
    elif name in book.defined_names:
        target_sheet, ref = parse_reference(book.defined_names[name])
        ref = undollar(ref)
        if (target_sheet, ref) != (sheet, home) and target_sheet == sheet:
            findings.append(Finding("name-moved", TAMPER, f"the name {name} now points at {ref} instead of "
                                    f"{home}; the weight was read from {ref}", cell=f"{name}",
                                    expected=home, found=ref))
        elif target_sheet != sheet:
            findings.append(Finding("name-moved", TAMPER, f"the name {name} points at "
                                    f"{book.defined_names[name]}, outside the sheet; it was read from there",
                                    cell=name, expected=expected, found=book.defined_names[name]))
    else:
        findings.append(Finding("name-removed", TAMPER, f"the defined name {name} was deleted; the weight was "
                                f"read from its cell {home} instead", cell=name, expected=expected))
    if target_sheet is None:
        findings.append(Finding("weight-missing", WEIGHT, f"{name} cannot be found (its sheet is missing)",
                                cell=name))
        return
    cells = book.sheet(target_sheet)
    value = _plain_number(cells, ref)
    if value is None:
        value = weight_value(name, _qualified(target_sheet, ref), ref, cells.get(ref), findings)
    if value is not None:
        weights[region.params[0]] = value


def _plain_number(cells: SheetCells, ref: str) -> float | None:
    """The weight when its cell holds a plain finite number (what weight_value would return without a
    finding), or None: then weight_value looks at the cell and says what is wrong with it."""
    saved = cells.saved(ref)
    if saved is None or saved[1] is not None:
        return None
    value = saved[0]
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def weight_value(name: str, where: str, ref: str, cell: Cell | None, findings: list[Finding]) -> float | None:
    """A usable number, or None with a finding that says what to fix."""
    label = f"cell {ref} ({name})"
    if cell is None or (cell.value is None and cell.formula is None and cell.error is None):
        findings.append(Finding("weight-empty", WEIGHT, f"{label} is empty; type a number", cell=where))
        return None
    if cell.error is not None:
        findings.append(Finding("weight-error", WEIGHT, f"{label} shows the error {cell.error}; type a number",
                                cell=where, found=cell.error))
        return None
    value = cell.value
    if cell.formula is not None:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            findings.append(Finding("weight-formula", INFO, f"{label} holds the formula {cell.formula}; its saved "
                                    f"value {value:g} was used. Type plain numbers into weight cells",
                                    cell=where, found=cell.formula))
            return float(value)
        findings.append(Finding("weight-formula", WEIGHT, f"{label} holds the formula {cell.formula} with no saved "
                                "value; type a plain number", cell=where, found=cell.formula))
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        findings.append(Finding("weight-text", WEIGHT, f"{label} holds text {value!r}; type a number",
                                cell=where, found=str(value)))
        return None
    if not math.isfinite(value):
        findings.append(Finding("weight-not-finite", WEIGHT, f"{label} holds {value}; type an ordinary number",
                                cell=where, found=str(value)))
        return None
    return float(value)
