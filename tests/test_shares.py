"""Improvement as every reader sees it: cut like the sheet's =TRUNC(gain,4) under 0.00%, never rounded onto a tier.

House-prices' rubric gives 10 points from 99 % and 8 from 95 %. Ben's weights (w_h1_out 3, b_out -60) are
98.998 % better than the start: rounded to one decimal that read "99.0%" beside his 8 points.
"""

from __future__ import annotations

from click.testing import CliRunner

from grader import exports, report, terminal
from grader.grade import grade_file
from manualml.cli import main
from tests.submissions import GOOD
from workbook import shares
from workbook.builder import build_workbook
from workbook.catalog import load

BEN = {**GOOD, "w_h1_out": 3.0, "b_out": -60}


def test_percent_cuts_to_two_decimals_of_a_percent():
    assert [shares.percent(v) for v in (0.98996, 0.9896, 0.99, 0.98999999, 1.0, 0.0, -0.25, 0.29, 0.9999996)] == [
        "98.99%", "98.96%", "99.00%", "98.99%", "100.00%", "0.00%", "-25.00%", "29.00%", "99.99%"]
    assert shares.percent(None) == shares.percent(float("nan")) == "—"
    assert shares.fraction(0.98996) == 0.9899 and shares.fraction(0.29) == 0.29


def test_every_reader_sees_98_99_beside_8_points(tmp_path):
    hp = load("house-prices")
    path = build_workbook(hp, tmp_path / "ben.xlsx", weights=BEN)
    r = grade_file(path, hp)
    assert r.points == 8 and 0.9899 < r.improvement < 0.99  # the grade itself is unchanged
    line = terminal.table([r]).splitlines()[2]
    assert line.split()[1:5] == ["37.3609", "3,731.39", "98.99%", "8/10"]
    assert report.table([r]).splitlines()[2].split()[1:5] == ["37.3609", "3,731.39", "98.99%", "8/10"]
    assert report.gradebook_rows([r])[0]["improvement"] == "0.9899"
    assert "- Improvement: **98.99%**\n- Points: **8 of 10**\n" in report.feedback(r, hp)
    assert exports._summary(r, hp) == "RMSE 37.36, improvement 98.99%"
    checked = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert "Your RMSE: 37.36 (baseline 3,731, improvement 98.99%)\nPoints: 8 of 10\n" in checked.output


def test_a_rubric_threshold_is_printed_exactly():
    # rounded to whole percents, a 99.4 % tier read "≥ 99%": a student at 99.2 % believed it reached
    from workbook.spec import Rubric, Tier, threshold_percent

    assert [threshold_percent(x) for x in (0.99, 0.975, 0.994, 0.29, 1.0)] == ["99%", "97.5%", "99.4%", "29%", "100%"]
    rubric = Rubric(max_points=10, tiers=(Tier(points=10, min_improvement=0.994), Tier(points=8, min_improvement=0.9)))
    assert rubric.full_marks("RMSE") == "Improvement ≥ 99.4% earns all 10 points"
    assert rubric.points(0.992, 30.0) == 8 and shares.percent(0.992) == "99.20%"
