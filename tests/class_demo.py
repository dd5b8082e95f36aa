"""A small, varied class of house-price submissions, made the way students make them (for the class report)."""

from __future__ import annotations

from pathlib import Path

from tests.submissions import GOOD, openpyxl_tamper
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for

# Who did what: each a kind of submission an instructor meets.
STUDENTS = {
    "s01-ada": GOOD,  # h1 = area, prediction 3.2 area - 80: RMSE 28.03
    "s02-ben": {**GOOD, "w_h1_out": 3.0, "b_out": -60},
    "s03-cleo": {**GOOD, "w_h1_out": 2.5, "b_out": 0},
    "s04-dan": {**GOOD, "w_h1_out": 3.3, "b_out": -100},
    "s05-eve": {**GOOD, "w_h1_out": 1.0, "b_out": 150},
    "s06-finn": {**GOOD, "w_in1_h1": -1.0, "b_out": 285},  # h1 dead: a constant predictor at the average
    "s07-gus": None,  # handed in the workbook unchanged
    "s08-hana": {**GOOD, "w_h1_out": 3.25, "b_out": -85},
    "s09-ivy": {**GOOD, "w_h1_out": 3.25, "b_out": -85},  # the same weights as hana
    "s10-jo": {**GOOD, "w_h1_out": 2.8, "b_out": -40},
}
OVERFIT = {  # `manualml solve` rounded to 2 decimals: RMSE 0.0146 on the six houses, 37.4 on the four hidden ones
    "w_in1_h1": -2.91, "w_in2_h1": 3.94, "b_h1": 359.73, "w_in1_h2": 2.73, "w_in2_h2": -45.67, "b_h2": -158.51,
    "w_h1_out": -0.9, "w_h2_out": 1.24, "b_out": 270.15,
}


def make_class(folder: Path) -> Path:
    """Write the class's files into `folder`: 10 graded kinds, one typed-over prediction, one broken file."""
    folder.mkdir(parents=True, exist_ok=True)
    hp = load("house-prices")
    for name, weights in STUDENTS.items():
        build_workbook(hp, folder / f"{name}.xlsx", weights=weights)
    src = build_workbook(hp, folder.parent / "kim-source.xlsx", weights={**GOOD, "w_h1_out": 3.1, "b_out": -70})
    lay = layout_for(hp)
    openpyxl_tamper(src, folder / "s11-kim.xlsx",
                    lambda wb: wb[lay.sheet].__setitem__(f"{lay.pred_col}{lay.first_row}", 200))
    build_workbook(hp, folder / "s12-lou.xlsx", weights=OVERFIT)
    (folder / "s13-max.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return folder
