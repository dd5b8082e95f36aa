"""Prediction error: the lecture's table of true and predicted prices, with SE, MSE, RMSE and MAE.

The slide prints 600,000 EUR for the fourth prediction, but its difference (−90,000) and every
total (MSE 1,745,833,333, RMSE 41,783) need 660,000; the sheet uses 660,000 and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbook.lecture import common as c

KIND = "prediction-error"
SHEET = "Prediction Error"
DESCRIPTION = "The lecture's table of true and predicted prices: difference, absolute and squared error, MSE, RMSE"
FIRST = 5
MONEY = "#,##0"


@dataclass(frozen=True)
class Settings:
    true: tuple[float, ...] = (200000.0, 350000.0, 100000.0, 750000.0, 175000.0, 140000.0)
    predicted: tuple[float, ...] = (190000.0, 390000.0, 105000.0, 660000.0, 150000.0, 145000.0)
    unit: str = "EUR"

    def check(self) -> tuple[str, str] | None:
        if not 1 <= len(self.true) <= 1000:
            return "true", f"give 1 to 1000 values, got {len(self.true)}"
        if len(self.predicted) != len(self.true):
            return "predicted", f"give one prediction per true value ({len(self.true)}), got {len(self.predicted)}"
        return None


def cells(s: Settings) -> dict[str, str]:
    last = FIRST + len(s.true) - 1
    return {"last": str(last), "mse": f"B{last + 3}", "rmse": f"C{last + 3}", "mae": f"D{last + 3}"}


def build(wb, s: Settings) -> None:
    ws = wb.create_sheet(SHEET)
    c.title(ws, "Prediction error", "How far is each prediction from the truth, and how do we sum that up in "
                                    "one number?")
    where = cells(s)
    last = int(where["last"])
    heads = ("House", f"True House Price ({s.unit})", f"Predicted House Price ({s.unit})",
             "Diff / Error (predicted − true)", "Absolute Error", "Squared Error")
    for col, text in zip("ABCDEF", heads, strict=True):
        c.heading(ws, f"{col}{FIRST - 1}", text)
    for i, (t, p) in enumerate(zip(s.true, s.predicted, strict=True)):
        r = FIRST + i
        c.label(ws, f"A{r}", f"{i + 1}")
        c.given(ws, f"B{r}", t, MONEY)
        c.editable(ws, f"C{r}", p, fmt=MONEY)
        c.computed(ws, f"D{r}", f"=C{r}-B{r}", MONEY)
        c.computed(ws, f"E{r}", f"=ABS(D{r})", MONEY)
        c.computed(ws, f"F{r}", f"=D{r}^2", MONEY)
    c.define(ws, "pe_predicted", f"C{FIRST}:C{last}")
    for col, text in zip("BCD", ("Mean Squared Error", "Root Mean Squared Error", "Mean Absolute Error"), strict=True):
        c.heading(ws, f"{col}{last + 2}", text)
    c.computed(ws, where["mse"], f"=AVERAGE(F{FIRST}:F{last})", MONEY, result=True)
    c.computed(ws, where["rmse"], f"=SQRT({where['mse']})", MONEY, result=True)
    c.computed(ws, where["mae"], f"=AVERAGE(E{FIRST}:E{last})", MONEY, result=True)
    notes = [
        "The difference can be positive or negative: square it (SE) or take its absolute value (AE) so errors "
        "cannot cancel out.",
        "Average over all houses (MSE, MAE) to measure the whole data set; the square root (RMSE) brings the "
        f"error back to {s.unit}.",
    ]
    if s.true == Settings.true and s.predicted == Settings.predicted:
        notes.append("Note: the lecture's slide prints 600,000 EUR as the fourth prediction, but its difference "
                     "(−90,000) and every total (MSE 1,745,833,333, RMSE 41,783) come from 660,000, which is used "
                     "here.")
    for i, text in enumerate(notes):
        c.wrapped_note(ws, f"A{last + 5 + i}", text, "F")
    c.numbers_only(ws, [f"C{FIRST}:C{last}"], "Change a prediction: the errors follow.")
    c.widths(ws, A=8, B=20, C=24, D=24, E=16, F=20)
    c.landscape(ws)
    c.protect(ws)


def expected(s: Settings) -> dict[str, float]:
    where = cells(s)
    t, p = np.array(s.true), np.array(s.predicted)
    d = p - t
    out = {where["mse"]: float(np.mean(d**2)), where["rmse"]: float(np.sqrt(np.mean(d**2))),
           where["mae"]: float(np.mean(np.abs(d)))}
    for i in range(len(t)):
        r = FIRST + i
        out |= {f"D{r}": float(d[i]), f"E{r}": float(abs(d[i])), f"F{r}": float(d[i] ** 2)}
    return out
