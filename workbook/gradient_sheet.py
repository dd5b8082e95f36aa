"""[hints] gradient = true: live ∂metric/∂weight beside every weight, computed by backpropagation.

The lecture asks "how do we need to change the w&b in order to minimize the cost?" and answers
with gradients and the chain rule. With this hint on, the main sheet shows beside each weight
and bias its gradient and a cue ("↓ decrease", "↑ increase", "no effect"), and a sheet
"Gradients" holds backpropagation's per-row columns, so the main sheet stays the lecture's
picture. Every formula is ordinary and portable (IF, SIGN, SUM, SUMPRODUCT of two ranges; no
array formula, no LAMBDA); `workbook.model.backprop` is the same math in the same order.

Derivatives used (documented in templates/README.md): ReLU's slope is 1 for z > 0 and 0 for
z ≤ 0 (0 at exactly 0), step's is 0 everywhere, sigmoid's a·(1 − a) and tanh's 1 − a² are taken
from the main sheet's activation column (so they are as overflow-safe as that column), linear's 1.
∂RMSE/∂ŷ is (ŷ − y)/(N·RMSE), 0 when RMSE is 0; ∂MSE/∂ŷ = 2(ŷ − y)/N; ∂MAE/∂ŷ = SIGN(ŷ − y)/N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from workbook import styles
from workbook.address import a1, col_letter, col_of, qualified, span
from workbook.layout import LAYER_ROW, Layout
from workbook.network import ACTIVATION_TITLES, Neuron
from workbook.sheet_grid import Grid

SHEET = "Gradients"
DESCRIPTION = "backpropagation row by row: how each weight moves the error (the gradients beside the weights)"
NOTE_ROW = 4  # the main sheet's empty row between the goal and the layer titles
GRADIENT_FORMAT = "0.00E+00"
"""Three significant digits and a power of ten: a gradient's sign and size are what a student reads, and they
span 1e-6 to 1e4 (and beyond once weights are large). General filled the column with up to 11 digits
(-260.033725 ran into the cue beside it), and any fixed number of decimals shows a small but nonzero
gradient as 0.000 beside a cue saying "↓ decrease". This one is always 9 characters wide."""
CUE_FONT = Font(italic=True, color="595959")
COLUMN_WIDTH = 14  # the Gradients sheet's columns: ∂RMSE/∂ŷ and one δ per neuron
NOTE_COLUMNS = 6  # its notes wrap across at least this many columns (a network of one neuron has two)
NOTE_SCALE = 1.2  # the notes' 9-point italic fits about this many more letters per width than 11-point text
NOTE_LINE = 0.85  # and its lines are this much shorter
PORTRAIT_WIDTH = 85  # characters: a table this wide prints upright at full size (a bigger network's, across)
DECREASE, INCREASE, NO_EFFECT = "↓ decrease", "↑ increase", "no effect"


@dataclass(frozen=True)
class GradientColumns:
    """Where the Gradients sheet keeps each per-row column (same rows as the main sheet's data)."""

    dpred: str  # ∂metric/∂ŷ
    delta: dict[str, str]  # neuron label -> its δ column, output first (backpropagation's order)


def columns(layout: Layout) -> GradientColumns:
    order = [n.label for layer in reversed(layout.network.layers) for n in layer]
    return GradientColumns(dpred="A", delta={label: col_letter(2 + i) for i, label in enumerate(order)})


def metric_abbr(metric: str) -> str:
    return {"rmse": "RMSE", "mse": "MSE", "mae": "MAE"}[metric]


def dpred_formula(layout: Layout, metric: str, row: int) -> str:
    """∂metric/∂ŷ of one row: the top of the chain rule."""
    diff = f"{qualified(layout.sheet, a1(row, layout.pred_col))}-{qualified(layout.sheet, a1(row, layout.target_col))}"
    n = layout.n_rows
    if metric == "mse":
        return f"=2*({diff})/{n}"
    if metric == "mae":
        return f"=SIGN({diff})/{n}"
    m = layout.metric_name
    return f"=IF({m}=0,0,({diff})/({n}*{m}))"


def upstream(layout: Layout, neuron: Neuron, cols: GradientColumns, row: int) -> str:
    """Σ_k w_jk·δ_k over the neurons k this one feeds (for the output: ∂metric/∂ŷ)."""
    if neuron.label == "out":
        return a1(row, cols.dpred)
    layers = layout.network.layers
    above = layers[neuron.layer]  # layer numbers are 1-based: the next layer's index
    return "+".join(f"{k.weight_name(neuron.label)}*{a1(row, cols.delta[k.label])}" for k in above)


def delta_formula(layout: Layout, neuron: Neuron, cols: GradientColumns, row: int) -> str:
    """δ_j = f'(z_j) · upstream: ∂metric/∂(this neuron's weighted sum)."""
    up = upstream(layout, neuron, cols, row)
    place = layout.neurons[neuron.label]
    a = qualified(layout.sheet, a1(row, place.a_col))
    act = neuron.activation
    if act == "linear":
        return f"={up}"
    if act == "relu":
        return f"=IF({qualified(layout.sheet, a1(row, place.z_col))}>0,{up},0)"
    if act == "sigmoid":
        return f"={a}*(1-{a})*({up})"
    if act == "tanh":
        return f"=(1-{a}*{a})*({up})"
    return "=0"  # step: flat on both sides of its jump


def gradient_formulas(layout: Layout) -> dict[str, str]:
    """Parameter -> the main-sheet formula of ∂metric/∂it: Σ_rows δ_j·a_i, or Σ_rows δ_j for a bias."""
    cols = columns(layout)
    first, last = layout.first_row, layout.last_row
    out = {}
    for neuron in layout.network.neurons:
        d = cols.delta[neuron.label]
        deltas = qualified(SHEET, span(a1(first, d), a1(last, d)))
        for source in neuron.sources:
            col = (layout.input_cols[int(source[2:]) - 1] if source.startswith("in")
                   else layout.neurons[source].a_col)
            out[neuron.weight_name(source)] = f"=SUMPRODUCT({deltas},{span(a1(first, col), a1(last, col))})"
        out[neuron.bias_name] = f"=SUM({deltas})"
    return out


def cue_formula(grad_ref: str) -> str:
    return f'=IF({grad_ref}>0,"{DECREASE}",IF({grad_ref}<0,"{INCREASE}","{NO_EFFECT}"))'


def add_to_main_sheet(ws, layout: Layout, metric: str, put: Callable[[str, WriteOnlyCell], None]) -> None:
    """What the hint adds to the main sheet (before its rows are written): a note, column titles and
    widths, and each weight's gradient and cue. Nothing without [hints] gradient."""
    if not layout.grad_cells:
        return
    abbr = metric_abbr(metric)
    for col, width in hint_widths(layout).items():
        ws.column_dimensions[col].width = width

    def cell(ref, value, formula=False, **style):
        c = WriteOnlyCell(ws, value=value)
        if not formula:
            c.data_type = "s"  # text stays text
        for attr, v in style.items():
            setattr(c, attr, v)
        put(ref, c)

    cell(a1(NOTE_ROW, "A"), f"Beside each weight: ∂{abbr}/∂w, how fast the {abbr} grows as that weight grows "
                         f"(backpropagation, see the sheet '{SHEET}'). Move a weight against its gradient's sign.",
         font=styles.INFO_FONT)
    formulas = gradient_formulas(layout)
    for n in layout.neurons.values():
        grad_col = col_of(next(iter(n.grad_cells.values())))
        cue_col = col_of(next(iter(n.cue_cells.values())))
        cell(a1(LAYER_ROW, grad_col), f"∂{abbr}/∂w", font=styles.HEADING_FONT, alignment=styles.CENTER)
        cell(a1(LAYER_ROW, cue_col), f"to lower {abbr}", font=styles.HEADING_FONT)
        for name, ref in n.grad_cells.items():
            cell(ref, formulas[name], formula=True, fill=styles.COMPUTED_FILL, number_format=GRADIENT_FORMAT)
            cell(n.cue_cells[name], cue_formula(ref), formula=True, font=CUE_FONT,
                 alignment=styles.CLEAR_LEFT)  # "-2.60E+02 ↑ increase", not "-2.60E+02↑ increase"


def hint_widths(layout: Layout) -> dict[str, float]:
    """Column widths of the gradient and cue columns on the main sheet: a gradient ("-2.60E+02") with room
    to spare, and the cue column as wide as its heading ("to lower RMSE")."""
    return {col: (11 if i % 2 == 0 else 14) for i, col in enumerate(layout.hint_cols)}


def write_sheet(wb, layout: Layout, metric: str) -> None:
    """The Gradients sheet: ∂metric/∂ŷ and every neuron's δ for each data row, locked and computed."""
    ws = wb.create_sheet(SHEET)
    cols = columns(layout)
    abbr = metric_abbr(metric)
    grid = Grid(ws)
    main = layout.sheet
    slope = {"rmse": "(ŷ − y) / (N · RMSE), 0 when the RMSE is 0", "mse": "2 · (ŷ − y) / N",
             "mae": "SIGN(ŷ − y) / N (0 for a row predicted exactly)"}[metric]
    notes = [
        f"Backpropagation, one row per data row of '{main}': start at the error and go back, right to left "
        "through the network, by the chain rule.",
        f"∂{abbr}/∂ŷ: how the {abbr} changes with each row's prediction ŷ = {slope}.",
        f"δ of a neuron = ∂{abbr}/∂z (z: its weighted sum) = f′(z) · Σ (weight to each next neuron · that "
        "neuron's δ).",
        "f′: ReLU 1 where z > 0, else 0 (also at exactly z = 0); sigmoid a·(1 − a); tanh 1 − a²; linear 1; "
        "step 0 everywhere (nothing flows back through a step).",
        f"∂{abbr}/∂(weight from i to j) = Σ over rows of δ_j · a_i (a_i: the input or activation feeding it); "
        f"∂{abbr}/∂(bias of j) = Σ δ_j. The totals sit beside each weight on '{main}'.",
        f"A positive gradient means: decrease the weight to lower the {abbr}; negative: increase it; 0: the weight "
        "has no effect here (e.g. a ReLU neuron that is 0 on every row).",
    ]
    grid.put(a1(1, "A"), f"Gradients: how each weight moves the {abbr}", font=styles.TITLE_FONT)
    table = [cols.dpred, *cols.delta.values()]
    span_cols = max(len(table), NOTE_COLUMNS)  # the notes wrap across the table (at least NOTE_COLUMNS wide)
    span_width = sum(COLUMN_WIDTH if i < len(table) else styles.DEFAULT_WIDTH for i in range(span_cols))
    for i, note in enumerate(notes):
        row = 2 + i
        if row >= layout.header_row:
            break
        # run on to the right they made the page as wide as the longest (150 characters) and the table small
        ws.merged_cells.add(f"A{row}:{col_letter(span_cols)}{row}")
        grid.put(a1(row, "A"), note, font=styles.INFO_FONT, align=styles.WRAP)
        height = styles.wrapped_height(note, span_width * NOTE_SCALE)
        if height is not None:
            ws.row_dimensions[row].height = height * NOTE_LINE
    h = layout.header_row
    grid.put(a1(h, cols.dpred), f"∂{abbr}/∂ŷ", font=styles.HEADING_FONT, align=styles.CENTER)
    network = layout.network
    for label, col in cols.delta.items():
        neuron = next(n for n in network.neurons if n.label == label)
        grid.put(a1(h, col), f"δ {label} ({ACTIVATION_TITLES[neuron.activation]})", font=styles.HEADING_FONT,
                 align=styles.CENTER)
    neurons = [next(n for n in network.neurons if n.label == label) for label in cols.delta]
    for row in range(layout.first_row, layout.last_row + 1):
        grid.formula(a1(row, cols.dpred), dpred_formula(layout, metric, row), fill=styles.COMPUTED_FILL,
                 fmt=GRADIENT_FORMAT)
        for neuron in neurons:
            grid.formula(a1(row, cols.delta[neuron.label]), delta_formula(layout, neuron, cols, row),
                     fill=styles.COMPUTED_FILL, fmt=GRADIENT_FORMAT)
    for col in table:
        ws.column_dimensions[col].width = COLUMN_WIDTH
    ws.page_setup.orientation = "portrait" if span_width <= PORTRAIT_WIDTH else "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    grid.emit()
    ws.protection.sheet = True


def cue(value: float) -> str:
    """The cue a gradient shows: against its sign."""
    return DECREASE if value > 0 else INCREASE if value < 0 else NO_EFFECT


def expected(assignment, layout: Layout, weights=None) -> dict[tuple[str, str], float | str]:
    """(sheet, cell) -> what every formula the hint adds computes, by NumPy (`workbook.model.backprop`)."""
    from workbook import model

    weights = assignment.weights if weights is None else weights
    back = model.backprop(layout.network, weights, assignment.data.X, assignment.data.y, assignment.metric)
    out: dict[tuple[str, str], float | str] = {}
    for name, ref in layout.grad_cells.items():
        out[(layout.sheet, ref)] = back.gradient[name]
        out[(layout.sheet, layout.cue_cells[name])] = cue(back.gradient[name])
    cols = columns(layout)
    for i in range(layout.n_rows):
        row = layout.first_row + i
        out[(SHEET, a1(row, cols.dpred))] = float(back.dpred[i])
        for label, col in cols.delta.items():
            out[(SHEET, a1(row, col))] = float(back.delta[label][i])
    return out
