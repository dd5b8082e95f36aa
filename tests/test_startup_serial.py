"""What `generate --roster` does on one core before the first workbook and after the last is done once:
the old class set's manifest is read once (by generate_class, for the files it deletes), the new one once
(by the class plan that checks it)."""

from __future__ import annotations

import pytest

from manualml import api

ROSTER = "student_id,name,email\ns1,Ann,a@example.org\ns2,Bob,b@example.org\n"


@pytest.fixture
def roster(tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SECRET", "test-secret")
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    return path


def _counting(monkeypatch, module, name: str) -> list:
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_force_reads_the_old_manifest_once_and_still_replaces_the_set(tmp_path, roster, monkeypatch):
    import workbook.class_set

    out = tmp_path / "set"
    api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1)
    (out / "gone.xlsx").write_bytes(b"")  # listed by the old manifest below, not written by the new set
    manifest = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(manifest.replace('"file": "s2.xlsx"', '"file": "gone.xlsx"'))
    reads = _counting(monkeypatch, workbook.class_set, "previous_set")
    made = api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1, force=True)
    assert len(reads) == 1
    assert made.lines[1:] == ("Removed 1 workbook(s) of the class set this one replaces:", "  gone.xlsx")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "s1.xlsx", "s2.xlsx"]


def test_without_force_an_existing_set_is_refused_before_a_secret_is_made(tmp_path, roster, monkeypatch):
    import workbook.roster

    out = tmp_path / "set"
    api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1)
    secrets = _counting(monkeypatch, workbook.roster, "find_secret")
    with pytest.raises(api.WorkbookError, match="already holds a class set"):
        api.generate(template="house-prices-sigmoid", roster=roster, out_dir=out, workers=1)
    assert secrets == []


def test_the_new_manifest_is_read_back_once_by_the_class_plan(tmp_path, roster, monkeypatch):
    import grader.classroom
    import workbook.roster

    reads = _counting(monkeypatch, workbook.roster, "read_manifest")
    reads_by_plan = _counting(monkeypatch, grader.classroom, "read_manifest")
    made = api.generate(template="house-prices-sigmoid", roster=roster, out_dir=tmp_path / "set", workers=1)
    assert reads == []  # nobody else reads it back
    assert [str(args[0]) for args in reads_by_plan] == [str(tmp_path / "set" / "manifest.json")]
    assert made.lines[0].startswith("Wrote 2 workbooks and ")
