"""[descent]: gradient descent of the whole network, unrolled, starting from the student's own weights.

The lecture's "automatized machine learning": start with some w&b and step downhill, against the
gradient, again and again. The sheet "Descent" does that live from the weights the student typed
on the main sheet (row t = 0 refers to their cells), so a student sees where their own network
would go, and how η decides whether it creeps, converges or overshoots.

Layout, top to bottom (one block of rows per step keeps every formula short and the count at
(steps + 1) × (rows × columns + 2 × parameters + 2), checked by `workbook.spec.read_descent`):

    settings (η, decay, steps) and results (start, after T steps, lowest)
    the steps table: t | η_t | metric | every weight θ_t | every gradient ∂metric/∂θ at θ_t
    a chart of the metric per step
    one block per step: the forward pass (z and a of every neuron), the error, ∂metric/∂ŷ and every δ

θ_{t+1} = θ_t − η_t · ∂metric/∂θ(θ_t) with η_t = η / (1 + decay · t); `workbook.model.descend` is the
same recurrence in NumPy. The sheet is computed and locked: nothing on it is the student's to edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.chart import LineChart, Reference

from workbook import styles
from workbook.address import a1, col_index, col_letter, col_of, dollar, qualified, span
from workbook.formulas import activation_formula
from workbook.gradient_sheet import GRADIENT_FORMAT, metric_abbr
from workbook.layout import Layout, activation_heading
from workbook.network import ACTIVATION_TITLES
from workbook.sheet_grid import Grid

SHEET = "Descent"
DESCRIPTION = "gradient descent of the whole network, step by step, from the weights you typed"
SETTINGS_ROW = 4
RESULTS_ROW = 5
TABLE_HEAD = 7
CHART_ROWS = 18
NUMBER = "General"  # η and decay, as the template gives them
ETA_FORMAT = GRADIENT_FORMAT  # η_t = η / (1 + decay·t): 3.00E-04, 2.31E-04, ... (General printed 0.00023076923)
WEIGHT_FORMAT = "0.000E+00"  # four significant digits: the creep of a weight shows (General printed
# 5.07801011753 and 5.14391E-05 side by side), and no weight, however far a run diverges, prints as ###


@dataclass(frozen=True)
class DescentCells:
    """Every address of the descent sheet, derived from the layout and the step count."""

    layout: Layout
    steps: int
    eta: str  # η
    decay: str
    start: str  # the metric at the student's weights (t = 0)
    final: str  # after T steps
    lowest: str  # the lowest over all steps
    t_col: str
    eta_col: str
    loss_col: str
    weight_cols: dict[str, str]  # parameter -> its column in the steps table
    grad_cols: dict[str, str]

    def table_row(self, t: int) -> int:
        return TABLE_HEAD + 1 + t

    @property
    def first_block(self) -> int:
        return self.table_row(self.steps) + 2 + CHART_ROWS + 1

    @property
    def block_height(self) -> int:
        return self.layout.n_rows + 3  # heading, column titles, data rows, a blank row

    def block_first_row(self, t: int) -> int:
        """The first data row of step t's block."""
        return self.first_block + t * self.block_height + 2

    @property
    def block_cols(self) -> dict[str, str]:
        """Column of each per-row quantity in a block: z_h1, a_h1, ..., pred, error, dpred, d_out, ..."""
        net = self.layout.network
        names = []
        for n in net.neurons:
            if n.label != "out" or n.activation != "linear":
                names.append(f"z_{n.label}")
            names.append(f"a_{n.label}")
        names += ["error", "dpred"]
        names += [f"d_{n.label}" for layer in reversed(net.layers) for n in layer]
        return {name: col_letter(1 + i) for i, name in enumerate(names)}


def cells(layout: Layout, steps: int) -> DescentCells:
    params = layout.network.parameter_names()
    weight_cols = {p: col_letter(4 + i) for i, p in enumerate(params)}
    grad_cols = {p: col_letter(4 + len(params) + i) for i, p in enumerate(params)}
    return DescentCells(layout=layout, steps=steps, eta=a1(SETTINGS_ROW, "B"), decay=a1(SETTINGS_ROW, "D"),
                        start=a1(RESULTS_ROW, "B"), final=a1(RESULTS_ROW, "D"), lowest=a1(RESULTS_ROW, "F"),
                        t_col="A", eta_col="B", loss_col="C", weight_cols=weight_cols, grad_cols=grad_cols)


def _source_ref(c: DescentCells, source: str, row: int, data_row: int) -> str:
    """Where a neuron's input comes from: the main sheet's input column, or this block's activation."""
    if source.startswith("in"):
        col = c.layout.input_cols[int(source[2:]) - 1]
        return qualified(c.layout.sheet, a1(data_row, col))
    return a1(row, c.block_cols[f'a_{source}'])


def block_formulas(c: DescentCells, t: int, i: int, metric: str) -> dict[str, str]:
    """Column -> formula for data row i (0-based) of step t's block: forward pass, then backpropagation."""
    lay, net, cols = c.layout, c.layout.network, c.block_cols
    row, data_row, trow = c.block_first_row(t) + i, lay.first_row + i, c.table_row(t)
    out = {}
    for n in net.neurons:
        terms = [f"{a1(trow, c.weight_cols[n.weight_name(s)])}*{_source_ref(c, s, row, data_row)}" for s in n.sources]
        total = "=" + "+".join([*terms, a1(trow, c.weight_cols[n.bias_name])])
        if n.label == "out" and n.activation == "linear":
            out[cols["a_out"]] = total
        else:
            out[cols[f"z_{n.label}"]] = total
            out[cols[f"a_{n.label}"]] = activation_formula(n.activation, a1(row, cols[f'z_{n.label}']))
    diff = f"{a1(row, cols['a_out'])}-{qualified(lay.sheet, a1(data_row, lay.target_col))}"
    out[cols["error"]] = f"=ABS({diff})" if metric == "mae" else f"=({diff})^2"
    n_rows = lay.n_rows
    loss = a1(trow, c.loss_col)
    out[cols["dpred"]] = {"mse": f"=2*({diff})/{n_rows}", "mae": f"=SIGN({diff})/{n_rows}",
                          "rmse": f"=IF({loss}=0,0,({diff})/({n_rows}*{loss}))"}[metric]
    layers = net.layers
    for n in [n for layer in reversed(layers) for n in layer]:
        if n.label == "out":
            up = a1(row, cols['dpred'])
        else:
            up = "+".join(f"{a1(trow, c.weight_cols[k.weight_name(n.label)])}*{a1(row, cols[f'd_{k.label}'])}"
                          for k in layers[n.layer])
        a = a1(row, cols[f'a_{n.label}'])
        out[cols[f"d_{n.label}"]] = {
            "linear": f"={up}", "relu": f"=IF({a1(row, cols.get(f'z_{n.label}', ''))}>0,{up},0)",
            "sigmoid": f"={a}*(1-{a})*({up})", "tanh": f"=(1-{a}*{a})*({up})", "step": "=0",
        }[n.activation]
    return out


def step_formulas(c: DescentCells, t: int, metric: str) -> dict[str, str]:
    """Cell -> formula for step t's row of the steps table: η_t, the metric, θ_t and the gradient."""
    lay, net, cols = c.layout, c.layout.network, c.block_cols
    trow = c.table_row(t)
    first, last = c.block_first_row(t), c.block_first_row(t) + lay.n_rows - 1
    errors = span(a1(first, cols["error"]), a1(last, cols["error"]))
    out = {a1(trow, c.eta_col): f"={dollar(c.eta)}/(1+{dollar(c.decay)}*{a1(trow, c.t_col)})",
           a1(trow, c.loss_col): f"=SQRT(AVERAGE({errors}))" if metric == "rmse" else f"=AVERAGE({errors})"}
    for n in net.neurons:
        d = cols[f"d_{n.label}"]
        deltas = span(a1(first, d), a1(last, d))
        for s in n.sources:
            if s.startswith("in"):
                col = lay.input_cols[int(s[2:]) - 1]
                src = qualified(lay.sheet, span(a1(lay.first_row, col), a1(lay.last_row, col)))
            else:
                a = cols[f"a_{s}"]
                src = span(a1(first, a), a1(last, a))
            out[a1(trow, c.grad_cols[n.weight_name(s)])] = f"=SUMPRODUCT({deltas},{src})"
        out[a1(trow, c.grad_cols[n.bias_name])] = f"=SUM({deltas})"
    for p, col in c.weight_cols.items():
        if t == 0:
            out[a1(trow, col)] = f"={p}"  # the student's own weight, live
        else:
            prev = trow - 1
            out[a1(trow, col)] = f"={a1(prev, col)}-{a1(prev, c.eta_col)}*{a1(prev, c.grad_cols[p])}"
    return out


def write_sheet(wb, assignment, layout: Layout) -> None:
    """The Descent sheet for an assignment with [descent]."""
    descent = assignment.descent
    metric = assignment.metric
    abbr = metric_abbr(metric)
    c = cells(layout, descent.steps)
    ws = wb.create_sheet(SHEET)
    grid = Grid(ws)
    fmt = assignment.display.number_format
    head = {"font": styles.HEADING_FONT}
    grid.put("A1", "Gradient descent from your weights", font=styles.TITLE_FONT)
    grid.put("A2", f"Row t = 0 holds the weights you typed on '{layout.sheet}'. Each step moves every weight "
                    f"against its gradient: θ ← θ − η_t · ∂{abbr}/∂θ, with η_t = η / (1 + decay · t). Change a "
                    "weight there and the whole run is recomputed.", font=styles.INFO_FONT)
    grid.put("A3", "The lecture's automatized machine learning on your own network: too small an η creeps, "
                    "too large an η overshoots and diverges.", font=styles.INFO_FONT)
    grid.put(a1(SETTINGS_ROW, "A"), "η (learning rate)", **head)
    grid.put(c.eta, descent.eta, fill=styles.GIVEN_FILL, fmt=NUMBER)
    grid.put(a1(SETTINGS_ROW, "C"), "decay", **head, align=styles.CLEAR_LEFT)
    grid.put(c.decay, descent.decay, fill=styles.GIVEN_FILL, fmt=NUMBER)
    grid.put(a1(SETTINGS_ROW, "E"), "steps", **head, align=styles.CLEAR_LEFT)
    grid.put(a1(SETTINGS_ROW, "F"), descent.steps, fill=styles.GIVEN_FILL)
    loss_range = span(a1(c.table_row(0), c.loss_col), a1(c.table_row(descent.steps), c.loss_col))
    grid.put(a1(RESULTS_ROW, "A"), f"{abbr} at your weights", **head)
    grid.formula(c.start, f"={a1(c.table_row(0), c.loss_col)}", fill=styles.RESULT_FILL, fmt=fmt)
    grid.put(a1(RESULTS_ROW, "C"), f"after {descent.steps} steps", **head, align=styles.CLEAR_LEFT)
    grid.formula(c.final, f"={a1(c.table_row(descent.steps), c.loss_col)}", fill=styles.RESULT_FILL, fmt=fmt)
    grid.put(a1(RESULTS_ROW, "E"), "lowest", **head, align=styles.CLEAR_LEFT)
    grid.formula(c.lowest, f"=MIN({loss_range})", fill=styles.RESULT_FILL, fmt=fmt)

    grid.put(a1(TABLE_HEAD, c.t_col), "step t", **head, align=styles.CENTER)
    grid.put(a1(TABLE_HEAD, c.eta_col), "η_t", **head, align=styles.CENTER)
    grid.put(a1(TABLE_HEAD, c.loss_col), abbr, **head, align=styles.CENTER)
    for p, col in c.weight_cols.items():
        grid.put(a1(TABLE_HEAD, col), p, **head, align=styles.CENTER)
    for p, col in c.grad_cols.items():  # the gradient's name over two rows keeps the columns narrow
        grid.put(a1(TABLE_HEAD - 1, col), f"∂{abbr}/∂", **head, align=styles.CENTER)
        grid.put(a1(TABLE_HEAD, col), p, **head, align=styles.CENTER)
    table_formats = {c.eta_col: ETA_FORMAT, c.loss_col: fmt} | {col: WEIGHT_FORMAT for col in c.weight_cols.values()}
    for t in range(descent.steps + 1):
        grid.put(a1(c.table_row(t), c.t_col), t, fill=styles.GIVEN_FILL)
        for ref, formula in step_formulas(c, t, metric).items():
            col = col_of(ref)
            grid.formula(ref, formula, fill=styles.RESULT_FILL if col == c.loss_col else styles.COMPUTED_FILL,
                     fmt=table_formats.get(col, GRADIENT_FORMAT))

    titles = _block_titles(layout, abbr, assignment)
    block_formats = _block_formats(c, layout, fmt)
    for t in range(descent.steps + 1):
        top = c.block_first_row(t) - 2
        grid.put(a1(top, "A"), f"Step t = {t}: the forward pass and backpropagation at the weights of row "
                             f"{c.table_row(t)}", font=styles.LAYER_FONT)
        for name, col in c.block_cols.items():
            grid.put(a1(top + 1, col), titles[name], **head, align=styles.CENTER)
        for i in range(layout.n_rows):
            for ref_col, formula in block_formulas(c, t, i, metric).items():
                grid.formula(a1(c.block_first_row(t) + i, ref_col), formula, fill=styles.COMPUTED_FILL,
                             fmt=block_formats[ref_col])

    # A also holds the settings' labels, C (the loss) "after N steps" in bold, one character in
    widths = {c.t_col: 22, c.eta_col: 12, c.loss_col: max(12.0, 1.12 * len(f"after {descent.steps} steps") + 3)}
    for p in c.weight_cols:
        for col in (c.weight_cols[p], c.grad_cols[p]):
            widths.setdefault(col, max(12, len(p) + 2))
    for name, col in c.block_cols.items():
        widths[col] = max(widths.get(col, 0), 12, len(titles[name]) + 2)
    for col, width in widths.items():
        ws.column_dimensions[col].width = max(width, ws.column_dimensions[col].width or 0)
    # one page wide a network's weights and gradients side by side printed at 34 %: the gradients on their own page
    plan = styles.plan_pages(styles.sheet_widths(ws)[0], paper=assignment.display.paper, landscape=True,
                             starts=((col_index(min(c.grad_cols.values(), key=col_index)),),), keep=18 * 72 / 2.54)
    styles.apply_print_plan(ws, plan, landscape=True, paper=assignment.display.paper)
    grid.emit()
    _chart(ws, c, abbr, assignment)
    ws.protection.sheet = True


def _block_formats(c: DescentCells, layout: Layout, fmt: str) -> dict[str, str]:
    """Column -> number format in a step's block, as the main sheet shows the same quantities: z, a, ŷ and the
    error in the template's format (a bounded activation in 0.000), δ and ∂/∂ŷ as gradients."""
    out = {}
    for name, col in c.block_cols.items():
        if name.startswith("d_") or name == "dpred":
            out[col] = GRADIENT_FORMAT
        elif name.startswith("a_"):
            neuron = next(n for n in layout.network.neurons if n.label == name[2:])
            out[col] = styles.BOUNDED_FORMATS.get(neuron.activation, fmt)
        else:
            out[col] = fmt
    return out


def _block_titles(layout: Layout, abbr: str, assignment) -> dict[str, str]:
    titles = {}
    for n in layout.network.neurons:
        if n.label == "out":
            titles["z_out"] = "out"
            titles["a_out"] = "ŷ (prediction)"
        else:
            titles[f"z_{n.label}"] = n.label
            titles[f"a_{n.label}"] = activation_heading(n.activation, n.label)
        titles[f"d_{n.label}"] = f"δ {n.label} ({ACTIVATION_TITLES[n.activation]})"
    titles["error"] = assignment.label("error")
    titles["dpred"] = f"∂{abbr}/∂ŷ"
    return titles


def _chart(ws, c: DescentCells, abbr: str, assignment) -> None:
    """The metric per step: the curve the lecture draws for each η."""
    chart = LineChart()
    chart.title = f"{abbr} per step (η = {assignment.descent.eta:g}, decay = {assignment.descent.decay:g})"
    chart.y_axis.title = abbr
    chart.x_axis.title = "step t"
    first, last = c.table_row(0), c.table_row(c.steps)
    chart.add_data(Reference(ws, min_col=3, min_row=TABLE_HEAD, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, a1(last + 2, "A"))


def expected(assignment, layout: Layout, weights=None) -> dict[tuple[str, str], float]:
    """(sheet, cell) -> what every formula of the descent sheet computes, by NumPy (`workbook.model.descend`)."""
    from workbook import model

    d = assignment.descent
    weights = assignment.weights if weights is None else weights
    X, y, net, metric = assignment.data.X, assignment.data.y, layout.network, assignment.metric
    c = cells(layout, d.steps)
    run = model.descend(net, weights, X, y, metric, steps=d.steps, eta=d.eta, decay=d.decay)
    out: dict[tuple[str, str], float] = {}
    for step in run:
        trow = c.table_row(step.t)
        out[(SHEET, a1(trow, c.eta_col))] = step.eta
        out[(SHEET, a1(trow, c.loss_col))] = step.loss
        for p in c.weight_cols:
            out[(SHEET, a1(trow, c.weight_cols[p]))] = step.weights[p]
            out[(SHEET, a1(trow, c.grad_cols[p]))] = step.gradient[p]
        back = model.backprop(net, step.weights, X, y, metric)
        errors = model.row_errors(metric, y, back.forward.prediction)
        cols = c.block_cols
        for i in range(layout.n_rows):
            row = c.block_first_row(step.t) + i
            for n in net.neurons:
                if f"z_{n.label}" in cols:
                    out[(SHEET, a1(row, cols[f'z_{n.label}']))] = float(back.forward.z[n.label][i])
                out[(SHEET, a1(row, cols[f'a_{n.label}']))] = float(back.forward.a[n.label][i])
                out[(SHEET, a1(row, cols[f'd_{n.label}']))] = float(back.delta[n.label][i])
            out[(SHEET, a1(row, cols['error']))] = float(errors[i])
            out[(SHEET, a1(row, cols['dpred']))] = float(back.dpred[i])
    losses = [s.loss for s in run]
    out[(SHEET, c.start)], out[(SHEET, c.final)], out[(SHEET, c.lowest)] = losses[0], losses[-1], min(losses)
    return out
