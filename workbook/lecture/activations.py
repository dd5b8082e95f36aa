"""Activation functions: ReLU, sigmoid, tanh and step tabulated over a range the student sets.

The lecture's worked values sit at the top, live: ReLU f(-0.19) = 0 and sigmoid f(0) = 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbook.formulas import SIGMOID
from workbook.lecture import common as c
from workbook.model import activate

KIND = "activations"
SHEET = "Activations"
DESCRIPTION = "ReLU, sigmoid, tanh and step as tables and charts over a range the student chooses"
FUNCTIONS = ("relu", "sigmoid", "tanh", "step")
TITLES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "step": "step"}
TABLE_HEAD = 11  # heading row of the table
FIRST = TABLE_HEAD + 1


@dataclass(frozen=True)
class Settings:
    start: float = -5.0  # first z in the table
    step: float = 0.5  # distance between rows
    points: int = 21  # rows in the table
    relu_example: float = -0.19  # the lecture: f(-0.19) = 0
    sigmoid_example: float = 0.0  # the lecture: f(0) = 0.5

    def check(self) -> tuple[str, str] | None:
        if not 2 <= self.points <= 1000:
            return "points", f"give 2 to 1000 points, got {self.points}"
        if self.step <= 0:
            return "step", f"must be positive, got {self.step:g}"
        return None


def cells(s: Settings) -> dict[str, str]:
    return {"relu_example": "B5", "relu_value": "D5", "sigmoid_example": "B6", "sigmoid_value": "D6",
            "start": "B8", "step": "B9", "last": f"{FIRST + s.points - 1}"}


def build(wb, s: Settings) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "Activation functions", "They bend the straight lines: without them a network of any depth is "
                                        "one linear function.")
    c.heading(ws, "A4", "Worked example", center=False)
    c.heading(ws, "B4", "z")
    c.heading(ws, "D4", "f(z)")
    c.label(ws, "A5", "ReLU")
    c.editable(ws, "B5", s.relu_example, name="act_relu_z")
    c.note(ws, "C5", "max(0, z) =")
    c.computed(ws, "D5", "=MAX(0,B5)", c.EXACT, result=True)
    c.label(ws, "A6", "sigmoid")
    c.editable(ws, "B6", s.sigmoid_example, name="act_sigmoid_z")
    c.note(ws, "C6", "1 / (1 + e^(−z)) =")
    c.computed(ws, "D6", "=" + SIGMOID.format(z="B6"), c.EXACT, result=True)
    c.label(ws, "A8", "Table starts at z =")
    c.editable(ws, "B8", s.start, name="act_start")
    c.label(ws, "A9", "Step between rows")
    c.editable(ws, "B9", s.step, name="act_step")
    for col, text in zip("ABCDE", ("z", "ReLU", "sigmoid", "tanh", "step"), strict=True):
        c.heading(ws, f"{col}{TABLE_HEAD}", text)
    formulas = {"relu": "=MAX(0,A{r})", "sigmoid": "=" + SIGMOID.format(z="A{r}"), "tanh": "=TANH(A{r})",
                "step": "=IF(A{r}>=0,1,0)"}
    for i in range(s.points):
        r = FIRST + i
        c.computed(ws, f"A{r}", f"=act_start+{i}*act_step", "0.00")
        for col, key in zip("BCDE", FUNCTIONS, strict=True):
            c.computed(ws, f"{col}{r}", formulas[key].format(r=r), "0.000")
    last = FIRST + s.points - 1
    ticks = {"x_format": "General", "y_format": "General"}  # -4, 0.5: not the table's -4.00 and 0.500
    c.scatter_chart(ws, "ReLU", ("z", "f(z)"), 1, (FIRST, last), [(2, "ReLU", "line")], "G4", **ticks)
    c.scatter_chart(ws, "sigmoid, tanh and step", ("z", "f(z)"), 1, (FIRST, last),
                    [(3, "sigmoid", "line"), (4, "tanh", "line"), (5, "step", "line")], "G22", **ticks)
    ws.merge_cells(f"A{last + 2}:E{last + 2}")  # wrapped under the table, clear of the charts
    c.note(ws, f"A{last + 2}", "step(z) is 1 when z ≥ 0, as in the perceptron; its slope is 0 everywhere, so "
                              "gradient descent cannot learn through it.")
    ws[f"A{last + 2}"].alignment = c.styles.WRAP
    c.numbers_only(ws, ["B5:B6", "B8:B9"], "Change this number: the table and the charts follow.")
    c.widths(ws, A=20, B=11, C=17, D=15, E=9)
    c.landscape(ws)
    c.protect(ws)


def expected(s: Settings) -> dict[str, float]:
    out = {"D5": float(activate("relu", np.array(s.relu_example))),
           "D6": float(activate("sigmoid", np.array(s.sigmoid_example)))}
    for i in range(s.points):
        r = FIRST + i
        z = s.start + i * s.step
        out[f"A{r}"] = z
        for col, key in zip("BCDE", FUNCTIONS, strict=True):
            out[f"{col}{r}"] = float(activate(key, np.array(z)))
    return out
