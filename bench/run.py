"""manualml benchmarks: figures, each beside the floor or peer measured in the same run.

    python bench/run.py            # the full table (several minutes; needs LibreOffice)
    python bench/run.py --quick    # under a minute, for before a release

Prints one table: figure, our time, the floor or peer, ratio. Absolute times vary with the
machine; the ratios are what should hold.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.grade import grade_file  # noqa: E402
from workbook import libreoffice  # noqa: E402
from workbook.builder import build_workbook  # noqa: E402
from workbook.catalog import load  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []


def row(figure: str, ours: str, floor: str = "", ratio: str = "") -> None:
    ROWS.append((figure, ours, floor, ratio))
    print(f"  {figure}: {ours}  {floor}  {ratio}", file=sys.stderr, flush=True)


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def manualml(*args: str, cwd: Path | None = None, env: dict | None = None) -> float:
    exe = shutil.which("manualml") or f"{sys.executable} -m manualml"
    start = time.perf_counter()
    proc = subprocess.run([*exe.split(), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"manualml {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def floor_ms(path: Path, n: int) -> float:
    """Open the zip, read the main sheet's XML, parse it with lxml: the least any reader must do."""
    part = sorted(n for n in zipfile.ZipFile(path).namelist() if n.startswith("xl/worksheets/sheet"))[-1]

    def once():
        with zipfile.ZipFile(path) as z:
            etree.fromstring(z.read(part))

    return timed(lambda: [once() for _ in range(n)], 3) / n * 1000


def saved_submissions(work: Path, count: int) -> list[Path]:
    """`count` submissions saved by LibreOffice (20 distinct files, copied to make a class)."""
    a = load("house-prices")
    distinct = []
    for i in range(20):
        w = dict(a.weights)
        w["b_out"] = -4 + i
        distinct.append(build_workbook(a.with_weights(w), work / "made" / f"d{i:02d}.xlsx"))
    saved = libreoffice.recalculate(distinct, work / "saved")
    folder = work / f"class{count}"
    folder.mkdir()
    for i in range(count):
        shutil.copy(saved[i % len(saved)], folder / f"s{i:04d}.xlsx")
    return sorted(folder.glob("*.xlsx"))


def bench_grading(work: Path, sizes: list[int]) -> None:
    a = load("house-prices")
    files = saved_submissions(work, max(sizes))
    sample = files[0]
    n = 300
    ours = timed(lambda: [grade_file(sample, a) for _ in range(n)], 3) / n * 1000
    floor = floor_ms(sample, n)
    row("grade one LO-saved file, in process (all checks)", f"{ours:.2f} ms", f"zip+lxml floor {floor:.3f} ms",
        f"{ours / floor:.1f}x (target <= 15x)")
    for size in sizes:
        folder = work / f"run{size}"
        folder.mkdir()
        for f in files[:size]:
            os.link(f, folder / f.name)
        wall = manualml("grade", str(folder), "--csv", str(work / f"g{size}.csv"),
                        "--json", str(work / f"r{size}.json"))
        row(f"grade {size} files via CLI (CSV+JSON, all checks)", f"{wall:.2f} s",
            f"{wall / size * 1000:.2f} ms/file", "target <= 5 s" if size == 1000 else "")
    lo_sample = files[:20]
    lo = timed(lambda: libreoffice.recalculate(lo_sample, work / "lo-sample"))
    per_lo = lo / len(lo_sample) * 1000
    row("LibreOffice open+recalc, 20 files in one run", f"{per_lo:.0f} ms/file", f"ours {ours:.2f} ms/file",
        f"LibreOffice {per_lo / ours:.0f}x slower")


def bench_generation(work: Path, students: int) -> None:
    roster = work / "roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email"])
        for i in range(students):
            writer.writerow([f"s{i:04d}", f"Student {i}", f"s{i}@example.org"])
    wall = manualml("generate", "--template", "house-prices-sigmoid", "--roster", str(roster), "--out-dir",
                    str(work / "gen"), env={"MANUALML_SECRET": "bench"})
    one = timed(lambda: build_workbook(load("house-prices-sigmoid"), work / "one.xlsx"), 5)
    row(f"generate {students} per-student workbooks via CLI ({os.cpu_count()} cores)", f"{wall:.2f} s",
        f"one workbook {one * 1000:.1f} ms", "target <= 10 s" if students == 1000 else "")


BIG_TEMPLATE = """
[assignment]
id = "big"
title = "Big"
[data]
csv = "big.csv"
inputs = [{inputs}]
target = {{ label = "y" }}
[network]
hidden = [3, 4]
activations = ["relu", "tanh"]
[weights.random]
seed = 1
"""


def big_template(folder: Path, n_rows: int) -> Path:
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 10, size=(n_rows, 9)).round(3)
    with (folder / "big.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"x{i}" for i in range(8)] + ["y"])
        writer.writerows(data.tolist())
    path = folder / "big.toml"
    path.write_text(BIG_TEMPLATE.format(inputs=", ".join(f'{{ label = "x{i}" }}' for i in range(8))))
    return path


# The child's own peak: /proc's VmHWM belongs to the program exec'd, while getrusage's ru_maxrss
# outlives exec and so may report the parent's size at fork (the bench process grows as it runs).
GEN_CHILD = """
import re, sys, time
from pathlib import Path
from workbook.spec import load_template
from workbook.builder import build_workbook
start = time.perf_counter()
a = load_template(sys.argv[1])
build_workbook(a, sys.argv[2])
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024
print(time.perf_counter() - start, peak)
"""


def bench_scale(work: Path, sizes: list[int], *, quick: bool = False) -> None:
    for n in sizes:
        template = big_template(work / f"big{n}", n)
        out = work / f"big{n}" / "big.xlsx"
        proc = subprocess.run([sys.executable, "-c", GEN_CHILD, str(template), str(out)], capture_output=True,
                              text=True, cwd=ROOT, check=True)
        seconds, peak = map(float, proc.stdout.split())
        row(f"generate {n:,} rows, 8 inputs, 8-3-4-1", f"{seconds:.2f} s", f"{seconds / n * 1000 * 1000:.0f} ms per "
            "1,000 rows", f"peak {peak:.0f} MB (target <= 300 MB)")
        from workbook.spec import load_template

        a = load_template(template)
        took = timed(lambda a=a, out=out: grade_file(out, a))
        floor = inflate_seconds(out)
        row(f"grade the {n:,}-row workbook", f"{took:.2f} s", f"inflating its sheet {floor:.2f} s",
            f"{took / floor:.1f}x; target <= 2 s")
        if n >= 20_640 or (quick and n == sizes[-1]):
            for fmt in ("xlsx", "ods"):
                (saved,) = libreoffice.recalculate([out], work / f"big{n}" / "saved", fmt=fmt, timeout=900)
                took = timed(lambda a=a, saved=saved: grade_file(saved, a))
                result = grade_file(saved, a)
                assert result.status == "graded" and not result.findings, result.findings
                floor = inflate_seconds(saved)
                row(f"grade the {n:,}-row workbook saved by LibreOffice as .{fmt} (caches checked)", f"{took:.2f} s",
                    f"inflating its sheet {floor:.2f} s", f"{took / floor:.1f}x; target <= 2 s")


def inflate_seconds(path: Path) -> float:
    """Unzipping the biggest sheet (content.xml of an .ods): the least any reader of that workbook must do."""
    with zipfile.ZipFile(path) as z:
        part = max((i for i in z.infolist() if i.filename.startswith("xl/worksheets/") or i.filename == "content.xml"),
                   key=lambda i: i.file_size)
        return timed(lambda: z.read(part.filename), 3)


def bench_startup() -> None:
    for args in (["--help"], ["templates"]):
        best = min(manualml(*args) for _ in range(5))
        python = min(timed(lambda: subprocess.run([sys.executable, "-c", "pass"])) for _ in range(5))
        row(f"manualml {' '.join(args)} (start-up)", f"{best * 1000:.0f} ms", f"bare python {python * 1000:.0f} ms",
            "target <= 250 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    args = parser.parse_args()
    if not libreoffice.available():
        raise SystemExit("LibreOffice is needed for the benchmarks (apt-get install libreoffice-calc-nogui)")
    with tempfile.TemporaryDirectory(prefix="manualml-bench-") as tmp:
        work = Path(tmp)
        bench_startup()
        bench_grading(work, [10, 100] if args.quick else [10, 100, 1000])
        bench_generation(work, 100 if args.quick else 1000)
        bench_scale(work, [1000, 10_000] if args.quick else [1000, 10_000, 20_640, 100_000], quick=args.quick)
    print(f"\nmanualml benchmarks ({'quick' if args.quick else 'full'}) on {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform(terse=True)}\n")
    widths = [max(len(r[i]) for r in [("figure", "ours", "floor / peer", "ratio"), *ROWS]) for i in range(4)]
    for r in [("figure", "ours", "floor / peer", "ratio"), tuple("-" * w for w in widths), *ROWS]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
