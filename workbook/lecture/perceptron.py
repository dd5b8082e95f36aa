"""The 1958 perceptron: a 20×20 pixel image is 400 inputs, one layer, a step output
(0 = rectangle, 1 = circle).

The images are drawn here, deterministically from a seed, so the grader regenerates exactly
the issued ones. Pixels and weights are numbers in cells; conditional formatting shows the
pixels as black squares and the weights as a blue-white-red heat map. Graded by accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill

from workbook import LECTURE_LAYOUT_VERSION, styles
from workbook.address import col_letter
from workbook.formulas import DEFAULT_IMPROVEMENT_FORMAT, improvement_digits, points_formula, shown_improvement
from workbook.graded import CacheCheck, GradedSheet, Region, Role
from workbook.lecture import common as c
from workbook.model import truncate
from workbook.spec import Rubric, Tier

KIND = "perceptron"
SHEET = "Perceptron"
DESCRIPTION = "Rosenblatt's perceptron: 20×20 pixel images of circles and rectangles, 400 weights, step output"
SIZE = 20
GRID_TOP = 7  # weights grid rows 7..26, columns B..U
GRID_LEFT = 2
TABLE_COL = 23  # W..AB: the per-image results table, beside the weights
IMAGES_LEFT = 30  # AD: the images, PER_BAND side by side, then the next band below
PER_BAND = 3
PAGE_STARTS = (IMAGES_LEFT,)  # too wide for one page (30 %): the images print on pages of their own
PIXEL_WIDTH = 2.2  # characters: about 15 points, as tall as a row, so a pixel is square (2.6 drew circles as
# wide ovals and made the printed sheet wider)
NOTES_ROW = GRID_TOP + SIZE + 1  # under the weight grid, where a line may run on to the right
SHAPES = {0: "rectangle", 1: "circle"}
DEFAULT_RUBRIC = Rubric(max_points=10, tiers=(Tier(10, min_metric=1.0), Tier(7, min_metric=0.9),
                                              Tier(4, min_metric=0.75), Tier(1, min_improvement=0.01)))
# Conditional-format colours need an opaque alpha byte: LibreOffice reads openpyxl's default "00" as transparent.
PIXEL_ON = PatternFill(bgColor="FF000000")
HIDDEN = ";;;"
GAIN = "IF(Z4=1,0,(Y4-Z4)/(1-Z4))"  # share of the baseline's mistakes fixed, exact (the Points cell's input)
IMPROVEMENT_FORMAT = DEFAULT_IMPROVEMENT_FORMAT
IMPROVEMENT = shown_improvement(GAIN, IMPROVEMENT_FORMAT)
ACCURACY_FORMAT = "0.00%"  # two decimals, like Improvement: 89.95 % must not read "90.0 %" under a 90 % tier


@dataclass(frozen=True)
class Settings:
    images: int = 12  # how many images (half circles, half rectangles)
    seed: int = 1958  # the drawing of the images
    bias: float = 0.0  # starting bias; starting weights are all 0

    def check(self) -> tuple[str, str] | None:
        if not 2 <= self.images <= 200:
            return "images", f"give 2 to 200 images, got {self.images}"
        return None


def weight_key(i: int, j: int) -> str:
    """Row i, column j of the weight grid (1-based), e.g. w_r3_c17."""
    return f"w_r{i}_c{j}"


def weight_cell(i: int, j: int) -> str:
    return f"{col_letter(GRID_LEFT + j - 1)}{GRID_TOP + i - 1}"


GRID = f"{weight_cell(1, 1)}:{weight_cell(SIZE, SIZE)}"


@lru_cache(maxsize=8)
def draw(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels): images[k] is a 20×20 array of 0/1, labels[k] is 1 for a circle, 0 for a rectangle."""
    rng = np.random.default_rng(s.seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    pics, labels = [], []
    for k in range(s.images):
        label = 1 - k % 2  # circle, rectangle, circle, ...
        if label:
            r = int(rng.integers(3, 9))
            cy, cx = (int(v) for v in rng.integers(r, SIZE - r, size=2))
            d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
            pic = (np.abs(d - r) < 0.5).astype(int)
        else:
            h, w = int(rng.integers(4, 15)), int(rng.integers(4, 17))
            top, left = int(rng.integers(0, SIZE - h + 1)), int(rng.integers(0, SIZE - w + 1))
            pic = np.zeros((SIZE, SIZE), dtype=int)
            pic[top:top + h, left:left + w] = 1
            pic[top + 1:top + h - 1, left + 1:left + w - 1] = 0
        pics.append(pic)
        labels.append(label)
    return np.array(pics), np.array(labels)


def image_area(k: int) -> tuple[int, int]:
    """Top row and left column index of image k."""
    band, slot = divmod(k, PER_BAND)
    return GRID_TOP + band * (SIZE + 3), IMAGES_LEFT + slot * (SIZE + 1)


def page_rows(s: Settings) -> tuple[int, ...]:
    """Rows a printed page may start at: each band of images' title row (a page broke through an image)."""
    return tuple(image_area(k)[0] - 1 for k in range(PER_BAND, s.images, PER_BAND))


def image_range(k: int) -> str:
    top, left = image_area(k)
    return f"{col_letter(left)}{top}:{col_letter(left + SIZE - 1)}{top + SIZE - 1}"


def cells(s: Settings) -> dict[str, str]:
    last = GRID_TOP + s.images - 1
    t = [col_letter(TABLE_COL + i) for i in range(6)]  # image, label, shape, z, output, correct
    return {"bias": "B4", "accuracy": "Y4", "baseline": "Z4", "improvement": "AB4", "points": "AC4",
            "table_first": str(GRID_TOP),
            "table_last": str(last), "label_col": t[1], "z_col": t[3], "out_col": t[4], "correct_col": t[5]}


def start_params(s: Settings) -> dict[str, float]:
    params = {weight_key(i, j): 0.0 for i in range(1, SIZE + 1) for j in range(1, SIZE + 1)}
    params["pc_bias"] = s.bias
    return params


def accuracy(s: Settings, params: Mapping[str, float], drawn=None) -> float:
    pics, labels = drawn if drawn is not None else draw(s)
    w = np.array([[params[weight_key(i, j)] for j in range(1, SIZE + 1)] for i in range(1, SIZE + 1)])
    z = (pics * w).sum(axis=(1, 2)) + params["pc_bias"]
    return float(np.mean((z >= 0).astype(int) == labels))


def learn(s: Settings, *, epochs: int = 100, rate: float = 1.0) -> tuple[dict[str, float], int]:
    """Rosenblatt's rule: on a mistake, w += rate·(label − output)·pixels. Returns (params, epochs used)."""
    pics, labels = draw(s)
    X = pics.reshape(len(pics), -1).astype(float)
    w, b = np.zeros(SIZE * SIZE), s.bias
    used = 0
    for used in range(1, epochs + 1):  # noqa: B007 - `used` is returned
        mistakes = 0
        for x, label in zip(X, labels, strict=True):
            out = 1 if x @ w + b >= 0 else 0
            if out != label:
                w += rate * (label - out) * x
                b += rate * (label - out)
                mistakes += 1
        if not mistakes:
            break
    grid = w.reshape(SIZE, SIZE)
    params = {weight_key(i + 1, j + 1): float(grid[i, j]) for i in range(SIZE) for j in range(SIZE)}
    params["pc_bias"] = float(b)
    return params, used


def build(wb, s: Settings, params: Mapping[str, float] | None = None, rubric: Rubric | None = None) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "The perceptron (Rosenblatt, 1958)", "400 inputs (a 20×20 pixel image), one layer, output 1 = "
                                                     "circle, 0 = rectangle. Output = step(Σ w·pixel + b).")
    where = cells(s)
    _, labels = draw(s)
    c.label(ws, "A4", "Bias b")
    c.write(ws, regions(s, rubric), params)
    first = int(where["table_first"])
    c.heading(ws, "Y3", "Accuracy")
    c.heading(ws, "Z3", "Baseline accuracy")
    c.heading(ws, "AB3", "Improvement")
    c.heading(ws, "AC3", f"Points (of {(rubric or DEFAULT_RUBRIC).max_points:g})")
    c.heading(ws, f"B{GRID_TOP - 1}", "Weights: one per pixel (the heat map shows red = votes circle, blue = "
                                      "votes rectangle)", center=False, wrap=False)
    for i in range(1, SIZE + 1):
        c.label(ws, f"A{GRID_TOP + i - 1}", f"row {i}")
    ws.conditional_formatting.add(GRID, ColorScaleRule(start_type="min", start_color="FF5B9BD5", mid_type="num",
                                                       mid_value=0, mid_color="FFFFFFFF", end_type="max",
                                                       end_color="FFF8696B"))
    t = [col_letter(TABLE_COL + i) for i in range(6)]
    for col, text in zip(t, ("Image", "Label", "Shape", "z = Σ w·pixel + b", "Output", "Correct?"), strict=True):
        c.heading(ws, f"{col}{GRID_TOP - 1}", text)
    for k in range(s.images):
        ws[f"{t[2]}{first + k}"] = SHAPES[int(labels[k])]
        top, left = image_area(k)
        c.label(ws, f"{col_letter(left)}{top - 1}", f"Image {k + 1}: {SHAPES[int(labels[k])]} "
                                                    f"(label {int(labels[k])})")
    pixels = " ".join(image_range(k) for k in range(s.images))
    ws.conditional_formatting.add(pixels, CellIsRule(operator="equal", formula=["1"], fill=PIXEL_ON,
                                                     font=Font(color="FF000000")))
    c.note(ws, f"A{NOTES_ROW}", "Output is 1 when z ≥ 0. Learning rule (Rosenblatt): when an image is wrong, "
                                    "add its pixels to the weights if it should be 1, subtract them if it should "
                                    "be 0, and move b by ±1.")
    c.note(ws, f"A{NOTES_ROW + 1}", "`manualml solve --template lecture-perceptron -o solved.xlsx` fills in "
                                    "weights learned that way.")
    c.note(ws, f"A{NOTES_ROW + 2}", "Improvement = share of the starting weights' mistakes you fixed; the Points "
                                    "follow it and the accuracy.")  # under the grid: beside Points it was crowded
    c.numbers_only(ws, [GRID, where["bias"]], "A weight: positive votes circle, negative votes rectangle.")
    narrow = {col_letter(GRID_LEFT + j): 4.2 for j in range(SIZE)}
    narrow |= {col_letter(IMAGES_LEFT + j): PIXEL_WIDTH for j in range(PER_BAND * (SIZE + 1))}
    for col, width in narrow.items():
        ws.column_dimensions[col].width = width
    c.widths(ws, A=9, W=8, X=7, Y=11, Z=18, AA=8, AB=12, AC=14)
    c.landscape(ws)
    # one page wide it printed at 30 %: the book prints the images on pages of their own (PAGE_STARTS)
    c.protect(ws)


def expected(s: Settings, params: Mapping[str, float] | None = None,
             rubric: Rubric | None = None) -> dict[str, float]:
    where = cells(s)
    params = params or start_params(s)
    pics, labels = draw(s)
    w = np.array([[params[weight_key(i, j)] for j in range(1, SIZE + 1)] for i in range(1, SIZE + 1)])
    z = (pics * w).sum(axis=(1, 2)) + params["pc_bias"]
    out = (z >= 0).astype(int)
    acc = float(np.mean(out == labels))
    base = accuracy(s, start_params(s), (pics, labels))
    gain = 0.0 if base == 1 else (acc - base) / (1 - base)
    result = {where["accuracy"]: acc, where["improvement"]: truncate(gain, improvement_digits(IMPROVEMENT_FORMAT)),
              where["points"]: (rubric or DEFAULT_RUBRIC).points(gain, acc)}
    first = int(where["table_first"])
    for k in range(s.images):
        r = first + k
        result |= {f"{where['z_col']}{r}": z[k], f"{where['out_col']}{r}": out[k],
                   f"{where['correct_col']}{r}": int(out[k] == labels[k])}
    return {k: float(v) for k, v in result.items()}


def metric(s: Settings, params: Mapping[str, float]) -> float:
    return accuracy(s, params)


def regions(s: Settings, rubric: Rubric | None = None) -> tuple[Region, ...]:
    """Every graded cell of the sheet: what the builder writes and the grader checks."""
    where = cells(s)
    pics, labels = draw(s)
    first, last = int(where["table_first"]), int(where["table_last"])
    t = [col_letter(TABLE_COL + i) for i in range(6)]  # image, label, shape, z, output, correct

    def column(col: str) -> str:
        return f"{col}{first}:{col}{last}"

    keys = tuple(weight_key(i, j) for i in range(1, SIZE + 1) for j in range(1, SIZE + 1))
    return (
        Region("pc_bias", Role.EDITABLE, where["bias"], name="pc_bias", values=(s.bias,), params=("pc_bias",)),
        Region("weights", Role.EDITABLE, GRID, name="pc_weights", values=(0.0,) * len(keys), params=keys,
               fmt="General"),
        Region("accuracy", Role.COMPUTED, where["accuracy"], formula=f"=AVERAGE({column(t[5])})",
               fmt=ACCURACY_FORMAT, result=True),
        Region("baseline", Role.CONSTANT, where["baseline"], caption="baseline",
               values=(accuracy(s, start_params(s), (pics, labels)),), fmt=ACCURACY_FORMAT),
        Region("improvement", Role.COMPUTED, where["improvement"], formula=IMPROVEMENT, fmt=IMPROVEMENT_FORMAT,
               result=True),
        Region("points", Role.COMPUTED, where["points"], formula=points_formula(rubric or DEFAULT_RUBRIC, GAIN,
                                                                                where["accuracy"]),
               fmt=styles.POINTS_FORMAT, result=True),
        Region("image", Role.GIVEN, column(t[0]), caption="data", values=tuple(range(1, s.images + 1)), rows=True),
        Region("label", Role.GIVEN, column(t[1]), caption="data", values=tuple(labels.tolist()), rows=True),
        Region("z", Role.COMPUTED, column(t[3]), fmt="#,##0.##",
               formulas=tuple(f"=SUMPRODUCT(pc_weights,{image_range(k)})+pc_bias" for k in range(s.images)), rows=True),
        Region("output", Role.COMPUTED, column(t[4]), formula=f"=IF({t[3]}{{r}}>=0,1,0)", rows=True),
        Region("correct", Role.COMPUTED, column(t[5]), formula=f"=IF({t[4]}{{r}}={t[1]}{{r}},1,0)", rows=True),
        *(Region(f"image {k + 1}", Role.GIVEN, image_range(k), caption="data", values=pics[k], fmt=HIDDEN,
                 fill=False) for k in range(s.images)),
    )


def _metric_cell(s: Settings, params: Mapping[str, float]) -> np.ndarray:
    return np.array([metric(s, params)])


def graded_sheet(s: Settings, rubric: Rubric | None, assignment: str, title: str = "") -> GradedSheet:
    where = cells(s)
    last = int(where["table_last"])
    last_top, _ = image_area(s.images - 1)
    right = col_letter(image_area(min(s.images, PER_BAND) - 1)[1] + SIZE - 1)
    return GradedSheet(
        id=assignment, title=title or SHEET, sheet=SHEET, version=LECTURE_LAYOUT_VERSION, regions=regions(s, rubric),
        start=start_params(s), metric_name="accuracy", metric_abbr="accuracy", higher_is_better=True,
        evaluate=partial(metric, s), caches=(CacheCheck(where["accuracy"], partial(_metric_cell, s)),),
        metric_cell=where["accuracy"], baseline_cell=where["baseline"], rubric=rubric or DEFAULT_RUBRIC,
        extent=f"A1:{right}{max(last_top + SIZE, last + 3)}", other_sheet=c.CONTENTS, kind=KIND, settings=s,
        hint="Look at an image your perceptron gets wrong: raise the weights under its black pixels if it should "
             "be a circle (1), lower them if it should be a rectangle (0).")


def solve(s: Settings) -> dict[str, float]:
    """Weights learned with Rosenblatt's rule (rate 1: whole numbers a student can type)."""
    return learn(s)[0]
