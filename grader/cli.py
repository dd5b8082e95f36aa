"""The `manualml` command: a thin layer over the library.

It lives in `grader` because it is the one place allowed to use both packages (`grader`
imports `workbook`, never the reverse). Heavy libraries (openpyxl, numpy, pandas) are
imported inside the commands, so `manualml --help` starts instantly. Library errors
become click errors here and nowhere else: a user never sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click


def _friendly(func):
    """Turn the packages' own errors into one-line click errors."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from grader.errors import GraderError
        from workbook.errors import WorkbookError

        try:
            return func(*args, **kwargs)
        except (WorkbookError, GraderError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="manualml")
def main() -> None:
    """Teach neural networks in a spreadsheet: generate live workbooks, grade them with NumPy."""


@main.command("templates")
def templates_cmd() -> None:
    """List the built-in assignment templates."""
    from workbook.catalog import builtin_templates

    for t in builtin_templates():
        click.echo(f"{t.name:<22} {t.description}")


@main.command("validate-template")
@click.argument("template")
@_friendly
def validate_template(template: str) -> None:
    """Check a template (built-in name or .toml path) and summarise it."""
    from workbook.catalog import load, resolve_template
    from workbook.model import loss

    a = load(template)
    click.echo(f"{resolve_template(template)}: OK")
    click.echo(f"  {a.title}: network {a.network.shape}, {len(a.data.rows)} rows, metric {a.metric}, "
               f"baseline {a.metric_abbr} {loss(a):,.6g}, {a.rubric.max_points:g} points")


@main.command("generate")
@click.option("-t", "--template", default=None, help="Built-in template name or path to a .toml file "
              "(default: house-prices, the lecture's sheet).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Workbook to write (default: <template id>.xlsx in the current folder).")
@click.option("--password", default=None, help="Protect the sheet with this password (default: none).")
@_friendly
def generate(template: str | None, output: Path | None, password: str | None) -> None:
    """Write an assignment workbook a student can open and edit."""
    from workbook.builder import build_workbook
    from workbook.catalog import load
    from workbook.model import loss

    a = load(template)
    path = build_workbook(a, output or Path(f"{a.id}.xlsx"), password=password)
    click.echo(f"Wrote {path.resolve()}")
    click.echo(f"  {a.title}: network {a.network.shape}, {len(a.data.rows)} rows, "
               f"baseline {a.metric_abbr} {loss(a):,.6g}")


@main.command("render")
@click.argument("workbook_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("-t", "--template", default=None, help="Render a freshly generated template instead of a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("sheet.png"),
              help="PNG (or .pdf) to write.")
@click.option("--page", default=None, type=int, help="Page to render (default: the main sheet's first page).")
@_friendly
def render(workbook_file: Path | None, template: str | None, output: Path, page: int | None) -> None:
    """Render a workbook as LibreOffice computes and draws it (needs LibreOffice)."""
    import tempfile

    from workbook import libreoffice
    from workbook.builder import build_workbook
    from workbook.catalog import load

    with tempfile.TemporaryDirectory() as tmp:
        if workbook_file is None:
            workbook_file = build_workbook(load(template), Path(tmp) / "sheet.xlsx")
        if output.suffix.lower() == ".pdf":
            libreoffice.render_pdf(workbook_file, output)
        else:
            libreoffice.render(workbook_file, output, page=page)
    click.echo(f"Wrote {output.resolve()}")


def run() -> None:  # pragma: no cover - console entry for `python -m`
    sys.exit(main())
