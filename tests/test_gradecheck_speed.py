"""What makes the class self-check cheaper, proved without timing anything: planning looks up only the roster
keys a path can match, and gets the plan it got when every student's keys were made; a sheet read from a
remembered shape reads what parsing it reads, on our files, tampered ones and LibreOffice's."""

from __future__ import annotations

import csv
import random
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cells as cells_module
from grader import classroom
from grader.cells import remembered_shapes
from grader.classroom import _keys, _roster_keys, path_tokens, plan
from grader.errors import SubmissionError
from grader.grade import grade_file
from grader.identity import Expected
from grader.reader import read_submission
from manualml.api import grade_as_issued
from manualml.cli import main
from tests.submissions import rewrite_member, sheet_member
from workbook.catalog import load
from workbook.roster import read_manifest, student_assignment

SECRET = "gradecheck-secret"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A class set of eight students of house-prices-sigmoid, names and e-mails of several shapes."""
    root = tmp_path_factory.mktemp("gradecheck")
    roster = root / "roster.csv"
    people = [("s001", "Ann Lee", "ann@uni.example"), ("s002", "Lee, Ann", "al2@uni.example"),
              ("s003", "Zoë Ångström", "zoe@uni.example"), ("s004", "Bo", ""), ("s005", "Li Wu Chen", "lwc@x.org"),
              ("s006", "Ann Lee", "ann.lee@x.org"), ("s007", "", "x7@x.org"), ("s008", "Mary-Jo O'Neil", "")]
    with roster.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email"])
        writer.writerows(people)
    result = CliRunner(env={"MANUALML_SECRET": SECRET}).invoke(
        main, ["generate", "-t", "house-prices-sigmoid", "--roster", str(roster), "--out-dir", str(root / "c")],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "c", read_manifest(root / "c" / "manifest.json")


ROSTERS = [
    {f"s{i}": {"id": f"s{i}", "name": f"Ann O'Lee-{i}, Jr.", "email": f"A.Lee{i}@X.org",
               "extra": {"SIS User ID": 1000 + i, "Section": "B"}} for i in range(50)},
    {"s1": {"id": "s1", "name": "Zoë Ångström", "email": "zoe@uni.example"}, "s2": {"id": "s2", "name": "Li"}},
    {"s1": {"id": "s1", "name": "Nul\0In Name", "email": ""}, "s2": {"id": "s\0 2", "name": ""}},
    {"s1": {"id": "s1"}, "s2": {"id": 2, "name": "  ", "email": "@"}},
    {"a": {"id": "a", "name": "Ann Lee"}, "b": {"id": "b", "name": "Lee Ann"}, "c": {"id": "ann", "name": "X Y"}},
    {},
]
AMONG = [set(), {"s1", "s2", "s10", "nobody"}, {"annoleejr3", "jrannolee3", "alee7", "1007", "b"},
         {"zoeangstrom", "angstromzoe", "zoe", "li", "s2", "2"}, {"nul", "s1"}, {"annlee", "leeann", "ann", "a", "xy"},
         {"s", "oleejr", "section"}]


@pytest.mark.parametrize("roster", ROSTERS)
def test_roster_keys_among_tokens_are_every_students_keys_cut_to_the_tokens(roster):
    full = {sid: _keys(e) for sid, e in roster.items()}
    for among in AMONG:
        exp = {sid: (ids & among, names & among) for sid, (ids, names) in full.items() if ids & among or names & among}
        got = _roster_keys(roster, among=among)
        assert got == exp, among
        assert list(got) == list(exp), among  # roster order


@pytest.mark.parametrize("roster", ROSTERS)
def test_the_index_of_the_keys_among_tokens_names_whom_the_full_index_names(roster):
    full = classroom._Keys(_roster_keys(roster))
    for among in AMONG:
        cut = classroom._Keys(_roster_keys(roster, among=among))
        for tokens in [among, *({t} for t in among), {t for t in among if len(t) > 2}]:
            assert cut.named(tokens) == full.named(tokens), tokens


def _plan_every_key(monkeypatch, *args, **kwargs):
    """`plan` as it was: every roster student's keys made, whatever the paths' tokens."""
    real = classroom._roster_keys
    monkeypatch.setattr(classroom, "_roster_keys", lambda roster, among=None: real(roster))
    try:
        return plan(*args, **kwargs)
    finally:
        monkeypatch.setattr(classroom, "_roster_keys", real)


def _said(p) -> tuple:
    return ([(j.path, j.assignment, dict(j.options)) for j in p.jobs], p.missing, p.unmatched,
            p.superseded, p.notes, p.roster)


def test_a_class_is_planned_as_when_every_students_keys_were_made(klass, tmp_path, monkeypatch):
    folder, _ = klass
    files = sorted(folder.glob("*.xlsx"))
    # names an LMS gives, files under someone else's name, files without a stamp, a name fitting two students
    lms = tmp_path / "dl"
    for sub in ("Ann Lee_1_assignsubmission_file_", "Zoë Ångström_3_assignsubmission_file_", "x"):
        (lms / sub).mkdir(parents=True)
    renamed = [lms / "Ann Lee_1_assignsubmission_file_" / "hp.xlsx", lms / "Zoë Ångström_3_assignsubmission_file_" /
               "s005.xlsx", lms / "x" / "lwc_LATE_s004_hp-1.xlsx", lms / "x" / "mary-jo-oneil.xlsx",
               lms / "x" / "leeann.xlsx", lms / "x" / "unknown.xlsx"]
    sources = [files[0], files[4], files[3], files[7], "", files[6]]
    for dst, src in zip(renamed, sources, strict=True):
        dst.write_bytes(Path(src).read_bytes() if src else b"not a workbook")
    cases = [(files, {}), (files[:3], {}), (renamed, {"roots": [lms]}), (renamed[2:], {}),
             ([*files, *renamed], {"roots": [lms, folder]})]
    for chosen, extra in cases:
        for secret in (SECRET.encode(), None):
            exp = _said(_plan_every_key(monkeypatch, folder / "manifest.json", chosen, secret=secret, **extra))
            got = _said(plan(folder / "manifest.json", chosen, secret=secret, **extra))
            assert got == exp
    assert _said(plan(folder / "manifest.json", renamed, secret=SECRET.encode(), roots=[lms]))[4]  # notes: some


def test_strong_tokens_are_among_the_weak_ones(tmp_path):
    for path in [tmp_path / "Homework_s001_attempt_2026-11-30-10-00-00_house-prices.xlsx",
                 tmp_path / "Zoë Ångström_123_assignsubmission_file_" / "house-prices.xlsx",
                 tmp_path / "angstromzoe_LATE_12345_67890_house-prices-1.xlsx", Path("/elsewhere/a b.c_d-e.xlsx")]:
        extra = {"Zoë Ångström_123_assignsubmission_file_": {"zoe@uni.example", "Zoë"}}
        assert path_tokens(path, tmp_path, extra, strong=True) <= path_tokens(path, tmp_path, extra)


# ------------------------------------------------------------------------------------ remembered shapes


def _entry(e: dict) -> dict:
    return {k: v for k, v in e.items() if k != "sha256"}


def _read_and_graded(path: Path, a, entry: dict | None) -> tuple:
    """Everything the reader and the grader say of a file: its cells, extents, grade, findings, messages."""
    options = {} if entry is None else {"student_id": entry["id"], "student_name": entry.get("name", ""),
                                        "expected": Expected(entry["id"], a.id, entry["variant_digest"],
                                                             SECRET.encode())}
    r = grade_file(path, a, **options)
    graded = (r.status, r.error_code, r.error, r.metric, r.baseline, r.improvement, r.points, r.weights,
              [(f.code, f.kind, f.cell, f.message, f.expected, f.found) for f in r.findings])
    try:
        sub = read_submission(str(path), a.graded_sheet())
    except SubmissionError as exc:
        return str(exc), exc.code, graded
    except ValueError as exc:  # a shared string's index that is no number (grade_file makes it an error result)
        return type(exc), str(exc), graded
    return dict(sub.cells.items()), sub.book.max_row, sub.book.max_col, sub.weights, graded


@pytest.fixture
def shape_reads(monkeypatch):
    """How many sheets were read from a remembered shape; every shape forgotten first."""
    monkeypatch.setattr(cells_module, "_SHAPES", {})
    count = []
    real = cells_module._Shape.read

    def counted(self, texts, strings):
        got = real(self, texts, strings)
        count.append(got is not None)
        return got

    monkeypatch.setattr(cells_module._Shape, "read", counted)
    return count


def assert_read_alike(path: Path, a, entry: dict | None = None) -> tuple:
    """`path` says the same with shapes remembered (some learnt from other files first) as parsed."""
    parsed = _read_and_graded(path, a, entry)
    with remembered_shapes():
        shaped = _read_and_graded(path, a, entry)
    assert shaped == parsed, path.name
    return parsed


def test_our_class_files_read_from_their_shape_as_parsed(klass, shape_reads):
    folder, manifest = klass
    base = load("house-prices-sigmoid")
    for e in manifest["students"] * 2:
        a = student_assignment(base, _entry(e))
        said = assert_read_alike(folder / e["file"], a, _entry(e))
        assert said[-1][-1] == [] and said[-1][0] == "graded"
        assert grade_as_issued(base, SECRET.encode(), folder / e["file"], _entry(e)) == ""
    assert sum(shape_reads) >= 2 * len(manifest["students"])  # the shape really was used, file after file
    assert not cells_module._SHAPES_ON  # and only inside the block


def _sheet_edits(x: str) -> dict[str, str]:
    """Edits of a sheet's XML, many of them in the texts the shape leaves out (the holes)."""
    cell_v = re.compile(r'(<c r="(?:E6|A12|L13|M14)"[^>]*>(?:<f>[^<]*</f>)?<v>)([^<]*)(</v>)')

    def value(new: str, count: int = 1) -> str:
        return cell_v.sub(lambda m: m.group(1) + new + m.group(3), x, count=count)

    name = re.compile(r"(<t>Student: )([^<]*)(</t>)")
    return {
        "number": value("9.5"), "numbers": value("1e3", 4), "text-in-a-number": value("five"),
        "entity": value("1&amp;2"), "char-ref": value("&#49;"), "empty": value(""), "spaces": value(" 7 "),
        "cr": value("7\r8"), "tab": value("7\t8"), "control": value("7\x01"), "nul": value("7\x00"),
        "nul-alone": value("\x00"), "nuls": value("\x00", 4),
        "lt": value("7<8"), "gt": value("7>8"), "cdata-end": value("]]>"), "two-values": value("1</v><v>2"),
        "comment-in-value": value("1<!-- x -->2"), "cdata": value("<![CDATA[3]]>"),
        "name-accents": name.sub(r"\g<1>Zoë Ångström\g<3>", x, count=1),
        "name-fffe": name.sub("\\g<1>x\ufffe\\g<3>", x, count=1),
        "name-amp": name.sub(r"\g<1>A &amp; B\g<3>", x, count=1),
        "name-empty": name.sub(r"\g<1>\g<3>", x, count=1),
        "comment": x.replace("</row><row", "</row><!-- a --><row", 1),
        "pi": x.replace("</row><row", "</row><?pi x?><row", 1),
        "dtd": re.sub(r"^(<\?xml[^>]*\?>)?", r'\g<1><!DOCTYPE worksheet [<!ENTITY e "x">]>', x, count=1),
        "declaration-latin1": '<?xml version="1.0" encoding="ISO-8859-1"?>' + x,
        "declaration-utf8": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + x,
        "formula": x.replace("<f>(L14-K14)^2</f>", "<f>(L14-K14)^3</f>", 1),
        "formula-gone": re.sub(r'(<c r="M14"[^>]*>)<f>[^<]*</f>', r"\g<1>", x, count=1),
        "cut": x[: len(x) // 2], "cut-in-a-value": x[: x.index("<v>", len(x) // 2) + 5],
        "moved-cell": x.replace('<c r="A12"', '<c r="A13"', 1),
        "beyond": x.replace("</sheetData>", '<row r="40"><c r="A40"><v>1</v></c></row></sheetData>'),
    }


def _invalid_utf8(src: Path, dst: Path, member: str) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = data.replace(b"<t>Student: ", b"<t>Student: \xff\xfe", 1)
                assert b"\xff" in data
            zout.writestr(item, data)
    return dst


def test_tampered_files_read_from_a_remembered_shape_as_parsed(klass, tmp_path, shape_reads):
    folder, manifest = klass
    base = load("house-prices-sigmoid")
    first, target = manifest["students"][0], manifest["students"][2]
    a_first, a = student_assignment(base, _entry(first)), student_assignment(base, _entry(target))
    src = folder / target["file"]
    member = sheet_member(src)
    with remembered_shapes():  # the class's shape learnt from another student's file
        assert _read_and_graded(folder / first["file"], a_first, _entry(first))[-1][-1] == []
    with zipfile.ZipFile(src) as z:
        x = z.read(member).decode("utf-8")
    edits = _sheet_edits(x)
    for label, edit in edits.items():
        assert edit != x, label
        path = rewrite_member(src, tmp_path / f"{label}.xlsx", member, lambda _, e=edit: e)
        assert_read_alike(path, a, _entry(target))
    assert_read_alike(_invalid_utf8(src, tmp_path / "utf8.xlsx", member), a, _entry(target))
    # shapes of sheets whose text is not all elements (never learnt): a <v> or <t> inside a comment, a
    # processing instruction, CDATA; what stands there then changed to what a comment or CDATA cannot hold
    odd = {"comment": ("<!-- <v>1</v> -->", "<!-- <v>1--2</v> -->"), "pi": ("<?x <v>1</v>?>", "<?x <v>1?>2</v>?>"),
           "cdata": ("<v><![CDATA[<v>1</v>]]></v>", "<v><![CDATA[<v>]]>1</v>]]></v>"),
           "comment-t": ("<!-- <t>a</t> -->", "<!-- <t>a--b</t> -->")}
    for label, (learnt, changed) in odd.items():
        for k, text in enumerate((learnt, changed)):
            sheet = re.sub(r'(<c r="O12"[^>]*>)', lambda m, t=text: t + m.group(1), x, count=1) if "CDATA" not in \
                text else re.sub(r'(<c r="O12"[^>]*>)(?:<f>[^<]*</f>)?<v>[^<]*</v>', lambda m, t=text: m.group(1) + t,
                                 x, count=1)
            assert sheet != x
            path = rewrite_member(src, tmp_path / f"{label}-{k}.xlsx", member, lambda _, t=sheet: t)
            said = assert_read_alike(path, a, _entry(target))
        assert said[1] == "damaged" or said[-1][-1], label  # what was changed is told, as parsing tells it
    assert_read_alike(src, a, _entry(first))  # another student's variant: other-student, as parsed says
    assert any(shape_reads)  # some of them were read from the shape (only the holes changed)


def test_randomly_damaged_sheets_read_from_a_remembered_shape_as_parsed(klass, tmp_path, shape_reads):
    folder, manifest = klass
    base = load("house-prices-sigmoid")
    e = manifest["students"][5]
    a = student_assignment(base, _entry(e))
    src = folder / e["file"]
    member = sheet_member(src)
    with zipfile.ZipFile(src) as z:
        x = z.read(member)
    holes = [m.start() for m in re.finditer(rb"<v>|<t>", x)]
    rng = random.Random(16)
    for k in range(120):
        data = bytearray(x)
        for _ in range(rng.choice((1, 1, 2, 3))):
            at = rng.choice(holes) + rng.randrange(0, 6) if rng.random() < 0.7 else rng.randrange(len(data))
            at = min(at, len(data) - 1)
            what = rng.choice([b"", b"<", b"&", b">", b"\0", b"\r", b"\x01", b"\xff", b"\xc3\xa9", b"7", b"e",
                               b"-", b" ", b"x", b'"', b"/", b"<v>", b"</v>", b"]]>"])
            if rng.random() < 0.5:
                data[at:at + 1] = what
            else:
                data[at:at] = what
        path = tmp_path / f"r{k}.xlsx"
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                zout.writestr(item, bytes(data) if item.filename == member else zin.read(item.filename))
        with remembered_shapes():  # a clean file first, so that the shape is known
            _read_and_graded(src, a, _entry(e))
        assert_read_alike(path, a, _entry(e))
    assert sum(shape_reads) > 120  # the clean ones, and the damaged ones whose holes alone changed


@pytest.fixture(scope="module")
def lo_class(klass, soffice, tmp_path_factory):
    """Three students' files as LibreOffice saves them (shared strings, its own XML)."""
    from workbook import libreoffice

    folder, manifest = klass
    out = tmp_path_factory.mktemp("lo")
    chosen = manifest["students"][:3]
    saved = libreoffice.recalculate([folder / e["file"] for e in chosen], out)
    return list(zip(chosen, saved, strict=True))


def test_files_saved_by_libreoffice_read_from_their_shape_as_parsed(lo_class, tmp_path, shape_reads):
    base = load("house-prices-sigmoid")
    for e, path in lo_class * 2:
        said = assert_read_alike(path, student_assignment(base, _entry(e)), _entry(e))
        assert said[-1][0] == "graded"
    e, path = lo_class[1]
    a = student_assignment(base, _entry(e))
    member = sheet_member(path)
    with zipfile.ZipFile(path) as z:
        x = z.read(member).decode("utf-8")
    shared = re.search(r'<c r="[A-Z]+[0-9]+"[^>]*t="s"[^>]*><v>([0-9]+)</v>', x)
    assert shared is not None  # LibreOffice keeps its texts as shared strings
    edits = {"shared-index": x.replace(shared.group(0), shared.group(0).replace(
                 f"<v>{shared.group(1)}</v>", "<v>0</v>" if shared.group(1) != "0" else "<v>1</v>"), 1),
             "shared-index-text": x.replace(shared.group(0), shared.group(0).replace(
                 f"<v>{shared.group(1)}</v>", "<v>one</v>"), 1),
             "weight": re.sub(r'(<c r="E6"[^>]*><v>)[^<]*(</v>)', r"\g<1>0.125\g<2>", x, count=1)}
    for label, edit in edits.items():
        assert edit != x, label
        assert_read_alike(rewrite_member(path, tmp_path / f"{label}.xlsx", member, lambda _, t=edit: t), a, _entry(e))
    assert any(shape_reads)


# ------------------------------------------------------------------------------------ the manual-ML sheet


TEMPLATES = ["house-prices", "house-prices-sigmoid", "exam-pass"]


def _variants(name: str):
    from dataclasses import replace

    from workbook.spec import Dataset

    a = load(name)
    yield a
    rows = tuple((*r[:-1], r[-1] * 1.5 + 0.25) for r in a.data.rows)
    yield replace(a, data=Dataset(inputs=a.data.inputs, target=a.data.target, rows=rows),
                  weights={k: v * -0.5 + 0.125 for k, v in a.weights.items()})
    yield replace(a, weights={k: 0.0 for k in a.weights})
    yield replace(a, weights={k: -0.0 for k in a.weights})


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_sheets_baseline_is_the_loss_and_its_regions_are_made_alike(name):
    import numpy as np

    from workbook import manual_sheet, model

    for a in _variants(name):
        manual_sheet._AREAS.clear()
        manual_sheet._LAST.clear()
        first = manual_sheet.graded_sheet(a)
        again = manual_sheet.graded_sheet(a)  # the layout's part kept from the first
        assert repr(first.baseline) == repr(model.loss(a)) and first.baseline == model.loss(a)
        for sheet in (first, again):
            assert sheet.layout_key == first.layout_key and repr(sheet.regions[0].area) == repr(first.regions[0].area)
            for r, s in zip(sheet.regions, first.regions, strict=True):
                assert (r.key, r.role, r.area, r.formula, r.name, r.params, r.rows) == \
                       (s.key, s.role, s.area, s.formula, s.name, s.params, s.rows)
                assert np.array_equal(np.asarray(r.values, dtype=float), np.asarray(s.values, dtype=float)) \
                    if r.values is not None else s.values is None
            cells = {ref: v for region in sheet.regions for ref, v in region.cells()}
            assert cells == {ref: v for region in first.regions for ref, v in region.cells()}
        manual_sheet._AREAS.clear()
        assert [r.area for r in manual_sheet.graded_sheet(a).regions] == [r.area for r in first.regions]


@pytest.mark.parametrize("name", [*TEMPLATES, "house-prices-linear"])
def test_the_kept_prediction_is_the_forward_pass_of_the_weights_asked_about(name):
    import numpy as np

    from workbook import manual_sheet, model

    a = load(name)
    X = a.data.X
    zero = {k: 0.0 for k in a.weights}
    asked = [a.weights, dict(a.weights), zero, {k: -0.0 for k in a.weights}, {**zero, "b_out": -0.0},
             {k: 0 for k in a.weights}, zero, {**a.weights, "b_out": a.weights["b_out"] + 1e-12}, a.weights]
    for weights in asked:
        got = manual_sheet._predictions(a.network, X, weights)
        exp = model.forward(a.network, weights, X).prediction
        assert np.array_equal(got, exp) and np.array_equal(np.signbit(got), np.signbit(exp)), weights
    if name == "house-prices-linear":  # y = Wx + b: weights of -0.0 predict -0.0, of 0.0 predict 0.0
        assert np.signbit(manual_sheet._predictions(a.network, X, asked[3])).all()


def test_a_file_as_issued_is_checked_with_the_forward_pass_of_its_baseline(klass, monkeypatch):
    from workbook import manual_sheet, model

    folder, manifest = klass
    base = load("house-prices-sigmoid")
    e = manifest["students"][3]
    calls = []
    real = model.forward
    monkeypatch.setattr(model, "forward", lambda *args: calls.append(1) or real(*args))
    manual_sheet._LAST.clear()
    assert grade_as_issued(base, SECRET.encode(), folder / e["file"], _entry(e)) == ""
    assert len(calls) == 1  # the baseline's; the saved predictions, the metric cell and the score reuse it


def _path_tokens_as_they_were(path: Path, root: Path | None, extra=None, *, strong: bool = False) -> set[str]:
    """path_tokens before it made both kinds in one pass (copied)."""
    from grader.classroom import norm

    parts = list(path.relative_to(root).parts[:-1]) if root is not None and path.is_relative_to(root) else \
        [path.parent.name]
    stem = re.sub(r"-\d+$", "", path.stem)
    tokens = set()
    for part in [*parts, stem]:
        tokens.add(norm(part))
        for piece in re.split(r"_+", part):
            tokens.add(norm(piece))
            if not strong:
                tokens |= {norm(p) for p in re.split(r"[ .\-]+", piece)}
        for key, people in (extra or {}).items():
            if part == key:
                tokens |= {norm(p) for p in people} | {norm(p.split("@")[0]) for p in people}
    return {t for t in tokens if t}


@pytest.mark.parametrize("path", [
    "dl/Homework_s001_attempt_2026-11-30-10-00-00_house-prices.xlsx",
    "dl/Zoë Ångström_123_assignsubmission_file_/house-prices.xlsx", "dl/submission_123/a b.c_d-e-2.xlsx",
    "dl/angstromzoe_LATE_12345_67890_house-prices-1.xlsx", "elsewhere/__x__/-_.xlsx", "dl/a/b/c/s0001.xlsx",
    "dl/..-..  _/ .xlsx"])
def test_a_paths_tokens_made_in_one_pass_are_what_each_kind_was(tmp_path, path):
    root = tmp_path / "dl"
    extra = {"submission_123": {"ann@uni.example", "Ann Lee", "s001"},
             "Zoë Ångström_123_assignsubmission_file_": {"zoe@uni.example"}}
    for r, x in ((root, extra), (root, None), (None, None), (tmp_path / "other", extra)):
        for strong in (False, True):
            assert path_tokens(tmp_path / path, r, x, strong=strong) == \
                   _path_tokens_as_they_were(tmp_path / path, r, x, strong=strong)


CORE_EDITS = [
    lambda x: re.sub(r"^(<\?xml[^>]*\?>)?", r'\g<1><!DOCTYPE p [<!ENTITY e "x">]>', x, count=1),
    lambda x: x.replace("</cp:coreProperties>", "<!DOCTYPE p></cp:coreProperties>"),
    lambda x: re.sub(r"(<dcterms:modified[^>]*>)[^<]*", r"\g<1>2027-01-02T03:04:05Z", x, count=1),
    lambda x: re.sub(r"(<dcterms:modified[^>]*>)[^<]*", r"\g<1>&undefined;", x, count=1),
    lambda x: re.sub(r"(<dcterms:modified[^>]*>)[^<]*", r"\g<1>not a date", x, count=1),
    lambda x: x[: len(x) - 20],
    lambda x: '<?xml version="1.0" encoding="UTF-16"?>' + x,
]


def test_a_files_saved_time_is_what_it_was_read_alone_after_other_files(klass, tmp_path):
    from grader import stamps
    from grader.stamps import peek
    from tests.test_selfcheck_speed import _defused_peek

    folder, manifest = klass
    files = [folder / e["file"] for e in manifest["students"]]
    src = files[1]
    edited = [rewrite_member(src, tmp_path / f"core{i}.xlsx", "docProps/core.xml", edit)
              for i, edit in enumerate(CORE_EDITS)]
    for order in (files + edited, edited + files, [*edited, *files, *edited]):
        for path in order:
            p = peek(path)
            assert (p.stamp, p.saved) == _defused_peek(path), path.name
    assert peek(files[0]).saved is not None and len(stamps._SAVED) >= 2  # one part for the class, the dated one


@pytest.mark.parametrize("name", [*TEMPLATES, "house-prices-linear"])
def test_the_kept_metric_is_the_metric_of_the_weights_and_data_asked_about(name):
    import numpy as np

    from workbook import manual_sheet, model

    a = load(name)
    X, y = a.data.X, a.data.y
    y2 = y * 2.0
    X2 = np.ascontiguousarray(X[::-1])
    other = {k: v + 0.5 for k, v in a.weights.items()}
    asked = [(a.weights, "rmse", X, y), (a.weights, "rmse", X, y), (a.weights, "mae", X, y), (a.weights, "mse", X, y),
             (a.weights, "mse", X, y2), (other, "mse", X, y2), (other, "mse", X2, y2), (a.weights, "rmse", X, y),
             (dict(a.weights), "rmse", X, y), (other, "rmse", X, y)]
    for weights, metric, inputs, targets in asked:
        got = manual_sheet._metric(a.network, metric, inputs, targets, weights)
        exp = model.metric_value(metric, targets, model.forward(a.network, weights, inputs).prediction)
        assert repr(got) == repr(exp), (metric, weights)
    sheet = manual_sheet.graded_sheet(a)
    for weights in (a.weights, other, a.weights):
        assert repr(sheet.metric(weights)) == repr(model.loss(a, weights))
        if sheet.hidden is not None:
            t = a.test.data
            exp = model.metric_value(a.metric, t.y, model.forward(a.network, weights, t.X).prediction)
            assert repr(float(sheet.hidden(weights))) == repr(exp)


@pytest.mark.parametrize("added", [
    '<c r="C6"><v>5</v></c>', '<c r="C6"><f>1+1</f><v>2</v></c>', '<c r="C6" t="inlineStr"><is><t>note</t></is></c>',
    '<c r="c6"><v>5</v></c>', '<c r="C006"><v>5</v></c>', '<c r="J6"><v>5</v></c><c r="N7"><v>1</v></c>',
    '<c r="Z6"><v>5</v></c>', '<c r="$C$6"><v>5</v></c>', '<c r="C6"><v>5</v></c><c r="c6"><v>6</v></c>',
    "".join(f'<c r="{c}6"><v>{i}</v></c>' for i, c in enumerate("CJN")) + '<c r="C7"><v>9</v></c>'
    '<c r="J7"><v>9</v></c><c r="N8"><v>9</v></c>'])
def test_content_added_where_nothing_is_graded_is_told_as_the_cell_by_cell_look_tells_it(klass, tmp_path, monkeypatch,
                                                                                          added):
    from grader import integrity

    folder, manifest = klass
    base = load("house-prices-sigmoid")
    e = manifest["students"][4]
    src = folder / e["file"]
    member = sheet_member(src)
    path = rewrite_member(src, tmp_path / "added.xlsx", member, lambda x: re.sub(
        r'(<row r="6"[^>]*>.*?)(</row>)', lambda m: m.group(1) + added + m.group(2), x, count=1))
    a = student_assignment(base, _entry(e))
    listed = _read_and_graded(path, a, _entry(e))
    monkeypatch.setattr(integrity, "EXTENT_CELLS_MAX", 0)  # every cell looked at one by one, as for a big extent
    each = _read_and_graded(path, a, _entry(e))
    # (two cells at one place, "C6" and "c6", are told in the order a set of their names gives: sorted here)
    assert each[:-1] == listed[:-1] and each[-1][:-1] == listed[-1][:-1]
    assert sorted(each[-1][-1]) == sorted(listed[-1][-1])
    assert listed[-1][0] == "graded" and (added.startswith('<c r="C6" t=') or listed[-1][-1])
