"""Where everything sits in the sheet: the one source of truth for cells and defined names.

The builder writes from a `Layout`, the grader reads with the same `Layout`; no other module
spells a cell address. The picture follows the lecture's "Manual Machine Learning" sheet,
read left to right like the network itself::

    inputs | h1  ReLU(h1) | h2  ReLU(h2) | True  Predicted  Squared Error | RMSE
             ^ weights and bias of each neuron sit in a block above its two columns

Every neuron owns two columns (weighted sum, activation). Its incoming weights and bias
sit above them: the label ("Weight: in1→h1") over the first, the editable value over the
second. Bigger networks repeat the pattern layer by layer; no hidden layer is y = Wx + b.
Per-row cells are described by columns and a row range, never by a per-cell dict, so a
100,000-row sheet costs no more memory than a 6-row one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from workbook import LAYOUT_VERSION
from workbook.address import a1, absolute, col_letter, row_of
from workbook.network import ACTIVATION_TITLES, Network

TITLE_ROW = 1
INFO_ROW = 2
GOAL_ROW = 3
LAYER_ROW = 5
PARAM_FIRST_ROW = 6
INSTRUCTIONS_SHEET = "Instructions"


@dataclass(frozen=True)
class NeuronColumns:
    """The two columns of one neuron and its parameter block."""

    label: str
    activation: str
    z_col: str  # weighted sum; for a linear output this is the target column (labels only)
    a_col: str  # after activation; for the output neuron this is "Predicted"
    params: dict[str, str]  # parameter name -> its editable cell
    param_labels: dict[str, str]  # parameter name -> cell holding "Weight: in1→h1"
    param_texts: dict[str, str]  # parameter name -> "Weight: in1→h1" / "Bias: h1" (the lecture's wording)
    has_z_column: bool = True  # False for a linear output: the prediction is the weighted sum itself
    grad_cells: dict[str, str] = field(default_factory=dict)  # [hints] gradient: parameter -> its ∂metric cell
    cue_cells: dict[str, str] = field(default_factory=dict)  # parameter -> "↓ decrease" / "↑ increase" cell


@dataclass(frozen=True)
class Layout:
    """Positions of every region of one assignment's sheet."""

    version: str
    sheet: str
    network: Network
    n_rows: int
    first_row: int  # first data row
    header_row: int  # column headings of the data table
    input_cols: tuple[str, ...]
    target_col: str
    error_col: str
    summary_col: str
    neurons: dict[str, NeuronColumns]  # label -> columns, network order (output last)
    metric_cell: str
    metric_label_cell: str
    baseline_cell: str
    baseline_label_cell: str
    improvement_cell: str
    improvement_label_cell: str
    metric_name: str  # defined name of the live metric, e.g. current_rmse
    baseline_name: str  # defined name of the baseline constant, e.g. baseline_rmse
    spacer_cols: tuple[str, ...] = field(default=())
    hint_cols: tuple[str, ...] = field(default=())  # the gradient and cue columns beside the weights ([hints])
    points_label_cell: str = ""
    points_cell: str = ""  # the rubric's points for the weights on the sheet, live (the grader's rule)

    @property
    def last_row(self) -> int:
        return self.first_row + self.n_rows - 1

    @property
    def bottom_row(self) -> int:
        """The last row holding anything: the data or the summary block (down to Points), whichever ends lower."""
        return max(self.last_row, *(row_of(c) for c in (self.improvement_cell, self.points_cell) if c))

    @property
    def region(self) -> str:
        """Everything the grader reads on the sheet, as one range."""
        return f"A1:{a1(self.bottom_row, self.last_col)}"

    @property
    def pred_col(self) -> str:
        return self.neurons["out"].a_col

    @property
    def last_col(self) -> str:
        return self.summary_col

    @property
    def param_cells(self) -> dict[str, str]:
        """Every weight and bias -> its editable cell, in network order."""
        return {name: ref for n in self.neurons.values() for name, ref in n.params.items()}

    @property
    def grad_cells(self) -> dict[str, str]:
        """[hints] gradient: every weight and bias -> the cell showing ∂metric/∂it (empty without hints)."""
        return {name: ref for n in self.neurons.values() for name, ref in n.grad_cells.items()}

    @property
    def cue_cells(self) -> dict[str, str]:
        """Every weight and bias -> the cell saying which way to move it (empty without hints)."""
        return {name: ref for n in self.neurons.values() for name, ref in n.cue_cells.items()}

    def column(self, col: str) -> str:
        """The data range of a column, e.g. 'G12:G17'."""
        return f"{a1(self.first_row, col)}:{a1(self.last_row, col)}"

    def defined_names(self) -> dict[str, str]:
        """Workbook-level names -> absolute references."""
        names = {name: absolute(self.sheet, ref) for name, ref in self.param_cells.items()}
        names[self.metric_name] = absolute(self.sheet, self.metric_cell)
        names[self.baseline_name] = absolute(self.sheet, self.baseline_cell)
        return names

    def computed_columns(self) -> list[str]:
        """Columns whose data rows hold formulas, left to right."""
        cols = []
        for n in self.neurons.values():
            if n.has_z_column:
                cols.append(n.z_col)
            cols.append(n.a_col)
        cols.append(self.error_col)
        return cols

    def given_columns(self) -> list[str]:
        """Columns whose data rows hold the assignment's data."""
        return [*self.input_cols, self.target_col]


@lru_cache(maxsize=64)  # a frozen Layout, a pure function of these: built once per assignment, not per file graded
def make_layout(network: Network, n_rows: int, metric: str, sheet: str = "Manual Machine Learning", *,
                gradient: bool = False) -> Layout:
    """Place every region for a network and a number of data rows.

    With `gradient` ([hints] gradient = true) each neuron's block is two columns wider: beside every
    weight its live ∂metric/∂weight and a cue which way to move it; the data rows below them stay empty.
    """
    extra = 2 if gradient else 0
    hint_cols: list[str] = []
    max_fan = max(len(n.sources) + 1 for n in network.neurons)
    header_row = PARAM_FIRST_ROW + max_fan + 1
    first_row = header_row + 1
    col = 1
    input_cols = []
    for _ in network.input_labels:
        input_cols.append(col_letter(col))
        col += 1
    spacers = [col_letter(col)]
    col += 1
    neurons: dict[str, NeuronColumns] = {}
    for layer in network.layers[:-1]:
        for neuron in layer:
            z_col, a_col = col_letter(col), col_letter(col + 1)
            neurons[neuron.label] = _block(neuron, z_col, a_col, True, col + 2 if gradient else 0)
            hint_cols += [col_letter(col + 2 + i) for i in range(extra)]
            col += 2 + extra
        spacers.append(col_letter(col))
        col += 1
    out = network.output
    target_col = col_letter(col)
    col += 1
    if out.activation == "linear":
        neurons["out"] = _block(out, target_col, col_letter(col), False, col + 1 if gradient else 0)
        hint_cols += [col_letter(col + 1 + i) for i in range(extra)]
        col += 1 + extra
    else:
        neurons["out"] = _block(out, col_letter(col), col_letter(col + 1), True, col + 2 if gradient else 0)
        hint_cols += [col_letter(col + 2 + i) for i in range(extra)]
        col += 2 + extra
    error_col = col_letter(col)
    spacers.append(col_letter(col + 1))
    summary_col = col_letter(col + 2)
    s = summary_col
    return Layout(
        version=LAYOUT_VERSION, sheet=sheet, network=network, n_rows=n_rows, first_row=first_row,
        header_row=header_row, input_cols=tuple(input_cols), target_col=target_col, error_col=error_col,
        summary_col=summary_col, neurons=neurons,
        metric_label_cell=a1(header_row, s), metric_cell=a1(first_row, s),
        baseline_label_cell=a1(first_row + 2, s), baseline_cell=a1(first_row + 3, s),
        improvement_label_cell=a1(first_row + 5, s), improvement_cell=a1(first_row + 6, s),
        metric_name=f"current_{metric}", baseline_name=f"baseline_{metric}", spacer_cols=tuple(spacers),
        hint_cols=tuple(hint_cols),
        points_label_cell=a1(first_row + 8, s), points_cell=a1(first_row + 9, s),
    )


def _block(neuron, label_col: str, value_col: str, has_z: bool, hint_at: int = 0) -> NeuronColumns:
    """One neuron's parameter block; `hint_at` (a column number, 0 = none) is where its gradient column goes."""
    params, labels, texts, grads, cues = {}, {}, {}, {}, {}
    captions = [f"Weight: {source}→{neuron.label}" for source in neuron.sources] + [f"Bias: {neuron.label}"]
    for i, (name, caption) in enumerate(zip(neuron.parameter_names, captions, strict=True)):
        row = PARAM_FIRST_ROW + i
        params[name] = a1(row, value_col)
        labels[name] = a1(row, label_col)
        texts[name] = caption
        if hint_at:
            grads[name] = a1(row, hint_at)
            cues[name] = a1(row, hint_at + 1)
    return NeuronColumns(label=neuron.label, activation=neuron.activation, z_col=label_col, a_col=value_col,
                         params=params, param_labels=labels, param_texts=texts, has_z_column=has_z,
                         grad_cells=grads, cue_cells=cues)


def activation_heading(activation: str, label: str) -> str:
    """'ReLU(h1)' as in the lecture."""
    return f"{ACTIVATION_TITLES[activation]}({label})"


def layout_for(assignment) -> Layout:
    """The layout of an assignment's main sheet (what the builder writes and the grader reads)."""
    return make_layout(assignment.network, len(assignment.data.rows), assignment.metric,
                       sheet=assignment.label("sheet"), gradient=assignment.hints.gradient)
