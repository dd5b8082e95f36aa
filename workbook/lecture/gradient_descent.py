"""Gradient descent with a learning rate η: the lecture's three cases, live, one row per step.

The problem is the lecture's linear regression (area in sq ft -> price) with x and y
standardised (mean 0, standard deviation 1), stated on the sheet. Standardised, the loss
L(w, b) = mean((w·x̃ + b − ỹ)²) is a round bowl: each step multiplies the distance to the
best line by (1 − 2η). So η = 0.1 shrinks it by 0.8 a step (slow, converged after 75 steps),
η = 2 multiplies it by −3 (diverges within 10 steps), and a decaying η_t = η₀ / (1 + k·t)
that starts too large (1.5) but shrinks gets closer in 10 steps than η = 0.1 does in 40.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from openpyxl.worksheet.pagebreak import Break

from workbook.address import col_index
from workbook.lecture import common as c

KIND = "gradient-descent"
SHEET = "Gradient Descent"
DESCRIPTION = "Gradient descent step by step: η = 0.1 (slow), η = 2 (diverges), decaying η_t (fast)"
DATA_HEAD = 5
FMT = "0.000000"
STEP_FMT = "0.000000"  # the slow and the decaying run stay small: six decimals, every row alike
WILD_FMT = "0.000E+00"
"""The diverging run's w, b, loss and gradients reach 1e36 (its η_t stays 2): General filled each cell with up to
11 digits that ran into the next column (b 59049 beside loss 13262172663 read 5904913262172663). One width;
the exponent shows the growth."""
CAP = 1e100
"""w and b are held within ±CAP: a diverging run (η = 2000 after a student's edit) would otherwise pass
1e308 and turn every later cell into #NUM!. Capped, every cell stays a number (the loss at most ~1e200),
and `descend` caps the same way."""


@dataclass(frozen=True)
class Case:
    """One of the three runs side by side."""

    title: str
    eta: float
    decay: float
    steps: int


@dataclass(frozen=True)
class Settings:
    x: tuple[float, ...] = (2104.0, 1600.0, 2400.0)
    y: tuple[float, ...] = (399900.0, 329900.0, 369000.0)
    w0: float = -1.0  # starting weight (standardised units)
    b0: float = 1.0  # starting bias
    slow_eta: float = 0.1
    slow_k: float = 0.0  # every run has an editable decay k; the first two start with none
    slow_steps: int = 75
    large_eta: float = 2.0
    large_k: float = 0.0
    large_steps: int = 10
    decay_eta: float = 1.5
    decay_k: float = 0.8
    decay_steps: int = 10

    def check(self) -> tuple[str, str] | None:
        if not 2 <= len(self.x) <= 1000:
            return "x", f"give 2 to 1000 data points, got {len(self.x)}"
        if len(self.y) != len(self.x):
            return "y", f"give one y per x ({len(self.x)}), got {len(self.y)}"
        if len(set(self.x)) < 2 or len(set(self.y)) < 2:
            return "x", "x and y must each take at least two values (they are standardised)"
        for key in ("slow_steps", "large_steps", "decay_steps"):
            if not 1 <= getattr(self, key) <= 1000:
                return key, f"give 1 to 1000 steps, got {getattr(self, key)}"
        return None

    @property
    def cases(self) -> tuple[Case, Case, Case]:
        return (Case(f"η = {self.slow_eta:g}: too small, slow", self.slow_eta, self.slow_k, self.slow_steps),
                Case(f"η = {self.large_eta:g}: too large, diverges", self.large_eta, self.large_k,
                     self.large_steps),
                Case(f"variable η_t = {self.decay_eta:g} / (1 + {self.decay_k:g}·t): just right", self.decay_eta,
                     self.decay_k, self.decay_steps))


COLS = ("A", "B", "C", "D", "E", "F", "G")  # t, η_t, w, b, loss, dL/dw, dL/db: every run's table, one under another
CHART_COL = "I"  # each run's chart beside its table
VALUE_COL = "C"  # a run's η₀, decay, final loss, W and b; their labels span A:B (A alone stays as narrow as t)
GAP = 2  # empty rows between one run and the next


def _block_cols(k: int) -> list[str]:
    """The columns of run k's table: the same for every run, so the runs read down one page width (side by
    side they were 24 columns wide and printed at 40 %, too small to read)."""
    return list(COLS)


def _block_tops(s: Settings, top: int) -> list[int]:
    """The heading row of each run: below the previous run's last step."""
    tops = [top]
    for case in s.cases[:-1]:
        tops.append(tops[-1] + 9 + case.steps + 1 + GAP)
    return tops


def cells(s: Settings) -> dict[str, str]:
    n = len(s.x)
    last = DATA_HEAD + n
    top = last + 7  # under the mean and sd rows, the x̃ note and the note on (1 − 2·η_t)
    out = {"last": str(last), "mean_x": f"A{last + 1}", "mean_y": f"B{last + 1}", "sd_x": f"A{last + 2}",
           "sd_y": f"B{last + 2}", "start_w": "G6", "start_b": "G7", "best_loss": "G8", "top": str(top)}
    for k, block in enumerate(_block_tops(s, top)):
        v = VALUE_COL  # each run's settings and results, right of their labels (which span A:B)
        out |= {f"top{k}": str(block), f"eta{k}": f"{v}{block + 1}", f"k{k}": f"{v}{block + 2}",
                f"final{k}": f"{v}{block + 4}", f"W{k}": f"{v}{block + 5}", f"b{k}": f"{v}{block + 6}",
                f"first{k}": str(block + 9)}
    return out


def build(wb, s: Settings) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "Gradient descent and the learning rate η", "Start with some w and b, then repeat: step downhill, "
                                                            "against the gradient, by η times its size.")
    where = cells(s)
    n, last = len(s.x), int(where["last"])
    xs, ys = f"$C${DATA_HEAD + 1}:$C${last}", f"$D${DATA_HEAD + 1}:$D${last}"
    c.note(ws, "A3", "Loss L(w, b) = mean of (w·x̃ + b − ỹ)²; gradient: dL/dw = 2·mean((w·x̃ + b − ỹ)·x̃), "
                     "dL/db = 2·mean(w·x̃ + b − ỹ).")
    c.heading(ws, "A4", "The problem: the lecture's linear regression, standardised", center=False, wrap=False)
    for col, text in zip("ABCD", ("x (sq ft)", "y (price)", "x̃", "ỹ"), strict=True):
        c.heading(ws, f"{col}{DATA_HEAD}", text)
    for i, (x, y) in enumerate(zip(s.x, s.y, strict=True)):
        r = DATA_HEAD + 1 + i
        c.given(ws, f"A{r}", x, "#,##0")
        c.given(ws, f"B{r}", y, "#,##0")
        c.computed(ws, f"C{r}", f"=(A{r}-{where['mean_x']})/{where['sd_x']}", FMT)
        c.computed(ws, f"D{r}", f"=(B{r}-{where['mean_y']})/{where['sd_y']}", FMT)
    span = {"A": f"A{DATA_HEAD + 1}:A{last}", "B": f"B{DATA_HEAD + 1}:B{last}"}
    for col in "AB":
        c.computed(ws, f"{col}{last + 1}", f"=AVERAGE({span[col]})", "#,##0.00")
        c.computed(ws, f"{col}{last + 2}", f"=SQRT(SUMPRODUCT(({span[col]}-{col}{last + 1})^2)/COUNT({span[col]}))",
                   "#,##0.00")
    c.label(ws, f"C{last + 1}", "← mean")
    c.label(ws, f"C{last + 2}", "← standard deviation")
    c.note(ws, f"C{last + 3}", "x̃ = (x − mean) / sd, ỹ = (y − mean) / sd")
    for row, text in ((6, "Start w₀"), (7, "Start b₀"), (8, "Best possible loss")):  # beside the data rows
        ws.merge_cells(f"E{row}:F{row}")  # one label across two of the tables' columns
        c.label(ws, f"E{row}", text)
    c.editable(ws, where["start_w"], s.w0, name="gd_w0")
    c.editable(ws, where["start_b"], s.b0, name="gd_b0")
    c.computed(ws, where["best_loss"], f"=1-(SUMPRODUCT({xs},{ys})/{n})^2", FMT, result=True)
    c.note(ws, "H8", "= 1 − r², the loss of the normal equation's line")
    top = int(where["top"])
    editable_refs = [f"{where['start_w']}:{where['start_b']}"]
    for k, case in enumerate(s.cases):
        cols = _block_cols(k)
        t, eta, w, b, loss, dw, db = cols
        block = int(where[f"top{k}"])
        if k:  # each later run starts a page: its chart, 16 rows tall, is never cut in two
            ws.row_breaks.append(Break(id=block - 1))
        c.heading(ws, f"{t}{block}", case.title, center=False, wrap=False)
        c.label(ws, f"{t}{block + 1}", "η₀")
        c.editable(ws, where[f"eta{k}"], case.eta, name=f"gd_eta_{k + 1}")
        c.label(ws, f"{t}{block + 2}", "decay k")
        c.editable(ws, where[f"k{k}"], case.decay, name=f"gd_k_{k + 1}")
        c.note(ws, f"{b}{block + 1}", "η_t = η₀ / (1 + k·t)")
        for row in (1, 2, 4, 5, 6):
            ws.merge_cells(f"{t}{block + row}:{eta}{block + row}")
        editable_refs += [where[f"eta{k}"], where[f"k{k}"]]
        first = int(where[f"first{k}"])
        end = first + case.steps
        c.label(ws, f"{t}{block + 4}", f"Loss after {case.steps} steps")
        fmt = WILD_FMT if k == 1 else STEP_FMT
        c.computed(ws, where[f"final{k}"], f"={loss}{end}", fmt, result=True)
        c.label(ws, f"{t}{block + 5}", "W (price per sq ft)")
        c.computed(ws, where[f"W{k}"], f"={w}{end}*{where['sd_y']}/{where['sd_x']}",
                   WILD_FMT if k == 1 else "#,##0.0000")
        c.label(ws, f"{t}{block + 6}", "b (price)")
        c.computed(ws, where[f"b{k}"], f"={where['mean_y']}+{where['sd_y']}*{b}{end}-{where[f'W{k}']}*"
                                       f"{where['mean_x']}", WILD_FMT if k == 1 else "#,##0.00")
        for col, text in zip(cols, ("step t", "η_t", "w", "b", "loss L", "dL/dw", "dL/db"), strict=True):
            c.heading(ws, f"{col}{first - 1}", text)
        for step in range(case.steps + 1):
            r = first + step
            c.given(ws, f"{t}{r}", step)
            c.computed(ws, f"{eta}{r}", f"={where[f'eta{k}']}/(1+{where[f'k{k}']}*{t}{r})", STEP_FMT)
            if step == 0:
                c.computed(ws, f"{w}{r}", "=gd_w0", fmt)
                c.computed(ws, f"{b}{r}", "=gd_b0", fmt)
            else:
                c.computed(ws, f"{w}{r}", _capped(f"{w}{r - 1}-{eta}{r - 1}*{dw}{r - 1}"), fmt)
                c.computed(ws, f"{b}{r}", _capped(f"{b}{r - 1}-{eta}{r - 1}*{db}{r - 1}"), fmt)
            residual = f"({w}{r}*{xs}+{b}{r}-{ys})"
            c.computed(ws, f"{loss}{r}", f"=SUMPRODUCT({residual}^2)/{n}", fmt)
            c.computed(ws, f"{dw}{r}", f"=2*SUMPRODUCT({residual}*{xs})/{n}", fmt)
            c.computed(ws, f"{db}{r}", f"=2*SUMPRODUCT({residual})/{n}", fmt)
        c.scatter_chart(ws, case.title, ("step t", "loss"), col_index(t), (first, end),
                        [(col_index(loss), "loss", "both")], f"{CHART_COL}{block}", width=12,
                        y_format=WILD_FMT if k == 1 else "General")  # ticks 0.5, 1, ...: not 0.500000
    ws.merge_cells(f"A{top - 2}:G{top - 2}")  # wrapped across the tables' width: run on, it set the page's width
    c.note(ws, f"A{top - 2}", "Each step multiplies the distance to the best line by (1 − 2·η_t): 0.8 for "
                              "η = 0.1, −3 for η = 2 (every step overshoots further). The normal equation's line "
                              "is W ≈ 58.49, b ≈ 247,263 on the lecture's data.")
    ws[f"A{top - 2}"].alignment = c.styles.WRAP
    c.numbers_only(ws, editable_refs, "Change this number: every step is recomputed.")
    c.widths(ws, A=12, **{col: 11 for col in COLS[1:]}, H=2)
    c.landscape(ws)
    c.protect(ws)


def _capped(expr: str) -> str:
    return f"=MAX(-{CAP:.0E},MIN({CAP:.0E},{expr}))"


def standardised(s: Settings) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    x, y = np.array(s.x), np.array(s.y)
    mx, my = x.mean(), y.mean()
    sx, sy = np.sqrt(np.mean((x - mx) ** 2)), np.sqrt(np.mean((y - my) ** 2))
    return (x - mx) / sx, (y - my) / sy, (mx, my, sx, sy)


def descend(s: Settings, case: Case) -> list[tuple[float, float, float, float, float, float]]:
    """(η_t, w, b, loss, dL/dw, dL/db) for t = 0..steps: the same recurrence as the sheet."""
    xs, ys, _ = standardised(s)
    w, b = s.w0, s.b0
    rows = []
    for t in range(case.steps + 1):
        eta = case.eta / (1 + case.decay * t)
        residual = w * xs + b - ys
        loss = float(np.mean(residual**2))
        dw, db = float(2 * np.mean(residual * xs)), float(2 * np.mean(residual))
        rows.append((eta, w, b, loss, dw, db))
        w, b = (max(-CAP, min(CAP, v)) for v in (w - eta * dw, b - eta * db))
    return rows


def expected(s: Settings) -> dict[str, float]:
    where = cells(s)
    xs, ys, (mx, my, sx, sy) = standardised(s)
    last = int(where["last"])
    out = {where["mean_x"]: mx, where["mean_y"]: my, where["sd_x"]: sx, where["sd_y"]: sy,
           where["best_loss"]: 1 - float(np.mean(xs * ys)) ** 2}
    for i in range(len(xs)):
        out |= {f"C{DATA_HEAD + 1 + i}": xs[i], f"D{DATA_HEAD + 1 + i}": ys[i]}
    assert DATA_HEAD + len(xs) == last
    for k, case in enumerate(s.cases):
        _t, eta, w, b, loss, dw, db = _block_cols(k)
        first = int(where[f"first{k}"])
        rows = descend(s, case)
        for step, values in enumerate(rows):
            for col, v in zip((eta, w, b, loss, dw, db), values, strict=True):
                out[f"{col}{first + step}"] = v
        W = rows[-1][1] * sy / sx
        out |= {where[f"final{k}"]: rows[-1][3], where[f"W{k}"]: W, where[f"b{k}"]: my + sy * rows[-1][2] - W * mx}
    return {k: float(v) for k, v in out.items()}
