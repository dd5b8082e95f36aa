"""Build student submissions the real way (LibreOffice edits and saves) and tampered variants.

Used by the grader tests. Nothing binary is committed: every file is made at test time.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl

from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for

# Weights a student could find by hand: h1 = area, prediction = 3.2*area - 80 (RMSE ~28).
GOOD = {"w_in1_h1": 1, "w_in2_h1": 0, "b_h1": 0, "w_in1_h2": 0, "w_in2_h2": 0, "b_h2": 0, "w_h1_out": 3.2,
        "w_h2_out": 0, "b_out": -80}


def issued(folder: Path, template: str = "house-prices") -> Path:
    return build_workbook(load(template), folder / "issued.xlsx")


def rewrite_member(src: Path, dst: Path, member: str, edit) -> Path:
    """Copy a zip, passing one member's text through `edit` (for stale caches, stamps...)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return dst


def sheet_member(path: Path, sheet: str = "Manual Machine Learning") -> str:
    """The zip member holding `sheet` in an xlsx."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', book).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else "xl/" + name


def set_cached_value(xml: str, ref: str, value: float) -> str:
    """Give cell `ref` a different cached value (what a non-recalculating tool would leave)."""
    pattern = re.compile(rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>|<f [^>]*>[^<]*</f>|<f[^>]*/>)?<v>)[^<]*(</v>)')
    new, n = pattern.subn(rf"\g<1>{value}\g<2>", xml)
    assert n == 1, f"cell {ref} not found with a cached value"
    return new


def openpyxl_tamper(src: Path, dst: Path, edit) -> Path:
    """Edit with openpyxl (drops caches, keeps formulas), for structural tampering."""
    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst)
    edit(wb)
    wb.save(dst)
    return dst


def lecture_layout():
    return layout_for(load("house-prices"))
