"""Installed from a wheel, not only from a checkout: the built-in templates come along."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_templates_and_finds_them(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("manualml-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); from workbook import catalog; "
             "print(catalog.templates_dir()); print(','.join(t.name for t in catalog.builtin_templates())); "
             "print(catalog.load('exam-pass').data.X.shape); "
             "print(len(catalog.load_any('lecture').sheets))")
    out = subprocess.run([sys.executable, "-c", probe, str(site)], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == str(site / "workbook" / "templates")
    assert out[1].split(",")[0] == "house-prices" and "exam-pass" in out[1]
    assert out[2] == "(10, 3)"  # the CSV beside the template came along too
    assert out[3] == "8"  # the lecture package and its templates too
