"""manualml benchmarks: figures, each beside the floor or peer measured in the same run.

    .venv/bin/python bench/run.py            # the full table (about 12 minutes; needs LibreOffice)
    .venv/bin/python bench/run.py --quick    # under a minute, for before a release

Prints one table: figure, our time, the floor or peer, ratio. Absolute times vary with the
machine; the ratios are what should hold.

Honest by construction: every command is the `manualml` console script installed beside the
interpreter running this file (never a fallback: a missing script stops the run), and every
measurement states what the command must have produced — exit code, files written and counted,
result rows, the lines it prints — so a command that does nothing fails the run instead of
reporting a fast time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.grade import grade_file  # noqa: E402
from workbook import libreoffice, model  # noqa: E402
from workbook.builder import build_workbook  # noqa: E402
from workbook.catalog import builtin_templates, load  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []


class BenchFailure(Exception):
    """A measured command failed or did not do its work: its time would be a lie."""


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


# --- running a command and checking what it did ---------------------------------------------------------------

def console_script(python: Path | str = sys.executable) -> Path:
    """The `manualml` script installed beside `python`: the program a user of this environment runs."""
    script = Path(python).parent / "manualml"
    if not (script.is_file() and os.access(script, os.X_OK)):
        raise BenchFailure(f"no manualml console script beside {python} (looked for {script}): install the "
                           f"project into this environment first ({Path(python).parent / 'pip'} install -e "
                           "'.[bench]') and run the benchmarks with that environment's python")
    return script


def compile_sources() -> None:
    """Byte-compile manualml's own modules, as pip does when it installs a package.

    Under PYTHONDONTWRITEBYTECODE (set in some containers and CI images) an editable install never
    keeps its bytecode, so every command would compile the sixty-odd modules again (0.1-0.2 s per
    run) — a cost no installed copy pays. Python still reads bytecode that exists; this writes it."""
    import compileall

    for package in ("manualml", "workbook", "grader"):
        if not compileall.compile_dir(str(ROOT / package), quiet=1):
            raise BenchFailure(f"could not byte-compile {ROOT / package}")


@dataclass(frozen=True)
class Run:
    """One measured command: its wall time, the peak memory of its process tree, what it printed."""

    command: tuple[str, ...]
    seconds: float
    peak_mb: float  # proportional set size (shared pages divided among sharers) of the command and its children
    stdout: str
    stderr: str


def _tree_pss_kb(pid: int) -> int:
    """PSS of a process and all its descendants now (0 for those that are gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            found = re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{p}/smaps_rollup").read_text(), re.MULTILINE)
            total += int(found.group(1)) if found else 0
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return total


def measure(command: Sequence[str], *, check: Callable[[Run], None], expect_code: int = 0,
            cwd: Path | None = None, env: dict | None = None, timeout: float = 1800) -> Run:
    """Run `command`, time it, sample its memory, then require its exit code and `check(run)` to pass.

    `check` is required: it raises BenchFailure unless the command produced what it was asked for
    (see expect_files, expect_csv_rows, expect_output).
    """
    command = tuple(map(str, command))
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_pss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchFailure(f"{' '.join(command)} took longer than {timeout:g} s") from None
    seconds = time.perf_counter() - start
    sampler.join()
    run = Run(command, seconds, peak[0] / 1024, stdout, stderr)
    if proc.returncode != expect_code:
        raise BenchFailure(f"{' '.join(command)} exited {proc.returncode} (expected {expect_code}):\n"
                           f"{(stderr or stdout)[-2000:]}")
    check(run)
    return run


def manualml(*args: str, check: Callable[[Run], None], **kwargs) -> Run:
    return measure([console_script(), *args], check=check, **kwargs)


def expect_files(folder: Path, pattern: str, count: int) -> Callable[[Run], None]:
    """The command must leave exactly `count` non-empty files matching `pattern` in `folder`."""

    def check(run: Run) -> None:
        found = [p for p in Path(folder).glob(pattern) if p.is_file() and p.stat().st_size > 0]
        if len(found) != count:
            raise BenchFailure(f"{' '.join(run.command)}: found {len(found)} of {count} files {folder}/{pattern}")

    return check


def expect_csv_rows(path: Path, count: int, *, column: str, value: str) -> Callable[[Run], None]:
    """The command must write a CSV with `count` rows, each with `column` == `value`."""

    def check(run: Run) -> None:
        if not Path(path).is_file():
            raise BenchFailure(f"{' '.join(run.command)}: wrote no {path}")
        with Path(path).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        good = sum(r.get(column) == value for r in rows)
        if len(rows) != count or good != count:
            raise BenchFailure(f"{' '.join(run.command)}: {path} has {len(rows)} rows, {good} with {column} = "
                               f"{value!r}; expected {count}")

    return check


def expect_output(pattern: str, *, lines: int | None = None) -> Callable[[Run], None]:
    """The command's standard output must match `pattern` (and have `lines` lines, if given)."""

    def check(run: Run) -> None:
        if not re.search(pattern, run.stdout, re.MULTILINE):
            raise BenchFailure(f"{' '.join(run.command)}: output does not match {pattern!r}:\n{run.stdout[-1000:]}")
        if lines is not None and len(run.stdout.splitlines()) != lines:
            raise BenchFailure(f"{' '.join(run.command)}: printed {len(run.stdout.splitlines())} lines, "
                               f"expected {lines}")

    return check


def all_of(*checks: Callable[[Run], None]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for c in checks:
            c(run)

    return check


# --- floors and peers ---------------------------------------------------------------------------------------------

def floor_ms(path: Path, n: int) -> float:
    """Open the zip, read the main sheet's XML, parse it with lxml: the least any reader must do."""
    from lxml import etree

    part = sorted(n for n in zipfile.ZipFile(path).namelist() if n.startswith("xl/worksheets/sheet"))[-1]

    def once():
        with zipfile.ZipFile(path) as z:
            etree.fromstring(z.read(part))

    return timed(lambda: [once() for _ in range(n)], 3) / n * 1000


def rezip_seconds(files: Sequence[Path], out: Path) -> float:
    """Writing the same files' contents into new zips, one after another on one core: the least a
    generator of those files must do (their parts are read into memory first, untimed)."""
    contents = []
    for path in files:
        with zipfile.ZipFile(path) as z:
            contents.append([(info, z.read(info)) for info in z.infolist()])
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, members in enumerate(contents):
        with zipfile.ZipFile(out / f"{i:05d}.xlsx", "w") as z:
            for info, data in members:
                z.writestr(info, data)  # the ZipInfo keeps each part's own compression method
    return time.perf_counter() - start


def inflate_seconds(path: Path) -> float:
    """Unzipping the biggest sheet (content.xml of an .ods): the least any reader of that workbook must do."""
    with zipfile.ZipFile(path) as z:
        part = max((i for i in z.infolist() if i.filename.startswith("xl/worksheets/") or i.filename == "content.xml"),
                   key=lambda i: i.file_size)
        return timed(lambda: z.read(part.filename), 3)


def libreoffice_open_seconds(path: Path, small: Path, work: Path) -> float:
    """LibreOffice opening `path` as a user's copy does (its default settings, a warm profile), minus its
    start-up (the same conversion of the small workbook `small`): each file is converted to CSV, the
    cheapest thing it can write, and the CSV must exist (soffice exits 0 even when it failed)."""
    soffice = libreoffice.find_soffice()
    profile = (work / "lo-open-profile").resolve().as_uri()

    def convert(source: Path, out: Path) -> float:
        def check(run: Run) -> None:
            if not (out / f"{source.stem}.csv").is_file():
                raise BenchFailure(f"LibreOffice did not convert {source}:\n{run.stderr[-1000:]}")

        return measure([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to",
                        "csv", "--outdir", out, source], check=check, env={"SAL_USE_VCLPLUGIN": "svp"}).seconds

    convert(small, work / "lo-open-warm")  # the profile's first start is slower than any later one
    start_up = min(convert(small, work / f"lo-open-small{i}") for i in range(2))
    return convert(path, work / "lo-open-big") - start_up


# --- the figures ---------------------------------------------------------------------------------------------------

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
    result = grade_file(sample, a)
    if result.status != "graded" or result.findings:
        raise BenchFailure(f"{sample} did not grade cleanly: {result.status} {result.findings} {result.error}")
    n = 300
    ours = timed(lambda: [grade_file(sample, a) for _ in range(n)], 3) / n * 1000
    floor = floor_ms(sample, n)
    row("grade one LO-saved file, in process (all checks)", f"{ours:.2f} ms", f"zip+lxml floor {floor:.3f} ms",
        f"{ours / floor:.1f}x (target <= 5x)")
    for size in sizes:
        folder = work / f"run{size}"
        folder.mkdir()
        for f in files[:size]:
            os.link(f, folder / f.name)
        grades, results = work / f"g{size}.csv", work / f"r{size}.json"

        def all_results(run: Run, results=results, size=size) -> None:
            got = json.loads(results.read_text(encoding="utf-8"))["results"]
            if len(got) != size or any(r["status"] != "graded" for r in got):
                raise BenchFailure(f"{results}: {len(got)} results, expected {size} graded")

        wall = manualml("grade", str(folder), "-t", "house-prices", "--csv", str(grades), "--json", str(results),
                        check=all_of(expect_csv_rows(grades, size, column="status", value="graded"),
                                     all_results)).seconds
        row(f"grade {size} files via CLI (CSV+JSON, all checks)", f"{wall:.2f} s",
            f"{wall / size * 1000:.2f} ms/file", "target <= 5 s" if size == 1000 else "")
    lo_sample = files[:20]
    lo = timed(lambda: libreoffice.recalculate(lo_sample, work / "lo-sample"))
    if len(list((work / "lo-sample").glob("*.xlsx"))) != len(lo_sample):
        raise BenchFailure("LibreOffice did not save every file it was timed on")
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
    rounds = 1 if students < 1000 else ROUNDS
    runs, floors = [], []
    for k in range(rounds):  # alternated, each into a folder of its own: the disk's state is the same for both
        out = work / f"gen{k}"

        def manifest_lists_everyone(run: Run, out: Path = out) -> None:
            listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["students"]
            if len(listed) != students:
                raise BenchFailure(f"{out}/manifest.json lists {len(listed)} students, expected {students}")

        runs.append(manualml("generate", "--template", "house-prices-sigmoid", "--roster", str(roster),
                             "--out-dir", str(out), env={"MANUALML_SECRET": "bench"},
                             check=all_of(expect_files(out, "*.xlsx", students), manifest_lists_everyone)))
        floors.append(rezip_seconds(sorted(out.glob("*.xlsx")), work / f"rezipped{k}"))
    seconds, floor = statistics.median(r.seconds for r in runs), statistics.median(floors)
    spread = "" if rounds == 1 else f" ({', '.join(f'{r.seconds:.2f}' for r in runs)})"
    floor_spread = "" if rounds == 1 else f" ({', '.join(f'{f:.2f}' for f in floors)})"
    row(f"generate {students:,} per-student workbooks via CLI ({os.cpu_count()} cores)", f"{seconds:.2f} s{spread}",
        f"re-zipping them on one core {floor:.2f} s{floor_spread}",
        f"{seconds / floor:.2f}x; peak {max(r.peak_mb for r in runs):.0f} MB"
        + ("; target <= 2 s and <= 1x" if students == 1000 else ""))


ROUNDS = 5  # a class set and its floor, each timed this often (medians): one run of either varies by 30 %


def bench_solve(work: Path, start_up: float) -> None:
    for name, target, extra in (("house-prices", 1.0, ()), ("exam-pass", 3.0, ()),
                                ("house-prices", 1.0, ("--round", "2"))):
        a = load(name)
        weights = len(a.network.parameter_names())
        pattern = rf"^{re.escape(a.title)}: best {a.metric_abbr} (≈ 0|[-0-9.e+]+) "
        if extra:
            pattern += r"with every weight rounded to 2 decimals .*\n(  \w+ = -?\d+\.\d\d\n)+\Z"
        run = manualml("solve", "-t", name, *extra, check=expect_output(pattern, lines=1 + weights))
        row(f"manualml solve -t {name} {' '.join(extra)}".rstrip() + f" ({weights} weights)", f"{run.seconds:.2f} s",
            f"start-up {start_up * 1000:.0f} ms", f"target <= {target:g} s")


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
    from workbook.spec import load_template

    small = build_workbook(load("house-prices"), work / "small.xlsx")
    for n in sizes:
        template = big_template(work / f"big{n}", n)
        out = work / f"big{n}" / "big.xlsx"
        run = measure([sys.executable, "-c", GEN_CHILD, str(template), str(out)], cwd=ROOT,
                      check=all_of(expect_output(r"^[0-9.e+-]+ [0-9.]+$", lines=1),
                                   expect_files(out.parent, out.name, 1)))
        seconds, peak = map(float, run.stdout.split())
        a = load_template(template)
        result = grade_file(out, a)  # the file must hold the whole data set: grading it recomputes the baseline
        if result.status != "graded" or result.metric != model.loss(a):
            raise BenchFailure(f"{out}: {result.status}, metric {result.metric} (expected {model.loss(a)})")
        peer = ""
        if n >= 100_000 or (quick and n == sizes[-1]):
            opens = libreoffice_open_seconds(out, small, work / f"big{n}")
            peer = f"; LibreOffice opens it in {opens:.2f} s: {seconds / opens:.1f}x"
        target = "; target <= 8 s and <= 2x LibreOffice" if n == 100_000 else ""
        row(f"generate {n:,} rows, 8 inputs, 8-3-4-1", f"{seconds:.2f} s", f"{seconds / n * 1000 * 1000:.0f} ms per "
            "1,000 rows", f"peak {peak:.0f} MB (target <= 150 MB){peer}{target}")
        took = timed(lambda a=a, out=out: grade_file(out, a))
        floor = inflate_seconds(out)
        row(f"grade the {n:,}-row workbook", f"{took:.2f} s", f"inflating its sheet {floor:.2f} s",
            f"{took / floor:.1f}x; target <= 2 s")
        if n >= 20_640 or (quick and n == sizes[-1]):
            for fmt in ("xlsx", "ods"):
                (saved,) = libreoffice.recalculate([out], work / f"big{n}" / "saved", fmt=fmt, timeout=900)
                took = timed(lambda a=a, saved=saved: grade_file(saved, a))
                result = grade_file(saved, a)
                if result.status != "graded" or result.findings:
                    raise BenchFailure(f"{saved}: {result.status} {result.findings}")
                floor = inflate_seconds(saved)
                row(f"grade the {n:,}-row workbook saved by LibreOffice as .{fmt} (caches checked)", f"{took:.2f} s",
                    f"inflating its sheet {floor:.2f} s", f"{took / floor:.1f}x; target <= 2 s")


def bench_startup() -> float:
    """Start-up of the CLI; returns `manualml templates`'s best time for the rows that follow."""
    names = len(builtin_templates())
    checks = {"--help": expect_output(r"^Usage: manualml"), "templates": expect_output(r"^house-prices ", lines=names)}
    python = min(timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(5))
    best = 0.0
    for arg, check in checks.items():
        best = min(manualml(arg, check=check).seconds for _ in range(5))
        row(f"manualml {arg} (start-up)", f"{best * 1000:.0f} ms", f"bare python {python * 1000:.0f} ms",
            "target <= 250 ms")
    return best


PARTS = ("startup", "solve", "grading", "generation", "scale")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--only", action="append", choices=PARTS, metavar="PART",
                        help=f"run only this part (repeatable): {', '.join(PARTS)}")
    args = parser.parse_args()
    if not libreoffice.available():
        raise SystemExit("LibreOffice is needed for the benchmarks (apt-get install libreoffice-calc-nogui)")
    started = time.perf_counter()
    try:
        console_script()
        compile_sources()
        with tempfile.TemporaryDirectory(prefix="manualml-bench-") as tmp:
            work = Path(tmp)
            parts = set(args.only or PARTS)
            if parts & {"startup", "solve"}:
                start_up = bench_startup()
            if "solve" in parts:
                bench_solve(work, start_up)
            if "grading" in parts:
                bench_grading(work, [10, 100] if args.quick else [10, 100, 1000])
            if "generation" in parts:
                bench_generation(work, 100 if args.quick else 1000)
            if "scale" in parts:
                bench_scale(work, [1000, 10_000] if args.quick else [1000, 10_000, 20_640, 100_000],
                            quick=args.quick)
    except BenchFailure as failure:
        raise SystemExit(f"bench/run.py: {failure}") from None
    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nmanualml benchmarks ({'quick' if args.quick else 'full'}) on {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform(terse=True)}; "
          f"{time.perf_counter() - started:.0f} s; load average at the end {load_avg}\n")
    widths = [max(len(r[i]) for r in [("figure", "ours", "floor / peer", "ratio"), *ROWS]) for i in range(4)]
    for r in [("figure", "ours", "floor / peer", "ratio"), tuple("-" * w for w in widths), *ROWS]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
