"""Issue 13, item 7 (audit): OWASP's CSV-injection list, spelled out here rather than taken from the code.

tests/test_exports.py checks the exports against `grader.csvsafe.TRIGGERS`, the very tuple the writers use,
so a trigger dropped from it (a tab, a carriage return) would go unnoticed by both. Here the list is OWASP's
own (=, +, -, @, tab, carriage return): every roster name and file name starting with one of them must reach
each export with a leading apostrophe, as typed otherwise, and no text cell may start with one.
"""

from __future__ import annotations

import pytest

from grader.results import GradeResult
from grader.similarity import Pair, write_similarity
from tests.test_exports import _cells, _is_number, export

OWASP = ("=", "+", "-", "@", "\t", "\r")
NAMES = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1", "\t\tAnn", "\rBo"]


def _results():
    return [GradeResult(file=f"{name}.xlsx", status="graded", student_id=f"s{i}", student_name=name,
                        assignment="house-prices", metric_name="rmse", metric=30.5, baseline=3731.39,
                        improvement=-0.25 if i == 0 else 0.99, points=10.0, max_points=10.0)
            for i, name in enumerate(NAMES)]




@pytest.mark.parametrize("writer", ["csv", "canvas", "moodle"])
def test_every_owasp_trigger_is_neutralised(tmp_path, writer):
    cells = _cells(export(writer, _results(), tmp_path / f"{writer}.csv"))
    assert [c for c in cells if c.startswith(OWASP) and not _is_number(c)] == []
    for name in NAMES:
        assert "'" + name in cells, (writer, name)  # the name itself, shown as typed
    if writer == "csv":
        assert "-0.25" in cells  # a negative number stays a number


def test_similarity_groups_are_neutralised(tmp_path):
    path = tmp_path / "similar.csv"
    write_similarity([Pair("\t=1+1", "\rBo", 0.0, "identical")], path)
    cells = _cells(path)
    assert [c for c in cells if c.startswith(OWASP) and not _is_number(c)] == []
    assert any(c.startswith("'") and "=1+1" in c and "Bo" in c for c in cells)
