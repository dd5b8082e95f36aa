"""Layout -> the readable formulas a student sees.

Formulas use the defined names of the weights (``=w_in1_h1*A12+w_in2_h1*B12+b_h1``) and only
functions that Excel, LibreOffice and Google Sheets compute identically. The NumPy model in
`workbook.model` is the same math in the same order; tests prove they agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from workbook.layout import Layout

DEFAULT_IMPROVEMENT_FORMAT = "0.00%"

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


def summary_formulas(layout: Layout, metric: str, rubric=None,
                     improvement_format: str = DEFAULT_IMPROVEMENT_FORMAT, *,
                     average: float | None = None) -> dict[str, str]:
    """The metric, Improvement and (with a workbook.spec.Rubric, not imported: spec asks
    workbook.manual_sheet, which uses this module, for descriptions) Points cells.

    A rubric with measure = "references" scores the share of the way from `average` (the metric of
    predicting the mean target) to its best_metric, so the Points cell does too.
    """
    mean = f"AVERAGE({layout.column(layout.error_col)})"
    current = f"=SQRT({mean})" if metric == "rmse" else f"={mean}"
    b, c = layout.baseline_name, layout.metric_name
    gain = f"({b}-{c})/{b}"
    out = {layout.metric_cell: current, layout.improvement_cell: shown_improvement(gain, improvement_format)}
    if rubric is not None:
        progress = gain
        if rubric.measure == "references" and rubric.best_metric is not None and average is not None:
            progress = f"({_number(average)}-{c})/({_number(average)}-{_number(rubric.best_metric)})"
        out[layout.points_cell] = points_formula(rubric, progress, c)
    return out


def improvement_digits(number_format: str) -> int:
    """Decimal places of a value that `number_format` shows: '0.00%' -> 4, '0.0' -> 1, '0%' -> 2."""
    decimals = number_format.split(";")[0].partition(".")[2]
    shown = len(decimals) - len(decimals.lstrip("0#"))
    return shown + (2 if "%" in number_format else 0)


def shown_improvement(gain: str, number_format: str) -> str:
    """Improvement cut (not rounded) to the digits its format shows.

    Rounded, 98.996 % reads "99.00 %" beside a rubric that gives 10 points only from 99 %, while the
    grader (rightly) gives 8: truncated it reads "98.99 %", which is never a tier the grade does not
    reach. The Points cell uses the exact value, as the grader does.
    """
    return f"=TRUNC({gain},{improvement_digits(number_format)})"


def _number(x: float) -> str:
    return repr(float(x)).upper().removesuffix(".0")


def points_formula(rubric, gain: str, metric: str) -> str:
    """The rubric as a live formula over the exact improvement `gain` (a quotient such as '(b-c)/b') and the
    `metric` cell.

    The same rule as `Rubric.points`: linear credit rounded to 2 decimals, or the most points of any
    tier whose conditions all hold (0 if none); an error (a baseline of 0) gives 0.
    """
    if rubric.partial_credit == "linear":
        body = (f"ROUND({_number(rubric.max_points)}*MIN(MAX({gain}/{_number(rubric.full_improvement)},0),1),"
                "2)")
    else:
        body = "0"
        for tier in sorted(rubric.tiers, key=lambda t: t.points):  # built inside out: the most points tested first
            conditions = []
            if tier.min_improvement is not None:
                conditions.append(f"{gain}>={_number(tier.min_improvement)}")
            if tier.min_metric is not None:
                conditions.append(f"{metric}>={_number(tier.min_metric)}")
            if tier.max_metric is not None:
                conditions.append(f"{metric}<={_number(tier.max_metric)}")
            test = conditions[0] if len(conditions) == 1 else f"AND({','.join(conditions)})"
            body = f"IF({test},{_number(tier.points)},{body})" if conditions else _number(tier.points)
    return f"=IFERROR({body},0)"
