"""What `manualml render -o x.png` draws by default, and the diverging gradient-descent run's numbers.

The default page was the PDF's last page: the Gradient Descent sheet (75 steps of η = 0.1) spills over,
so the picture was its rows 69-75 alone. It is now the page the last sheet starts on. (Since the sheet's runs
stand one under another, each later run on a page of its own, the last page is the decaying run.)
"""

from __future__ import annotations

import subprocess
from collections import Counter

import openpyxl
from click.testing import CliRunner

from manualml.cli import main
from workbook import libreoffice
from workbook.catalog import load_any
from workbook.lecture.book import build_lecture


def test_the_default_picture_is_the_first_page_of_the_last_sheet(soffice, tmp_path):
    path = build_lecture(load_any("lecture-gradient-descent"), tmp_path / "gd.xlsx")
    pdf = libreoffice.render_pdf(path, tmp_path / "gd.pdf")
    # contents; the problem and η = 0.1's first steps; its steps 12-49 and 50-75; η = 2; the decaying η_t
    assert libreoffice._page_count("pdfinfo", pdf) == 6
    assert libreoffice._main_sheet_start(path, pdf, 6) == 2
    last = subprocess.run(["pdftotext", "-layout", "-f", "6", "-l", "6", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert last.split()[:2] == ["variable", "η_t"]  # what a default of the last page would draw
    runner = CliRunner()
    for args in ([], ["--page", "2"]):
        out = tmp_path / f"p{len(args)}.png"
        done = runner.invoke(main, ["render", "-t", "lecture-gradient-descent", "-o", str(out), *args],
                             catch_exceptions=False)
        assert done.exit_code == 0, done.output
    assert (tmp_path / "p0.png").read_bytes() == (tmp_path / "p2.png").read_bytes()


def test_the_default_picture_is_the_main_sheet_not_its_gradients(soffice, tmp_path):
    # with [hints] gradient the Gradients sheet comes after the main sheet: the last sheet's picture was its table
    from workbook.template_files import templates_dir

    own = tmp_path / "hpg.toml"
    own.write_text((templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
                   + "\n[hints]\ngradient = true\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "default.png"
    done = runner.invoke(main, ["render", "-t", str(own), "-o", str(out)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    pdf = tmp_path / "all.pdf"
    assert runner.invoke(main, ["render", "-t", str(own), "-o", str(pdf)], catch_exceptions=False).exit_code == 0
    pages = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, text=True,
                            check=True).stdout for n in (1, 2, 3, 4)]
    # the main sheet, with its gradients too wide for one readable page, prints on two: the output on the second
    assert [p.splitlines()[0] for p in pages] == ["Manual Machine Learning: house prices",
                                                  "Manual Machine Learning: house prices", "Output (linear)",
                                                  "Gradients: how each weight moves the RMSE"]
    assert "Root Mean Squared Error" in pages[1] and "What to do" in pages[0]
    second = tmp_path / "p2.png"
    assert runner.invoke(main, ["render", "-t", str(own), "-o", str(second), "--page", "2"]).exit_code == 0
    assert out.read_bytes() == second.read_bytes()


def test_the_diverging_run_prints_every_number_in_one_width(tmp_path):
    # General let 13262172663 fill its cell and run into b's 59049 ("5904913262172663" in LibreOffice)
    path = build_lecture(load_any("lecture-gradient-descent"), tmp_path / "gd.xlsx")
    ws = openpyxl.load_workbook(path)["Gradient Descent"]
    formats = Counter(c.number_format for row in ws.iter_rows() for c in row if c.data_type == "f")
    # the η = 2 run: 11 steps × (w, b, loss, dL/dw, dL/db) and its loss, W and b after 10 steps; its η_t is 2
    # throughout and prints as the other runs' η_t do (as 2.000E+00 it was scientific notation for a plain 2)
    assert formats["0.000E+00"] == 11 * 5 + 3 and formats["General"] == 0
