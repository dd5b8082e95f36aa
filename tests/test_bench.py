"""bench/run.py cannot report the time of a command that did nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from workbook.catalog import builtin_templates

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_run"]


def test_a_command_that_writes_nothing_fails_the_run(bench, tmp_path):
    noop = [sys.executable, "-c", "pass"]  # exits 0 at once: the old fallback's `python -m grader.cli` did this
    with pytest.raises(bench.BenchFailure, match=r"found 0 of 100 files .*/\*\.xlsx$"):
        bench.measure(noop, check=bench.expect_files(tmp_path, "*.xlsx", 100))
    with pytest.raises(bench.BenchFailure, match=r"wrote no .*grades\.csv$"):
        bench.measure(noop, check=bench.expect_csv_rows(tmp_path / "grades.csv", 10, column="status",
                                                        value="graded"))
    with pytest.raises(bench.BenchFailure, match="output does not match '\\^Usage: manualml'"):
        bench.measure(noop, check=bench.expect_output(r"^Usage: manualml"))


def test_a_failing_command_fails_the_run_even_if_its_files_are_there(bench, tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"PK")
    failing = [sys.executable, "-c", "import sys; sys.exit('broken')"]
    with pytest.raises(bench.BenchFailure, match=r"exited 1 \(expected 0\):\nbroken"):
        bench.measure(failing, check=bench.expect_files(tmp_path, "*.xlsx", 1))


def test_too_few_result_rows_fail_the_run(bench, tmp_path):
    grades = tmp_path / "grades.csv"
    grades.write_text("file,status\na.xlsx,graded\nb.xlsx,error\n")
    writer = [sys.executable, "-c", "pass"]
    with pytest.raises(bench.BenchFailure, match="has 2 rows, 1 with status = 'graded'; expected 2"):
        bench.measure(writer, check=bench.expect_csv_rows(grades, 2, column="status", value="graded"))
    grades.write_text("file,status\na.xlsx,graded\nb.xlsx,graded\n")
    bench.measure(writer, check=bench.expect_csv_rows(grades, 2, column="status", value="graded"))


def test_the_console_script_beside_the_interpreter_is_required(bench, tmp_path):
    with pytest.raises(bench.BenchFailure, match=f"no manualml console script beside {tmp_path}/python"):
        bench.console_script(tmp_path / "python")
    assert bench.console_script() == Path(sys.executable).parent / "manualml"


def test_the_real_command_passes_its_check_and_is_timed(bench):
    run = bench.manualml("templates", check=bench.expect_output(r"^house-prices ", lines=len(builtin_templates())))
    assert run.command[0] == str(Path(sys.executable).parent / "manualml")
    assert 0 < run.seconds < 30 and run.peak_mb > 5  # a Python process with click loaded: more than 5 MB
    assert "exam-pass" in run.stdout


def test_the_solve_rows_check_what_solve_really_prints(bench, tmp_path):
    """The solve rows run the real command and read its output: a change of wording fails here, not mid-run."""
    bench.ROWS.clear()
    bench.bench_solve(tmp_path, 0.1)
    assert [r[0] for r in bench.ROWS] == ["manualml solve -t house-prices (9 weights)",
                                          "manualml solve -t exam-pass (35 weights)",
                                          "manualml solve -t house-prices --round 2 (9 weights)"]
    assert all(r[1].endswith(" s") for r in bench.ROWS)
