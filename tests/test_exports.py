"""Exports an instructor can import safely: no formula runs, numbers rounded, findings counted."""

from __future__ import annotations

import csv

import pytest

from grader.csvsafe import TRIGGERS
from grader.exports import write_canvas, write_moodle
from grader.report import write_csv
from grader.results import TAMPER, Finding, GradeResult
from grader.similarity import Pair, write_similarity
from workbook.catalog import load

HOSTILE = ['=HYPERLINK("http://evil.example","Click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def _results():
    overwritten = Finding("formula-overwritten", TAMPER, "J11 holds =SUM(A11:B11)*3 instead of the formula "
                          "=w_h1_out*F11+w_h2_out*G11+b_out", cell="J11")
    out = []
    for i, name in enumerate(HOSTILE):
        out.append(GradeResult(file=f"{name}.xlsx", status="graded", student_id=name, student_name=name,
                               assignment="house-prices", metric_name="rmse", metric=28.026772914483036,
                               baseline=3731.3906217361776, improvement=0.9924889183, points=10.0, max_points=10.0,
                               findings=(overwritten,) * 12 if i == 0 else ()))
    out.append(GradeResult(file="ok.xlsx", status="graded", student_id="s9", assignment="house-prices",
                           metric_name="rmse", metric=4000.5, baseline=3731.39, improvement=-0.0721178, points=0.0,
                           max_points=10.0))
    return out


def _cells(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def export(writer: str, results, path):
    """`results` written by the gradebook ("csv"), Canvas or Moodle writer, with a roster of their students."""
    hp = load("house-prices")
    roster = {r.student_id: {"id": r.student_id, "name": r.student_name, "email": r.student_id + "@x"}
              for r in results}
    if writer == "csv":
        write_csv(results, path)
    elif writer == "canvas":
        write_canvas(results, hp, path, roster=roster)
    else:
        write_moodle(results, hp, path, roster=roster)
    return path


@pytest.mark.parametrize("writer", ["csv", "canvas", "moodle", "similarity"])
def test_no_cell_can_run_as_a_formula(tmp_path, writer):
    path = tmp_path / f"{writer}.csv"
    if writer == "similarity":
        write_similarity([Pair(HOSTILE[0], HOSTILE[1], 0.0, "identical")], path)
    else:
        export(writer, _results(), path)
    cells = _cells(path)
    dangerous = [c for c in cells if c.startswith(TRIGGERS) and not _is_number(c)]
    assert dangerous == []
    shown = "; ".join(sorted(HOSTILE[:2])) if writer == "similarity" else HOSTILE[0]
    assert "'" + shown in cells  # still readable, as typed


def test_numbers_rounded_codes_counted_no_formulas(tmp_path):
    results, hp = _results(), load("house-prices")
    write_csv(results, tmp_path / "g.csv")
    with (tmp_path / "g.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert (rows[0]["metric"], rows[0]["baseline"], rows[0]["improvement"]) == ("28.0268", "3731.39", "0.9924")
    assert rows[0]["findings"] == "formula-overwritten ×12"
    assert (rows[-1]["improvement"], rows[-1]["points"]) == ("-0.0721", "0")
    roster = {r.student_id: {"id": r.student_id, "name": r.student_name} for r in results}
    write_moodle(results, hp, tmp_path / "m.csv", roster=roster)
    with (tmp_path / "m.csv").open(encoding="utf-8") as handle:
        feedback = [r["Feedback"] for r in csv.DictReader(handle)]
    assert feedback[0] == "RMSE 28.03, improvement 99.24%; findings: formula-overwritten ×12"
    assert not any("=" in f for f in feedback)


def test_lms_exports_hold_only_roster_students(tmp_path):
    results, hp = _results(), load("house-prices")
    roster = {"s9": {"id": "s9", "name": "Nine"}}
    write_canvas(results, hp, tmp_path / "c.csv", roster=roster)
    with (tmp_path / "c.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[2:] == [["Nine", "", "s9", "", "", "0"]]
