"""Template files: the built-in ones (found in a checkout and in an installed wheel), names -> paths, loading.

This module knows files, not lecture sheets: `workbook.lecture.template` builds on it (a lecture
template names a manual-ML template to embed), and `workbook.catalog` sits above both.

The top-level `templates/` folder is shipped inside the package as `workbook/templates`
(see pyproject's package-dir), so an installed wheel finds it beside this module; in a
checkout (or an editable install) it is the folder itself.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workbook.errors import TemplateError

DEFAULT_TEMPLATE = "house-prices"


@dataclass(frozen=True)
class BuiltinTemplate:
    """One built-in template: its name (file stem), one-line description and file."""

    name: str
    description: str
    path: Path


def templates_dir() -> Path:
    """Installed: workbook/templates inside the package. Checkout: the top-level templates/ folder."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


def builtin_templates() -> list[BuiltinTemplate]:
    """Every built-in template, the default first; reads only each file's [assignment] table."""
    found = []
    for path in sorted(templates_dir().glob("*.toml"), key=lambda p: (p.stem != DEFAULT_TEMPLATE, p.stem)):
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8")).get("assignment", {})
        except (OSError, tomllib.TOMLDecodeError):
            meta = {}
        found.append(BuiltinTemplate(path.stem, str(meta.get("description", "")), path))
    return found


def resolve_template(name_or_path: str | Path | None) -> Path:
    """A built-in name ('house-prices') or a path to a .toml file -> the file."""
    if name_or_path is None:
        name_or_path = DEFAULT_TEMPLATE
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise TemplateError(str(candidate), "no such template file")
        return candidate
    builtin = templates_dir() / f"{name_or_path}.toml"
    if builtin.is_file():
        return builtin
    names = ", ".join(t.name for t in builtin_templates())
    raise TemplateError(str(name_or_path), f"no built-in template of that name (built-ins: {names}); "
                                           "or give the path to a .toml file")


def is_lecture(path: str | Path) -> bool:
    """Does this template file have a [lecture] table? (A cheap look; errors are left to the loader.)"""
    try:
        return "lecture" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def load(name_or_path: str | Path | None):
    """Resolve and load a manual-ML template (built-in name or path); a lecture template is refused."""
    from workbook.spec import load_template

    path = resolve_template(name_or_path)
    if is_lecture(path):
        raise TemplateError(str(path), "this is a lecture template (it has a [lecture] table); this command works "
                                       "on manual-ML templates such as house-prices")
    return load_template(path)
