"""A small sheet's issued data and saved results are compared cell by cell in plain Python, a big one's as
NumPy arrays: both must find exactly the same, on every kind of edit (the arrays' way is forced by setting
the size under which the plain way is taken to 0)."""

from __future__ import annotations

import re

import pytest

from grader import integrity
from grader.grade import grade_file
from tests.submissions import rewrite_member, set_cached_value
from workbook.builder import build_workbook
from workbook.catalog import load

SHEET = "xl/worksheets/sheet2.xml"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    return build_workbook(load("house-prices"), tmp_path_factory.mktemp("small") / "issued.xlsx")


def _cell(ref: str, inner: str, kind: str = ""):
    """Replace cell `ref`'s content (children) by `inner`, with type attribute `kind` if given."""
    def edit(xml: str) -> str:
        pattern = re.compile(rf'<c r="{ref}"( s="\d+")?( t="\w+")?>.*?</c>')
        kind_attr = f' t="{kind}"' if kind else ""
        new, n = pattern.subn(lambda m: f'<c r="{ref}"{m.group(1) or ""}{kind_attr}>{inner}</c>', xml, count=1)
        assert n == 1, ref
        return new
    return edit


def _all(*edits):
    def edit(xml: str) -> str:
        for e in edits:
            xml = e(xml)
        return xml
    return edit


def _no_saved_results(xml: str) -> str:
    return re.sub(r"(<f>[^<]*</f>)<v>[^<]*</v>", r"\1", xml)


EDITS = {
    "as-issued": lambda xml: xml,
    "data-typed-over": _cell("A12", "<v>121</v>"),
    "data-nearly-the-same": _cell("A12", "<v>120.00000000001</v>"),
    "data-as-text": _cell("B13", "<is><t>one</t></is>", "inlineStr"),
    "data-as-formula": _cell("I14", "<f>700+50</f><v>750</v>"),
    "data-true": _cell("A11", "<v>1</v>", "b"),
    "data-inf": _cell("A15", "<v>inf</v>"),
    "data-nan": _cell("A16", "<v>nan</v>"),
    "data-empty": _cell("B12", ""),
    "baseline-edited": _cell("M14", "<v>1</v>"),
    "prediction-cache-wrong": lambda xml: set_cached_value(xml, "J12", 12.5),
    "prediction-cache-inf": lambda xml: set_cached_value(xml, "J13", float("inf")),
    "prediction-typed-over": _cell("J14", "<v>-6487</v>"),
    "prediction-as-text": _cell("J15", "<f>w_h1_out*E15+w_h2_out*G15+b_out</f><v>x</v>", "str"),
    "metric-cache-wrong": lambda xml: set_cached_value(xml, "M11", 3.0),
    "metric-wrong-and-data-edited": _all(lambda xml: set_cached_value(xml, "M11", 3.0), _cell("A12", "<v>5</v>")),
    "row-cache-wrong-where-data-edited": _all(lambda xml: set_cached_value(xml, "J12", 1.0), _cell("A12", "<v>5</v>")),
    "never-recalculated": _no_saved_results,
}


UNNOTICED = {"as-issued", "data-nearly-the-same",  # within the tolerance
             "prediction-as-text"}  # a formula whose saved result is text: nothing to compare


def _findings(path) -> list:
    result = grade_file(path, load("house-prices"))
    assert result.status == "graded", result.error
    return [(f.code, f.kind, f.message, f.cell, f.expected, f.found) for f in result.findings]


@pytest.mark.parametrize("case", list(EDITS))
def test_plain_and_array_comparisons_agree(tmp_path, issued, monkeypatch, case):
    path = rewrite_member(issued, tmp_path / f"{case}.xlsx", SHEET, EDITS[case])
    plain = _findings(path)
    monkeypatch.setattr(integrity, "SMALL_CELLS", 0)
    assert plain == _findings(path)
    assert bool(plain) == (case not in UNNOTICED)


def test_the_plain_way_is_taken_on_a_small_sheet(tmp_path, issued, monkeypatch):
    """Proof that the comparison above compares two ways: the arrays are never built on a small sheet."""
    def no_arrays(*args, **kwargs):
        raise AssertionError("the arrays' way was taken")

    monkeypatch.setattr(integrity, "_Saved", no_arrays)
    monkeypatch.setattr(integrity, "close", no_arrays)
    path = rewrite_member(issued, tmp_path / "edited.xlsx", SHEET, _cell("A12", "<v>121</v>"))
    assert [f[0] for f in _findings(path)] == ["data-edited"]
