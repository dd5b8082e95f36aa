"""What the instructor reads in the terminal after a run: one line per result, each error's reason,
every file not graded and why, and a summary (graded, mean and median points, findings by kind)."""

from __future__ import annotations

import statistics
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from grader.results import GradeResult
from workbook.shares import percent

WIDTH = 100


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.6g}" if value == value and abs(value) != float("inf") else str(value)


def _pct(value: float | None) -> str:
    return percent(value)  # cut like the sheet's Improvement: 98.96 % never reads as the 99 % tier


def name_of(r: GradeResult) -> str:
    """The full name and id, or the file's name when the workbook says nothing about its student."""
    if r.student_name and r.student_id:
        return f"{r.student_name} ({r.student_id})"
    return r.student_id or r.student_name or (Path(r.file).name if r.file else "—")


def counted(codes: Sequence[str]) -> str:
    """'formula-overwritten ×12, data-edited' — each code once, with how many times it occurred."""
    counts = Counter(codes)
    return ", ".join(code if n == 1 else f"{code} ×{n}" for code, n in counts.most_common())


def table(results: Sequence[GradeResult]) -> str:
    """One line per result. The metric's column is headed with its name when every result has the same one;
    results of several assignments (a folder holding two kinds of workbook) get an assignment column, so an
    RMSE of 3,731 and an accuracy of 1 never sit in one column unexplained."""
    graded = [r for r in results if r.graded]
    names = {r.metric_name for r in graded}
    several = len({r.assignment for r in results if r.assignment}) > 1
    metric = (next(iter(names)) if len(names) == 1 else "").upper() or "metric"
    head = ("student", *(("assignment",) if several else ()), metric, "baseline", "improvement", "points", "status")
    rows, reasons = [], {}
    for i, r in enumerate(results):
        if r.graded:
            status = counted([f.code for f in r.findings]) if r.findings else "ok"
            if r.penalised:
                status += "; 0 pts (integrity)"
        else:
            status = r.error_code or r.status
            reasons[i] = r.error
        rows.append((name_of(r), *((r.assignment or "—",) if several else ()),
                     _num(r.metric) + (f" {r.metric_name}" if several and r.metric_name and r.graded else ""),
                     _num(r.baseline), _pct(r.improvement),
                     f"{r.points:g}/{r.max_points:g}" if r.graded else "—", status))
    widths = [max(len(str(x[c])) for x in [head, *rows]) for c in range(len(head) - 1)]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]  # noqa: E731
    lines = [fmt(head).rstrip(), "  ".join("-" * w for w in widths) + "  " + "-" * len(head[-1])]
    for i, row in enumerate(rows):
        lines.append(fmt(row).rstrip())
        if reasons.get(i):
            lines += textwrap.wrap(reasons[i], WIDTH, initial_indent="    ", subsequent_indent="    ",
                                   break_on_hyphens=False)
    return "\n".join(lines)


def summary(results: Sequence[GradeResult], not_graded: int = 0) -> str:
    """`not_graded`: the other files found and not graded (listed above the summary)."""
    graded = [r for r in results if r.graded]
    missing = sum(r.status == "missing" for r in results)
    errors = len(results) - len(graded) - missing
    line = f"{len(graded)} of {len(results)} graded"
    if errors:
        line += f"; {errors} could not be graded"
    if missing:
        line += f"; {missing} student(s) handed in nothing"
    if not_graded:
        line += f"; {not_graded} other file{'s' if not_graded > 1 else ''} not graded (listed above)"
    if graded:
        points = [r.points for r in graded]
        line += (f". Points: mean {statistics.fmean(points):.2f}, median {statistics.median(points):g} "
                 f"of {graded[0].max_points:g}")
    findings = [f.code for r in graded for f in r.findings]
    lines = [line + "."]
    if findings:
        lines += textwrap.wrap(f"Findings: {counted(findings)}", WIDTH, subsequent_indent="  ",
                               break_on_hyphens=False)  # a code is one word: "baseline-edited", never "baseline-"
    return "\n".join(lines)


def plan_notes(plan) -> list[str]:
    """Every file found and not graded, superseded files, unmatched files, and the planner's notes."""
    lines = []
    on_purpose = [s for s in plan.skipped if s.on_purpose]
    for s in plan.skipped:
        if not s.on_purpose:
            lines.append(f"Not graded: {s.path}: {s.reason}")
    if on_purpose:
        lines.append(f"Skipped on purpose ({len(on_purpose)}): "
                     + "; ".join(f"{s.path} ({s.reason.removeprefix('skipped on purpose: ')})" for s in on_purpose))
    for s in plan.superseded:
        lines.append(f"Superseded: {s.path} ({s.student_id}): {s.reason}")
    for path in plan.unmatched:
        lines.append(f"Unmatched: {path} names no roster student and carries no valid stamp of one: graded "
                     "against the base template and left out of the LMS gradebooks")
    lines += [f"Note: {n}" for n in plan.notes]
    return [textwrap.fill(x, WIDTH, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
            for x in lines]


def render(results: Sequence[GradeResult], plan=None, *, notes: Sequence[str] = ()) -> str:
    parts = [table(results)]
    if plan is not None:
        parts += plan_notes(plan)
    parts += [textwrap.fill(f"Note: {n}", WIDTH, subsequent_indent="    ", break_long_words=False,
                            break_on_hyphens=False) for n in notes]
    parts.append(summary(results, len(plan.not_graded) if plan is not None else 0))
    return "\n".join(parts)
