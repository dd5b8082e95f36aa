"""Assignment templates (TOML) -> frozen, validated specs.

A template is the instructor's whole description of one assignment. Everything downstream
(layout, formulas, NumPy model, grader) reads these dataclasses, never raw TOML, so every
check an instructor could trip over lives here and names the file, the key and the fix.
"""

from __future__ import annotations

import csv
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from workbook.address import check_sheet_name
from workbook.errors import TemplateError
from workbook.model import average_metric
from workbook.network import ACTIVATIONS, Network

METRICS = {
    # name: (long label, per-row error label, abbreviation)
    "rmse": ("Root Mean Squared Error", "Squared Error", "RMSE"),
    "mse": ("Mean Squared Error", "Squared Error", "MSE"),
    "mae": ("Mean Absolute Error", "Absolute Error", "MAE"),
}
MIN_ROWS = 2


def threshold_percent(share: float) -> str:
    """A rubric threshold as a percentage, exactly: 0.99 is "99%", 0.975 "97.5%". Rounded to whole percents,
    0.994 read "99%" and a student at 99.2% would believe the tier reached."""
    return f"{round(share * 100, 6):g}%"


@dataclass(frozen=True)
class Column:
    """One data column: an input feature or the target."""

    label: str  # what the sheet shows, e.g. "Area"
    unit: str = ""  # e.g. "m2"; shown in brackets after the label
    source: str = ""  # CSV header this column is read from ("" = the label)

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class Dataset:
    """The assignment's own data: the grader recomputes from this, never from the student's cells."""

    inputs: tuple[Column, ...]
    target: Column
    rows: tuple[tuple[float, ...], ...]  # each row: input values then the target

    @cached_property
    def X(self) -> np.ndarray:
        """Inputs as an array, built once (read-only: a 100,000-row data set is asked for it often)."""
        X = np.array([r[:-1] for r in self.rows], dtype=float).reshape(len(self.rows), len(self.inputs))
        X.flags.writeable = False
        return X

    @cached_property
    def y(self) -> np.ndarray:
        y = np.array([r[-1] for r in self.rows], dtype=float)
        y.flags.writeable = False
        return y


@dataclass(frozen=True)
class Tier:
    """One rubric line: all given conditions must hold to earn `points`."""

    points: float
    min_improvement: float | None = None  # fraction: 0.5 means 50 % better than baseline
    max_metric: float | None = None  # the metric itself at most this (errors: rmse, mse, mae)
    min_metric: float | None = None  # the metric itself at least this (scores: accuracy)

    def met(self, improvement: float, metric: float) -> bool:
        if self.min_improvement is not None and not improvement >= self.min_improvement:
            return False
        if self.min_metric is not None and not metric >= self.min_metric:
            return False
        return not (self.max_metric is not None and not metric <= self.max_metric)

    def describe(self, metric_abbr: str) -> str:
        parts = []
        if self.min_improvement is not None:  # the threshold exactly: 0.994 is "99.4%", never "99%"
            parts.append(f"Improvement ≥ {threshold_percent(self.min_improvement)}")
        if self.max_metric is not None:
            parts.append(f"{metric_abbr} ≤ {self.max_metric:,g}")
        if self.min_metric is not None:
            shown = threshold_percent(self.min_metric) if metric_abbr == "accuracy" else f"{self.min_metric:,g}"
            parts.append(f"{metric_abbr} ≥ {shown}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Rubric:
    """How a result turns into points: the best tier met, or linear partial credit."""

    max_points: float = 10.0
    tiers: tuple[Tier, ...] = ()
    partial_credit: str = "tiers"  # "tiers" or "linear"
    full_improvement: float = 0.9  # linear mode: improvement that earns max_points
    score_on: str = "sheet"  # "sheet", "hidden" (the [test] rows) or "mix" of both
    hidden_weight: float = 0.5  # "mix": the hidden rows' share of the points
    # what "improvement" in tiers and full_improvement measures: "start" (better than the starting weights) or
    # "references" (the share of the way from predicting the average for every row to best_metric, the best this
    # network reaches: `manualml solve` computes it). A constant predictor earns nothing under "references".
    measure: str = "start"
    best_metric: float | None = None  # "references": the best reachable metric (from `manualml solve`)

    def progress(self, metric: float, baseline: float, average: float) -> float:
        """The fraction the tiers are compared with: improvement over `baseline`, or the share of the way from
        `average` (the metric of predicting the mean) to best_metric."""
        if self.measure == "references" and self.best_metric is not None and average != self.best_metric:
            return (average - metric) / (average - self.best_metric)
        return (baseline - metric) / baseline if baseline else 0.0

    def points(self, improvement: float, metric: float) -> float:
        if not (math.isfinite(improvement) and math.isfinite(metric)):
            return 0.0
        if self.partial_credit == "linear":
            share = min(max(improvement / self.full_improvement, 0.0), 1.0)
            return round(self.max_points * share, 2)
        return max((t.points for t in self.tiers if t.met(improvement, metric)), default=0.0)

    def full_marks(self, metric_abbr: str) -> str:
        """One line a student can aim at."""
        if self.measure == "references":
            return self._full_marks(metric_abbr).replace("Improvement", "Progress") + (
                f" (progress: the share of the way from predicting the average to the best reachable "
                f"{metric_abbr}, {self.best_metric:,.6g})")
        return self._full_marks(metric_abbr)

    def _full_marks(self, metric_abbr: str) -> str:
        if self.partial_credit == "linear":
            return f"Improvement ≥ {threshold_percent(self.full_improvement)} earns all {self.max_points:g} points"
        best = [t for t in self.tiers if t.points >= self.max_points]
        if not best:
            return f"up to {self.max_points:g} points"
        return f"{best[0].describe(metric_abbr)} earns all {self.max_points:g} points"


@dataclass(frozen=True)
class Display:
    """Number formats and labels on the sheet."""

    number_format: str = "#,##0.00"  # data, hidden values, predictions, errors, metric
    weight_format: str = "General"
    improvement_format: str = "0.00%"  # cut, not rounded, to these digits
    paper: str = "A4"  # every sheet prints on this paper (styles.PAPER_SIZES)
    scale: str = ""  # e.g. "thousands of EUR", shown with the target and metric
    labels: Mapping[str, str] = field(default_factory=dict)  # see LABEL_KEYS


LABEL_KEYS = ("prediction", "error", "metric", "baseline", "improvement", "sheet")


@dataclass(frozen=True)
class Hints:
    """What the sheet shows a student besides the metric ([hints])."""

    gradient: bool = False  # ∂metric/∂weight beside every weight, with a "which way" cue; Gradients sheet


MAX_DESCENT_STEPS = 200
MAX_DESCENT_FORMULAS = 20_000  # the descent sheet unrolls steps × rows: keep files and recalculation small


@dataclass(frozen=True)
class Descent:
    """[descent]: a sheet running gradient descent from the student's own weights."""

    steps: int  # T: steps taken (the sheet shows t = 0..T)
    eta: float  # η, the learning rate
    decay: float = 0.0  # η_t = η / (1 + decay·t); 0 keeps η constant


@dataclass(frozen=True)
class RandomInit:
    """Weights not named in the template are drawn uniformly from [low, high]."""

    seed: int
    low: float = -1.0
    high: float = 1.0
    decimals: int = 2  # students type weights by hand: keep them short


@dataclass(frozen=True)
class WeightVariants:
    """[variants] starting_weights = "random": every student's own start, even for weights the template names."""

    spread: float = 1.0  # a named weight starts at its value plus a uniform draw from [-spread, +spread]
    decimals: int = 2  # rounded like [weights.random] draws: students type weights by hand


@dataclass(frozen=True)
class HiddenTest:
    """Test rows the grader scores but no workbook ever contains: do the weights work on new data?"""

    data: Dataset  # same columns as [data]; targets are never varied per student
    noun: str = "rows"  # what a row is, for the students' sentences ("houses")
    leaderboard: bool = False  # Gradescope's leaderboard may show the metric on these rows
    overfit_ratio: float = 1.5  # feedback explains overfitting when hidden metric > ratio x the sheet's


@dataclass(frozen=True)
class Assignment:
    """A whole validated template."""

    id: str
    title: str
    description: str  # one line, for `manualml templates`
    instructions: str
    data: Dataset
    network: Network
    weights: Mapping[str, float]  # every parameter, in network order: the starting weights
    explicit_weights: tuple[str, ...]  # names the template fixed (not random)
    random_init: RandomInit | None
    metric: str
    rubric: Rubric
    display: Display
    integrity: str = "report"  # "report" or "zero": what a tampering finding does to the score
    target_noise: float = 0.0  # per-student variants: targets scaled by 1 ± this (seeded by student id)
    weight_variants: WeightVariants | None = None  # per-student starting weights around the named ones
    hints: Hints = Hints()  # [hints]: live gradients beside the weights
    descent: Descent | None = None  # [descent]: the gradient-descent sheet, when the template asks for it
    source: str = "<string>"  # the template file, for messages
    test: HiddenTest | None = None  # rows graded but never written into a workbook

    @property
    def metric_label(self) -> str:
        return self.display.labels.get("metric", METRICS[self.metric][0])

    @property
    def metric_abbr(self) -> str:
        return METRICS[self.metric][2]

    def label(self, key: str) -> str:
        """Sheet label for `key` (template override, else a default built from the metric)."""
        defaults = {
            "prediction": f"Predicted {self.data.target.label.removeprefix('True ')}",
            "error": METRICS[self.metric][1],
            "metric": METRICS[self.metric][0],
            "baseline": f"Baseline {self.metric_abbr}",
            "improvement": "Improvement",
            "sheet": "Manual Machine Learning",
        }
        return self.display.labels.get(key, defaults[key])

    def graded_sheet(self):
        """Its sheet described region by region (workbook.graded.GradedSheet): what building and grading use."""
        return self._graded_sheet

    @cached_property
    def _graded_sheet(self):
        """Built once per assignment: grading a class asks for it for every file (its layout, formulas and
        baseline loss cost a tenth of grading one small file)."""
        from workbook.manual_sheet import graded_sheet

        return graded_sheet(self)

    def with_weights(self, weights: Mapping[str, float]) -> Assignment:
        from dataclasses import replace

        return replace(self, weights=dict(weights))


# --------------------------------------------------------------------------- reading


def read_paper(table) -> str:
    """A table's `paper` key ("A4", "letter", ...; any case) -> its canonical name; A4 by default."""
    from workbook.styles import DEFAULT_PAPER, PAPER_SIZES

    raw = table.get("paper", str, DEFAULT_PAPER)
    found = {k.casefold(): k for k in PAPER_SIZES}.get(raw.casefold())
    if found is None:
        raise table.fail("paper", f"unknown paper size {raw!r} (choose from: {', '.join(PAPER_SIZES)})")
    return found


class Table:
    """A TOML table being consumed: remembers its dotted path and rejects unknown keys."""

    def __init__(self, source: str, path: str, data: Mapping[str, Any]) -> None:
        self.source, self.path, self.data = source, path, data
        self.used: set[str] = set()
        self.defaulted: set[str] = set()  # keys read but absent (their default was used)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str | None, message: str) -> TemplateError:
        return TemplateError(self.source, message + self._misspelt(), self.key(name) if name else self.path or None)

    def _misspelt(self) -> str:
        """A key of this table not read yet that looks like one that was missing ('hiden' for 'hidden'): the
        likely cause of an error about what the missing key's default implies."""
        for key in sorted(set(self.data) - self.used):
            close = difflib.get_close_matches(key, sorted(self.defaulted), n=1, cutoff=0.75)
            if close:
                return f" (this table has '{key}': is it a misspelling of '{close[0]}'?)"
        return ""

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False):
        self.used.add(name)
        if name not in self.data:
            if required or default is ...:
                raise self.fail(name, "missing required key")
            self.defaulted.add(name)
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise self.fail(name, f"expected {_kind_name(kinds)}, got {_kind_name((type(value),))} {value!r}")
        return value

    def table(self, name: str, *, required: bool = False) -> Table:
        raw = self.get(name, dict, {} if not required else ..., required=required)
        return Table(self.source, self.key(name), raw)

    def finish(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            allowed = ", ".join(sorted(self.used))
            close = difflib.get_close_matches(extra[0], sorted(self.used), n=1, cutoff=0.75)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise TemplateError(self.source, f"unknown key '{extra[0]}' (allowed here: {allowed}){hint}",
                                self.key(extra[0]))


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list",
             dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _number(table: Table, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise table.fail(name, f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise table.fail(name, f"expected a finite number, got {value!r}")
    return float(value)


def load_template(path: str | Path) -> Assignment:
    """Read and validate one template file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(str(path), "no such template file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(str(path), f"cannot read the file ({exc})") from None
    return parse_template(text, source=str(path), base_dir=path.parent)


def parse_template(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Assignment:
    """Validate template text; `base_dir` is where a `data.csv` file is looked up."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(source, f"not valid TOML: {exc}") from None
    top = Table(source, "", raw)

    ident, title, description, instructions = read_assignment_table(top)

    data = _read_data(top.table("data", required=True), base_dir)
    network = _read_network(top.table("network", required=True), len(data.inputs))
    weights_table = top.table("weights")
    weights, explicit, random_init = _read_weights(weights_table, network)
    metric_table = top.table("metric")
    metric = metric_table.get("name", str, "rmse")
    if metric not in METRICS:
        raise metric_table.fail("name", f"unknown metric '{metric}' (choose one of: {', '.join(METRICS)})")
    metric_table.finish()
    rubric = read_rubric(top.table("rubric"))
    display = _read_display(top.table("display"), top.table("labels"))
    integ = top.table("integrity")
    on_tamper = integ.get("on_finding", str, "report")
    if on_tamper not in ("report", "zero"):
        raise integ.fail("on_finding", f"expected 'report' or 'zero', got {on_tamper!r}")
    integ.finish()
    variants = top.table("variants")
    noise = variants.get("target_noise", float, 0.0)
    if not 0 <= noise < 1:
        raise variants.fail("target_noise", f"must be a fraction between 0 and 1 (0.05 = ±5 %), got {noise}")
    weight_variants = _read_weight_variants(variants, random_init)
    variants.finish()
    test = _read_test(top.table("test"), base_dir, data) if "test" in raw else None
    if test is None and rubric.score_on != "sheet":
        raise TemplateError(source, f"score_on = '{rubric.score_on}' needs hidden test rows: add a [test] table "
                                    "with rows (or a csv)", "rubric.score_on")
    if rubric.measure == "references":
        average = average_metric(metric, data.y)
        if not rubric.best_metric < average:
            raise TemplateError(source, f"best_metric {rubric.best_metric:g} is not better than predicting the "
                                        f"average ({average:.6g}): run `manualml solve` for the best reachable",
                                "rubric.best_metric")
    hints = _read_hints(top.table("hints"))
    descent_table = top.table("descent")
    descent = read_descent(descent_table, network, len(data.rows)) if "descent" in raw else None
    top.finish()
    return Assignment(
        id=ident, title=title, description=description, instructions=instructions, data=data,
        network=network, weights=weights, explicit_weights=explicit, random_init=random_init,
        metric=metric, rubric=rubric, display=display, integrity=on_tamper, target_noise=noise,
        weight_variants=weight_variants, hints=hints, descent=descent, source=source, test=test,
    )


def _read_weight_variants(table: Table, random_init: RandomInit | None) -> WeightVariants | None:
    """starting_weights = "template" (the named weights for everyone) or "random" (each student their own)."""
    mode = table.get("starting_weights", str, "template")
    if mode not in ("template", "random"):
        raise table.fail("starting_weights", f"expected 'template' or 'random', got {mode!r}")
    if mode == "template":
        for key in ("spread", "decimals"):
            if key in table.data:
                raise table.fail(key, 'applies only with starting_weights = "random"')
        return None
    spread = table.get("spread", float, 1.0)
    if not (math.isfinite(spread) and spread > 0):
        raise table.fail("spread", f"must be a positive number (named weights start at value ± spread), got {spread}")
    decimals = table.get("decimals", int, random_init.decimals if random_init else 2)
    if not 0 <= decimals <= 6:
        raise table.fail("decimals", f"must be between 0 and 6, got {decimals}")
    return WeightVariants(spread=spread, decimals=decimals)


def _read_hints(table: Table) -> Hints:
    hints = Hints(gradient=table.get("gradient", bool, False))
    table.finish()
    return hints


def descent_formulas(network: Network, n_rows: int, steps: int) -> int:
    """How many formulas the descent sheet holds: per step, every data row's forward and backward
    columns plus a row of weights, gradients, η_t and the loss (workbook.descent_sheet builds exactly this)."""
    per_row = sum(2 if n.activation != "linear" or n.label != "out" else 1 for n in network.neurons)
    per_row += 2 + len(network.neurons)  # error, ∂metric/∂ŷ, one δ per neuron
    per_step = n_rows * per_row + 2 * len(network.parameter_names()) + 2  # + weights, gradients, η_t, loss
    return (steps + 1) * per_step


def read_descent(table: Table, network: Network, n_rows: int) -> Descent:
    """[descent] steps, eta, decay; refuses a sheet too big to be useful (steps × rows × columns formulas)."""
    steps = table.get("steps", int, required=True)
    if not 1 <= steps <= MAX_DESCENT_STEPS:
        raise table.fail("steps", f"give 1 to {MAX_DESCENT_STEPS} steps, got {steps}")
    eta = table.get("eta", float, required=True)
    if not (math.isfinite(eta) and eta > 0):
        raise table.fail("eta", f"the learning rate η must be a positive number, got {eta}")
    decay = table.get("decay", float, 0.0)
    if not (math.isfinite(decay) and decay >= 0):
        raise table.fail("decay", f"must be 0 (constant η) or positive (η_t = η / (1 + decay·t)), got {decay}")
    table.finish()
    count = descent_formulas(network, n_rows, steps)
    if count > MAX_DESCENT_FORMULAS:
        per_step = descent_formulas(network, n_rows, 0)
        fits = MAX_DESCENT_FORMULAS // per_step - 1
        advice = (f"use at most {fits} step{'s' if fits > 1 else ''}" if fits >= 1 else
                  "this data set is too big for it: remove [descent] or use fewer rows")
        raise table.fail("steps", f"{steps} steps over {n_rows} rows need {count:,} formulas on the descent sheet "
                                  f"(at most {MAX_DESCENT_FORMULAS:,}, {per_step:,} per step): {advice}")
    return Descent(steps=steps, eta=eta, decay=decay)


def read_assignment_table(top: Table) -> tuple[str, str, str, str]:
    """[assignment]: id, title, description, instructions (every kind of template has one)."""
    meta = top.table("assignment", required=True)
    ident = meta.get("id", str, required=True)
    if not ident or not all(c.isalnum() or c in "-_" for c in ident):
        raise meta.fail("id", f"use letters, digits, '-' and '_' only, got {ident!r}")
    title = meta.get("title", str, required=True)
    description = meta.get("description", str, "")
    instructions = meta.get("instructions", str, "")
    meta.finish()
    return ident, title, description, instructions


def _read_column(table: Table) -> Column:
    col = Column(label=table.get("label", str, required=True), unit=table.get("unit", str, ""),
                 source=table.get("column", str, ""))
    table.finish()
    return col


def _read_data(table: Table, base_dir: Path | None) -> Dataset:
    inputs_raw = table.get("inputs", list, required=True)
    if not inputs_raw:
        raise table.fail("inputs", "list at least one input column")
    inputs = []
    for i, item in enumerate(inputs_raw):
        if not isinstance(item, dict):
            raise table.fail(f"inputs[{i}]", "expected a table like {label = \"Area\", unit = \"m2\"}")
        inputs.append(_read_column(Table(table.source, table.key(f"inputs[{i}]"), item)))
    target = _read_column(table.table("target", required=True))
    has_rows, has_csv = "rows" in table.data, "csv" in table.data
    if has_rows == has_csv:
        raise table.fail(None, "give the data either as 'rows' (inline) or as 'csv' (a file beside the template)")
    width = len(inputs) + 1
    if has_rows:
        rows = _read_inline_rows(table, width)
    else:
        rows = _read_csv_rows(table, table.get("csv", str), base_dir, inputs, target)
    table.finish()
    if len(rows) < MIN_ROWS:
        raise table.fail("rows" if has_rows else "csv",
                         f"has {len(rows)} data row(s); at least {MIN_ROWS} are needed to measure an error")
    return Dataset(inputs=tuple(inputs), target=target, rows=tuple(rows))


def _read_test(table: Table, base_dir: Path | None, data: Dataset) -> HiddenTest:
    """[test]: hidden rows, inline or from a CSV with the same columns as [data]."""
    has_rows, has_csv = "rows" in table.data, "csv" in table.data
    if has_rows == has_csv:
        raise table.fail(None, "give the hidden test rows either as 'rows' (inline) or as 'csv' (a file beside the "
                               "template, with the same columns as [data])")
    width = len(data.inputs) + 1
    if has_rows:
        rows = _read_inline_rows(table, width)
    else:
        rows = _read_csv_rows(table, table.get("csv", str), base_dir, list(data.inputs), data.target)
    if not rows:
        raise table.fail("rows" if has_rows else "csv", "lists no test rows; give at least one")
    noun = table.get("noun", str, "rows")
    leaderboard = table.get("leaderboard", bool, False)
    ratio = table.get("overfit_ratio", float, 1.5)
    if ratio <= 1:
        raise table.fail("overfit_ratio", f"must be above 1 (1.5: hidden error 50 % above the sheet's), got {ratio:g}")
    table.finish()
    return HiddenTest(data=Dataset(inputs=data.inputs, target=data.target, rows=tuple(rows)), noun=noun,
                      leaderboard=leaderboard, overfit_ratio=ratio)


def _read_inline_rows(table: Table, width: int) -> list[tuple[float, ...]]:
    raw = table.get("rows", list)
    rows = []
    for i, row in enumerate(raw, start=1):
        where = f"rows[{i}]"
        if not isinstance(row, list):
            raise table.fail(where, f"expected a list of {width} numbers, got {row!r}")
        if len(row) != width:
            raise table.fail(where, f"has {len(row)} values, expected {width} ({width - 1} input(s) then the target)")
        rows.append(tuple(_number(table, where, v) for v in row))
    return rows


def _read_csv_rows(table: Table, name: str, base_dir: Path | None,
                   inputs: list[Column], target: Column) -> list[tuple[float, ...]]:
    path = (base_dir or Path.cwd()) / name
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError:
        raise table.fail("csv", f"data file {path} not found (it is looked up beside the template)") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise table.fail("csv", f"{path} is empty; its first line must name the columns")
        header = [h.strip() for h in header]
        index = []
        for col in [*inputs, target]:
            wanted = col.source or col.label
            if wanted not in header:
                raise table.fail("csv", f"{path} has no column '{wanted}' (its columns: {', '.join(header)})")
            index.append(header.index(wanted))
        rows = []
        for line_no, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            values = []
            for col, i in zip([*inputs, target], index, strict=True):
                cell = record[i].strip() if i < len(record) else ""
                try:
                    value = float(cell)
                except ValueError:
                    raise table.fail("csv", f"{path} line {line_no}, column '{col.source or col.label}': "
                                            f"{cell!r} is not a number") from None
                if not math.isfinite(value):
                    raise table.fail("csv", f"{path} line {line_no}: {cell!r} is not a finite number")
                values.append(value)
            rows.append(tuple(values))
    return rows


def _read_network(table: Table, n_inputs: int) -> Network:
    hidden = table.get("hidden", list, [])
    for i, size in enumerate(hidden):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise table.fail("hidden", f"entry {i + 1} must be a positive whole number of neurons, got {size!r}")
    acts = table.get("activations", (list, str), "relu")
    if isinstance(acts, str):
        acts = [acts] * len(hidden)
    if len(acts) != len(hidden):
        raise table.fail("activations", f"gives {len(acts)} activation(s) for {len(hidden)} hidden layer(s); "
                                        "give one per layer (or a single string for all)")
    for a in acts:
        if a not in ACTIVATIONS:
            raise table.fail("activations", f"unknown activation '{a}' (choose from: {', '.join(ACTIVATIONS)})")
    out = table.get("output_activation", str, "linear")
    if out not in ACTIVATIONS:
        raise table.fail("output_activation", f"unknown activation '{out}' (choose from: {', '.join(ACTIVATIONS)})")
    table.finish()
    return Network(n_inputs=n_inputs, hidden=tuple(hidden), activations=tuple(acts), output_activation=out)


def _read_weights(table: Table, network: Network) -> tuple[dict[str, float], tuple[str, ...], RandomInit | None]:
    names = network.parameter_names()
    given: dict[str, float] = {}
    random_init = None
    for key, value in table.data.items():
        if key == "random":
            continue
        table.used.add(key)
        if key not in names:
            raise table.fail(key, f"unknown weight '{key}': this network's weights are {', '.join(names)}")
        given[key] = _number(table, key, value)
    if "random" in table.data:
        rnd = table.table("random")
        random_init = RandomInit(seed=rnd.get("seed", int, required=True), low=rnd.get("low", float, -1.0),
                                 high=rnd.get("high", float, 1.0), decimals=rnd.get("decimals", int, 2))
        if random_init.low >= random_init.high:
            raise rnd.fail("low", f"must be below high ({random_init.low} >= {random_init.high})")
        rnd.finish()
    missing = [n for n in names if n not in given]
    if missing and random_init is None:
        raise table.fail(missing[0], f"missing weight '{missing[0]}' ({len(missing)} missing in all); name every "
                                     "weight and bias, or add [weights.random] with a seed to draw the rest")
    weights = draw_weights(network, given, random_init, salt="")
    return weights, tuple(n for n in names if n in given), random_init


def draw_weights(network: Network, given: Mapping[str, float], random_init: RandomInit | None,
                 *, salt: str) -> dict[str, float]:
    """Fill every parameter: `given` ones as they are, the rest drawn reproducibly.

    `salt` (e.g. a student id) gives each student their own starting point from one seed.
    """
    names = network.parameter_names()
    rng = None
    if random_init is not None:
        digest = int.from_bytes(salt.encode("utf-8"), "big") % (2**63) if salt else 0
        rng = np.random.default_rng([random_init.seed, digest])
    drawn = [n for n in names if n not in given]
    if not drawn:
        return {name: float(given[name]) for name in names}
    # one call for all: the same numbers as one call per weight, in order (tested), 13x fewer calls
    assert rng is not None and random_init is not None
    values = iter(rng.uniform(random_init.low, random_init.high, size=len(drawn)).tolist())
    decimals = random_init.decimals
    return {name: float(given[name]) if name in given else round(next(values), decimals) for name in names}


def read_rubric(table: Table) -> Rubric:
    max_points = table.get("max_points", float, 10.0)
    mode = table.get("partial_credit", str, "tiers")
    if mode not in ("tiers", "linear"):
        raise table.fail("partial_credit", f"expected 'tiers' or 'linear', got {mode!r}")
    full = table.get("full_improvement", float, 0.9)
    if not 0 < full <= 1:
        raise table.fail("full_improvement", f"must be a fraction in (0, 1], got {full}")
    tiers = []
    for i, raw in enumerate(table.get("tiers", list, [])):
        if not isinstance(raw, dict):
            raise table.fail(f"tiers[{i}]", "expected a table like {min_improvement = 0.5, points = 5}")
        t = Table(table.source, table.key(f"tiers[{i}]"), raw)
        tier = Tier(points=t.get("points", float, required=True),
                    min_improvement=t.get("min_improvement", float, None),
                    max_metric=t.get("max_metric", float, None),
                    min_metric=t.get("min_metric", float, None))
        t.finish()
        if tier.min_improvement is None and tier.max_metric is None and tier.min_metric is None:
            raise t.fail(None, "give min_improvement, max_metric and/or min_metric")
        if not 0 <= tier.points <= max_points:
            raise t.fail("points", f"must be between 0 and max_points ({max_points:g}), got {tier.points:g}")
        tiers.append(tier)
    if mode == "tiers" and not tiers:
        tiers = [Tier(points=max_points, min_improvement=full)]
    score_on = table.get("score_on", str, "sheet")
    if score_on not in ("sheet", "hidden", "mix"):
        raise table.fail("score_on", f"expected 'sheet', 'hidden' or 'mix', got {score_on!r}")
    hidden_weight = table.get("hidden_weight", float, 0.5)
    if not 0 <= hidden_weight <= 1:
        raise table.fail("hidden_weight", f"must be a fraction between 0 and 1, got {hidden_weight:g}")
    if "hidden_weight" in table.data and score_on != "mix":
        raise table.fail("hidden_weight", "only applies with score_on = 'mix'")
    measure = table.get("measure", str, "start")
    if measure not in ("start", "references"):
        raise table.fail("measure", f"expected 'start' or 'references', got {measure!r}")
    best = table.get("best_metric", float, None)
    if measure == "references" and best is None:
        raise table.fail("best_metric", "measure = 'references' needs the best reachable metric: run `manualml solve "
                                        "-t TEMPLATE` and set best_metric to its best")
    if best is not None and measure != "references":
        raise table.fail("best_metric", "only applies with measure = 'references'")
    table.finish()
    return Rubric(max_points=max_points, tiers=tuple(tiers), partial_credit=mode, full_improvement=full,
                  score_on=score_on, hidden_weight=hidden_weight, measure=measure, best_metric=best)


def _read_display(table: Table, labels: Table) -> Display:
    display = Display(
        number_format=table.get("number_format", str, "#,##0.00"),
        weight_format=table.get("weight_format", str, "General"),
        improvement_format=table.get("improvement_format", str, "0.00%"),
        scale=table.get("scale", str, ""),
        paper=read_paper(table),
        labels={k: labels.get(k, str) for k in LABEL_KEYS if k in labels.data},
    )
    sheet = display.labels.get("sheet")
    problem = check_sheet_name(sheet) if sheet is not None else None
    if problem is None and sheet is not None and sheet.casefold() == "instructions":
        problem = "the sheet 'Instructions' is already in the workbook: choose another name"
    if problem:
        raise labels.fail("sheet", problem)
    table.finish()
    labels.finish()
    return display
