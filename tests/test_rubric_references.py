"""A rubric placed between two references: predicting the average, and the best the network reaches."""

from __future__ import annotations

import pytest

from grader.grade import grade_file
from grader.scoring import score
from tests.submissions import GOOD
from workbook.builder import build_workbook
from workbook.catalog import load, templates_dir
from workbook.errors import WorkbookError
from workbook.spec import average_metric


def _template(tmp_path, extra: str):
    text = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
    path = tmp_path / "hp-references.toml"
    path.write_text(text.replace("[rubric]\n", "[rubric]\n" + extra, 1), encoding="utf-8")
    return load(path)


def test_average_reference_is_the_mean_predictor(tmp_path):
    hp = load("house-prices")
    constant = {k: 0.0 for k in hp.weights} | {"b_out": float(hp.data.y.mean())}
    assert score(hp, constant).metric == pytest.approx(average_metric("rmse", hp.data.y)) == \
        pytest.approx(221.7434, abs=1e-4)


def test_constant_predictor_earns_nothing_between_the_references(tmp_path):
    hp = load("house-prices")
    refs = _template(tmp_path, 'measure = "references"\nbest_metric = 20.0\n')
    constant = {k: 0.0 for k in hp.weights} | {"b_out": float(hp.data.y.mean())}
    on_start, on_refs = score(hp, constant), score(refs, constant)
    assert on_start.improvement == on_refs.improvement == pytest.approx(0.9406, abs=1e-4)  # what the sheet shows
    assert (on_start.points, on_refs.points) == (6.0, 0.0)
    good = score(refs, GOOD)  # RMSE 28.03: (221.74 - 28.03) / (221.74 - 20) = 96.0 % of the way
    assert refs.rubric.progress(good.metric, good.baseline, 221.7434077687) == pytest.approx(0.9602, abs=1e-4)
    assert good.points == 8.0
    r = grade_file(build_workbook(refs, tmp_path / "good.xlsx", weights=GOOD), refs)
    assert r.points == 8.0
    assert refs.rubric.full_marks("RMSE") == ("Progress ≥ 99% earns all 10 points (progress: the share of the way "
                                             "from predicting the average to the best reachable RMSE, 20)")


@pytest.mark.parametrize(("extra", "message"), [
    ('measure = "references"\n', "needs the best reachable metric: run `manualml solve -t TEMPLATE` and set "
                                 "best_metric to its best"),
    ('measure = "references"\nbest_metric = 300.0\n', "best_metric 300 is not better than predicting the average "
                                                      "(221.743)"),
    ("best_metric = 20.0\n", "only applies with measure = 'references'"),
    ('measure = "average"\n', "expected 'start' or 'references', got 'average'"),
])
def test_bad_reference_settings_are_explained(tmp_path, extra, message):
    with pytest.raises(WorkbookError) as err:
        _template(tmp_path, extra)
    assert message in str(err.value)


def test_the_sheets_points_cell_uses_the_same_references(tmp_path, soffice):
    """LibreOffice's live Points cell gives what the grader gives: 0 for the constant predictor, 8 for GOOD."""
    import openpyxl

    from workbook import libreoffice
    from workbook.layout import layout_for

    refs = _template(tmp_path, 'measure = "references"\nbest_metric = 20.0\n')
    constant = {k: 0.0 for k in refs.weights} | {"b_out": float(refs.data.y.mean())}
    made = [build_workbook(refs, tmp_path / "constant.xlsx", weights=constant),
            build_workbook(refs, tmp_path / "good.xlsx", weights=GOOD)]
    saved = libreoffice.recalculate(made, tmp_path / "saved")
    lay = layout_for(refs)
    shown = [openpyxl.load_workbook(p, data_only=True)[lay.sheet][lay.points_cell].value for p in saved]
    graded = [grade_file(p, refs) for p in saved]
    assert shown == [r.points for r in graded] == [0, 8]
    assert not [f.code for r in graded for f in r.findings if f.kind == "tamper"]
