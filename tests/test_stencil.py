"""A class set writes each student's main sheet from a stencil (the shared text with holes) and fills data rows
from a %-pattern: both must give the bytes of the cell-by-cell build, for every kind of sheet a class can get."""

from __future__ import annotations

import random
import zipfile

import pytest

from workbook import builder
from workbook.builder import build_workbook
from workbook.catalog import templates_dir
from workbook.class_set import generate_class
from workbook.roster import Student, signature, variant, variant_digest
from workbook.sheet_xml import RowTemplate
from workbook.spec import parse_template

STUDENTS = [Student(f"s{i}", f"Student {i}" if i % 3 else "") for i in range(6)]
EXTRAS = {
    "plain": "",
    "noisy targets": "\n[variants]\ntarget_noise = 0.2\n",
    "random starts": '\n[variants]\nstarting_weights = "random"\n',
    "hints, same weights, noisy targets": "\n[hints]\ngradient = true\n\n[variants]\ntarget_noise = 0.1\n",
    "hints and descent, random starts": '\n[hints]\ngradient = true\n\n[descent]\nsteps = 3\neta = 0.0003\n'
                                        '\n[variants]\nstarting_weights = "random"\n',
}


def _template(name: str, extra: str, rubric: str = ""):
    text = (templates_dir() / f"{name}.toml").read_text(encoding="utf-8")
    if rubric:
        text = text.replace("[rubric]\n", "[rubric]\n" + rubric, 1)
    return parse_template(text + extra, source=f"{name}.toml", base_dir=templates_dir())


def _class_equals_alone(a, tmp_path, monkeypatch, *, whole: bool = True) -> int:
    """Write the class; every file must be the student's workbook built alone. Returns how many main sheets
    came from the stencil; `whole`: each of them filled in as one pattern (else row by row, as a sheet with an
    error value is)."""
    stenciled = []
    body = builder._Stencil.body

    def counting(self, *args, **kwargs):
        made = body(self, *args, **kwargs)
        stenciled.append(made is not None)
        if made is not None:
            assert (len(list(made.rows())) == 1) == whole
        return made

    monkeypatch.setattr(builder._Stencil, "body", counting)
    made = generate_class(a, STUDENTS, tmp_path / "class", template_path=tmp_path / "t.toml", secret=b"k",
                          password="pw")
    monkeypatch.undo()
    for s, path in zip(STUDENTS, made.workbooks, strict=True):
        v = variant(a, s.id)
        digest = variant_digest(v)
        alone = build_workbook(v, tmp_path / "alone" / path.name, student_id=s.id, student_name=s.name,
                               password="pw", properties={"variant": digest,
                                                          "signature": signature(b"k", a.id, s.id, digest)})
        assert path.read_bytes() == alone.read_bytes(), s.id
    return sum(stenciled)


@pytest.mark.parametrize("extra", list(EXTRAS), ids=list(EXTRAS))
@pytest.mark.parametrize("name", ["house-prices", "exam-pass", "house-prices-linear", "house-prices-sigmoid"])
def test_class_files_are_the_workbooks_built_alone(name, extra, tmp_path, monkeypatch):
    (tmp_path / "t.toml").write_text("# template\n")
    a = _template(name, EXTRAS[extra])
    used = _class_equals_alone(a, tmp_path, monkeypatch)
    hints = "hints" in extra
    # the first student lays the frame out, the second cuts the stencil, the other four are filled from it;
    # a sheet with the hints' cells has none (and with each student's own weights no shared book at all)
    assert used == (0 if hints else len(STUDENTS) - 2)


def test_a_references_rubric_and_noisy_targets_give_each_student_their_points_formula(tmp_path, monkeypatch):
    """Points between two references depend on the student's own targets (the mean predictor's metric), so a
    stencil must not reuse the formula of another student's data."""
    (tmp_path / "t.toml").write_text("# template\n")
    a = _template("house-prices", EXTRAS["noisy targets"], 'measure = "references"\nbest_metric = 20.0\n')
    assert _class_equals_alone(a, tmp_path, monkeypatch) == len(STUDENTS) - 2


def test_row_template_fill_is_the_format_of_its_pattern():
    columns = [("A", 0, None), ("B", 3, None), ("C", 4, "=A{r}*50%+B{r}"), ("D", 5, '=IF(C{r}>1,"{{x}}",C{r}%)'),
               ("AA", 6, "=SUM(A{r}:C{r})")]
    template = RowTemplate(columns)
    rng = random.Random(3)
    for r in (1, 12, 99_999, 1_048_576):
        values = [repr(rng.uniform(-1e6, 1e6)) for _ in columns]
        assert template.fill(r, values) == template.pattern.format(r=r, v=values)
    assert template.fill(7, ["1", "2", "3", "4", "5"]).startswith('<c r="A7"><v>1</v></c><c r="B7" s="3"><v>2</v>')
    assert '50%+B7</f>' in template.fill(7, ["1"] * 5) and '"{x}"' in template.fill(7, ["1"] * 5)


def test_a_sheet_with_error_values_is_stenciled_row_by_row(tmp_path, monkeypatch):
    """A weight so large that h1 overflows: every data row caches #NUM!, which the one-pattern fill cannot
    write, so those sheets are filled row by row (still from the stencil) and still equal the alone build."""
    (tmp_path / "t.toml").write_text("# template\n")
    text = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8").replace("w_in1_h1 = 5",
                                                                                               "w_in1_h1 = 1e307")
    a = parse_template(text + EXTRAS["noisy targets"], source="huge.toml")
    assert _class_equals_alone(a, tmp_path, monkeypatch, whole=False) == len(STUDENTS) - 2
    with zipfile.ZipFile(tmp_path / "class" / "s3.xlsx") as z:
        assert '<c r="D11" s="17" t="e"><f>w_in1_h1*A11+w_in2_h1*B11+b_h1</f><v>#NUM!</v></c>' in \
            z.read("xl/worksheets/sheet2.xml").decode()


@pytest.mark.parametrize("name", ["house-prices", "exam-pass", "house-prices-linear", "house-prices-sigmoid"])
def test_one_pass_for_many_students_is_each_students_own_pass_bit_for_bit(name):
    """A class set runs its students' forward passes as one K x 1 pass (model.forward_each): every cached
    value in their files comes from it, so it must equal each student's own pass exactly, not approximately
    (ReLU, tanh, sigmoid and linear neurons; 2,000 random starting points, some far out)."""
    import numpy as np

    from workbook.model import forward, forward_each

    a = _template(name, EXTRAS["random starts"])
    students = [variant(a, f"s{i}") for i in range(2000)]
    rng = np.random.default_rng(5)
    far = [{k: float(w * rng.choice([1e-3, 1.0, 50.0])) for k, w in v.weights.items()} for v in students[:200]]
    weights = [v.weights for v in students] + far
    for one, w in zip(forward_each(a.network, weights, a.data.X), weights, strict=True):
        alone = forward(a.network, w, a.data.X)
        for label in alone.z:
            assert one.z[label].tobytes() == alone.z[label].tobytes() and \
                one.a[label].tobytes() == alone.a[label].tobytes(), (name, label, w)
    assert forward_each(a.network, [], a.data.X) == []
