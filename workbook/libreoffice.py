"""LibreOffice Calc, headless: the real spreadsheet engine our workbooks are checked against.

Two facts shape this module (measured on LibreOffice 7.4):
- LibreOffice does not recalculate, on load, a file that carries cached values, and ignores
  fullCalcOnLoad. A throwaway profile whose registrymodifications.xcu sets the OOXML and ODF
  "recalculation on load" modes to 0 (always) forces it; without that a test could read back
  stale numbers and prove nothing.
- `soffice --convert-to` exits 0 even when loading failed, so every output is checked to exist.
Each call gets its own profile, so concurrent runs never share one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbook.errors import LibreOfficeError, PageError

RECALC_ALWAYS_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".xlsm": "Calc MS Excel 2007 VBA XML", ".ods": "calc8",
           ".pdf": "calc_pdf_Export",
           # formats a student may hand in by mistake (the grader's tests make them for real)
           ".xltx": "Calc MS Excel 2007 XML Template", ".xls": "MS Excel 97", ".csv": "Text - txt - csv (StarCalc)",
           ".fods": "OpenDocument Spreadsheet Flat XML", ".xml": "MS Excel 2003 XML"}
UNO_SCRIPT = Path(__file__).with_name("_uno_edit.py")


def find_soffice() -> str | None:
    """The soffice binary: $MANUALML_SOFFICE, else soffice/libreoffice on PATH."""
    override = os.environ.get("MANUALML_SOFFICE")
    if override:
        return override if Path(override).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return find_soffice() is not None


def uno_python() -> str | None:
    """Debian's python3-uno imports only under the system Python."""
    candidate = "/usr/bin/python3"
    if not Path(candidate).exists():
        return None
    probe = subprocess.run([candidate, "-c", "import uno"], capture_output=True, check=False)
    return candidate if probe.returncode == 0 else None


def _soffice() -> str:
    found = find_soffice()
    if found is None:
        raise LibreOfficeError("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    return found


def make_profile(folder: Path) -> str:
    """A fresh user profile forcing recalculation on load; returns its file URL."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS_XCU, encoding="utf-8")
    return folder.resolve().as_uri()


def recalculate(paths: Sequence[Path], out_dir: Path, *, fmt: str = "xlsx", timeout: float = 180) -> list[Path]:
    """Open every file in LibreOffice, recalculate everything, save as `fmt` into out_dir (one run)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="manualml-lo-") as tmp:
        tmp_path = Path(tmp)
        staged = []
        for i, path in enumerate(paths):  # unique names: outputs are named after the input's stem
            path = Path(path)
            if not path.is_file():
                raise LibreOfficeError(f"{path}: no such file")
            target = tmp_path / "in" / f"{i:04d}-{path.name}"
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, target)
            staged.append(target)
        convert = fmt if fmt != "xlsx" else "xlsx:Calc MS Excel 2007 XML"
        cmd = [_soffice(), f"-env:UserInstallation={make_profile(tmp_path / 'profile')}", "--headless",
               "--norestore", "--convert-to", convert, "--outdir", str(tmp_path / "out"), *map(str, staged)]
        _run(cmd, timeout, paths)
        results = []
        for source, original in zip(staged, paths, strict=True):
            produced = tmp_path / "out" / f"{source.stem}.{fmt}"
            if not produced.exists():
                raise LibreOfficeError(f"{original}: LibreOffice could not open or convert this file")
            final = out_dir / f"{Path(original).stem}.{fmt}"
            shutil.move(produced, final)
            results.append(final)
    return results


def _run(cmd: list[str], timeout: float, paths) -> None:
    try:
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                       env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"})
    except subprocess.TimeoutExpired:
        raise LibreOfficeError(f"LibreOffice took longer than {timeout:g} s on {', '.join(map(str, paths))}") from None


CONVERT_SUFFIXES = (".ods", ".xlsx", ".pdf")  # what convert() writes for manualml's own commands


def convert(path: Path, out: Path, *, timeout: float = 180) -> Path:
    """The workbook in the format out's suffix names (.ods, .xlsx, .pdf), as LibreOffice computes it."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if f".{fmt}" not in CONVERT_SUFFIXES:
        raise LibreOfficeError(f"{out}: LibreOffice cannot write {out.suffix or 'a file without a suffix'} here "
                               "(choose .ods, .xlsx or .pdf)")
    with tempfile.TemporaryDirectory(prefix="manualml-convert-") as tmp:
        (produced,) = recalculate([path], Path(tmp), fmt=fmt, timeout=timeout)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, out)
    return out


def render_pdf(path: Path, out_pdf: Path, *, timeout: float = 180) -> Path:
    """The workbook as LibreOffice computes and prints it."""
    return convert(path, out_pdf, timeout=timeout)


IMAGE_FORMATS = {".png": ("-png", ".png"), ".jpg": ("-jpeg", ".jpg"), ".jpeg": ("-jpeg", ".jpg")}
DPI_RANGE = (20, 1200)


def render(path: Path, out_image: Path, *, page: int | None = None, dpi: int = 110, name: str | None = None) -> Path:
    """One printed page as a PNG or JPEG (default: the main sheet's first page).

    The format follows the suffix, and a suffix this cannot write is refused before LibreOffice
    starts, so `-o x.jpg` never leaves PNG bytes in a .jpg or a file under another name.
    `name` is what messages call the workbook (default: its path).
    """
    out_image = Path(out_image)
    kind = IMAGE_FORMATS.get(out_image.suffix.lower())
    if kind is None:
        raise LibreOfficeError(f"{out_image}: cannot render to {out_image.suffix or 'a file without a suffix'} "
                               f"(choose {', '.join(IMAGE_FORMATS)} or .pdf)")
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise LibreOfficeError(f"{dpi} dpi is out of range: choose {DPI_RANGE[0]} to {DPI_RANGE[1]}")
    if page is not None and page < 1:
        raise PageError(f"page {page} does not exist: pages are numbered from 1")
    tools = {name: shutil.which(name) for name in ("pdftoppm", "pdfinfo")}
    if None in tools.values():
        raise LibreOfficeError("pdftoppm and pdfinfo are not installed (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="manualml-render-") as tmp:
        pdf = render_pdf(path, Path(tmp) / "sheet.pdf")
        pages = _page_count(tools["pdfinfo"], pdf)
        if page is not None and page > pages:
            raise PageError(f"{name or path}: page {page} of {pages} does not exist; "
                                   f"choose a page from 1 to {pages}")
        chosen = page or _main_sheet_start(path, pdf, pages)
        stem = Path(tmp) / "page"
        done = subprocess.run([tools["pdftoppm"], kind[0], "-singlefile", "-r", str(dpi), "-f", str(chosen),
                               "-l", str(chosen), str(pdf), str(stem)], capture_output=True, text=True, check=False)
        produced = stem.with_suffix(kind[1])
        if done.returncode != 0 or not produced.exists():
            raise LibreOfficeError(f"{name or path}: pdftoppm could not draw page {chosen} "
                                   f"({done.stderr.strip()[-300:]})")
        out_image.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, out_image)
    return out_image


def _main_sheet_start(workbook: Path, pdf: Path, pages: int) -> int:
    """The page the main sheet starts on: the last page whose text holds that sheet's title (cell A1).

    The main sheet is the last sheet that is not a helper the builder adds after it (Gradients, Descent):
    with `[hints] gradient` the last page was the Gradients table, and that was the picture `render`
    drew. The last page alone is wrong once the sheet spills over, too: the lecture's Gradient Descent
    sheet (75 steps) printed its rows 69-75 alone on the last page. Anything unexpected (no pdftotext,
    no title) falls back to the last page.
    """
    from workbook import descent_sheet, gradient_sheet

    pdftotext = shutil.which("pdftotext")
    try:
        import openpyxl

        wb = openpyxl.load_workbook(workbook, read_only=True)
        try:
            helpers = {gradient_sheet.SHEET, descent_sheet.SHEET}
            main = [ws for ws in wb.worksheets if ws.title not in helpers] or wb.worksheets
            title = main[-1]["A1"].value
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - an .ods or an odd file: the old default is still a picture
        return pages
    if pdftotext is None or not isinstance(title, str) or not title.split():
        return pages
    wanted = " ".join(title.split())
    for number in range(pages, 0, -1):
        text = subprocess.run([pdftotext, "-f", str(number), "-l", str(number), str(pdf), "-"], capture_output=True,
                              text=True, check=False).stdout
        if wanted in " ".join(text.split()):
            return number
    return pages


def _page_count(pdfinfo: str, pdf: Path) -> int:
    out = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise LibreOfficeError(f"{pdf}: pdfinfo could not count the pages LibreOffice printed")


def edit_and_save(path: Path, edits: Mapping[str, float | str], outputs: Sequence[Path], *,
                  timeout: float = 180, password: str | None = None) -> list[Path]:
    """What a student does: open in LibreOffice, type into cells, let it recalculate, save.

    Keys are defined names (``w_in1_h1``) or ``Sheet Name!B5``. A float sets a number, a string
    starting with "=" a formula (given with Excel's ``,`` separators; LibreOffice reads it in
    Excel syntax), any other string text. ``insert-rows:Sheet Name!B12`` (or ``insert-columns:``)
    inserts that many rows above row 12 (columns left of B), as a student's right-click would;
    ``delete-rows:Sheet Name!A14`` (or ``delete-columns:``) deletes that many from row 14 (column A) on.
    Each output's format follows its suffix; `password` saves them encrypted, as "Save with password" does.
    """
    python = uno_python()
    if python is None:
        raise LibreOfficeError("LibreOffice's Python bridge is missing (apt-get install python3-uno)")
    for out in outputs:
        if Path(out).suffix.lower() not in FILTERS:
            raise LibreOfficeError(f"{out}: cannot save as {Path(out).suffix!r}")
    with tempfile.TemporaryDirectory(prefix="manualml-uno-") as tmp:
        job = {"soffice": _soffice(), "profile": make_profile(Path(tmp) / "profile"),
               "pipe": f"manualml{os.getpid()}{Path(tmp).name[-8:]}", "source": str(Path(path).resolve()),
               "edits": dict(edits), "password": password or "",
               "outputs": [[str(Path(o).resolve()), FILTERS[Path(o).suffix.lower()]] for o in outputs]}
        try:
            proc = subprocess.run([python, str(UNO_SCRIPT)], input=json.dumps(job), capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(f"{path}: LibreOffice took longer than {timeout:g} s to edit and save") from None
    lines = proc.stdout.strip().splitlines()
    reply = json.loads(lines[-1]) if lines else {"error": proc.stderr.strip()[-500:] or "no reply"}
    if "error" in reply:
        raise LibreOfficeError(f"{path}: {reply['error']}")
    missing = [str(o) for o in outputs if not Path(o).exists()]
    if missing:
        raise LibreOfficeError(f"{path}: LibreOffice did not write {', '.join(missing)}")
    return [Path(o) for o in outputs]
