"""Gradescope: results.json is always written; the one workbook among the uploads is graded."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from manualml.cli import main
from workbook.builder import build_workbook
from workbook.catalog import load


@pytest.fixture
def upload(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    return folder


def _run(folder, tmp_path):
    target = tmp_path / "results" / "results.json"
    result = CliRunner().invoke(main, ["grade", str(folder), "-t", "house-prices", "--gradescope", str(target)],
                                catch_exceptions=False)
    return result, json.loads(target.read_text())


def test_one_workbook_among_other_uploads_is_graded(upload, tmp_path):
    build_workbook(load("house-prices"), upload / "house-prices.xlsx")
    (upload / "export.csv").write_text("area,price\n85,200\n")
    (upload / "notes.txt").write_text("see attached")
    (upload / ".DS_Store").write_bytes(b"\0")
    result, payload = _run(upload, tmp_path)
    assert result.exit_code == 0, result.output
    assert payload["score"] == 0.0 and payload["tests"][0]["name"] == "Improvement over baseline (RMSE)"
    assert sum(t["max_score"] for t in payload["tests"]) == 10.0
    assert "Graded house-prices.xlsx; also uploaded, not graded: export.csv, notes.txt" in result.output
    assert "Graded house-prices.xlsx; also uploaded, not graded: export.csv, notes.txt" in payload["output"]


@pytest.mark.parametrize(("files", "message"), [
    ((), "no spreadsheet was uploaded: upload the workbook you were given, saved as .xlsx (or .ods)"),
    (("notes.txt",), "no spreadsheet was uploaded (uploaded: notes.txt): upload the workbook you were given, saved "
                     "as .xlsx (or .ods)"),
    (("a.xlsx", "b.xlsx"), "2 workbooks were uploaded (a.xlsx, b.xlsx): upload only the one workbook to grade, then "
                           "resubmit"),
    (("only.csv",), "this is a CSV text file: it keeps only the values shown, no formulas and no weight names, so "
                    "it cannot be graded; hand in an Excel Workbook (.xlsx) or an OpenDocument Spreadsheet (.ods) "
                    "itself"),
])
def test_none_or_several_still_write_results(upload, tmp_path, files, message):
    for name in files:
        if name.endswith(".xlsx"):
            build_workbook(load("house-prices"), upload / name)
        else:
            (upload / name).write_text("area,price\n85,200\n")
    result, payload = _run(upload, tmp_path)
    assert result.exit_code == 0, result.output
    assert payload["score"] == 0.0
    assert payload["tests"][0]["status"] == "failed" and payload["tests"][0]["output"] == message
    assert sum(t["max_score"] for t in payload["tests"]) == 10.0
