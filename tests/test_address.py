"""workbook.address: A1 text, Excel's quoting rule, parsing; and every sheet label a template allows
survives a real round trip (generated, recalculated by LibreOffice, graded)."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest

from grader.grade import grade_file
from workbook import address, libreoffice, model
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.errors import TemplateError
from workbook.layout import layout_for
from workbook.spec import parse_template

ERROR_TEXT = ("#VALUE!", "#NAME?", "#REF!", "#NUM!", "#DIV/0!", "#N/A", "#NULL!", "Err:")


@pytest.mark.parametrize(("exp", "got"), [
    ("A", address.col_letter(1)), ("Z", address.col_letter(26)), ("AA", address.col_letter(27)),
    ("AZ", address.col_letter(52)), ("BA", address.col_letter(53)), ("XFD", address.col_letter(16384)),
    (1, address.col_index("A")), (28, address.col_index("ab")), (16384, address.col_index("XFD")),
    ("E12", address.a1(12, 5)), ("AA3", address.a1(3, 27)), ("M9", address.a1(9, "M")),
    (("E", 12), address.split_ref("$E$12")), (("AB", 7), address.split_ref("ab7")),
    ((12, 28), address.position("AB12")), ("L11", address.offset("K10", 1, 1)), ("K9", address.offset("K10", -1)),
    ((8, 11, 10, 12), address.box("$L$10:K8")), ((5, 3, 5, 3), address.box("C5")),
    (("K8", "L10"), address.corners("L10:K8")), (["K8", "L8", "K9", "L9"], address.cells_of("K8:L9")),
    ("$E$6", address.dollar("E6")), ("$B$5:$U$24", address.dollar("B5:U24")), ("E6", address.undollar("$E$6")),
    (True, address.within("$C$5", "A1:S16")), (True, address.within("C5:D6", "A1:S16")),
    (False, address.within("T5", "A1:S16")), (False, address.within("#REF!", "A1:S16")),
])
def test_a1_text(exp, got):
    assert got == exp


@pytest.mark.parametrize(("sheet", "exp"), [
    ("Data", "Data"), ("Sheet_1", "Sheet_1"), ("_x", "_x"),
    ("Manual Machine Learning", "'Manual Machine Learning'"), ("Kim's sheet", "'Kim''s sheet'"),
    ("2024 prices", "'2024 prices'"), ("2024", "'2024'"), ("Preise für Häuser", "'Preise für Häuser'"),
    ("Häuser", "'Häuser'"), ("A1", "'A1'"), ("xfd1048576", "'xfd1048576'"), ("R1C1", "'R1C1'"), ("R", "'R'"),
    ("c3", "'c3'"), ("RC", "'RC'"), ("TRUE", "'TRUE'"), ("Sheet.1", "'Sheet.1'"), ("a-b", "'a-b'"),
    ("Wow!", "'Wow!'"), ("ABCD1", "ABCD1"), ("Rates", "Rates"),
])
def test_quote_sheet(sheet, exp):
    assert address.quote_sheet(sheet) == exp
    assert address.parse_reference(f"{exp}!$C$5") == (sheet, "$C$5")


@pytest.mark.parametrize(("text", "exp"), [
    ("'Kim''s sheet'!$E$6", ("Kim's sheet", "$E$6")), ("Sheet1!A1:B2", ("Sheet1", "A1:B2")),
    ("'My Sheet'!$C$5:$C$9", ("My Sheet", "$C$5:$C$9")), ("'S'!A1:'S'!B2", ("S", "A1:B2")),
    ("='It''s!'!B3", ("It's!", "B3")), ("C5", ("", "C5")), ("#REF!", ("#REF", "")),
    ("'''x'''!A1", ("'x'", "A1")),
])
def test_parse_reference(text, exp):
    assert address.parse_reference(text) == exp


@pytest.mark.parametrize(("ods", "exp"), [
    ("$Sheet1.$C$5", "Sheet1!$C$5"), ("$'My Sheet'.$C$5:.$C$9", "'My Sheet'!$C$5:$C$9"),
    ("$'Kim''s sheet'.$E$6", "'Kim''s sheet'!$E$6"), (".A12", "A12"), (".A12:.B13", "A12:B13"),
    ("$'a:b'.B2", "'a:b'!B2"), ("$'2024 prices'.$E$6", "'2024 prices'!$E$6"),
])
def test_ods_reference(ods, exp):
    assert address.ods_to_excel(ods) == exp


@pytest.mark.parametrize(("exp", "got"), [
    ("'Kim''s sheet'!$E$6", address.absolute("Kim's sheet", "E6")),
    ("Data!$B$5:$U$24", address.absolute("Data", "B5:U24")),
    ("'2024 prices'!B5", address.qualified("2024 prices", "B5")),
])
def test_absolute_and_qualified(exp, got):
    assert got == exp


@pytest.mark.parametrize("bad", ["", "E", "12", "E0x", "E$"])
def test_not_a_cell(bad):
    with pytest.raises(address.AddressError):
        address.split_ref(bad)


LABELS = ["Kim's sheet", "2024 prices", "Preise für Häuser", "My sheet with spaces", "x" * 31, "A1", "R2C3"]


def _with_sheet(label: str):
    """house-prices with its sheet label set in the template, as an instructor would."""
    source = Path(load("house-prices").source)
    text = source.read_text(encoding="utf-8").replace("[labels]\n", f'[labels]\nsheet = "{label}"\n', 1)
    return parse_template(text, source=f"<{label}>", base_dir=source.parent)


@pytest.mark.parametrize(("label", "problem"), [
    ("x" * 32, "a sheet name has at most 31 characters"), ("a/b", "a sheet name cannot contain /"),
    ("'quoted'", "a sheet name cannot start or end with an apostrophe"), ("History", "Excel reserves"),
    ("Instructions", "the sheet 'Instructions' is already in the workbook"),
])
def test_template_refuses_sheet_names_excel_refuses(label, problem):
    text = Path(load("house-prices").source).read_text(encoding="utf-8")
    text = text.replace("[labels]\n", f'[labels]\nsheet = "{label}"\n', 1)
    with pytest.raises(TemplateError) as err:
        parse_template(text, base_dir=Path(load("house-prices").source).parent)
    assert problem in str(err.value) and "labels.sheet" in str(err.value)


def test_every_allowed_label_round_trips(soffice, tmp_path):
    """Generated, recalculated by LibreOffice (forced), then graded: no error cell, NumPy's RMSE, no finding."""
    assignments = [_with_sheet(label) for label in LABELS]
    assert [a.label("sheet") for a in assignments] == LABELS
    issued = [build_workbook(a, tmp_path / f"{i}.xlsx") for i, a in enumerate(assignments)]
    saved = libreoffice.recalculate(issued, tmp_path / "saved")
    for a, fresh, done in zip(assignments, issued, saved, strict=True):
        lay = layout_for(a)
        wb = openpyxl.load_workbook(done, data_only=True)
        assert wb.sheetnames == ["Instructions", a.label("sheet")]
        errors = [c.coordinate for row in wb[a.label("sheet")].iter_rows() for c in row
                  if isinstance(c.value, str) and c.value.startswith(ERROR_TEXT)]
        assert errors == [], a.label("sheet")
        assert math.isclose(wb[a.label("sheet")][lay.metric_cell].value, model.loss(a), rel_tol=1e-9)
        names = openpyxl.load_workbook(fresh).defined_names
        assert names["w_in1_h1"].attr_text == address.absolute(a.label("sheet"), lay.param_cells["w_in1_h1"])
        assert [f.code for f in grade_file(fresh, a).findings] == []  # issued with NumPy's results cached
        result = grade_file(done, a)
        assert (result.status, [f.code for f in result.findings]) == ("graded", [])
        assert result.improvement == 0.0


def test_only_the_address_module_turns_numbers_into_letters_or_parses_cells():
    """openpyxl's own address helpers (get_column_letter, column_index_from_string, coordinate_to_tuple,
    range_boundaries...) or column arithmetic (chr(65 + i)) anywhere else would be a second rule."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    banned = re.compile(r"get_column_letter|column_index_from_string|coordinate_to_tuple|coordinate_from_string|"
                        r"range_boundaries|cols_from_range|rows_from_range|chr\(\s*6[45]\s*\+|ord\(\s*['\"]A['\"]|"
                        r"A-Z\]\{1,3\}|A-Za-z\]\{1,3\}")  # and no pattern of its own for a cell's letters
    found = [f"{p.relative_to(root)}:{i}" for package in ("workbook", "grader", "manualml")
             for p in sorted((root / package).rglob("*.py")) if p.name != "address.py"
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if banned.search(line)]
    assert found == []
