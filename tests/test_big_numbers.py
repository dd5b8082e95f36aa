"""A template of big numbers (villa prices in euros) is as tidy as the house-price sheet: columns wide
enough for the squared errors as issued (no ###), and sentences that write 2,043,562, not 2.044e+06."""

from __future__ import annotations

import subprocess
import textwrap

import openpyxl
import pytest
from click.testing import CliRunner

from manualml.cli import main
from workbook import libreoffice
from workbook.builder import build_workbook
from workbook.layout import layout_for
from workbook.number_text import plain_number, shown_text, shown_width
from workbook.spec import parse_template

VILLAS = textwrap.dedent("""
    [assignment]
    id = "villa-prices"
    title = "Villa prices in euros"
    instructions = "Tune the weights."
    [data]
    inputs = [{ label = "Living area", unit = "m²" }, { label = "Distance to the sea", unit = "km" }]
    target = { label = "Sale price", unit = "EUR" }
    rows = [[210, 0.4, 1850000], [95, 12.5, 420000], [160, 3.2, 1125000], [310, 0.1, 3990000], [120, 25, 310000]]
    [network]
    hidden = [3]
    activations = ["sigmoid"]
    [weights.random]
    seed = 3
    [rubric]
    max_points = 10
    tiers = [{ min_improvement = 0.9, points = 10 }]
    [display]
    number_format = "#,##0.00"
""")


@pytest.mark.parametrize("value, fmt, text", [
    (3.4225013319697e12, "#,##0.00", "3,422,501,331,969.70"), (0.5, "0.000", "0.500"), (-12.345, "0.00", "-12.35"),
    (0.9896, "0.00%", "98.96%"), (1850000.0, "#,##0", "1,850,000"), (12.5, "General", "12.5"),
    (2.5e-3, "0.00E+00", "0.0025"), (float("inf"), "0.00", "#NUM!"), (7.0, "0.00;[Red]-0.00", "7.00"),
])
def test_shown_text(value, fmt, text):
    assert shown_text(value, fmt) == text


def test_shown_width_and_plain_number():
    assert shown_width([1.0, -1234.5], "#,##0.00") == len("-1,234.50") and shown_width([], "0") == 0
    assert shown_width([0.5, 99999.25, -3.0], "0.00") == len("99999.25")
    assert shown_width([0.123456789, 12.5, -7.0], "General") == len("13")  # General drops decimals to fit
    assert shown_width([float("nan"), 2.0], "0.0") == len("2.0")
    assert [plain_number(v) for v in (3731.387789, 2043562.11, 0.45213, 12.5, 0.0, 3e-6, 999.95)] == \
        ["3,731", "2,043,562", "0.4521", "12.5", "0", "3.00e-06", "1000"]


def test_columns_fit_the_issued_numbers_and_sentences_write_them_plainly(tmp_path):
    a = parse_template(VILLAS)
    path = build_workbook(a, tmp_path / "villas.xlsx")
    wb = openpyxl.load_workbook(path)
    main_sheet = wb[a.label("sheet")]
    error_col = layout_for(a).error_col
    assert main_sheet.column_dimensions[error_col].width >= len("15,920,102,872,798.70") + 2
    assert main_sheet.column_dimensions["A"].width == 15  # what needs no more keeps its width
    text = [c.value for c in wb["Instructions"]["A"] if isinstance(c.value, str)]
    assert "Starting RMSE (baseline): 2,043,562. Improvement = (baseline − your RMSE) / baseline." in text


def test_the_cli_line_writes_the_baseline_plainly(tmp_path):
    (tmp_path / "villas.toml").write_text(VILLAS, encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", "-t", str(tmp_path / "villas.toml"), "-o", str(tmp_path / "v.xlsx")])
    assert result.exit_code == 0, result.output
    assert "  Villa prices in euros: network 2-3-1, 5 rows, baseline RMSE 2,043,562" in result.output


def test_libreoffice_prints_every_number_of_the_villa_sheet(soffice, tmp_path):
    path = build_workbook(parse_template(VILLAS), tmp_path / "villas.xlsx")
    pdf = libreoffice.recalculate([path], tmp_path / "pdf", fmt="pdf")[0]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "###" not in text and "e+06" not in text
    assert "15,920,102,872,798.70" in text and "2,043,562.11" in text
