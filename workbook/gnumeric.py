"""Gnumeric's `ssconvert --recalc`: the second spreadsheet engine our workbooks are checked against.

LibreOffice is the reference; Gnumeric is a separate implementation of the same functions, so a
formula both compute like NumPy does is not leaning on one engine's quirks (Gnumeric, for one, gives
#VALUE! for ``SUMPRODUCT(ABS(range))``, which LibreOffice and Excel accept). `ssconvert` may exit 0
without writing anything, so every output is checked to exist, like LibreOffice's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from workbook.errors import WorkbookError


class GnumericError(WorkbookError):
    """Gnumeric is missing, or could not open, recalculate or write a workbook."""


def find_ssconvert() -> str | None:
    """The ssconvert binary: $MANUALML_SSCONVERT, else ssconvert on PATH."""
    override = os.environ.get("MANUALML_SSCONVERT")
    if override:
        return override if Path(override).exists() else None
    return shutil.which("ssconvert")


def recalculate(paths: Sequence[Path], out_dir: Path, *, timeout: float = 120) -> list[Path]:
    """Open each workbook in Gnumeric, recalculate every formula, save it as .xlsx into out_dir."""
    binary = find_ssconvert()
    if binary is None:
        raise GnumericError("Gnumeric is not installed (apt-get install gnumeric)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for i, path in enumerate(paths):
        path = Path(path)
        if not path.is_file():
            raise GnumericError(f"{path}: no such file")
        target = out_dir / f"{i:04d}-{path.stem}.xlsx"
        target.unlink(missing_ok=True)
        cmd = [binary, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(path), str(target)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                                  env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")})
        except subprocess.TimeoutExpired:
            raise GnumericError(f"{path}: Gnumeric took longer than {timeout:g} s") from None
        if not target.exists():
            reason = (proc.stderr or proc.stdout).strip()[-300:] or f"exit code {proc.returncode}"
            raise GnumericError(f"{path}: Gnumeric could not recalculate this file ({reason})")
        results.append(target)
    return results
