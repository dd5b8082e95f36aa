"""Issue 14, item 1 (audit): charts valid where the schema is strict, and internal links as locations.

Every scatter chart the generator writes must open its `c:scatterChart` with the `c:scatterStyle` element
the ISO/IEC 29500 schema requires (first child: Excel has been reported to drop drawings it finds invalid),
and every link a workbook carries must be an internal location (`<hyperlink location="'Sheet'!A1">`) that
names a sheet of the same workbook, never an external relationship such as `#Neuron!A1` (Gnumeric drops
those). Checked on every built-in template, and on house-prices with its Gradients and Descent sheets.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from workbook.address import parse_reference
from workbook.builder import build_workbook
from workbook.catalog import builtin_templates, load, load_any
from workbook.lecture.book import build_lecture
from workbook.lecture.template import LectureTemplate
from workbook.spec import Descent, Hints

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
NAMES = [t.name for t in builtin_templates()]


def _build(name: str, folder: Path) -> Path:
    path = folder / f"{name}.xlsx"
    if name == "house-prices-taught":
        a = dataclasses.replace(load("house-prices"), hints=Hints(gradient=True),
                                descent=Descent(steps=5, eta=3e-4, decay=0.3))
        return build_workbook(a, path)
    t = load_any(name)
    return build_lecture(t, path) if isinstance(t, LectureTemplate) else build_workbook(t, path)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("portable")
    return {name: _build(name, folder) for name in [*NAMES, "house-prices-taught"]}


def scatter_problems(chart_xml: bytes) -> list[str]:
    """What is wrong with the scatter charts of one chart part (empty: nothing)."""
    root = etree.fromstring(chart_xml)
    problems = []
    for scatter in root.iter(f"{C}scatterChart"):
        children = [child for child in scatter if isinstance(child.tag, str)]
        if not children or children[0].tag != f"{C}scatterStyle":
            problems.append("c:scatterChart does not start with c:scatterStyle")
        elif children[0].get("val") not in {"none", "line", "lineMarker", "marker", "smooth", "smoothMarker"}:
            problems.append(f"c:scatterStyle has val={children[0].get('val')!r}")
    return problems


def link_problems(book: Path) -> list[str]:
    """Links that are not internal locations naming one of the workbook's own sheets."""
    problems = []
    with zipfile.ZipFile(book) as z:
        workbook = etree.fromstring(z.read("xl/workbook.xml"))
        sheets = {s.get("name") for s in workbook.iter(f"{MAIN}sheet")}
        for part in z.namelist():
            if part.endswith(".rels"):
                for rel in etree.fromstring(z.read(part)).iter(REL):
                    if rel.get("TargetMode") == "External" or rel.get("Type", "").endswith("/hyperlink"):
                        problems.append(f"{part}: an external relationship to {rel.get('Target')!r}")
            elif part.startswith("xl/worksheets/sheet") and part.endswith(".xml"):
                for link in etree.fromstring(z.read(part)).iter(f"{MAIN}hyperlink"):
                    where = link.get("location")
                    if link.get(R_ID) is not None or not where:
                        problems.append(f"{part}!{link.get('ref')}: not an internal location")
                    elif parse_reference(where)[0] not in sheets:
                        problems.append(f"{part}!{link.get('ref')}: {where!r} names no sheet of the workbook")
    return problems


@pytest.mark.parametrize("name", [*NAMES, "house-prices-taught"])
def test_every_scatter_chart_has_its_style(books, name):
    with zipfile.ZipFile(books[name]) as z:
        charts = {part: z.read(part) for part in z.namelist() if part.startswith("xl/charts/chart")}
    found = {part: scatter_problems(xml) for part, xml in charts.items()}
    assert {part: p for part, p in found.items() if p} == {}, name


def test_the_lecture_has_scatter_charts_to_check(books):
    """The check above is not vacuous: the lecture's Activations, Linearity and Gradient Descent draw scatters."""
    with zipfile.ZipFile(books["lecture"]) as z:
        scatters = [p for p in z.namelist() if p.startswith("xl/charts/chart") and b"scatterChart" in z.read(p)]
    assert len(scatters) >= 5


@pytest.mark.parametrize("name", [*NAMES, "house-prices-taught"])
def test_links_are_internal_locations(books, name):
    assert link_problems(books[name]) == []


def test_the_lecture_contents_link_every_sheet(books):
    from openpyxl import load_workbook

    wb = load_workbook(books["lecture"])
    links = [c.hyperlink.location for row in wb["Contents"].iter_rows() for c in row if c.hyperlink is not None]
    assert [parse_reference(where) for where in links] == [(s, "A1") for s in wb.sheetnames[1:]]


def test_the_checks_catch_what_they_are_for(tmp_path):
    ns = 'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"'
    bare = f'<c:chartSpace {ns}><c:chart><c:plotArea><c:scatterChart><c:varyColors val="0"/>' \
           '</c:scatterChart></c:plotArea></c:chart></c:chartSpace>'.encode()
    styled = bare.replace(b"<c:scatterChart>", b'<c:scatterChart><c:scatterStyle val="lineMarker"/>')
    assert scatter_problems(bare) == ["c:scatterChart does not start with c:scatterStyle"]
    assert scatter_problems(styled) == []
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    book = tmp_path / "links.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}"><sheets><sheet name="Neuron" sheetId="1"/>'
                                      "</sheets></workbook>")
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<worksheet xmlns="{main}" xmlns:r="{rels}"><hyperlinks><hyperlink ref="A1" r:id="rId1"/>'
                   '<hyperlink ref="A2" location="Nowhere!A1"/><hyperlink ref="A3" location="Neuron!A1"/>'
                   "</hyperlinks></worksheet>")
        z.writestr("xl/worksheets/_rels/sheet1.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rels}/hyperlink" Target="#Neuron!A1" TargetMode="External"/>'
                   "</Relationships>")
    assert link_problems(book) == [
        "xl/worksheets/sheet1.xml!A1: not an internal location",
        "xl/worksheets/sheet1.xml!A2: 'Nowhere!A1' names no sheet of the workbook",
        "xl/worksheets/_rels/sheet1.xml.rels: an external relationship to '#Neuron!A1'",
    ]
