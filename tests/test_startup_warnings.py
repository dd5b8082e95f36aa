"""The unreachable-rubric warning, computed with a solve that stops at the first start reaching full marks,
says exactly what the full solve would have said (and nothing when full marks are within reach)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from manualml.api import unreachable_rubric_warnings
from manualml.cli import main
from workbook import model
from workbook.catalog import load, resolve_template
from workbook.shares import percent
from workbook.solve import SolveError, solve

SMALL = ["house-prices", "house-prices-linear", "house-prices-sigmoid", "exam-pass"]


def _full_solve_warning(a, needed: float) -> list[str]:
    """The warning as it was computed before the early stop: from the full 150-step solve."""
    best = solve(a)
    if needed > best.improvement + 1e-9:
        return [f"Warning: full marks need Improvement >= {needed * 100:g}%, but the best found by "
                f"`manualml solve` is {percent(best.improvement)}"]
    return []


@pytest.mark.parametrize("name", SMALL)
def test_enough_stops_at_a_start_that_really_gets_there(name):
    a = load(name)
    full = solve(a)
    goal = min(0.9, full.improvement)
    quick = solve(a, enough=goal)
    assert quick.improvement >= goal
    assert quick.metric == model.loss(a, quick.weights)  # scored as the sheet scores it
    assert quick.baseline == full.baseline
    assert full.improvement >= quick.improvement - 1e-12  # the full solve never finds less
    assert list(quick.weights) == a.network.parameter_names()


@pytest.mark.parametrize("name", ["house-prices-linear", "house-prices-sigmoid"])
def test_enough_out_of_reach_is_the_full_solve(name):
    a = load(name)
    assert solve(a, enough=1.01) == solve(a)  # no start gets there: every step of every start, as before


def test_enough_and_decimals_are_refused_together():
    with pytest.raises(SolveError, match="enough"):
        solve(load("house-prices"), enough=0.9, decimals=2)


@pytest.mark.parametrize("name", ["house-prices-linear", "house-prices-sigmoid"])
@pytest.mark.parametrize("needed", [0.3, 0.9, 0.95, 0.999999, 1.0, 1.01])
def test_the_warning_is_the_one_the_full_solve_gives(name, needed):
    a = load(name)
    tiers = tuple(replace(t, min_improvement=needed) if t.points >= a.rubric.max_points else t
                  for t in a.rubric.tiers)
    a = replace(a, rubric=replace(a.rubric, tiers=tiers, full_improvement=needed))
    exp = _full_solve_warning(a, needed)
    assert unreachable_rubric_warnings(a) == exp
    if name == "house-prices-linear" and needed >= 0.95:  # its least-squares line improves by 90.50%
        assert exp == [f"Warning: full marks need Improvement >= {needed * 100:g}%, but the best found by "
                       "`manualml solve` is 90.50%"]


def test_a_class_set_still_warns_when_full_marks_are_out_of_reach(tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALML_SECRET", "test-secret")
    greedy = tmp_path / "greedy.toml"
    greedy.write_text(resolve_template("house-prices-linear").read_text().replace("full_improvement = 0.9",
                                                                                 "full_improvement = 0.95"))
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\ns1,Ann,a@example.org\ns2,Bob,b@example.org\n")
    result = CliRunner().invoke(main, ["generate", "-t", str(greedy), "--roster", str(roster),
                                       "--out-dir", str(tmp_path / "set")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == ("Warning: full marks need Improvement >= 95%, but the best found by "
                                             "`manualml solve` is 90.50%")
    assert result.stdout.startswith("Wrote 2 workbooks and ")
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["manifest.json", "s1.xlsx", "s2.xlsx"]
