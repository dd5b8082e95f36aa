"""Linear regression and the normal equation, on the lecture's data (area in sq ft, price).

Left: y = W·x + b with W and b editable and the RMSE live (graded like the manual-ML sheet).
Right: the closed form θ = (XᵀX)⁻¹Xᵀy computed live with MMULT / MINVERSE / TRANSPOSE array
formulas (Excel, LibreOffice and Google Sheets all evaluate them): b ≈ 247,263.27, W ≈ 58.4879,
best RMSE ≈ 21,149.25, the floor no W and b can beat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from openpyxl.worksheet.formula import ArrayFormula

from workbook import styles
from workbook.address import a1, cells_of, offset, position, row_of
from workbook.formulas import DEFAULT_IMPROVEMENT_FORMAT, improvement_digits, points_formula, shown_improvement
from workbook.lecture import common as c
from workbook.lecture.gradable import Gradable
from workbook.model import truncate
from workbook.spec import Rubric, Tier

KIND = "linear-regression"
SHEET = "Linear Regression"
DESCRIPTION = "Fit y = Wx + b by hand to the lecture's house data; the normal equation computes the best line live"
HEAD = 7
FIRST = HEAD + 1
MONEY = "#,##0"
IMPROVEMENT_FORMAT = DEFAULT_IMPROVEMENT_FORMAT
GAIN = "(H5-G5)/H5"  # (baseline - RMSE) / baseline, exact: the Points cell's input, as the grader's
IMPROVEMENT = shown_improvement(GAIN, IMPROVEMENT_FORMAT)
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
            "theta_W": f"K{xtx + 13}", "best_rmse": f"K{xtx + 16}", "best_improvement": f"K{xtx + 19}"}


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
    params = params or {"lr_w": s.W, "lr_b": s.b}
    c.editable(ws, where["W"], params["lr_w"], name="lr_w")
    c.label(ws, "A5", "Bias b")
    c.editable(ws, where["b"], params["lr_b"], name="lr_b")
    for col, text in zip("ABCDE", (f"{s.x_label} (x)", f"{s.y_label} (y)", "Predicted W·x + b",
                                   "Error (predicted − y)", "Squared Error"), strict=True):
        c.heading(ws, f"{col}{HEAD}", text)
    for i, (x, y) in enumerate(zip(s.x, s.y, strict=True)):
        r = FIRST + i
        c.given(ws, f"A{r}", x, MONEY)
        c.given(ws, f"B{r}", y, MONEY)
        c.computed(ws, f"C{r}", f"=lr_w*A{r}+lr_b", MONEY)
        c.computed(ws, f"D{r}", f"=C{r}-B{r}", MONEY)
        c.computed(ws, f"E{r}", f"=D{r}^2", MONEY)
    rubric = rubric or DEFAULT_RUBRIC
    for col, text in zip("GHIJ", ("Root Mean Squared Error", "Baseline RMSE", "Improvement",
                                  f"Points (of {rubric.max_points:g})"), strict=True):
        c.heading(ws, f"{col}4", text)
    c.computed(ws, where["rmse"], f"=SQRT(AVERAGE(E{FIRST}:E{last}))", MONEY, result=True)
    c.given(ws, where["baseline"], rmse(s, s.W, s.b), MONEY)
    c.computed(ws, where["improvement"], IMPROVEMENT, IMPROVEMENT_FORMAT, result=True)
    c.computed(ws, where["points"], points_formula(rubric, GAIN, "G5"), styles.POINTS_FORMAT, result=True)
    _normal_equation_block(ws, s, where, last)
    c.scatter_chart(ws, "Data and the line y = W·x + b", (s.x_label, s.y_label), 1, (FIRST, last),
                    [(2, "data", "points"), (3, "your line", "line")], f"A{last + 3}", width=16)
    c.numbers_only(ws, [where["W"], where["b"]], "Change W or b and watch the RMSE.")
    c.widths(ws, A=17, B=15, C=18, D=18, E=18, F=3, G=20, H=15, I=13, J=15, K=16, L=16, M=40)
    c.landscape(ws)
    c.protect(ws)


def _normal_equation_block(ws, s: Settings, where: dict[str, str], last: int) -> None:
    c.heading(ws, "K6", "The normal equation: θ = (XᵀX)⁻¹ · Xᵀ · y", center=False, wrap=False)
    c.heading(ws, f"K{HEAD}", "X: ones (for b)")
    c.heading(ws, f"L{HEAD}", "X: x (for W)")
    for i in range(len(s.x)):
        r = FIRST + i
        c.given(ws, f"K{r}", 1)
        c.computed(ws, f"L{r}", f"=A{r}", MONEY)
    design, y = where["design"], f"B{FIRST}:B{last}"
    blocks = (("xtx", "XᵀX", f"=MMULT(TRANSPOSE({design}),{design})", "#,##0.######"),
              ("inv", "(XᵀX)⁻¹", f"=MINVERSE({where['xtx']})", "#,##0.0#########"),
              ("xty", "Xᵀy", f"=MMULT(TRANSPOSE({design}),{y})", "#,##0"),
              ("theta", "θ = (XᵀX)⁻¹ · Xᵀy: b, then W", f"=MMULT({where['inv']},{where['xty']})", "#,##0.0000"))
    for key, text, formula, fmt in blocks:
        area = where[key]
        top = cells_of(area)[0]
        c.heading(ws, offset(top, -1), text, center=False)
        ws[top] = ArrayFormula(area, formula)
        for ref in cells_of(area):
            ws[ref].fill = c.styles.COMPUTED_FILL
            ws[ref].number_format = fmt
    c.note(ws, offset(where["theta_b"], 0, 1), "← b")
    c.note(ws, offset(where["theta_W"], 0, 1), "← W")
    best = where["best_rmse"]
    c.heading(ws, offset(best, -1), "Best possible RMSE", center=False)
    c.computed(ws, where["best_rmse"], f"=SQRT(SUMPRODUCT(({where['theta_W']}*A{FIRST}:A{last}+{where['theta_b']}"
                                       f"-B{FIRST}:B{last})^2)/COUNT(A{FIRST}:A{last}))", "#,##0.00", result=True)
    c.heading(ws, offset(best, 2), "Best possible Improvement", center=False)
    c.computed(ws, where["best_improvement"], shown_improvement(f"(H5-{where['best_rmse']})/H5", IMPROVEMENT_FORMAT),
               IMPROVEMENT_FORMAT, result=True)
    c.note(ws, f"M{FIRST}", "Column 'ones' multiplies b, column x multiplies W.")
    c.note(ws, f"M{FIRST + 1}", "Type the θ values into W and b: your RMSE becomes the best one.")


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


def gradable(s: Settings, rubric: Rubric | None, assignment: str, title: str = "") -> Gradable:
    where = cells(s)
    last = int(where["last"])
    values = {where["baseline"]: rmse(s, s.W, s.b)}
    rubric = rubric or DEFAULT_RUBRIC
    formulas = {where["rmse"]: f"=SQRT(AVERAGE(E{FIRST}:E{last}))", where["improvement"]: IMPROVEMENT,
                where["points"]: points_formula(rubric, GAIN, "G5")}
    for i, (x, y) in enumerate(zip(s.x, s.y, strict=True)):
        r = FIRST + i
        values |= {f"A{r}": x, f"B{r}": y}
        formulas |= {f"C{r}": f"=lr_w*A{r}+lr_b", f"D{r}": f"=C{r}-B{r}", f"E{r}": f"=D{r}^2"}
    return Gradable(
        id=assignment, title=title or SHEET, kind=KIND, settings=s, sheet=SHEET,
        param_cells={"lr_w": where["W"], "lr_b": where["b"]}, names={"lr_w": where["W"], "lr_b": where["b"]},
        start={"lr_w": s.W, "lr_b": s.b}, values=values, formulas=formulas,
        baseline_cell=where["baseline"], metric_cell=where["rmse"],
        region=f"A1:{a1(row_of(where['best_improvement']), 'M')}", metric_name="rmse", higher_is_better=False,
        rubric=rubric or DEFAULT_RUBRIC,
        hint="The normal equation on the right of the sheet computes the best W and b: compare yours with it.")


def solve(s: Settings) -> dict[str, float]:
    """The best W and b: the normal equation's θ."""
    b, W = normal_equation(s)
    return {"lr_w": W, "lr_b": b}
