"""Renderers of the one result model: terminal table, CSV gradebook, JSON, feedback, Gradescope.

Each function only formats `GradeResult`s; none re-reads a file or recomputes a grade. The feedback's
model section is derived from the result's weights by `grader.advice`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from grader import advice
from grader.results import TAMPER, WEIGHT, GradeResult
from grader.scoring import hint
from workbook.shares import metric_text, percent
from workbook.spec import Assignment

CSV_COLUMNS = ["student_id", "student_name", "file", "status", "metric_name", "metric", "baseline", "improvement",
               "points", "max_points", "penalised", "findings", "error"]


HIDDEN_COLUMNS = ["hidden_metric", "hidden_baseline", "hidden_improvement", "hidden_gap"]  # templates with [test]


def _num(value: float | None, digits: int = 6) -> str:
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.{digits}g}"


def _pct(value: float | None) -> str:
    return percent(value)  # cut like the sheet's Improvement: 98.96 % never reads as the 99 % tier


def who(result: GradeResult) -> str:
    return result.student_id or Path(result.file).stem


def table(results: Sequence[GradeResult]) -> str:
    """A fixed-width table for the terminal."""
    head = ("student/file", "metric", "baseline", "improvement", "points", "status")
    rows = []
    for r in results:
        status = r.error_code if not r.graded else ("ok" if not r.findings else f"{len(r.findings)} finding(s)")
        if r.penalised:
            status += ", 0 pts (integrity)"
        rows.append((who(r)[:28], _num(r.metric), _num(r.baseline), _pct(r.improvement),
                     f"{r.points:g}/{r.max_points:g}" if r.graded else "—", status))
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    graded = sum(r.graded for r in results)
    lines.append(f"{graded} of {len(results)} file(s) graded" + (f"; {len(results) - graded} could not be graded"
                                                                 if graded < len(results) else ""))
    return "\n".join(lines)


def gradebook_rows(results: Sequence[GradeResult]) -> list[dict]:
    """The gradebook's cells as text: numbers rounded, finding codes counted, text neutralised for spreadsheets."""
    from grader.csvsafe import fraction, number, text
    from grader.terminal import counted

    return [{
        "student_id": text(r.student_id), "student_name": text(r.student_name), "file": text(r.file),
        "status": r.status, "metric_name": r.metric_name, "metric": number(r.metric), "baseline": number(r.baseline),
        "improvement": fraction(r.improvement), "points": number(r.points) if r.graded else "",
        "max_points": number(r.max_points), "penalised": str(r.penalised),
        "findings": text(counted([f.code for f in r.findings])), "error": text(r.error),
        "hidden_metric": number(r.hidden_metric), "hidden_baseline": number(r.hidden_baseline),
        "hidden_improvement": fraction(r.hidden_improvement), "hidden_gap": number(r.hidden_gap),
    } for r in results]


def write_csv(results: Sequence[GradeResult], path: Path) -> Path:
    """The plain gradebook: one row per submission."""
    import csv

    columns = CSV_COLUMNS + (HIDDEN_COLUMNS if any(r.hidden_metric is not None for r in results) else [])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(gradebook_rows(results))
    return path


def write_json(results: Sequence[GradeResult], path: Path) -> Path:
    """Everything, every finding, for tools and audits."""
    payload = {"version": 1, "results": [_jsonable(r.to_dict()) for r in results]}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _jsonable(value):
    """JSON has no inf/nan: write them as strings rather than produce invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


MAX_WEIGHTS_LISTED = 40  # a perceptron has 401: a table of them helps nobody


CONSTANT_HINT = ("Every row gets the same prediction, so your network ignores its inputs: no setting of the "
                 "output bias alone can do better than predicting the average. Give each hidden neuron a non-zero "
                 "weight from an input and the output a non-zero weight from each hidden neuron, then tune them.")
TAMPERED_HINT = ("The grader found changes outside the yellow weight cells (listed above). Start again from the "
                 "workbook you were given and change only the weights.")
FIX_FIRST = ("The grader found changes outside the yellow weight cells. They cannot raise your score (everything is "
             "recomputed from your weights and the original data), but they must be undone:")
OVERFIT_HINT = ("Full marks on your sheet. To do as well on data you have not seen, look for weights that "
                "get every row roughly right rather than a few exactly right: a slightly higher error on your sheet "
                "can be a better model.")
SHORT_HINT = ("Good progress, but not yet full marks. Compare each predicted value with the true one: the rows with "
              "the largest error tell you which weight to adjust next. Smaller steps help near the end.")


def next_step(result: GradeResult, assignment, tips=()) -> str:
    """What to try next, praising only what earned it: 'Excellent' needs full points, no change outside the
    weights and a network that uses its inputs (a constant predictor can score well on the Improvement).
    A change outside the weights comes first: no praise ("Good progress", "Excellent") beside it."""
    if any(f.kind == WEIGHT for f in result.findings):
        return hint(assignment, None)
    if result.tamper_findings:
        return TAMPERED_HINT
    if any(getattr(t, "code", "") == "constant" for t in tips):
        return CONSTANT_HINT
    text = hint(assignment, result.improvement)
    if not text.startswith("Excellent"):
        return text
    if result.points < result.max_points:
        return SHORT_HINT
    if any(getattr(t, "code", "") == "overfitting" for t in tips):
        return OVERFIT_HINT  # "Excellent" right under "that is overfitting" would contradict the paragraph above
    return text


def feedback(result: GradeResult, assignment: Assignment, refs: advice.References | None = None, *,
             hidden: bool = True) -> str:
    """A Markdown page a student can read (`refs`: the reference losses, when the caller shares them;
    `hidden=False`: nothing about the hidden test rows, for output a student sees before the due date)."""
    abbr = assignment.metric_abbr
    lines = [f"# {assignment.title}", "", f"Submission: `{Path(result.file).name}`"]
    if result.student_name or result.student_id:
        lines.append(f"Student: {result.student_name} {f'({result.student_id})' if result.student_id else ''}")
    lines.append("")
    if result.error_code == "missing":  # a roster student with no file: there is nothing to fix in one
        lines[2] = "Submission: none"
        lines += ["**Nothing was handed in for you**, so there is no grade yet. If you did hand in a workbook, "
                  "tell your teacher which file it was."]
        return "\n".join(lines) + "\n"
    if not result.graded:
        lines += ["**This file could not be graded.**", "", result.error, "",
                  "Fix this and hand the file in again."]
        return "\n".join(lines) + "\n"
    tampered = result.tamper_findings
    if tampered:  # what must be fixed leads: the figures below count only once it is undone
        lines += ["## Fix this first", FIX_FIRST, *(f"- {f.message}" for f in tampered), "", "## Your score"]
    lines += [
        f"- Your {abbr}: **{metric_text(result.metric_name, result.metric, _num)}** (recomputed from your weights "
        "and the original data)",
        f"- Baseline {abbr} (starting weights): {metric_text(result.metric_name, result.baseline, _num)}",
        f"- Improvement: **{_pct(result.improvement)}**",
        f"- Points: **{result.points:g} of {result.max_points:g}**"
        + (" (set to 0 because of the changes listed above)" if result.penalised else ""),
        f"- Full marks: {assignment.rubric.full_marks(abbr)}",
        *(hidden_lines(result, assignment) if hidden else []),
        "",
    ]
    noticed = [f for f in result.findings if f.kind != TAMPER]
    if noticed:
        lines.append("## What the grader noticed")
        for f in noticed:
            tag = {WEIGHT: "weight"}.get(f.kind, "note")
            lines.append(f"- ({tag}) {f.message}")
        lines.append("")
    tips = model_tips(result, assignment, refs, hidden=hidden)
    if tips:
        lines += ["## What your network is doing", *(f"- {t.message}" for t in tips), ""]
    lines += ["## What to try next", next_step(result, assignment, tips)]
    if result.weights and len(result.weights) > MAX_WEIGHTS_LISTED:
        lines += ["", "## Your weights", "", f"{len(result.weights)} values were read (too many to list here)."]
    elif result.weights:
        lines += ["", "## Your weights", "", "| weight | value |", "| --- | --- |"]
        lines += [f"| {k} | {v:g} |" for k, v in result.weights.items()]
    return "\n".join(lines) + "\n"


def hidden_lines(result: GradeResult, assignment: Assignment) -> list[str]:
    """The hidden test rows' line of the feedback: their metric and the gap to the sheet's."""
    test = getattr(assignment, "test", None)
    if test is None or result.hidden_metric is None:
        return []
    rubric = assignment.rubric
    counted = {"sheet": "not counted in your points", "hidden": "your points are computed on these",
               "mix": f"{rubric.hidden_weight:.0%} of your points come from these"}[rubric.score_on]
    gap = result.hidden_gap
    return [f"- Your {assignment.metric_abbr} on {len(test.data.rows)} hidden {test.noun} (not in your workbook): "
            f"**{_num(result.hidden_metric)}**, "
            + (f"the same as on your sheet ({counted})" if gap == 0 else
               f"{_num(abs(gap))} {'higher' if gap > 0 else 'lower'} than the {_num(result.metric)} on your sheet "
               f"({counted})")]


def model_tips(result: GradeResult, assignment: Assignment, refs: advice.References | None = None, *,
               hidden: bool = True) -> list:
    """The model's feedback on a graded manual-ML result with every weight readable (else nothing)."""
    if not result.graded or not isinstance(assignment, Assignment) or any(f.kind == WEIGHT for f in result.findings):
        return []
    return advice.advise(assignment, result.weights, refs, hidden=hidden, tampered=bool(result.tamper_findings))


def feedback_name(result: GradeResult) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", who(result)) + ".md"


def write_feedback(results: Sequence[GradeResult], assignments: Sequence[Assignment], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written, used = [], set()
    refs = advice.class_references(assignments)  # variants of one assignment share one solve
    for result, assignment, ref in zip(results, assignments, refs, strict=True):
        name = feedback_name(result)
        stem = name[:-3]
        n = 2
        while name in used:
            name, n = f"{stem}-{n}.md", n + 1
        used.add(name)
        path = folder / name
        path.write_text(feedback(result, assignment, ref), encoding="utf-8")
        written.append(path)
    return written


def gradescope(result: GradeResult, assignment: Assignment) -> dict:
    """Gradescope autograder results.json for one submission.

    The tests' max_score adds up to the rubric's max_points (Gradescope rejects results whose
    total differs from the assignment's points); the integrity test is worth 0 and only reports.
    """
    if not result.graded:
        return {"score": 0.0, "output": f"This file could not be graded: {result.error}", "output_format": "text",
                "tests": [{"name": "Workbook can be read", "score": 0.0, "max_score": float(result.max_points),
                           "status": "failed", "output": result.error}]}
    tamper = [f for f in result.findings if f.kind == TAMPER]
    weight_problems = [f for f in result.findings if f.kind == WEIGHT]
    main_output = (f"Your {assignment.metric_abbr}: {_num(result.metric)}; baseline {_num(result.baseline)}; "
                   f"improvement {_pct(result.improvement)}.")
    if weight_problems:
        main_output += " " + " ".join(f.message for f in weight_problems)
    tests = [
        {"name": f"Improvement over baseline ({assignment.metric_abbr})", "score": float(result.points),
         "max_score": float(result.max_points),
         "status": "passed" if result.points >= result.max_points else "failed", "output": main_output},
        {"name": "Workbook integrity", "score": 0.0, "max_score": 0.0,
         "status": "failed" if tamper else "passed",
         "output": "\n".join(f.message for f in tamper) or "Nothing but the weights was changed."},
    ]
    test = getattr(assignment, "test", None)
    shown = test is None or test.leaderboard  # may students see the hidden rows' results at once?
    if test is not None and result.hidden_metric is not None:
        tip = advice.hidden_tip(assignment, result.weights, result.metric)
        tests.append({"name": f"Hidden test ({len(test.data.rows)} {test.noun} not in your workbook)", "score": 0.0,
                      "max_score": 0.0, "status": "failed" if tip and tip.code == "overfitting" else "passed",
                      "output": " ".join(hidden_lines(result, assignment)).removeprefix("- ").replace("**", "")
                      + (f"\n{tip.message}" if tip else ""),
                      "visibility": "visible" if shown else "after_due_date"})
    payload = {"score": float(result.points), "output": feedback(result, assignment, hidden=shown),
               "output_format": "md", "tests": tests}
    board = leaderboard(result, assignment)
    if board:
        payload["leaderboard"] = board
    return payload


def leaderboard(result: GradeResult, assignment) -> list[dict]:
    """Gradescope leaderboard entries: the metric on the sheet's rows, and on the hidden rows when the template's
    [test] leaderboard allows it (else a student could probe the hidden rows by resubmitting)."""
    if not result.graded or result.metric is None or not math.isfinite(result.metric):
        return []
    order = "desc" if getattr(assignment, "higher_is_better", False) else "asc"
    board = [{"name": f"{assignment.metric_abbr} (sheet)", "value": float(result.metric), "order": order}]
    test = getattr(assignment, "test", None)
    if test is not None and test.leaderboard and result.hidden_metric is not None \
            and math.isfinite(result.hidden_metric):
        board.append({"name": f"{assignment.metric_abbr} ({len(test.data.rows)} hidden {test.noun})",
                      "value": float(result.hidden_metric), "order": "asc"})
    return board


def write_gradescope(result: GradeResult, assignment: Assignment, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(gradescope(result, assignment)), indent=2, ensure_ascii=False),
                    encoding="utf-8")
    return path
