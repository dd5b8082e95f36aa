"""What makes the class self-check cheaper, proved without timing anything: planning looks up only the roster
keys a path can match, and gets the plan it got when every student's keys were made; a sheet read from a
remembered shape reads what parsing it reads, on our files, tampered ones and LibreOffice's."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import classroom
from grader.classroom import _keys, _roster_keys, path_tokens, plan
from manualml.cli import main
from workbook.roster import read_manifest

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
