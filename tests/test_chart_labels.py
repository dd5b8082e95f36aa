"""Charts' axis numbers sit beside the plot, never on the zero line across the bars and curves.

LibreOffice draws tick labels "next to" the axis by default, and an axis crosses the other at 0: the
house-price chart's row numbers landed inside the negative predicted bars, and the lecture's activation
and linearity charts had their numbers written over the curves (seen in `manualml render`).
"""

from __future__ import annotations

import re
import zipfile

from workbook.builder import build_workbook
from workbook.catalog import load, load_any
from workbook.lecture.book import build_lecture


def _tick_positions(path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        return {name: re.findall(r'<(?:c:)?tickLblPos val="(\w+)"', z.read(name).decode())
                for name in sorted(z.namelist()) if name.startswith("xl/charts/chart")}


def test_house_price_chart_numbers_rows_below_the_bars(tmp_path):
    charts = _tick_positions(build_workbook(load("house-prices"), tmp_path / "hp.xlsx"))
    assert list(charts.values()) == [["low"]]  # the rows under the plot (the prices keep their default place)


def test_lecture_charts_put_both_axes_at_the_edges(tmp_path):
    for name in ("lecture-activations", "lecture-linearity"):
        charts = _tick_positions(build_lecture(load_any(name), tmp_path / f"{name}.xlsx"))
        assert charts and all(positions == ["low", "low"] for positions in charts.values()), (name, charts)


def test_the_contents_links_sit_beside_their_own_descriptions(tmp_path):
    # the link was at the bottom of its (tall, wrapped) row, right above the next sheet's description
    import openpyxl

    ws = openpyxl.load_workbook(build_lecture(load_any("lecture"), tmp_path / "lecture.xlsx"))["Contents"]
    rows = [(a, b) for a, b in ws.iter_rows(min_col=1, max_col=2) if a.hyperlink is not None]
    assert [a.value for a, _ in rows] == ["Neuron", "Perceptron", "Linearity", "Activations", "Prediction Error",
                                          "Linear Regression", "Manual Machine Learning", "Gradients",
                                          "Gradient Descent"]
    assert {(a.alignment.vertical, b.alignment.vertical) for a, b in rows} == {("top", "top")}
    assert rows[7][1].value.startswith("Backpropagation row by row: how each weight moves the error")
