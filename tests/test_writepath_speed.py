"""The shortcuts a class set's per-student path takes give exactly what the plain ways give.

Each test sets a shortcut beside the plain code it stands for (a number's text, one zlib call, the JSON of a
variant, a file written with os.write) over many random and awkward inputs; the class files themselves are
compared with the workbooks built alone in tests/test_stencil.py and tests/test_deterministic.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest

from workbook import builder, package, sheet_xml
from workbook.catalog import load
from workbook.roster import _canonical, _spaced, variant, variant_digest, variant_payload, variant_payload_text
from workbook.spec import Dataset, draw_weights


def _awkward_floats(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    fixed = [0.0, -0.0, 1.0, -1.0, 85.0, 0.5, 1e16, -1e16, 1e15, 9999999999999998.0, 1e-7, 1.5e-7, 1e-5, 1e-4,
             123456789.0, 0.1 + 0.2, 2.0**53, 2.0**53 + 2, 5e-324, 1.7976931348623157e308, 2.5e-05, 100.0,
             -0.001, 1e22, 1e21, 12345678901234567.0]
    out = list(fixed)
    for _ in range(n):
        kind = rng.randrange(6)
        if kind == 0:
            out.append(rng.uniform(-1e6, 1e6))
        elif kind == 1:
            out.append(float(rng.randint(-10**17, 10**17)))
        elif kind == 2:
            out.append(round(rng.uniform(-2, 2), rng.randrange(0, 4)))
        elif kind == 3:
            out.append(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])  # any double
        elif kind == 4:
            out.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30))
        else:
            out.append(1.0 / (1.0 + math.exp(-rng.uniform(-40, 40))))  # a sigmoid's output
    return out


def test_number_texts_are_each_numbers_cell_text():
    values = [v for v in _awkward_floats(20_000) if math.isfinite(v)] + [0, 7, -12, 10**20]
    got = builder._number_texts(values)
    assert got == [sheet_xml._num(v).encode() for v in values]
    assert builder._number_texts([]) == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_number_texts_refuse_what_is_not_finite(bad):
    assert builder._number_texts([1.0, bad, 2.0]) is None
    assert builder._number_texts([bad]) is None


def test_a_number_cell_is_its_parts_around_its_value():
    for ref, style in [("A1", 0), ("O15", 17), ("XFD1048576", 3)]:
        head, tail = sheet_xml.number_parts(ref, style)
        for v in [*_awkward_floats(200), 3, -4]:
            assert sheet_xml.number(ref, v, style) == head + sheet_xml._num(v) + tail


def test_a_stencils_data_rows_pattern_fills_a_number_cell_between_its_parts():
    template = sheet_xml.RowTemplate([("A", 0, None), ("B", 4, "=A{r}*2%")])
    head, tail = sheet_xml.number_parts("D5", 9)
    text, holes = sheet_xml.data_rows_pattern(template, 5, 2, {5: {4: (head, tail)}, 6: {4: "<c r=\"D6\"/>"}})
    assert holes == [("slot", 0, 0), ("slot", 0, 1), ("extra", 5, 4), ("slot", 1, 0), ("slot", 1, 1)]
    filled = text % ("1", "2", "3.5", "4", "8")
    assert filled == (sheet_xml._data_row(5, template.fill(5, ["1", "2"]), {4: sheet_xml.number("D5", 3.5, 9)})
                      + sheet_xml._data_row(6, template.fill(6, ["4", "8"]), {4: "<c r=\"D6\"/>"}))


def _old_deflate(chunks: list[bytes]) -> bytes:
    comp = zlib.compressobj(package.LEVEL, zlib.DEFLATED, -15)
    return b"".join([comp.compress(c) for c in chunks] + [comp.flush()])


def test_one_zlib_call_deflates_as_the_stream_did():
    rng = random.Random(4)
    sheet = b"".join(b'<row r="%d"><c r="A%d"><v>%r</v></c></row>' % (i, i, rng.random()) for i in range(3000))
    samples = [b"", b"a", os.urandom(5000), sheet, sheet[:1500], b"<x/>" * 20_000]
    for data in samples:
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, 4)))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        part = package.Part.of("x.xml", data)
        assert part.raw == _old_deflate([data]) == _old_deflate(chunks) == package.Part.of("x.xml", iter(chunks)).raw
        assert (part.crc, part.size) == (zlib.crc32(data), len(data))


def test_zip_bytes_give_the_records_cached_property_gives(tmp_path):
    parts = [package.Part.of(f"p{i}.xml", os.urandom(50 * i)) for i in range(4)]
    plain = [package.Part(p.name, p.raw, p.crc, p.size) for p in parts]  # records not asked for yet
    first = package.zip_bytes(parts)
    assert all("records" in p.__dict__ for p in parts)  # kept for the next file
    assert package.zip_bytes(parts) == first
    assert [p.records for p in plain] == [package._records(p) for p in parts]
    package.write_zip(tmp_path / "a.zip", parts)
    assert (tmp_path / "a.zip").read_bytes() == first
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.testzip() is None and [z.read(p.name) for p in parts] == [zlib.decompress(p.raw, -15) for p in parts]


def test_a_file_written_with_os_write_is_the_bytes_and_the_errors_stay(tmp_path):
    data = os.urandom(70_000)
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"x" * 100_000)  # a longer file is cut to the new bytes
    package._write_file(path, data)
    assert path.read_bytes() == data
    package._write_file(str(tmp_path / "g.xlsx"), b"")
    assert (tmp_path / "g.xlsx").read_bytes() == b""
    sha = package.write_hashed([package.Part.of("a.xml", b"<a/>")], tmp_path / "new" / "h.xlsx")  # folder made
    assert sha == hashlib.sha256((tmp_path / "new" / "h.xlsx").read_bytes()).hexdigest()
    with pytest.raises(package.WorkbookError, match=r"cannot write the workbook"):
        package.write_hashed([package.Part.of("a.xml", b"<a/>")], tmp_path)  # a folder


def test_custom_properties_are_what_they_were():
    from workbook.xml_text import escape, quoteattr

    def old(props):
        items = "".join(f'<property name={quoteattr(k)} fmtid="{package._FMTID}" pid="{i}"><vt:lpwstr '
                        f'xmlns:vt="{package._VT}">{escape(v)}</vt:lpwstr></property>'
                        for i, (k, v) in enumerate(props.items(), start=2))
        return ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties">'
                f"{items}</Properties>").encode()

    for props in [{}, {"manualml_layout": "v9", "manualml_student_name": "A & B <c> \"q\" 'x'"},
                  {"a\"b'c": "\t\n", "x": "Zoë 🙂"}]:
        assert package.custom_properties(props) == old(props)


def _payloads():
    a = load("house-prices-sigmoid")
    yield a
    yield from (variant(a, f"s{i}") for i in range(30))
    yield variant(a, "noisy", target_noise=0.3)
    odd = [v for v in _awkward_floats(300, seed=9)]
    rows = tuple((odd[i], odd[i + 1], odd[i + 2]) for i in range(0, 297, 3))
    yield replace(a, data=Dataset(inputs=a.data.inputs, target=a.data.target, rows=rows),
                  weights={k: odd[i] for i, k in enumerate(a.weights)})
    yield replace(a, weights={k: [math.nan, math.inf, -0.0, 3][i % 4] for i, k in enumerate(a.weights)})
    yield replace(a, weights={})


def test_variant_digest_and_payload_text_are_the_json_they_stand_for():
    for v in _payloads():
        payload = variant_payload(v)
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        assert variant_digest(v) == hashlib.sha256(canonical.encode()).hexdigest()
        assert variant_payload_text(v) == json.dumps(payload, ensure_ascii=False)
    assert _canonical({"b": 1, "a": [1.5]}) == json.dumps({"b": 1, "a": [1.5]}, sort_keys=True, separators=(",", ":"))
    assert _spaced({"b": "Zoë"}) == json.dumps({"b": "Zoë"}, ensure_ascii=False)


def test_a_datasets_rows_json_is_not_kept_for_another():
    a = load("house-prices-sigmoid")
    one, two = variant(a, "s1", target_noise=0.2), variant(a, "s2", target_noise=0.2)
    assert variant_digest(one) != variant_digest(two)
    assert variant_payload_text(one) == json.dumps(variant_payload(one), ensure_ascii=False)
    assert variant_payload_text(two) == json.dumps(variant_payload(two), ensure_ascii=False)


def test_draw_weights_draws_what_it_drew():
    a = load("house-prices-sigmoid")
    names = a.network.parameter_names()
    for salt in ["", "s1", "Zoë", "x" * 40]:
        got = draw_weights(a.network, {"b_out": 100}, a.random_init, salt=salt)
        digest = int.from_bytes(salt.encode("utf-8"), "big") % (2**63) if salt else 0
        rng = np.random.default_rng([a.random_init.seed, digest])
        drawn = iter(rng.uniform(a.random_init.low, a.random_init.high, size=len(names) - 1).tolist())
        exp = {n: 100.0 if n == "b_out" else round(next(drawn), a.random_init.decimals) for n in names}
        assert list(got.items()) == list(exp.items())
    everything = {n: i for i, n in enumerate(names)}
    assert draw_weights(a.network, everything, None, salt="s") == {n: float(i) for i, n in enumerate(names)}


def test_a_variant_is_the_assignment_replaced_and_carries_no_cached_property():
    from workbook.catalog import templates_dir
    from workbook.spec import parse_template

    text = (templates_dir() / "house-prices.toml").read_text(encoding="utf-8")
    for a in [load("house-prices-sigmoid"), parse_template(text + "\n[variants]\ntarget_noise = 0.2\n"),
              parse_template(text + '\n[variants]\nstarting_weights = "random"\n')]:
        a.graded_sheet()  # a cached property of the template's own data and weights
        for sid in ["s1", "Zoë"]:
            v = variant(a, sid)
            alike = replace(a, weights=v.weights, data=v.data)
            assert v == alike and type(v) is type(alike) and list(v.__dict__) == list(alike.__dict__)
            assert all(v.__dict__[k] is alike.__dict__[k] for k in alike.__dict__)
            assert v.graded_sheet() is not a.graded_sheet()


def test_signature_and_file_stem_are_what_they_were():
    import hmac
    import re

    from workbook import LAYOUT_VERSION
    from workbook.roster import file_stem, signature

    for sid in ["s1", "Zoë", "id 7/x", "", "..a..", "__", "a" * 300]:
        message = "\x1f".join([LAYOUT_VERSION, "hp", sid, "d" * 64]).encode()
        assert signature(b"key", "hp", sid, "d" * 64) == hmac.new(b"key", message, hashlib.sha256).hexdigest()
        assert file_stem(sid) == (re.sub(r"[^A-Za-z0-9_.-]+", "_", sid).strip("._") or "student")
