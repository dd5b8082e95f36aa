"""The class report: one self-contained HTML page, checked as text and as a real browser renders it."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from manualml.cli import main
from tests.class_demo import STUDENTS, make_class
from tests.conftest import _require

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = make_class(root / "subs")
    result = CliRunner().invoke(main, ["grade", str(subs), "-t", "house-prices", "--feedback", str(root / "fb"),
                                       "--report", str(root / "out" / "class.html")], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # s13-max's file is broken: graded as an error, the rest go on
    assert f"Class report: {root / 'out' / 'class.html'}" in result.output
    return root, (root / "out" / "class.html").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium():
    return _require("Chromium (Debian's chromium package)", shutil.which("chromium"))


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_self_contained(graded):
    _, page = graded
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert page.count("<svg") == 4  # points, metric, the references, the hidden gaps


def test_contents(graded):
    root, page = graded
    assert "Class report by manualml: 13 submission(s), 12 graded, 1 not graded." in page
    rows = re.findall(r'<tr class="student( error)?">(.*?)</tr>', page)
    assert len(rows) == 13 and [bool(e) for e, _ in rows] == [False] * 12 + [True]
    links = re.findall(r'<a href="([^"]+)">feedback</a>', page)
    assert links[0] == "../fb/s01-ada.md" and len(links) == 13
    assert all((root / "out" / link).resolve().is_file() for link in links)
    # points: ada, dan, hana, ivy, kim and lou have 10; gus (unchanged) 0
    assert '<td>s07-gus</td><td></td><td>graded</td><td class="num">3,731</td><td class="num">0.00%</td>' \
           '<td class="num">0</td>' in page
    # ben is 98.998 % better: cut like the sheet, 98.99 % beside his 8 points (rounded, "99.0%" read as the
    # "≥ 99% earns 10" tier he did not reach)
    assert '<td>s02-ben</td><td></td><td>graded</td><td class="num">37.36</td><td class="num">98.99%</td>' \
           '<td class="num">8</td>' in page
    assert "<div>full marks<b>6</b></div>" in page
    assert "<tr><td>formula-overwritten</td><td class=\"num\">1</td><td>cell J11 should hold the formula " \
           "=w_h1_out*E11+w_h2_out*G11+b_out but holds 200" in page
    assert '<tr class="error"><td>not graded: truncated</td><td class="num">1</td>' in page
    assert "<tr><td>1</td><td>s08-hana, s09-ivy</td><td>identical</td></tr>" in page
    # the references: the lecture's starting weights, the average (221.7) and solve's exact fit
    assert '<tr><td>the starting weights (baseline)</td><td class="num">3,731</td><td class="num">11 of 12</td>' in page
    assert '<tr><td>predicting the average for every row</td><td class="num">221.7</td>' \
           '<td class="num">10 of 12</td></tr>' in page
    # solve's exact fit (RMSE 9.3e-13) is "≈ 0" in the table and on the chart, and no number is in e-notation
    assert '<tr><td>the best solve finds</td><td class="num">≈ 0</td><td class="num">0 of 12</td></tr>' in page
    assert "solve&#x27;s best ≈ 0</text>" in page
    assert re.search(r"\de-\d", page) is None
    # hidden houses: lou's exact fit (RMSE 0.0146) is 37.4 on the four new houses, the one overfit
    assert "<b>1</b> of 12 students overfit" in page
    assert '<td class="num">0.01461</td><td class="num">99.99%</td><td class="num">10</td><td class="num">37.4</td>' \
           in page
    assert len(STUDENTS) == 10


def test_rendered_by_chromium(graded, chromium, tmp_path):
    root, _ = graded
    url = (root / "out" / "class.html").resolve().as_uri()
    done = _chromium(chromium, tmp_path / "profile", "--dump-dom", url)
    dom = done.stdout
    assert done.returncode == 0 and dom, done.stderr[-2000:]
    assert dom.count("<svg") == 4 and dom.count('class="bar"') == 20 and dom.count('class="student"') == 12 + 12
    assert dom.count('<circle class="gap"') == 12 and dom.count('class="reference"') == 3
    assert "s08-hana, s09-ivy" in dom
    shot, blank = tmp_path / "report.png", tmp_path / "blank.png"
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>")
    for target, page in ((shot, url), (blank, empty.as_uri())):
        done = _chromium(chromium, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={target}", page)
        assert target.exists(), done.stderr[-2000:]
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a white page compresses to almost nothing and its pixel stream holds a handful of byte values; the
    # report's text, bars and dots do neither
    assert shot.stat().st_size > 10 * blank.stat().st_size, (shot.stat().st_size, blank.stat().st_size)
    assert len(set(_pixels(blank))) < 10 and len(set(_pixels(shot))) > 200


def _pixels(path: Path) -> bytes:
    """A PNG's (filtered) pixel stream: its IDAT chunks, inflated."""
    data, pos, chunks = path.read_bytes(), 8, []
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + size])
        pos += 12 + size
    return zlib.decompress(b"".join(chunks))


def test_lecture_sheets_and_a_class_of_broken_files(tmp_path):
    from grader.class_report import render
    from grader.grade import grade_file
    from workbook.catalog import load, load_any
    from workbook.lecture.book import build_lecture

    g = load_any("lecture-perceptron").gradable()
    path = build_lecture(load_any("lecture-perceptron"), tmp_path / "pc.xlsx")
    page = render([grade_file(path, g)], [g])
    assert "<h1>The perceptron: circles and rectangles</h1>" in page and page.count("<svg") == 2
    assert "reference losses" not in page and "Hidden test" not in page  # a network's references only
    junk = tmp_path / "junk.xlsx"
    junk.write_text("x")
    hp = load("house-prices")
    page = render([grade_file(junk, hp)], [hp])
    assert "13 submission" not in page and "1 submission(s), 0 graded, 1 not graded." in page
    assert page.count("<svg") == 1 and '<tr class="student error">' in page
