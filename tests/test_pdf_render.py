"""What a new user sees: every built-in workbook (and a user's template with long labels) printed by LibreOffice.

Each workbook is rendered to PDF through LibreOffice and read back with `pdftotext`. The test fails on
an error or overflow marker in the text (`###`, `Err:`, `#VALUE`, `#NAME`, `#NUM`, ...), on a number with
more than six decimals (a General cell filling its column: -260.033725, 0.10751138432) or in scientific
notation where the builder did not ask for it (1.298533E+01), on any label the builder wrote that the PDF
does not contain whole (cut at a column edge, clipped at the page edge, or hidden under a row too short for
its lines), on pages of more than one paper size, and on a page printed smaller than styles.MIN_PRINT_SCALE (a
sheet too wide for one page prints on pages side by side instead). A whole-number column (a 0/1 target) shows no
decimals.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from workbook import libreoffice, styles
from workbook.builder import build_workbook
from workbook.catalog import builtin_templates, load_any, resolve_template
from workbook.errors import TemplateError
from workbook.lecture.book import build_lecture
from workbook.spec import Assignment, parse_template

LONG_DECIMALS = re.compile(r"-?[\d,]*\d\.\d{7,}")
SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?E[+-]\d+")
MARKERS = ("###", "Err:", "#VALUE", "#NAME", "#NUM", "#DIV/0", "#REF", "#N/A")
A4 = (595, 842)
LETTER = (612, 792)

ICE_CREAM = textwrap.dedent("""
    [assignment]
    id = "ice-cream"
    title = "Ice cream sales at the seaside kiosk, predicted from the weather of the day"
    description = "A user's template with long labels"
    instructions = '''
    Every row is one summer day at the kiosk: the hours of sunshine, the highest temperature of the afternoon
    and whether it was a weekend. Tune the yellow weights until the predicted sales follow the real ones.'''
    [data]
    inputs = [{ label = "Hours of sunshine between nine and six", unit = "hours" },
              { label = "Highest afternoon temperature in the shade", unit = "degrees Celsius" },
              { label = "Weekend or public holiday", unit = "1 = yes" }]
    target = { label = "Ice creams actually sold that day at the kiosk" }
    rows = [[8, 24, 0, 310], [3, 18, 1, 190], [10, 29, 1, 520], [1, 15, 0, 80], [6, 22, 0, 260]]
    [network]
    hidden = [3]
    activations = ["sigmoid"]
    [weights.random]
    seed = 5
    [rubric]
    max_points = 20
    tiers = [{ min_improvement = 0.9, points = 20 }, { min_improvement = 0.5, points = 10 }]
    [display]
    number_format = "#,##0.0"
    scale = "ice creams per day"
    paper = "letter"
    [labels]
    prediction = "Ice creams the network predicts for that day"
    error = "Squared error in ice creams squared"
    metric = "Root mean squared error of the predicted sales"
    baseline = "Error of the starting weights"
    improvement = "Improvement on the starting weights"
    sheet = "Kiosk model"
    """)


# house-prices with the gradients beside its weights and a Descent sheet (the README's pictures of both)
TAUGHT = resolve_template("house-prices").read_text(encoding="utf-8") + textwrap.dedent("""
    [hints]
    gradient = true
    [descent]
    steps = 20
    eta = 0.0003
    decay = 0.3
    """)


def flat(text: str) -> str:
    """Text without whitespace or hyphens: pdftotext breaks lines where the sheet wrapped them, drops a
    hyphen at a line end and the thin spaces around '·'; the words must still all be there, in order."""
    return re.sub(r"[\s\-]+", "", text)


@pytest.fixture(scope="module")
def rendered(soffice, tmp_path_factory):
    """{name: (the workbook as built, its PDF)} for every built-in template and the ice-cream one."""
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.fail("pdftotext and pdfinfo (poppler-utils) are required")
    src = tmp_path_factory.mktemp("src")
    books = {}
    for t in builtin_templates():
        template = load_any(t.name)
        books[t.name] = (build_workbook if isinstance(template, Assignment) else build_lecture)(
            template, src / f"{t.name}.xlsx")
    books["ice-cream"] = build_workbook(parse_template(ICE_CREAM), src / "ice-cream.xlsx")
    books["taught"] = build_workbook(parse_template(TAUGHT), src / "taught.xlsx")
    thirty = resolve_template("lecture-perceptron").read_text(encoding="utf-8").replace("images = 12", "images = 30")
    books["perceptron-30"] = build_lecture(load_any(write(src / "perceptron-30.toml", thirty)),
                                           src / "perceptron-30.xlsx")
    with pytest.MonkeyPatch.context() as mp:  # the 3-4-3-1 network as it printed before: one page wide at 30 %
        mp.setattr(styles, "plan_pages", lambda widths, **_: styles.PrintPlan(0.3))
        books["exam-pass-one-page"] = build_workbook(load_any("exam-pass"), src / "exam-pass-one-page.xlsx")
    pdfs = libreoffice.recalculate(list(books.values()), tmp_path_factory.mktemp("pdf"), fmt="pdf")
    return {name: (path, pdf) for (name, path), pdf in zip(books.items(), pdfs, strict=True)}


NAMES = [*(t.name for t in builtin_templates()), "ice-cream", "taught"]


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def page_sizes(pdf: Path) -> set[tuple[int, int]]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    return {tuple(sorted(round(float(v)) for v in m)) for m in re.findall(r"size:\s+([\d.]+) x ([\d.]+)", out)}


def labels(path: Path) -> list[tuple[str, str, bool]]:
    """(where, text, wrapped) of every word cell the builder wrote (hidden pixel cells excepted)."""
    wb = openpyxl.load_workbook(path)
    return [(f"{ws.title}!{c.coordinate}", c.value, bool(c.alignment.wrap_text)) for ws in wb
            for row in ws.iter_rows() for c in row
            if c.data_type == "s" and isinstance(c.value, str) and c.value.strip() and c.number_format != ";;;"]


def printed_whole(words: str, wrapped: bool, text: str, tokens: set[str]) -> bool:
    """A label is whole if the PDF has it in one piece; a wrapped heading's lines may be interleaved with its
    neighbours' (pdftotext reads across the row), so for it every word must be printed whole instead: a
    word cut mid-way ("Improvemen" / "t"), clipped at the page edge or hidden under a short row is not."""
    if flat(words) in flat(text):
        return True
    return wrapped and all(word in tokens for word in words.split())


@pytest.mark.parametrize("name", NAMES)
def test_pdf_has_no_error_or_overflow_marker(rendered, name):
    text = pdf_text(rendered[name][1])
    assert text.strip(), f"{name}: the PDF has no text"
    found = [m for m in MARKERS if m in text]
    assert not found, f"{name}: the printed workbook shows {found}"


def scientific_values(path: Path) -> list[tuple[float, int]]:
    """(cached result, decimals shown) of every cell the builder formats in scientific notation on purpose."""
    shown = openpyxl.load_workbook(path, data_only=True)
    out = []
    for ws in openpyxl.load_workbook(path):
        for row in ws.iter_rows():
            for c in row:
                fmt, value = c.number_format.upper(), shown[ws.title][c.coordinate].value
                if "E+" in fmt and isinstance(value, int | float):
                    mantissa = fmt.split("E")[0]
                    out.append((float(value), len(mantissa.split(".")[1]) if "." in mantissa else 0))
    return out


def decimals(token: str) -> int:
    mantissa = token.upper().split("E")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def shows(token: str, value: float) -> bool:
    """Whether `token` ("-2.60E+02") is `value` in scientific notation, to the digits it shows."""
    return abs(float(token) - value) <= 0.51 * 10.0 ** -decimals(token) * abs(value) or float(token) == value == 0


def intended(token: str, cells: list[tuple[float, int]]) -> bool:
    """A cell's value as its format shows it, or a chart's tick in that format between the values it charts
    (a chart's axis takes its numbers' format from its data)."""
    if any(shows(token, value) for value, _ in cells):
        return True
    same = [value for value, digits in cells if digits == decimals(token)]
    return bool(same) and min(0.0, *same) <= float(token) <= 2 * max(0.0, *same)


@pytest.mark.parametrize("name", NAMES)
def test_no_long_floats_or_stray_scientific_notation(rendered, name):
    path, pdf = rendered[name]
    text = pdf_text(pdf)
    assert not LONG_DECIMALS.findall(text), f"{name}: numbers printed with more than six decimals: " \
                                            f"{sorted(set(LONG_DECIMALS.findall(text)))[:8]}"
    cells = scientific_values(path)
    stray = [t for t in SCIENTIFIC.findall(text) if not intended(t, cells)]
    assert not stray, f"{name}: scientific notation no cell asked for: {sorted(set(stray))[:8]}"


@pytest.mark.parametrize("name", NAMES)
def test_whole_numbers_show_no_decimals(rendered, name):
    """A given cell holding a whole number (a 0/1 target, a count) is not printed as 1.000."""
    wb = openpyxl.load_workbook(rendered[name][0])
    forced = [f"{ws.title}!{c.coordinate}: {c.value} as {c.number_format}" for ws in wb for row in ws.iter_rows()
              for c in row if c.data_type == "n" and isinstance(c.value, int | float) and c.protection.locked
              and float(c.value).is_integer() and re.search(r"\.0", c.number_format)]
    assert not forced, f"{name}: {len(forced)} whole numbers shown with decimals: {forced[:4]}"


@pytest.mark.parametrize("name", NAMES)
def test_words_keep_clear_of_the_number_on_their_left(rendered, name):
    """A number is right-aligned, words left-aligned: side by side they printed as one ("01 / (1 + e^(−z)) =" for
    the sigmoid's z = 0 and its formula, "1circle", "-2.60E+02↑ increase"). Words there start one character in."""
    wb = openpyxl.load_workbook(rendered[name][0])
    crowded = []
    for ws in wb:
        for row in ws.iter_rows(min_col=2):
            for c in row:
                words = c.data_type == "s" or (c.data_type == "f" and str(c.value).startswith("=IF(")
                                               and '"↓' in str(c.value))  # the cue beside a gradient
                if not words or not str(c.value).strip() or c.number_format == ";;;":
                    continue
                left = ws.cell(row=c.row, column=c.column - 1)
                number = left.data_type == "f" or isinstance(left.value, int | float)
                flush = (c.alignment.horizontal or "general") in ("general", "left") and not c.alignment.indent
                if number and flush and c.coordinate not in ws.merged_cells:
                    crowded.append(f"{ws.title}!{c.coordinate} {str(c.value)[:30]!r}")
    assert not crowded, f"{name}: {len(crowded)} words flush against a number: {crowded[:6]}"


def test_the_checks_catch_what_they_are_for():
    """The patterns find what the sheets used to print, and leave alone what they print now."""
    assert LONG_DECIMALS.findall("W -260.033725 x 0.10751138432 y 12,985.3305516") == ["0.10751138432",
                                                                                     "12,985.3305516"]
    assert LONG_DECIMALS.findall("0.545209 1,745,833,333 58.4879") == []
    assert SCIENTIFIC.findall("1.298533E+01 and -2.60E-06, not E+ alone") == ["1.298533E+01", "-2.60E-06"]
    assert shows("-2.60E+02", -260.033725) and shows("0.00E+00", 0.0) and shows("1.326E+10", 13262172663)
    assert not shows("1.298533E+01", 1.2986) and not shows("-2.60E+02", 260.03)
    cells = [(13262172663.0, 3), (-260.03, 2)]
    assert intended("1.200E+10", cells) and intended("-2.60E+02", cells)  # a tick, a cell
    assert not intended("1.298533E+01", cells) and not intended("5.000E+11", cells)


@pytest.mark.parametrize("name", NAMES)
def test_every_label_is_printed_whole(rendered, name):
    path, pdf = rendered[name]
    text = pdf_text(pdf)
    tokens = set(text.split())
    written = labels(path)
    missing = [f"{where}: {words!r}" for where, words, wrapped in written
               if not printed_whole(words, wrapped, text, tokens)]
    assert not missing, f"{name}: {len(missing)} of {len(written)} labels are cut or hidden: {missing[:8]}"
    assert len(written) >= 10


def word_heights(pdf: Path) -> list[float]:
    """The median height of the words on each page, in points: 14.3 for 11 pt text printed at 100 %."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        boxes = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page)
        pages.append(statistics.median(float(y2) - float(y1) for y1, y2 in boxes))
    return pages


BODY = 14.3  # points: how tall pdftotext boxes a word of 11 pt text (the cells' font) printed at 100 %
SMALLEST = styles.SMALLEST_SCALE  # planned at the minimum, printed at most SCALE_SLACK under


def page_scales(pdf: Path) -> list[float]:
    """The scale each page prints at: its commonest word height (the cells' 11 pt text) over BODY."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    scales = []
    for page in out.split("<page ")[1:]:
        heights = Counter(round(float(y2) - float(y1), 1)
                          for y1, y2 in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page))
        scales.append(heights.most_common(1)[0][0] / BODY if heights else 1.0)
    return scales


def too_small(pdf: Path) -> list[str]:
    return [f"page {i} ({pdf_text_page(pdf, i).strip().split(chr(10))[0][:40]!r}) at {scale:.0%}"
            for i, scale in enumerate(page_scales(pdf), 1) if scale < SMALLEST]


@pytest.mark.parametrize("name", NAMES)
def test_every_page_prints_at_a_readable_scale(rendered, name):
    """Fitted to one page's width a wide sheet printed at 30 % (the 3-4-3-1 network, the perceptron) or 44 % (the
    lecture's Manual Machine Learning sheet): 11 pt text 3.3 pt tall. Such a sheet prints on pages side by side."""
    small = too_small(rendered[name][1])
    assert not small, f"{name}: printed smaller than {SMALLEST:.0%}: {small}"


def test_the_scale_check_catches_a_sheet_fitted_to_one_page(rendered):
    assert page_scales(rendered["exam-pass-one-page"][1]) == [1.0, pytest.approx(0.30, abs=0.005)]
    assert too_small(rendered["exam-pass-one-page"][1]) == ["page 2 ('Two hidden layers: will the student pass') "
                                                            "at 30%"]


@pytest.mark.parametrize(("name", "first_lines"), [
    # the instructions; the inputs and hidden layer 1 with the chart; hidden layer 2, the output and the summary
    ("exam-pass", ["Two hidden layers: will the student pass?", "Two hidden layers: will the student pass?",
                   "Hidden layer 2 (tanh)"]),
    # the weights and the results (the goal wrapped inside the first page), then the images, six a page
    ("lecture-perceptron", ["The perceptron: circles and rectangles", "The perceptron (Rosenblatt, 1958)",
                            "Image 1: circle (label 1)", "Image 7: circle (label 1)"]),
])
def test_a_wide_sheet_prints_on_pages_side_by_side_split_between_blocks(rendered, name, first_lines):
    pdf = rendered[name][1]
    pages = len(page_scales(pdf))
    assert [pdf_text_page(pdf, i).strip().split("\n")[0] for i in range(1, pages + 1)] == first_lines
    assert min(page_scales(pdf)) >= SMALLEST


def test_no_page_breaks_through_an_image(rendered):
    # 30 images, 10 bands of three: left to LibreOffice a page ended under the titles of images 13-15
    pdf = rendered["perceptron-30"][1]
    pages = [[int(n) for n in re.findall(r"Image (\d+):", pdf_text_page(pdf, i))] for i in range(3, 8)]
    assert pages == [list(range(k, k + 6)) for k in range(1, 31, 6)]
    assert len(page_scales(pdf)) == 7 and min(page_scales(pdf)) >= SMALLEST


def test_the_lecture_sheet_splits_after_its_hidden_layer_with_the_goal_whole_on_the_first_page(rendered):
    path, pdf = rendered["lecture"]
    ws = openpyxl.load_workbook(path)["Manual Machine Learning"]
    assert [b.id for b in ws.col_breaks.brk] == [12]  # A..L: inputs and the hidden layer; M..S: output, summary
    assert "A3:L3" in {str(r) for r in ws.merged_cells.ranges}  # the goal wraps within the first page
    text = " ".join(pdf_text(pdf).split())
    assert ("Edit only the yellow cells (weights and biases) to make the Root Mean Squared Error as small as "
            "possible. Improvement ≥ 99% earns all 10 points. True House Price and Predicted House Price are in "
            "thousands of EUR.") in text


def test_the_gradient_descent_sheet_prints_at_a_readable_scale(rendered):
    """Its three runs stood side by side, 24 columns wide: fitted to the page's width they printed at about 32 %
    (words 4.6 pt tall). One under another, with each chart beside its run, the sheet prints at about 80 %."""
    contents, *sheet = word_heights(rendered["lecture-gradient-descent"][1])
    assert len(sheet) == 5 and min(sheet) >= 0.7 * contents, (contents, sheet)


@pytest.mark.parametrize(("name", "title", "scale"), [
    ("lecture-prediction-error", "Prediction error", 0.85),  # its notes ran on to 190 characters: 63 %
    ("taught", "Gradients: how each weight", 0.75),  # its notes ran on 150 characters: landscape at about 70 %
])
def test_notes_wrap_inside_the_page_and_the_sheet_prints_near_full_size(rendered, name, title, scale):
    pdf = rendered[name][1]
    heights = word_heights(pdf)
    firsts = [pdf_text_page(pdf, i + 1).strip().split("\n")[0] for i in range(len(heights))]
    pages = [h for h, first in zip(heights, firsts, strict=True) if first.startswith(title)]
    assert pages and min(pages) >= scale * heights[0], (name, heights, firsts)


def pdf_text_page(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("name", NAMES)
def test_one_paper_size(rendered, name):
    sizes = page_sizes(rendered[name][1])
    assert sizes == {tuple(sorted(LETTER if name == "ice-cream" else A4))}, f"{name}: pages of {sizes}"


def test_a_users_template_speaks_its_own_words(rendered):
    """No house-price wording baked in: the goal line names the template's target, prediction and unit."""
    path, pdf = rendered["ice-cream"]
    words = " ".join(text for _where, text, _wrapped in labels(path)) + pdf_text(pdf)
    assert not re.search(r"\b(prices?|houses?|EUR)\b", words, flags=re.IGNORECASE), \
        re.search(r".{40}\b(prices?|houses?|EUR)\b.{40}", words, flags=re.IGNORECASE | re.S)
    ws = openpyxl.load_workbook(path)["Kiosk model"]
    goal = next(c.value for row in ws.iter_rows(max_row=5) for c in row if str(c.value).startswith("Edit only"))
    assert goal.endswith("Ice creams actually sold that day at the kiosk and Ice creams the network predicts for "
                         "that day are in ice creams per day.")


def test_an_unknown_paper_size_is_refused():
    with pytest.raises(TemplateError) as err:
        parse_template(ICE_CREAM.replace('paper = "letter"', 'paper = "B5"'))
    assert str(err.value) == "<string>: display.paper: unknown paper size 'B5' (choose from: A4, letter, A3, legal)"
    assert parse_template(ICE_CREAM.replace('paper = "letter"', 'paper = "LETTER"')).display.paper == "letter"
    assert parse_template(ICE_CREAM.replace('paper = "letter"\n', "")).display.paper == "A4"


EXAM_PASS = [15, 15, 15, 2, *[17, 12] * 4, 2, *[17, 12] * 3, 2, 13, 17, 15, 13, 2, 25]  # its columns' widths
LAYERS = (5, 14, 21, 26)  # the columns after its spacers: layer 1, layer 2, the output, the summary
NEURONS = (5, 7, 9, 11, 14, 16, 18, 21, 26)


@pytest.mark.parametrize(("widths", "options", "exp_scale", "exp_breaks", "exp_narrow"), [
    ([62], {"landscape": False}, 1.0, (), False),  # the instructions: upright, at 100 %, normal margins
    (EXAM_PASS, {}, 0.340, (), True),  # nowhere to break: one page wide however small
    ([15, 15, 2, *[17, 12] * 3, 2, 13, 15, 13, 2, 25], {}, 0.609, (), True),  # 2-3-1: one page, narrow margins
    (EXAM_PASS, {"starts": (LAYERS, NEURONS)}, 0.662, (14,), True),  # between the hidden layers
    (EXAM_PASS, {"starts": (LAYERS, NEURONS), "paper": "letter"}, 0.621, (14,), True),
    (EXAM_PASS, {"starts": (LAYERS,), "keep": 1300.0}, 0.453, (21, 26), True),  # never through the chart
    ([100, 100, 100], {"starts": ((2, 3),)}, 1.0, (2, 3), True),  # two pages print at 58 %: three
])
def test_a_sheet_too_wide_for_one_readable_page_is_split_between_blocks(widths, options, exp_scale, exp_breaks,
                                                                       exp_narrow):
    got = styles.plan_pages(widths, **({"paper": "A4", "landscape": True} | options))
    assert (round(got.scale, 3), got.breaks, got.narrow) == (exp_scale, exp_breaks, exp_narrow)


def test_a_split_sheet_prints_at_a_fixed_scale_with_its_column_breaks():
    ws = openpyxl.Workbook().active
    styles.apply_print_plan(ws, styles.PrintPlan(0.662, (14,), narrow=True), landscape=True, paper="letter")
    setup = ws.page_setup
    assert (setup.orientation, setup.paperSize, setup.scale, ws.sheet_properties.pageSetUpPr.fitToPage) == \
           ("landscape", 1, 64, False)
    assert [b.id for b in ws.col_breaks.brk] == [13]  # the break's id is the last column before it: M
    styles.apply_print_plan(ws, styles.PrintPlan(0.662, (14,), True, rows=(52,), percent=60), landscape=True,
                            paper="letter")
    assert ([b.id for b in ws.col_breaks.brk], [b.id for b in ws.row_breaks.brk], setup.scale) == ([13], [51], 60)
    assert (ws.page_margins.left, ws.page_margins.right) == (0.25, 0.25)
    styles.apply_print_plan(ws, styles.PrintPlan(0.8), landscape=False, paper="A4")
    assert (setup.fitToWidth, setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage) == (1, 0, True)
    assert (ws.page_margins.left, setup.orientation, setup.paperSize, ws.col_breaks.brk) == (0.75, "portrait", 9, [])
    assert [b.id for b in ws.row_breaks.brk] == [51]  # a sheet's own row breaks stay (Gradient Descent's runs)


@pytest.mark.parametrize(("heights", "starts", "exp_rows", "exp_percent"), [
    # the perceptron's rows: its title and two bands of images fit on a page at 60 %, not at 61 %
    ([15.0, 15.0, 32.0, 15.0, 15.0, 32.0, *[15.0] * 89], (52, 75), (52,), 60),
    ([15.0] * 200, (30, 60, 90, 120, 150, 180), (30, 60, 90, 120, 150), 61),  # a page of 53 rows: 30 each
    ([15.0] * 40, (20,), (), 61),  # all on one page: no break
])
def test_a_split_sheet_breaks_its_rows_only_where_a_page_may_start(heights, starts, exp_rows, exp_percent):
    plan = styles.plan_rows(heights, starts, styles.PrintPlan(0.633, (30,), narrow=True), paper="A4", landscape=True)
    assert (plan.rows, styles.print_percent(plan)) == (exp_rows, exp_percent)
    assert styles.plan_rows(heights, starts, styles.PrintPlan(0.8), paper="A4", landscape=True).rows == ()
