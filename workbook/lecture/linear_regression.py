"""Linear regression and the normal equation, on the lecture's data (area in sq ft, price).

Left: y = W·x + b with W and b editable and the RMSE live (graded like the manual-ML sheet).
Right: the closed form θ = (XᵀX)⁻¹Xᵀy computed live with MMULT / MINVERSE / TRANSPOSE array
formulas (Excel, LibreOffice and Google Sheets all evaluate them): b ≈ 247,263.27, W ≈ 58.4879,
best RMSE ≈ 21,149.25, the floor no W and b can beat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np

from workbook import LECTURE_LAYOUT_VERSION, styles
from workbook.address import a1, cells_of, offset, position, row_of
from workbook.formulas import DEFAULT_IMPROVEMENT_FORMAT, improvement_digits, points_formula, shown_improvement
from workbook.graded import CacheCheck, GradedSheet, Region, Role
from workbook.lecture import common as c
from workbook.model import truncate
from workbook.spec import Rubric, Tier

KIND = "linear-regression"
SHEET = "Linear Regression"
DESCRIPTION = "Fit y = Wx + b by hand to the lecture's house data; the normal equation computes the best line live"
HEAD = 7
FIRST = HEAD + 1
MONEY = "#,##0"
INVERSE_FORMAT = "0.000E+00"  # (XᵀX)⁻¹ spans 13 to 0.000003 on the lecture's data: four significant digits each,
# where "#,##0.0#########" printed 12.9853305516 beside 0.0000030561
IMPROVEMENT_FORMAT = DEFAULT_IMPROVEMENT_FORMAT
DEFAULT_RUBRIC = Rubric(max_points=10, tiers=(Tier(10, min_improvement=0.68), Tier(8, min_improvement=0.6),
                                              Tier(5, min_improvement=0.4), Tier(2, min_improvement=0.01)))


@dataclass(frozen=True)
class Settings:
    x: tuple[float, ...] = (2104.0, 1600.0, 2400.0)  # area, sq ft
    y: tuple[float, ...] = (399900.0, 329900.0, 369000.0)  # price
    x_label: str = "Area (sq ft)"
    y_label: str = "Price"
    W: float = 100.0  # starting weight
    b: float = 100000.0  # starting bias

    def check(self) -> tuple[str, str] | None:
        if not 2 <= len(self.x) <= 1000:
            return "x", f"give 2 to 1000 data points, got {len(self.x)}"
        if len(self.y) != len(self.x):
            return "y", f"give one y per x ({len(self.x)}), got {len(self.y)}"
        if len(set(self.x)) < 2:
            return "x", "give at least two different x values (otherwise XᵀX has no inverse)"
        return None


def cells(s: Settings) -> dict[str, str]:
    n = len(s.x)
    last = FIRST + n - 1
    xtx = last + 3  # XᵀX (2×2), then its inverse, Xᵀy (2×1) and θ (2×1), each under a heading
    return {"W": "B4", "b": "B5", "last": str(last), "rmse": "G5", "baseline": "H5", "improvement": "I5",
            "points": "J5",
            "design": f"K{FIRST}:L{last}", "xtx": f"K{xtx}:L{xtx + 1}", "inv": f"K{xtx + 4}:L{xtx + 5}",
            "xty": f"K{xtx + 8}:K{xtx + 9}", "theta": f"K{xtx + 12}:K{xtx + 13}", "theta_b": f"K{xtx + 12}",
            "theta_W": f"K{xtx + 13}", "best_rmse": f"K{xtx + 16}", "best_improvement": f"K{xtx + 19}",
            "note": f"K{xtx + 21}"}


def rmse(s: Settings, W: float, b: float) -> float:
    x, y = np.array(s.x), np.array(s.y)
    return float(np.sqrt(np.mean((W * x + b - y) ** 2)))


def normal_equation(s: Settings) -> tuple[float, float]:
    """(b, W) by θ = (XᵀX)⁻¹Xᵀy, the same steps as the sheet's array formulas."""
    X = np.column_stack([np.ones(len(s.x)), np.array(s.x)])
    theta = np.linalg.inv(X.T @ X) @ (X.T @ np.array(s.y))
    return float(theta[0]), float(theta[1])


def build(wb, s: Settings, params: Mapping[str, float] | None = None, rubric: Rubric | None = None) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "Linear regression: fitting a straight line", "y = W·x + b. Change W and b to make the RMSE as "
                                                             "small as you can; the normal equation (right) "
                                                             "knows the answer.")
    where = cells(s)
    last = int(where["last"])
    c.label(ws, "A4", "Weight W")
    c.label(ws, "A5", "Bias b")
    c.write(ws, regions(s, rubric), params)
    for col, text in zip("ABCDE", (f"{s.x_label} (x)", f"{s.y_label} (y)", "Predicted W·x + b",
                                   "Error (predicted − y)", "Squared Error"), strict=True):
        c.heading(ws, f"{col}{HEAD}", text)
    for col, text in zip("GHIJ", ("Root Mean Squared Error", "Baseline RMSE", "Improvement",
                                  f"Points (of {(rubric or DEFAULT_RUBRIC).max_points:g})"), strict=True):
        c.heading(ws, f"{col}4", text)
    _normal_equation_block(ws, where)
    c.scatter_chart(ws, "Data and the line y = W·x + b", (s.x_label, s.y_label), 1, (FIRST, last),
                    [(2, "data", "points"), (3, "your line", "line")], f"A{last + 3}", width=16)
    c.numbers_only(ws, [where["W"], where["b"]], "Change W or b and watch the RMSE.")
    c.widths(ws, A=14, B=12, C=14, D=14, E=15, F=3, G=14, H=12, I=12, J=16, K=15, L=15)  # headings wrap
    c.landscape(ws)
    c.protect(ws)


def _normal_equation_block(ws, where: dict[str, str]) -> None:
    c.heading(ws, "K6", "The normal equation: θ = (XᵀX)⁻¹ · Xᵀ · y", center=False, wrap=False)
    c.heading(ws, f"K{HEAD}", "X: ones (for b)")
    c.heading(ws, f"L{HEAD}", "X: x (for W)")
    for key, text in (("xtx", "XᵀX"), ("inv", "(XᵀX)⁻¹"), ("xty", "Xᵀy"), ("theta", "θ = (XᵀX)⁻¹ · Xᵀy: b, then W")):
        c.heading(ws, offset(cells_of(where[key])[0], -1), text, center=False)
    c.note(ws, offset(where["theta_b"], 0, 1), "← b")
    c.note(ws, offset(where["theta_W"], 0, 1), "← W")
    best = where["best_rmse"]
    c.heading(ws, offset(best, -1), "Best possible RMSE", center=False)
    c.heading(ws, offset(best, 2), "Best possible Improvement", center=False)
    below = where["note"]  # under the block, wrapped across its two columns: run on to the
    # right of the design matrix they made the page a third wider and the printed sheet small
    ws.merge_cells(f"{below}:{offset(below, 0, 1)}")
    c.note(ws, below, "Column 'ones' multiplies b, column x multiplies W. Type the θ values into W and b: your "
                      "RMSE becomes the best one.")
    ws[below].alignment = styles.WRAP


def regions(s: Settings, rubric: Rubric | None = None) -> tuple[Region, ...]:
    """Every graded cell of the sheet: what the builder writes and the grader checks."""
    where = cells(s)
    last = int(where["last"])
    rows = len(s.x)

    def column(col: str) -> str:
        return f"{col}{FIRST}:{col}{last}"

    design, y, rmse_cell, base = where["design"], column("B"), where["rmse"], where["baseline"]
    arrays = (("xtx", f"=MMULT(TRANSPOSE({design}),{design})", "#,##0.######"),
              ("inv", f"=MINVERSE({where['xtx']})", INVERSE_FORMAT),
              ("xty", f"=MMULT(TRANSPOSE({design}),{y})", "#,##0"),
              ("theta", f"=MMULT({where['inv']},{where['xty']})", "#,##0.0000"))
    best = (f"=SQRT(SUMPRODUCT(({where['theta_W']}*{column('A')}+{where['theta_b']}-{y})^2)"
            f"/COUNT({column('A')}))")
    gain = f"({base}-{rmse_cell})/{base}"  # exact: the Points cell's input, as the grader's
    return (
        Region("lr_w", Role.EDITABLE, where["W"], name="lr_w", values=(s.W,), params=("lr_w",)),
        Region("lr_b", Role.EDITABLE, where["b"], name="lr_b", values=(s.b,), params=("lr_b",)),
        Region("x", Role.GIVEN, column("A"), caption="data", values=s.x, fmt=MONEY, rows=True),
        Region("y", Role.GIVEN, y, caption="data", values=s.y, fmt=MONEY, rows=True),
        Region("prediction", Role.COMPUTED, column("C"), formula="=lr_w*A{r}+lr_b", fmt=MONEY, rows=True),
        Region("error", Role.COMPUTED, column("D"), formula="=C{r}-B{r}", fmt=MONEY, rows=True),
        Region("squared error", Role.COMPUTED, column("E"), formula="=D{r}^2", fmt=MONEY, rows=True),
        Region("rmse", Role.COMPUTED, rmse_cell, formula=f"=SQRT(AVERAGE({column('E')}))", fmt=MONEY, result=True),
        Region("baseline", Role.CONSTANT, base, caption="baseline", values=(rmse(s, s.W, s.b),), fmt=MONEY),
        Region("improvement", Role.COMPUTED, where["improvement"], formula=shown_improvement(gain, IMPROVEMENT_FORMAT),
               fmt=IMPROVEMENT_FORMAT, result=True),
        Region("points", Role.COMPUTED, where["points"], fmt=styles.POINTS_FORMAT, result=True,
               formula=points_formula(rubric or DEFAULT_RUBRIC, gain, rmse_cell)),
        Region("ones", Role.GIVEN, column("K"), caption="data", values=(1.0,) * rows, rows=True),
        Region("design x", Role.COMPUTED, column("L"), formula="=A{r}", fmt=MONEY, rows=True),
        *(Region(key, Role.COMPUTED, where[key], formula=formula, fmt=fmt, array=True)
          for key, formula, fmt in arrays),
        Region("best rmse", Role.COMPUTED, where["best_rmse"], formula=best, fmt="#,##0.00", result=True),
        Region("best improvement", Role.COMPUTED, where["best_improvement"],
               formula=shown_improvement(f"({base}-{where['best_rmse']})/{base}", IMPROVEMENT_FORMAT),
               fmt=IMPROVEMENT_FORMAT, result=True),
    )


def expected(s: Settings, params: Mapping[str, float] | None = None,
             rubric: Rubric | None = None) -> dict[str, float]:
    """Every computed cell by NumPy, for the issued line or the W and b in `params`."""
    where = cells(s)
    W, b = (params["lr_w"], params["lr_b"]) if params else (s.W, s.b)
    x, y = np.array(s.x), np.array(s.y)
    X = np.column_stack([np.ones(len(x)), x])
    xtx = X.T @ X
    inv = np.linalg.inv(xtx)
    xty = X.T @ y
    theta = inv @ xty
    base = rmse(s, s.W, s.b)
    current = rmse(s, W, b)
    best = rmse(s, theta[1], theta[0])
    gain = (base - current) / base
    digits = improvement_digits(IMPROVEMENT_FORMAT)
    out = {where["rmse"]: current, where["improvement"]: truncate(gain, digits), where["best_rmse"]: best,
           where["best_improvement"]: truncate((base - best) / base, digits),
           where["points"]: (rubric or DEFAULT_RUBRIC).points(gain, current)}
    for key, matrix in (("xtx", xtx), ("inv", inv), ("xty", xty[:, None]), ("theta", theta[:, None])):
        row, col = position(cells_of(where[key])[0])
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                out[a1(row + i, col + j)] = float(matrix[i, j])
    for i in range(len(x)):
        r = FIRST + i
        pred = W * x[i] + b
        out |= {f"C{r}": pred, f"D{r}": pred - y[i], f"E{r}": (pred - y[i]) ** 2, f"L{r}": x[i]}
    return {k: float(v) for k, v in out.items()}


def metric(s: Settings, params: Mapping[str, float]) -> float:
    return rmse(s, params["lr_w"], params["lr_b"])


def _metric_cell(s: Settings, params: Mapping[str, float]) -> np.ndarray:
    return np.array([metric(s, params)])


def graded_sheet(s: Settings, rubric: Rubric | None, assignment: str, title: str = "") -> GradedSheet:
    where = cells(s)
    return GradedSheet(
        id=assignment, title=title or SHEET, sheet=SHEET, version=LECTURE_LAYOUT_VERSION, regions=regions(s, rubric),
        start={"lr_w": s.W, "lr_b": s.b}, metric_name="rmse", metric_abbr="RMSE", higher_is_better=False,
        evaluate=partial(metric, s), caches=(CacheCheck(where["rmse"], partial(_metric_cell, s)),),
        metric_cell=where["rmse"], baseline_cell=where["baseline"], rubric=rubric or DEFAULT_RUBRIC,
        extent=f"A1:{a1(row_of(where['note']), 'M')}", other_sheet=c.CONTENTS, kind=KIND, settings=s,
        hint="The normal equation on the right of the sheet computes the best W and b: compare yours with it.")


def solve(s: Settings) -> dict[str, float]:
    """The best W and b: the normal equation's θ."""
    b, W = normal_equation(s)
    return {"lr_w": W, "lr_b": b}
