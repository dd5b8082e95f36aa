"""Neuron: many inputs, one output. Inputs, weights and bias editable; z and f(z) live.

The default reproduces the lecture's worked ReLU value: the inputs and weights give
z = -0.19, and ReLU(-0.19) = max(0, -0.19) = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from openpyxl.worksheet.datavalidation import DataValidation

from workbook.formulas import SIGMOID
from workbook.lecture import common as c
from workbook.model import activate

KIND = "neuron"
SHEET = "Neuron"
DESCRIPTION = "One neuron: weighted sum of the inputs plus a bias, then an activation chosen from a list"
CHOICES = {"ReLU": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "step": "step", "linear": "linear"}
FIRST = 6  # first input row
MAX_INPUTS = 10


@dataclass(frozen=True)
class Settings:
    inputs: tuple[float, ...] = (0.6, 0.2, 0.9)  # x1, x2, ...
    weights: tuple[float, ...] = (0.5, -0.8, 0.1)  # one per input
    bias: float = -0.42
    activation: str = "ReLU"  # one of CHOICES

    def check(self) -> tuple[str, str] | None:
        if not 1 <= len(self.inputs) <= MAX_INPUTS:
            return "inputs", f"give 1 to {MAX_INPUTS} inputs, got {len(self.inputs)}"
        if len(self.weights) != len(self.inputs):
            return "weights", f"give one weight per input ({len(self.inputs)}), got {len(self.weights)}"
        if self.activation not in CHOICES:
            return "activation", f"unknown activation {self.activation!r} (choose from: {', '.join(CHOICES)})"
        return None


def _rows(s: Settings) -> tuple[int, int, int]:
    last = FIRST + len(s.inputs) - 1
    return last, last + 2, last + 3  # last input row, bias row, z row


def cells(s: Settings) -> dict[str, str]:
    """Where the quantities sit (tests and the lecture's contents sheet use these)."""
    _last, bias_row, z_row = _rows(s)
    return {"z": f"D{z_row}", "activation": f"B{z_row + 1}", "output": f"D{z_row + 2}", "bias": f"C{bias_row}",
            **{f"all_{key}": f"D{z_row + 6 + i}" for i, key in enumerate(CHOICES.values())}}


def build(wb, s: Settings) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "A single neuron", "z = w1·x1 + w2·x2 + … + b, then output = f(z). Change the yellow cells.")
    last, bias_row, z_row = _rows(s)
    where = cells(s)
    for col, text in zip("ABCD", ("Input", "Value x", "Weight w", "w · x"), strict=True):
        c.heading(ws, f"{col}{FIRST - 1}", text)
    for i, (x, w) in enumerate(zip(s.inputs, s.weights, strict=True)):
        r = FIRST + i
        c.label(ws, f"A{r}", f"in{i + 1}")
        c.editable(ws, f"B{r}", x, name=f"neuron_x{i + 1}")
        c.editable(ws, f"C{r}", w, name=f"neuron_w{i + 1}")
        c.computed(ws, f"D{r}", f"=B{r}*C{r}", c.EXACT)
    c.label(ws, f"A{bias_row}", "Bias b")
    c.editable(ws, where["bias"], s.bias, name="neuron_b")
    c.label(ws, f"A{z_row}", "Weighted sum z")
    c.computed(ws, where["z"], f"=SUMPRODUCT(B{FIRST}:B{last},C{FIRST}:C{last})+neuron_b", c.EXACT, result=True)
    c.note(ws, f"E{z_row}", "z = Σ w·x + b")
    c.label(ws, f"A{z_row + 1}", "Activation f")
    c.editable(ws, where["activation"], s.activation, name="neuron_activation")
    dv = DataValidation(type="list", formula1=f'"{",".join(CHOICES)}"', allow_blank=False, showErrorMessage=True,
                        errorTitle="Pick from the list", error="Choose ReLU, sigmoid, tanh, step or linear",
                        showInputMessage=True, promptTitle="Activation", prompt="Pick the activation from the list")
    dv.add(where["activation"])
    ws.data_validations.append(dv)
    c.label(ws, f"A{z_row + 2}", "Output f(z)")
    z = where["z"]
    act = where["activation"]
    c.computed(ws, where["output"], f'=IF({act}="ReLU",MAX(0,{z}),IF({act}="sigmoid",{SIGMOID.format(z=z)},'
                                    f'IF({act}="tanh",TANH({z}),IF({act}="step",IF({z}>=0,1,0),'
                                    f'IF({act}="linear",{z},NA())))))', c.EXACT, result=True)
    c.heading(ws, f"A{z_row + 5}", "Every activation at this z", center=False)
    formulas = {"relu": f"=MAX(0,{z})", "sigmoid": "=" + SIGMOID.format(z=z), "tanh": f"=TANH({z})",
                "step": f"=IF({z}>=0,1,0)", "linear": f"={z}"}
    for i, (shown, key) in enumerate(CHOICES.items()):
        r = z_row + 6 + i
        c.label(ws, f"A{r}", shown)
        c.note(ws, f"B{r}", {"relu": "max(0, z)", "sigmoid": "1 / (1 + e^(−z))", "tanh": "tanh(z)",
                             "step": "1 if z ≥ 0, else 0", "linear": "z"}[key])
        c.computed(ws, where[f"all_{key}"], formulas[key], c.EXACT)
    c.note(ws, f"A{z_row + 12}", "The lecture's example: f(−0.19) = max(0, −0.19) = 0. A negative weighted sum "
                                 "switches a ReLU neuron off.")
    c.numbers_only(ws, [f"B{FIRST}:C{last}", where["bias"]], "Change this number and watch z and f(z).")
    c.widths(ws, A=18, B=16, C=12, D=16, E=16)
    c.landscape(ws)
    c.protect(ws)


def expected(s: Settings) -> dict[str, float]:
    where = cells(s)
    z = float(np.dot(s.inputs, s.weights) + s.bias)
    out = {where["z"]: z, where["output"]: float(activate(CHOICES[s.activation], np.array(z)))}
    for key in CHOICES.values():
        out[where[f"all_{key}"]] = float(activate(key, np.array(z)))
    for i, (x, w) in enumerate(zip(s.inputs, s.weights, strict=True)):
        out[f"D{FIRST + i}"] = x * w
    return out
