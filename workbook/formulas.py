"""Layout -> the readable formulas a student sees.

Formulas use the defined names of the weights (``=w_in1_h1*A12+w_in2_h1*B12+b_h1``) and only
functions that Excel, LibreOffice and Google Sheets compute identically. The NumPy model in
`workbook.model` is the same math in the same order; tests prove they agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from workbook.layout import Layout

SIGMOID = "IF({z}>=0,1/(1+EXP(-{z})),EXP({z})/(1+EXP({z})))"
"""Never EXP of a positive number: EXP past 709 is #NUM! in Excel and LibreOffice, and a student may type
a weight of -1000. `workbook.model.activate` computes the same two branches."""

ACTIVATION_FORMULAS = {
    "relu": "MAX(0,{z})",
    "sigmoid": SIGMOID,
    "tanh": "TANH({z})",  # bounded in every engine (TANH(1000) = 1), no overflow
    "step": "IF({z}>=0,1,0)",
    "linear": "{z}",
}


def activation_formula(activation: str, z_ref: str) -> str:
    return "=" + ACTIVATION_FORMULAS[activation].format(z=z_ref)


def weighted_sum(layout: Layout, label: str, row: int | str) -> str:
    """'=w_in1_h1*A12+w_in2_h1*B12+b_h1' for neuron `label` at `row`."""
    neuron = next(n for n in layout.network.neurons if n.label == label)
    terms = [f"{neuron.weight_name(src)}*{_source_col(layout, src)}{row}" for src in neuron.sources]
    return "=" + "+".join([*terms, neuron.bias_name])


def _source_col(layout: Layout, source: str) -> str:
    if source.startswith("in"):
        return layout.input_cols[int(source[2:]) - 1]
    return layout.neurons[source].a_col


def row_templates(layout: Layout, metric: str) -> list[tuple[str, str]]:
    """(column, formula with '{r}' for the row) for every computed cell of a data row, left to right.

    Built once per sheet and filled in per row: a 100,000-row sheet must not rebuild each formula.
    """
    marker = "\x00"  # a row number no formula contains, swapped for '{r}' below
    out = []
    for n in layout.neurons.values():
        if n.has_z_column:
            out.append((n.z_col, weighted_sum(layout, n.label, marker)))
            out.append((n.a_col, activation_formula(n.activation, f"{n.z_col}{marker}")))
        else:  # linear output: the prediction is the weighted sum itself
            out.append((n.a_col, weighted_sum(layout, n.label, marker)))
    diff = f"{layout.pred_col}{marker}-{layout.target_col}{marker}"
    out.append((layout.error_col, f"=ABS({diff})" if metric == "mae" else f"=({diff})^2"))
    return [(col, f.replace("{", "{{").replace("}", "}}").replace(marker, "{r}")) for col, f in out]


def row_formulas(layout: Layout, row: int, metric: str) -> Iterator[tuple[str, str]]:
    """(column, formula) for every computed cell of one data row, left to right."""
    for col, template in row_templates(layout, metric):
        yield col, template.format(r=row)


def summary_formulas(layout: Layout, metric: str) -> dict[str, str]:
    """The metric and Improvement cells."""
    mean = f"AVERAGE({layout.column(layout.error_col)})"
    current = f"=SQRT({mean})" if metric == "rmse" else f"={mean}"
    b, c = layout.baseline_name, layout.metric_name
    return {layout.metric_cell: current, layout.improvement_cell: f"=({b}-{c})/{b}"}
