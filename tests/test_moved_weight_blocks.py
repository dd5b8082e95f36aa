"""A block of weights under one defined name (the perceptron's 20×20 grid) is read where its name points.

A student who inserts a row above the grid in LibreOffice moves the whole block one row down, and
LibreOffice moves `pc_weights` with it. The grader read the block at its issued cells: 'cell B7 (w_r1_c1)
holds text "Weights: one per pixel…"; type a number', five weight findings and no score, for weights the
student had typed correctly. It now reads them where the name points, grades them as if nothing moved,
and reports the one edit.
"""

from __future__ import annotations

import pytest

from grader.grade import grade_file
from workbook.catalog import load_any
from workbook.lecture.book import build_lecture


@pytest.fixture(scope="module")
def perceptron_files(uno_python, tmp_path_factory):
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("moved-block")
    a = load_any("lecture-perceptron")
    issued = build_lecture(a, folder / "issued.xlsx")
    typed = {"Perceptron!B4": -5, "Perceptron!N10": 9}  # the bias, and the weight of pixel (row 4, column 13)
    (clean,) = libreoffice.edit_and_save(issued, typed, [folder / "clean.xlsx"])
    moved = libreoffice.edit_and_save(issued, {**typed, "insert-rows:Perceptron!A3": 1},
                                      [folder / "moved.xlsx", folder / "moved.ods"])
    return a, clean, moved


def test_a_moved_block_is_graded_where_its_name_points(perceptron_files):
    a, clean, moved = perceptron_files
    expected = grade_file(clean, a)
    assert expected.findings == () and {k: v for k, v in expected.weights.items() if v} == {
        "pc_bias": -5.0, "w_r4_c13": 9.0}
    assert expected.metric == pytest.approx(5 / 12)  # 5 of the 12 images right with these weights
    for path in moved:
        r = grade_file(path, a)
        assert r.weights == expected.weights and r.metric == expected.metric and r.points == expected.points
        assert [f.code for f in r.findings] == ["row-inserted"], (path, r.findings)
