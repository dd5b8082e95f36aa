"""What grading one file no longer rebuilds: per-assignment descriptions and pure address arithmetic."""

from __future__ import annotations

import pickle

from grader.grade import grade_file
from workbook.address import box
from workbook.catalog import load
from workbook.model import loss
from workbook.network import Network


def test_an_assignment_describes_its_sheet_once_and_a_changed_one_anew():
    a = load("house-prices")
    sheet = a.graded_sheet()
    assert a.graded_sheet() is sheet and sheet.baseline == loss(a)
    moved = a.with_weights({**a.weights, "b_out": 1.0})
    assert moved.graded_sheet() is not sheet and moved.graded_sheet().baseline == loss(moved)
    assert moved.graded_sheet().start["b_out"] == 1.0 and sheet.start["b_out"] == -4
    copy = pickle.loads(pickle.dumps(a))  # process pools pickle assignments: the description travels along
    assert copy == a and copy.graded_sheet().baseline == sheet.baseline


def test_a_network_builds_its_neurons_once_and_compares_by_its_fields():
    net = Network(2, (2,), ("relu",))
    assert net.layers is net.layers and net.neurons is net.neurons and net.input_labels == ("in1", "in2")
    assert net == Network(2, (2,), ("relu",)) and hash(net) == hash(Network(2, (2,), ("relu",)))
    assert pickle.loads(pickle.dumps(net)).neurons == net.neurons


def test_cached_address_arithmetic_still_refuses_what_is_no_address():
    assert box("K8:L10") == box("$L$10:K8") == (8, 11, 10, 12)
    for _ in range(2):  # a refusal is never cached as an answer
        try:
            box("nonsense")
        except ValueError as exc:
            assert "nonsense" in str(exc)
        else:
            raise AssertionError("box('nonsense') returned")


def test_grading_twice_gives_the_same_result(tmp_path):
    from tests.submissions import issued

    a = load("house-prices")
    path = issued(tmp_path)
    first, second = grade_file(path, a), grade_file(path, a)
    assert (first.metric, first.points, first.findings) == (second.metric, second.points, second.findings)
    assert first.metric == loss(a)
