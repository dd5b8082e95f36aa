"""Lecture templates: TOML files with a [lecture] table naming the sheets to build, in order.

    [assignment]              id, title, description, instructions (as for every template)
    [lecture]                 sheets = ["neuron", ...]; manual_template = "house-prices"
    [neuron] / [perceptron]   optional settings of one sheet (keys: that sheet's Settings fields)
    [rubric]                  optional; grades the template's one graded sheet

A template with exactly one graded sheet (linear-regression or perceptron) can be graded;
`lecture.toml` builds every sheet into one workbook in the lecture's order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from workbook.errors import TemplateError
from workbook.graded import GradedSheet
from workbook.lecture import (
    activations,
    gradient_descent,
    linear_regression,
    linearity,
    neuron,
    perceptron,
    prediction_error,
)
from workbook.spec import Assignment, Hints, Rubric, Table, read_assignment_table, read_paper, read_rubric

SHEETS = {m.KIND: m for m in (neuron, perceptron, linearity, activations, prediction_error, linear_regression,
                              gradient_descent)}
MANUAL = "manual-ml"  # the manual machine-learning sheet itself, built from a standard template
LECTURE_ORDER = ("neuron", "perceptron", "linearity", "activations", "prediction-error", "linear-regression",
                 MANUAL, "gradient-descent")  # the order the lecture teaches them in
GRADED = ("linear-regression", "perceptron")


@dataclass(frozen=True)
class LectureTemplate:
    """A validated lecture template."""

    id: str
    title: str
    description: str
    instructions: str
    sheets: tuple[tuple[str, Any], ...]  # (kind, that module's Settings), in workbook order
    rubric: Rubric | None  # None: the graded sheet's default rubric
    manual: Assignment | None  # the manual-ML sheet's template, when the lecture includes it
    source: str = "<string>"
    paper: str = "A4"  # [lecture] paper: every sheet prints on it

    @property
    def graded_kinds(self) -> list[str]:
        return [kind for kind, _ in self.sheets if kind in GRADED]

    def settings(self, kind: str):
        return dict(self.sheets)[kind]

    def graded_sheet(self) -> GradedSheet:
        """The one graded sheet's description; TemplateError if there is none or more than one."""
        graded = self.graded_kinds
        if len(graded) != 1:
            found = ", ".join(graded) or "none"
            raise TemplateError(self.source, f"grading needs a template with exactly one graded sheet "
                                             f"({' or '.join(GRADED)}); this one has: {found}. Grade with "
                                             "lecture-linear-regression or lecture-perceptron")
        kind = graded[0]
        return SHEETS[kind].graded_sheet(self.settings(kind), self.rubric, self.id, self.title)

    gradable = graded_sheet  # the name callers used before every sheet had a GradedSheet


def load_lecture(path: str | Path) -> LectureTemplate:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(str(path), f"cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(str(path), f"not valid TOML: {exc}") from None
    return parse_lecture(raw, source=str(path), base_dir=path.parent)


def parse_lecture(raw: dict, *, source: str = "<string>", base_dir: Path | None = None) -> LectureTemplate:
    """Validate a lecture template's TOML data; `base_dir` is where a relative manual_template path is found."""
    top = Table(source, "", raw)
    ident, title, description, instructions = read_assignment_table(top)
    lecture = top.table("lecture", required=True)
    kinds = lecture.get("sheets", list, required=True)
    manual_name = lecture.get("manual_template", str, "house-prices")
    paper = read_paper(lecture)
    lecture.finish()
    if not kinds:
        raise lecture.fail("sheets", f"name at least one sheet (choose from: {', '.join(LECTURE_ORDER)})")
    for kind in kinds:
        if kind not in LECTURE_ORDER:
            raise lecture.fail("sheets", f"unknown sheet {kind!r} (choose from: {', '.join(LECTURE_ORDER)})")
    if len(set(kinds)) != len(kinds):
        raise lecture.fail("sheets", "each sheet may appear once")
    sheets = []
    for kind in kinds:
        if kind == MANUAL:
            sheets.append((kind, None))
            continue
        sheets.append((kind, read_settings(SHEETS[kind].Settings, top.table(kind))))
    rubric = read_rubric(top.table("rubric")) if "rubric" in raw else None
    if rubric is not None and rubric.score_on != "sheet":
        raise TemplateError(top.source, "a lecture sheet has no hidden test rows: score_on must be 'sheet'",
                            "rubric.score_on")
    for key in raw:
        if key in SHEETS and key not in kinds:
            raise top.fail(key, f"settings for the sheet '{key}', which lecture.sheets does not list")
    if rubric is not None and not any(kind in GRADED for kind in kinds):
        raise top.fail("rubric", f"no graded sheet to apply it to (graded sheets: {', '.join(GRADED)})")
    top.finish()
    manual = None
    if MANUAL in kinds:
        from workbook.template_files import load

        beside = base_dir / manual_name if base_dir is not None and manual_name.endswith(".toml") else None
        manual = load(beside if beside is not None and beside.is_file() else manual_name)
        manual = replace(manual, hints=Hints(gradient=True),  # the lecture shows gradients beside the weights
                         display=replace(manual.display, paper=paper))  # one paper size for the whole workbook
    return LectureTemplate(id=ident, title=title, description=description, instructions=instructions,
                           sheets=tuple(sheets), rubric=rubric, manual=manual, source=source, paper=paper)


def read_settings(cls, table: Table):
    """A sheet's [table] -> its Settings dataclass; every field optional, typed by its default."""
    values = {}
    for f in fields(cls):
        default = f.default
        if isinstance(default, tuple):
            raw = table.get(f.name, list, None)
            if raw is not None:
                for i, item in enumerate(raw):
                    if isinstance(item, bool) or not isinstance(item, int | float):
                        raise table.fail(f.name, f"item {i + 1} should be a number, got {item!r}")
                values[f.name] = tuple(float(v) for v in raw)
        else:
            kind = float if isinstance(default, float) else type(default)
            value = table.get(f.name, kind, None)
            if value is not None:
                values[f.name] = value
    table.finish()
    settings = cls(**values)
    problem = settings.check()
    if problem:
        raise table.fail(*problem)
    return settings
