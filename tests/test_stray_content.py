"""Numbers and formulas typed inside the layout where nothing is graded: a note naming the cell, never a cost.

A student scribbles a trial value in the blank row between the weights and the data table, or
types a weight into its label instead of its yellow cell. The grader ignores both (it reads the
yellow cells), but says which cell holds what, as a note: scratch work is not punished, and a
layout typed over is visible. The files are edited and saved by LibreOffice, as a student would;
files LibreOffice saved with nothing typed there (and the [hints] gradient cells, which the
builder writes beside the weights) get no such note.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader import cells as cells_module
from grader.grade import grade_file
from grader.reader import read_submission
from grader.results import INFO
from workbook.address import col_index, col_letter
from workbook.builder import build_workbook
from workbook.catalog import load
from workbook.layout import layout_for
from workbook.spec import load_template, parse_template

SHEET = "Manual Machine Learning"
TAIL = " where the issued sheet has nothing to grade: the grader ignores it and reads only the yellow cells " \
       "(a weight belongs in its yellow cell)"


@pytest.fixture(scope="module")
def hp():
    return load("house-prices")


@pytest.fixture(scope="module")
def saved(uno_python, hp, tmp_path_factory):
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("stray")
    issued = build_workbook(hp, folder / "issued.xlsx")
    plans = {
        # C9: the blank row between the weights (rows 6-8) and the data table; L12: the column between the
        # squared errors and the RMSE; D6: the label "Weight: in1→h1" beside the yellow E6; A4: a text note
        "scribbles": {f"{SHEET}!C9": 12.5, f"{SHEET}!L12": "=E6*2", f"{SHEET}!D6": 5.0,
                      f"{SHEET}!A4": "try w_in1_h1 = 4 next", "w_h1_out": 1.5},
        "unchanged": {},
    }
    out = {}
    for name, edits in plans.items():
        out[name], out[name + ".ods"] = libreoffice.edit_and_save(issued, edits, [folder / f"{name}.xlsx",
                                                                                folder / f"{name}.ods"])
    return out


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_numbers_and_formulas_in_blank_cells_are_notes(saved, hp, suffix):
    r = grade_file(saved["scribbles" + suffix], hp)
    assert r.status == "graded", r.error
    assert [(f.code, f.kind, f.cell, f.message) for f in r.findings] == [
        ("content-added", INFO, f"'{SHEET}'!D6", f"cell D6 holds 5{TAIL}"),
        ("content-added", INFO, f"'{SHEET}'!C9", f"cell C9 holds 12.5{TAIL}"),
        ("content-added", INFO, f"'{SHEET}'!L12", f"cell L12 holds =E6*2{TAIL}"),
    ]
    assert r.weights["w_h1_out"] == 1.5 and not r.penalised  # costs nothing
    assert r.points == hp.rubric.points(r.improvement, r.metric)


@pytest.fixture(scope="module")
def column(uno_python, tmp_path_factory):
    """A 60-row sheet whose spacer column (after the inputs) got a formula in 30 data rows, in LibreOffice:
    those rows are alike, so the grader reads them in bulk, as one run of uniform rows."""
    from workbook import libreoffice

    folder = tmp_path_factory.mktemp("stray-column")
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 9, size=(60, 2)).round(2)
    rows = "\n".join(f"{a},{b},{2 * a - b:.2f}" for a, b in X)
    (folder / "d.csv").write_text(f"a,b,y\n{rows}\n")
    (folder / "t.toml").write_text('[assignment]\nid = "col"\ntitle = "Col"\n[data]\ncsv = "d.csv"\n'
                                   'inputs = [{ label = "a" }, { label = "b" }]\ntarget = { label = "y" }\n'
                                   '[network]\nhidden = [2]\n[weights.random]\nseed = 1\n')
    a = load_template(folder / "t.toml")
    lay = layout_for(a)
    spacer = col_letter(col_index(lay.input_cols[-1]) + 1)
    first = lay.first_row + 20
    edits = {f"{SHEET}!{spacer}{r}": f"={lay.input_cols[0]}{r}*2" for r in range(first, first + 30)}
    files = libreoffice.edit_and_save(build_workbook(a, folder / "issued.xlsx"), edits,
                                      [folder / "column.xlsx", folder / "column.ods"])
    return a, files, spacer, first, lay.input_cols[0]


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
@pytest.mark.parametrize("bulk", [True, False])
def test_a_column_of_them_is_listed_then_counted(monkeypatch, column, suffix, bulk):
    a, files, spacer, first, col = column
    path = next(f for f in files if f.suffix == suffix)
    monkeypatch.setattr(cells_module, "BULK_MIN_BYTES", 0 if bulk else 1 << 62)
    if bulk:  # the edited rows really are read as a run, with the spacer column in its template
        runs = read_submission(str(path), a.graded_sheet()).cells.runs
        assert any(col_index(spacer) in {tc.col for tc in run.template.cells} for run in runs)
    r = grade_file(path, a)
    assert [f.message for f in r.findings] == [
        *(f"cell {spacer}{row} holds ={col}{row}*2{TAIL}" for row in range(first, first + 5)),
        "... and 25 more cells hold numbers or formulas where the issued sheet has nothing to grade: the grader "
        "ignores them"]
    assert {f.kind for f in r.findings} == {INFO}


@pytest.mark.parametrize("suffix", ["", ".ods"])
def test_files_saved_unchanged_have_no_note(saved, hp, suffix):
    assert grade_file(saved["unchanged" + suffix], hp).findings == ()


def test_gradient_hints_are_the_builders_not_the_students(uno_python, tmp_path):
    """[hints] gradient writes formulas beside every weight, inside the layout: they are no student's content."""
    from workbook import libreoffice
    from workbook.template_files import templates_dir

    text = (templates_dir() / "house-prices.toml").read_text() + "\n[hints]\ngradient = true\n"
    a = parse_template(text, base_dir=templates_dir())
    issued = build_workbook(a, tmp_path / "issued.xlsx")
    assert grade_file(issued, a).findings == ()
    xlsx, ods = libreoffice.edit_and_save(issued, {"w_in1_h1": 4.0}, [tmp_path / "s.xlsx", tmp_path / "s.ods"])
    for path in (xlsx, ods):
        r = grade_file(path, a)
        assert r.findings == () and r.weights["w_in1_h1"] == 4.0


def test_one_cell_written_two_ways_is_listed_in_one_order_whatever_the_hash_seed(tmp_path, hp):
    """Two addresses of one cell ("L19" and "l19", as a hand-edited file may hold) sort by their text: the
    findings (and so the feedback and the JSON) are the same on every run, not in a set's order of the day."""
    import json
    import os
    import re
    import subprocess
    import sys
    import zipfile

    issued = build_workbook(hp, tmp_path / "issued.xlsx")
    with zipfile.ZipFile(issued) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n))  # the graded one
        xml = z.read(part).decode()
        edited = re.sub(r'(<row r="19"[^>]*>.*?)(</row>)', r'\1<c r="l19"><v>5</v></c><c r="L19"><v>6</v></c>\2',
                        xml, count=1, flags=re.S)
        assert edited != xml
        odd = tmp_path / "odd.xlsx"
        with zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as out:
            for info in z.infolist():
                out.writestr(info, edited.encode() if info.filename == part else z.read(info))
    code = ("import json, sys\nfrom grader.grade import grade_file\nfrom workbook.catalog import load\n"
            "r = grade_file(sys.argv[1], load('house-prices'))\n"
            "print(json.dumps([f.message for f in r.findings if f.code == 'content-added']))")
    seen = {subprocess.run([sys.executable, "-c", code, str(odd)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(6)}
    assert [json.loads(s) for s in seen] == [[f"cell L19 holds 6{TAIL}", f"cell l19 holds 5{TAIL}"]]
