"""`generate` and `render` as an instructor runs them: file formats, class sets, signing keys, rosters.

Every test gets its own XDG_CONFIG_HOME, so a signing key made here never lands in the real
~/.config, and its own MANUALML_SECRET (unset unless the test sets it).
"""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from manualml.cli import main
from workbook.roster import read_manifest

ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


@pytest.fixture
def config(tmp_path, monkeypatch):
    """A private configuration folder; no secret in the environment."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("MANUALML_SECRET", raising=False)
    return home


@pytest.fixture
def runner(config):
    return CliRunner()


def _roster(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _grade_json(runner, tmp_path, *args):
    out = tmp_path / f"grades-{len(list(tmp_path.glob('grades-*.json')))}.json"
    result = runner.invoke(main, ["grade", *args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())["results"]


# --- file formats ------------------------------------------------------------------------------------------------

def test_generate_ods_is_opendocument_and_grades(runner, soffice, tmp_path):
    out = tmp_path / "sub" / "hp.ods"
    result = runner.invoke(main, ["generate", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out}\n")
    with zipfile.ZipFile(out) as z:
        assert z.read("mimetype") == ODS_MIME and "content.xml" in z.namelist()
    assert sorted(p.name for p in out.parent.iterdir()) == ["hp.ods"]  # no .xlsx left beside it
    (r,) = _grade_json(runner, tmp_path, str(out), "-t", "house-prices")
    assert r["status"] == "graded" and r["findings"] == [] and r["improvement"] == 0
    assert round(r["metric"], 2) == 3731.39
    lecture = tmp_path / "lr.ods"
    assert runner.invoke(main, ["generate", "-t", "lecture-linear-regression", "-o", str(lecture)]).exit_code == 0
    (r,) = _grade_json(runner, tmp_path, str(lecture), "-t", "lecture-linear-regression")
    assert r["status"] == "graded" and r["findings"] == [] and r["improvement"] == 0


def test_generate_ods_without_libreoffice(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SOFFICE", str(tmp_path / "no-soffice"))
    out = tmp_path / "hp.ods"
    result = runner.invoke(main, ["generate", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {out}: writing .ods needs LibreOffice, which is not installed (apt-get install "
                             "libreoffice-calc-nogui); or write .xlsx, which LibreOffice opens as well\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "exp"), [
    ("hp.xlsm", "{out}: .xlsm is Excel's name for a workbook with macros, and this one has none; name it .xlsx "
                "(or .ods)"),
    ("hp.csv", "{out}: cannot write .csv; name the workbook .xlsx (Excel, LibreOffice, Google Sheets) or .ods "
               "(OpenDocument, through LibreOffice)"),
    ("hp", "{out}: cannot write a file without a suffix; name the workbook .xlsx (Excel, LibreOffice, Google Sheets) "
           "or .ods (OpenDocument, through LibreOffice)"),
])
@pytest.mark.parametrize("template", ["house-prices", "lecture-neuron"])
def test_generate_refuses_other_suffixes(runner, tmp_path, name, exp, template):
    out = tmp_path / name
    result = runner.invoke(main, ["generate", "-t", template, "-o", str(out)])
    assert result.exit_code == 2 and result.stderr == f"Error: {exp.format(out=out)}\n"
    assert list(tmp_path.iterdir()) == []


def test_generate_xlsx_suffix_in_capitals(runner, tmp_path):
    out = tmp_path / "HP.XLSX"
    assert runner.invoke(main, ["generate", "-o", str(out)]).exit_code == 0
    assert b"spreadsheetml.sheet.main+xml" in zipfile.ZipFile(out).read("[Content_Types].xml")


def test_render_formats_pages_and_dpi(runner, soffice, tmp_path):
    book = tmp_path / "hp.xlsx"
    assert runner.invoke(main, ["generate", "-o", str(book)]).exit_code == 0
    jpg = tmp_path / "hp.jpg"
    result = runner.invoke(main, ["render", str(book), "-o", str(jpg), "--page", "1", "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert jpg.read_bytes()[:3] == b"\xff\xd8\xff" and not (tmp_path / "hp.png").exists()
    png = tmp_path / "hp.png"
    assert runner.invoke(main, ["render", str(book), "-o", str(png), "--dpi", "80"]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = runner.invoke(main, ["render", str(book), "-o", str(tmp_path / "p.png"), "--page", "5"])
    assert result.exit_code == 2  # a usage error, like --page 0 (click's own): it was 1, as if rendering failed
    assert result.stderr == f"Error: {book}: page 5 of 2 does not exist; choose a page from 1 to 2\n"
    result = runner.invoke(main, ["render", "-t", "house-prices", "-o", str(tmp_path / "p.png"), "--page", "3"])
    assert result.exit_code == 2
    assert result.stderr == "Error: template house-prices: page 3 of 2 does not exist; choose a page from 1 to 2\n"
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize(("args", "exp"), [
    (["-o", "x.gif"], "Error: x.gif: cannot render to .gif (choose .png, .jpg, .jpeg or .pdf)"),
    (["-o", "x"], "Error: x: cannot render to a file without a suffix (choose .png, .jpg, .jpeg or .pdf)"),
    (["-o", "x.pdf", "--page", "1"], "Error: x.pdf: --page and --dpi choose one page of an image (.png, .jpg); a "
                                     "PDF holds every page, drawn at any size"),
    (["-o", "x.pdf", "--dpi", "300"], "Error: x.pdf: --page and --dpi choose one page of an image (.png, .jpg); a "
                                      "PDF holds every page, drawn at any size"),
])
def test_render_refuses_what_it_cannot_write(runner, args, exp):
    result = runner.invoke(main, ["render", "-t", "house-prices", *args])
    assert result.exit_code == 2 and result.stderr == exp + "\n"


@pytest.mark.parametrize(("args", "exp"), [
    (["--page", "0"], "Invalid value for '--page': 0 is not in the range x>=1."),
    (["--dpi", "5"], "Invalid value for '--dpi': 5 is not in the range 20<=x<=1200."),
])
def test_render_option_ranges(runner, args, exp):
    result = runner.invoke(main, ["render", "-t", "house-prices", "-o", "x.png", *args])
    assert result.exit_code == 2 and exp in result.stderr


# --- class sets --------------------------------------------------------------------------------------------------

def _class(runner, tmp_path, roster, *extra, template="house-prices-sigmoid"):
    return runner.invoke(main, ["generate", "-t", template, "--roster", str(roster), "--out-dir",
                                str(tmp_path / "class"), *extra])


def test_signing_key_created_once_and_found_by_grade(runner, config, tmp_path):
    roster = _roster(tmp_path / "r.csv", ["id,name", "s1,Ann", "s2,Bo"])
    result = _class(runner, tmp_path, roster)
    assert result.exit_code == 0, result.output
    secret = config / "manualml" / "secret"
    manifest = tmp_path / "class" / "manifest.json"
    assert result.stdout == (
        f"Created a signing secret in {secret} (readable only by you). Keep it: grading checks signatures with it, "
        "and it must never go into the class folder\n"
        f"Wrote 2 workbooks and {manifest} (signed with {secret})\n")
    assert secret.stat().st_mode & 0o777 == 0o600
    key = secret.read_bytes().strip()
    assert len(key) == 64 and key.decode() not in json.dumps(read_manifest(manifest))
    assert sorted(p.name for p in (tmp_path / "class").iterdir()) == ["manifest.json", "s1.xlsx", "s2.xlsx"]
    # the same key next time, not a new one
    again = _class(runner, tmp_path, roster, "--force")
    assert again.exit_code == 0 and "Created" not in again.stdout and secret.read_bytes().strip() == key
    # grade finds it; a wrong MANUALML_SECRET wins over it (and fails the signatures); --key-file wins over both
    results = _grade_json(runner, tmp_path, str(tmp_path / "class"), "--manifest", str(manifest))
    assert [[f["code"] for f in r["findings"]] for r in results] == [[]] * 2  # issued with their results cached
    wrong = CliRunner(env={"MANUALML_SECRET": "not-it"})
    refused = wrong.invoke(main, ["grade", str(tmp_path / "class"), "--manifest", str(manifest)])
    assert refused.exit_code == 2 and refused.stderr.startswith(
        "Error: the signing key verifies none of the 2 signed workbook(s): it is not the key the class in "
        f"{manifest} was generated with")
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(key + b"\n")
    results = _grade_json(wrong, tmp_path, str(tmp_path / "class"), "--manifest", str(manifest), "--key-file",
                          str(key_file))
    assert [[f["code"] for f in r["findings"]] for r in results] == [[]] * 2  # issued with their results cached


def test_environment_secret_is_used_and_nothing_created(config, tmp_path):
    roster = _roster(tmp_path / "r.csv", ["id", "s1"])
    result = _class(CliRunner(env={"MANUALML_SECRET": "course"}), tmp_path, roster)
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "class" / "manifest.json"
    assert result.stdout == f"Wrote 1 workbooks and {manifest} (signed with MANUALML_SECRET)\n"
    assert not config.exists()


def test_grading_a_signed_class_without_any_key(runner, config, tmp_path):
    roster = _roster(tmp_path / "r.csv", ["id", "s1"])
    assert _class(runner, tmp_path, roster).exit_code == 0
    (config / "manualml" / "secret").unlink()
    result = runner.invoke(main, ["grade", str(tmp_path / "class"), "--manifest",
                                  str(tmp_path / "class" / "manifest.json")])
    assert result.exit_code == 2
    assert result.stderr == (f"Error: no signing secret: set MANUALML_SECRET, pass --key-file, or keep it in "
                             f"{config / 'manualml' / 'secret'} (where `manualml generate --roster` creates one); "
                             "keep it out of the workbooks and out of version control\n")
    assert not (config / "manualml" / "secret").exists()  # grading never makes a key


def test_key_never_inside_the_class_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MANUALML_SECRET", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "class" / ".config"))
    roster = _roster(tmp_path / "r.csv", ["id", "s1"])
    result = _class(CliRunner(), tmp_path, roster)
    secret = tmp_path / "class" / ".config" / "manualml" / "secret"
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {secret}: the signing secret must not be inside the class folder "
                             f"{tmp_path / 'class'} (whatever is there may reach students); keep it elsewhere\n")
    assert not secret.exists()


def test_class_set_refused_then_replaced_with_force(runner, tmp_path):
    big = _roster(tmp_path / "big.csv", ["id", "s1", "s2", "s3"])
    assert _class(runner, tmp_path, big).exit_code == 0
    before = (tmp_path / "class" / "manifest.json").read_bytes()
    small = _roster(tmp_path / "small.csv", ["id", "s1"])
    result = _class(runner, tmp_path, small)
    folder = tmp_path / "class"
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {folder} already holds a class set ({folder / 'manifest.json'}); pass --force "
                             "to replace it (its workbooks that the new set does not overwrite are deleted), or "
                             "choose another --out-dir\n")
    assert (folder / "manifest.json").read_bytes() == before
    result = _class(runner, tmp_path, small, "--force")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == ["Removed 2 workbook(s) of the class set this one replaces:",
                                               "  s2.xlsx", "  s3.xlsx"]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "s1.xlsx"]
    assert [e["id"] for e in read_manifest(folder / "manifest.json")["students"]] == ["s1"]


def test_identical_workbooks_warn_and_variants_fix_it(runner, tmp_path):
    roster = _roster(tmp_path / "r.csv", ["id", "s1", "s2", "s3"])
    result = _class(runner, tmp_path, roster, template="house-prices")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "Warning: every student gets the same workbook (same starting weights, same data): the template names every "
        'starting weight and has no [variants]. Add [variants] starting_weights = "random" (each student starts near '
        "the named weights) or target_noise = 0.05 to the template to give each their own")
    template = tmp_path / "hp-variants.toml"
    template.write_text(_builtin("house-prices") + '\n[variants]\nstarting_weights = "random"\nspread = 2\n')
    result = _class(runner, tmp_path, roster, "--force", template=str(template))
    assert result.exit_code == 0, result.output
    assert "Warning: every student" not in result.stderr
    entries = read_manifest(tmp_path / "class" / "manifest.json")["students"]
    assert len({json.dumps(e["variant"]["weights"]) for e in entries}) == 3
    assert all(abs(e["variant"]["weights"]["w_in1_h1"] - 5) <= 2 for e in entries)
    results = _grade_json(runner, tmp_path, str(tmp_path / "class"), "--manifest",
                          str(tmp_path / "class" / "manifest.json"))
    assert [r["improvement"] for r in results] == [0, 0, 0]


def _builtin(name: str) -> str:
    from workbook.catalog import resolve_template

    return resolve_template(name).read_text()


def test_semicolon_roster_with_id_column(runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_bytes("\ufeffNr;Matrikel;Name\n1;M-07;Zoë Ng\n2;M-08;Doe, Jo\n".encode())
    result = _class(runner, tmp_path, roster, "--id-column", "Matrikel")
    assert result.exit_code == 0, result.output
    entries = read_manifest(tmp_path / "class" / "manifest.json")["students"]
    assert [(e["id"], e["name"], e["file"]) for e in entries] == [("M-07", "Zoë Ng", "M-07.xlsx"),
                                                                   ("M-08", "Doe, Jo", "M-08.xlsx")]
    result = _class(runner, tmp_path, roster, "--id-column", "Student", "--force")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {roster}: no column 'Student' (--id-column); found: Nr, Matrikel, Name\n"


@pytest.mark.parametrize(("args", "exp"), [
    (["--force"], "--force applies to a class set: add --roster FILE"),
    (["--id-column", "id"], "--id-column applies to a class set: add --roster FILE"),
    (["--out-dir", "c"], "--out-dir applies to a class set: add --roster FILE"),
])
def test_class_options_need_a_roster(runner, args, exp):
    result = runner.invoke(main, ["generate", *args])
    assert result.exit_code == 2 and result.stderr == f"Error: {exp}\n"


def test_output_file_and_roster_together(runner, tmp_path):
    roster = _roster(tmp_path / "r.csv", ["id", "s1"])
    result = runner.invoke(main, ["generate", "--roster", str(roster), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == "Error: -o names a single workbook; a class set is written to --out-dir\n"


def test_solve_writes_the_same_formats(runner, soffice, tmp_path):
    bad = runner.invoke(main, ["solve", "-t", "house-prices", "-o", str(tmp_path / "best.xlsm")])
    assert bad.exit_code == 2
    assert bad.stderr == (f"Error: {tmp_path / 'best.xlsm'}: .xlsm is Excel's name for a workbook with macros, and "
                          "this one has none; name it .xlsx (or .ods)\n")
    out = tmp_path / "best.ods"
    result = runner.invoke(main, ["solve", "-t", "lecture-linear-regression", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(out).read("mimetype") == ODS_MIME
    (r,) = _grade_json(runner, tmp_path, str(out), "-t", "lecture-linear-regression")
    assert r["status"] == "graded" and r["points"] == 10 and r["findings"] == []
