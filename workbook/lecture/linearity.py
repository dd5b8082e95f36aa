"""Linearity collapse: two linear layers are one linear layer; a ReLU between them is not.

The lecture's example: out = 2·(5·in1 − 8) − 4 = 10·in1 − 20. The collapsed weight and bias are
multiplied out by formulas, so any weights the student types still collapse; the same network
with ReLU on the hidden neuron has two different slopes, so no single line can be it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbook.address import a1
from workbook.lecture import common as c

KIND = "linearity"
SHEET = "Linearity"
DESCRIPTION = "Two linear layers collapse into one (10·in1 − 20); with ReLU in between they do not"
HEAD = 11
FIRST = HEAD + 1
COLUMNS = ("in1", "h = w1·in1 + b1", "out, linear: w2·h + b2", "out, collapsed: W·in1 + B",
           "linear − collapsed", "ReLU(h)", "out, ReLU: w2·ReLU(h) + b2", "ReLU − collapsed",
           "slope, linear", "slope, ReLU")


@dataclass(frozen=True)
class Settings:
    w1: float = 5.0  # in1 -> h
    b1: float = -8.0
    w2: float = 2.0  # h -> out
    b2: float = -4.0
    inputs: tuple[float, ...] = (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)

    def check(self) -> tuple[str, str] | None:
        if not 2 <= len(self.inputs) <= 200:
            return "inputs", f"give 2 to 200 input values, got {len(self.inputs)}"
        if len(set(self.inputs)) != len(self.inputs):
            return "inputs", "give distinct input values (slopes are measured between neighbours)"
        return None


def cells(s: Settings) -> dict[str, str]:
    last = FIRST + len(s.inputs) - 1
    return {"W": "E5", "B": "E6", "last": str(last), "sum_linear": f"C{last + 3}", "sum_relu": f"C{last + 4}",
            "slope_linear_min": f"E{last + 3}", "slope_linear_max": f"F{last + 3}",
            "slope_relu_min": f"E{last + 4}", "slope_relu_max": f"F{last + 4}"}


def build(wb, s: Settings) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "Linearity collapse", "A linear combination of a linear combination is still a linear "
                                      "combination: out = 2·(5·in1 − 8) − 4 = 10·in1 − 20.")
    where = cells(s)
    c.heading(ws, "A4", "Two-layer network", center=False)
    for r, (text, name, value) in enumerate((("Weight w1: in1→h", "lin_w1", s.w1), ("Bias b1: h", "lin_b1", s.b1),
                                             ("Weight w2: h→out", "lin_w2", s.w2), ("Bias b2: out", "lin_b2", s.b2)),
                                            start=5):
        c.label(ws, f"A{r}", text)
        c.editable(ws, f"B{r}", value, name=name)
    c.heading(ws, "D4", "Collapsed to one layer", center=False)
    c.label(ws, "D5", "W = w2·w1")
    c.computed(ws, where["W"], "=lin_w2*lin_w1", c.EXACT, result=True)
    c.label(ws, "D6", "B = w2·b1 + b2")
    c.computed(ws, where["B"], "=lin_w2*lin_b1+lin_b2", c.EXACT, result=True)
    c.note(ws, "D8", "out = w2·(w1·in1 + b1) + b2 = (w2·w1)·in1 + (w2·b1 + b2) = W·in1 + B")
    for i, text in enumerate(COLUMNS):
        c.heading(ws, a1(HEAD, i + 1), text)
    last = FIRST + len(s.inputs) - 1
    for i, x in enumerate(s.inputs):
        r = FIRST + i
        c.editable(ws, f"A{r}", x)
        c.computed(ws, f"B{r}", f"=lin_w1*A{r}+lin_b1", c.EXACT)
        c.computed(ws, f"C{r}", f"=lin_w2*B{r}+lin_b2", c.EXACT)
        c.computed(ws, f"D{r}", f"=$E$5*A{r}+$E$6", c.EXACT)
        c.computed(ws, f"E{r}", f"=C{r}-D{r}", c.EXACT)
        c.computed(ws, f"F{r}", f"=MAX(0,B{r})", c.EXACT)
        c.computed(ws, f"G{r}", f"=lin_w2*F{r}+lin_b2", c.EXACT)
        c.computed(ws, f"H{r}", f"=G{r}-D{r}", c.EXACT)
        if i:
            p = r - 1
            c.computed(ws, f"I{r}", f'=IF(A{r}=A{p},"",(C{r}-C{p})/(A{r}-A{p}))', c.EXACT)
            c.computed(ws, f"J{r}", f'=IF(A{r}=A{p},"",(G{r}-G{p})/(A{r}-A{p}))', c.EXACT)
    b = last + 2
    c.heading(ws, f"C{b}", "Σ |difference from collapsed|")
    c.heading(ws, f"E{b}", "smallest slope")
    c.heading(ws, f"F{b}", "largest slope")
    c.label(ws, f"A{b + 1}", "Linear network")
    c.computed(ws, where["sum_linear"], _sum_abs(f"E{FIRST}:E{last}"), c.EXACT, result=True)
    c.computed(ws, where["slope_linear_min"], f"=MIN(I{FIRST + 1}:I{last})", c.EXACT)
    c.computed(ws, where["slope_linear_max"], f"=MAX(I{FIRST + 1}:I{last})", c.EXACT)
    c.label(ws, f"A{b + 2}", "ReLU network")
    c.computed(ws, where["sum_relu"], _sum_abs(f"H{FIRST}:H{last}"), c.EXACT, result=True)
    c.computed(ws, where["slope_relu_min"], f"=MIN(J{FIRST + 1}:J{last})", c.EXACT)
    c.computed(ws, where["slope_relu_max"], f"=MAX(J{FIRST + 1}:J{last})", c.EXACT)
    c.wrapped_note(ws, f"A{b + 4}", "A line has one slope. The linear network's slope is W everywhere, whatever "
                                    "weights you type; the ReLU network's slope changes where h crosses 0, so no "
                                    "single layer can replace it.", "J")
    c.scatter_chart(ws, "Linear network = one line; ReLU network bends", ("in1", "out"), 1, (FIRST, last),
                    [(3, "two linear layers", "both"), (4, "collapsed W·in1 + B", "both"), (7, "with ReLU", "both")],
                    f"A{b + 6}", width=16, x_format="General", y_format="General")  # ticks 20, not 20.00
    c.numbers_only(ws, ["B5:B8", f"A{FIRST}:A{last}"], "Change this number: both networks follow.")
    c.widths(ws, A=18, B=14, C=16, D=17, E=15, F=12, G=18, H=15, I=12, J=12)
    c.landscape(ws)
    ws.page_setup.fitToHeight = 1  # one page: a little larger, its chart was cut across two
    c.protect(ws)


def _sum_abs(area: str) -> str:
    """Σ|x| over `area` as SUMIF(positives) − SUMIF(negatives): SUMPRODUCT(ABS(range)) is #VALUE! in Gnumeric."""
    return f'=SUMIF({area},">0")-SUMIF({area},"<0")'


def expected(s: Settings) -> dict[str, float]:
    where = cells(s)
    x = np.array(s.inputs)
    h = s.w1 * x + s.b1
    out_linear = s.w2 * h + s.b2
    W, B = s.w2 * s.w1, s.w2 * s.b1 + s.b2
    collapsed = W * x + B
    out_relu = s.w2 * np.maximum(0.0, h) + s.b2
    slope_lin = np.diff(out_linear) / np.diff(x)
    slope_relu = np.diff(out_relu) / np.diff(x)
    out = {where["W"]: W, where["B"]: B,
           where["sum_linear"]: float(np.abs(out_linear - collapsed).sum()),
           where["sum_relu"]: float(np.abs(out_relu - collapsed).sum()),
           where["slope_linear_min"]: float(slope_lin.min()), where["slope_linear_max"]: float(slope_lin.max()),
           where["slope_relu_min"]: float(slope_relu.min()), where["slope_relu_max"]: float(slope_relu.max())}
    for i in range(len(x)):
        r = FIRST + i
        out |= {f"B{r}": h[i], f"C{r}": out_linear[i], f"D{r}": collapsed[i], f"E{r}": out_linear[i] - collapsed[i],
                f"F{r}": max(0.0, h[i]), f"G{r}": out_relu[i], f"H{r}": out_relu[i] - collapsed[i]}
        if i:
            out |= {f"I{r}": slope_lin[i - 1], f"J{r}": slope_relu[i - 1]}
    return {k: float(v) for k, v in out.items()}
