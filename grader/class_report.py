"""The class report: one self-contained HTML page an instructor opens after grading.

No server, no network, no script: styles inline, charts as inline SVG, so the file can be mailed,
archived or opened from a USB stick and looks the same in ten years. It shows the distribution of
points and of the metric, the class against the reference losses (the starting weights, predicting
the average, `solve`'s best), findings by kind, groups of students with (nearly) the same weights,
the hidden-test gaps, and a table of students linking to their feedback files.
Everything comes from the grade results; only the reference losses are computed (by `grader.advice`).
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import numpy as np

from grader import advice
from grader.report import who
from grader.results import GradeResult
from grader.similarity import Pair, groups
from workbook.shares import percent
from workbook.spec import Assignment

WIDTH, HEIGHT = 540, 220  # every chart's size in CSS pixels
PAD = 44  # room for axis labels
COLOURS = {"bar": "#4C78A8", "dot": "#4C78A8", "baseline": "#D62728", "average": "#FF7F0E", "best": "#2CA02C",
           "overfit": "#D62728"}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2em auto;
       max-width: 70em; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.summary { display: flex; flex-wrap: wrap; gap: 1em; } .summary div { background: #f4f6f8; padding: 0.6em 1em;
           border-radius: 6px; } .summary b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f4f6f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td { color: #a00; } .note { color: #666; font-size: 0.9em; } svg { display: block; margin: 0.4em 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
"""


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.4g}"


def _reference(key: str, value: float, refs: Mapping[str, float | None]) -> str:
    """A reference loss as the table and the chart print it: a best that fits every row is "≈ 0", not 9.328e-13
    (the feedback's "almost 0", grader.advice: below FLOOR of predicting the average)."""
    average = refs.get("average")
    if key == "best" and average is not None and math.isfinite(average) and value < FLOOR * average:
        return "≈ 0"
    return _num(value)


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11, fill: str = "#333",
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def _svg(title: str, body: list[str], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} '
            f'{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<rect width="{width}" height="{height}" fill="#fff"/>{"".join(body)}</svg>')


def histogram_svg(values: Sequence[float], edges: Sequence[float], title: str, xlabel: str) -> str:
    """Bars of how many values fall in each [edge_i, edge_i+1) (the last bin includes its right edge)."""
    counts = np.histogram(np.asarray(values, dtype=float), bins=np.asarray(edges, dtype=float))[0]
    top = max(int(counts.max()) if len(counts) else 0, 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    bar_w = inner_w / max(len(counts), 1)
    body = [_text(WIDTH / 2, 18, title, size=13, extra=' font-weight="bold"'),
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>']
    for i, count in enumerate(counts):
        h = inner_h * count / top
        x = PAD + i * bar_w
        body.append(f'<rect class="bar" x="{x + 1:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar_w - 2:.1f}" '
                    f'height="{h:.1f}" fill="{COLOURS["bar"]}"><title>{_num(edges[i])} to {_num(edges[i + 1])}: '
                    f"{count}</title></rect>")
        if count:
            body.append(_text(x + bar_w / 2, HEIGHT - PAD - h - 4, str(count), size=10))
    step = max(1, len(edges) // 10)
    for i in range(0, len(edges), step):
        body.append(_text(PAD + i * bar_w, HEIGHT - PAD + 14, _num(edges[i]), size=10))
    body.append(_text(WIDTH / 2, HEIGHT - 8, xlabel))
    return _svg(title, body)


FLOOR = 1e-4  # on a log axis, values below this fraction of the largest are drawn at it ("almost 0")


class _Axis:
    """Values -> pixels in [start, end], on a log scale when they span more than a factor of 100.

    A log axis starts at most FLOOR x the largest value down, so an exact fit (RMSE 1e-12) or a 0 sits
    at the left edge instead of stretching the axis over twelve empty decades.
    """

    def __init__(self, values: Sequence[float], start: float = PAD, end: float = WIDTH - PAD) -> None:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        self.start, self.end = start, end
        self.log = hi > 0 and lo >= 0 and (lo == 0 or hi / lo > 100)
        self.floor = 0.0
        if self.log:
            positive = [v for v in finite if v > 0]
            self.floor = max(min(positive), hi * FLOOR)
            lo, hi = math.log10(self.floor), math.log10(hi)
        if hi - lo < 1e-12:
            lo, hi = lo - 1, hi + 1
        margin = (hi - lo) * 0.05
        self.lo, self.hi = lo - margin, hi + margin

    def clamp(self, value: float) -> float:
        return max(value, self.floor) if self.log else value

    def __call__(self, value: float) -> float:
        v = math.log10(self.clamp(value)) if self.log else value
        return self.start + (self.end - self.start) * (v - self.lo) / (self.hi - self.lo)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0**k for k in range(math.ceil(self.lo), math.floor(self.hi) + 1)]
        return list(np.linspace(self.lo, self.hi, 6))


def references_svg(metrics: Sequence[float], refs: Mapping[str, float | None], abbr: str) -> str:
    """Each student's metric as a dot, against the reference losses as labelled vertical lines."""
    named = {k: v for k, v in refs.items() if v is not None and math.isfinite(v)}
    shown = [m for m in metrics if math.isfinite(m)]
    axis = _Axis([*shown, *named.values()])
    body = [_text(WIDTH / 2, 18, f"The class against the reference losses ({abbr}, lower is better"
                  + (", log scale)" if axis.log else ")"), size=13, extra=' font-weight="bold"'),
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>']
    for t in axis.ticks():
        body.append(_text(axis(t), HEIGHT - PAD + 14, _num(t), size=10))
    labels = {"baseline": "starting weights", "average": "predicting the average", "best": "solve's best"}
    for i, (key, value) in enumerate(sorted(named.items(), key=lambda kv: kv[1])):
        x = axis(value)
        body.append(f'<line class="reference" x1="{x:.1f}" y1="{PAD - 8}" x2="{x:.1f}" y2="{HEIGHT - PAD}" '
                    f'stroke="{COLOURS[key]}" stroke-width="2" stroke-dasharray="5,3"/>')
        shown_value = _reference(key, value, refs)
        if shown_value != "≈ 0" and axis.log and value < axis.floor:
            shown_value = f"≤ {_num(axis.floor)}"
        body.append(_text(x, PAD - 12 + 12 * (i % 2), f"{labels[key]} {shown_value}", size=10, fill=COLOURS[key]))
    rows = max(1, (HEIGHT - 2 * PAD - 30) // 9)
    for i, m in enumerate(shown):
        y = PAD + 22 + (i * 7) % (rows * 9)  # a fixed spread so equal metrics stay visible
        body.append(f'<circle class="student" cx="{axis(m):.1f}" cy="{y:.1f}" r="4" fill="{COLOURS["dot"]}" '
                    f'fill-opacity="0.7"/>')
    body.append(_text(WIDTH / 2, HEIGHT - 8, f"{abbr} of each graded submission (one dot each)"))
    return _svg("class against reference losses", body)


def gaps_svg(pairs: Sequence[tuple[float, float, bool]], abbr: str, noun: str) -> str:
    """Hidden-row metric against the sheet's, one dot per student; the diagonal is 'no gap'."""
    side = 320
    values = [v for s, h, _ in pairs for v in (s, h) if math.isfinite(v)]
    axis = _Axis(values, PAD, side - PAD)
    low, top = (axis.floor, 10**axis.hi) if axis.log else (axis.lo, axis.hi)
    px = axis

    body = [_text(side / 2, 16, f"Hidden {noun} against the sheet ({abbr})", size=12, extra=' font-weight="bold"'),
            f'<line x1="{PAD}" y1="{side - PAD}" x2="{side - PAD}" y2="{side - PAD}" stroke="#888"/>',
            f'<line x1="{PAD}" y1="{side - PAD}" x2="{PAD}" y2="{PAD}" stroke="#888"/>',
            f'<line x1="{PAD}" y1="{side - PAD}" x2="{side - PAD}" y2="{PAD}" stroke="#bbb" stroke-dasharray="4,3"/>',
            _text(side / 2, side - 8, f"{abbr} on the sheet's rows" + (" (log scale)" if axis.log else ""), size=10),
            _text(12, side / 2, f"{abbr} on the hidden {noun}", size=10,
                  extra=f' transform="rotate(-90 12 {side / 2:.1f})"'),
            _text(PAD, side - PAD + 14, _num(low), size=10), _text(side - PAD, side - PAD + 14, _num(top), size=10)]
    for s, h, overfit in pairs:
        if math.isfinite(s) and math.isfinite(h):
            colour = COLOURS["overfit"] if overfit else COLOURS["dot"]
            body.append(f'<circle class="gap" cx="{px(s):.1f}" cy="{side - px(h):.1f}" r="4" fill="{colour}" '
                        'fill-opacity="0.75"/>')
    return _svg("hidden against sheet", body, width=side, height=side)


def _median(values: Sequence[float]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def render(results: Sequence[GradeResult], assignments: Sequence, *, pairs: Sequence[Pair] = (),
           feedback_links: Mapping[int, str] | None = None, title: str | None = None) -> str:
    """The whole page. `feedback_links` maps a result's index to its feedback file (relative to the page)."""
    links = feedback_links or {}
    graded = [(i, r) for i, r in enumerate(results) if r.graded]
    scored = [(i, r) for i, r in graded if r.metric is not None and math.isfinite(r.metric)]
    first = next((assignments[i] for i, _ in graded), assignments[0] if assignments else None)
    is_network = isinstance(first, Assignment)
    abbr = getattr(first, "metric_abbr", "metric")
    max_points = max((r.max_points for r in results), default=10.0) or 10.0
    heading = title or getattr(first, "title", "Class report")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(heading)}: class report</title><style>{STYLE}</style></head><body>",
           f"<h1>{escape(heading)}</h1>",
           f'<p class="note">Class report by manualml: {_counts(results, len(graded))}.</p>']
    points = [r.points for _, r in graded]
    out.append('<div class="summary">'
               f"<div>graded<b>{len(graded)} / {len(results)}</b></div>"
               f"<div>median points<b>{_num(_median(points))} / {max_points:g}</b></div>"
               f"<div>full marks<b>{sum(p >= max_points for p in points)}</b></div>"
               f"<div>median {escape(abbr)}<b>{_num(_median([r.metric for _, r in scored]))}</b></div>"
               f"<div>with findings<b>{sum(bool(r.tamper_findings) for _, r in graded)}</b></div></div>")

    out.append("<h2>Distributions</h2><div class=\"charts\">")
    edges = list(np.linspace(0, max_points, 11))
    out.append(histogram_svg(points, edges, "Points", f"points (of {max_points:g})"))
    metrics = [r.metric for _, r in scored]
    if metrics:
        axis = _Axis(metrics)
        if axis.log:
            edges_m = list(10 ** np.linspace(math.log10(axis.floor), axis.hi, 11))
            values = [axis.clamp(m) for m in metrics]
        else:
            edges_m, values = list(np.linspace(axis.lo, axis.hi, 11)), metrics
        out.append(histogram_svg(values, edges_m, abbr, f"{abbr}" + (" (log scale)" if axis.log else "")))
    out.append("</div>")

    if is_network and scored:
        refs = advice.class_references([assignments[i] for i, _ in scored])
        ref_values = {"baseline": _median([x.baseline for x in refs]), "average": _median([x.average for x in refs]),
                      "best": _median([x.best for x in refs if x.best is not None])}
        out.append("<h2>The class against the reference losses</h2>")
        out.append(references_svg(metrics, ref_values, abbr))
        below = {k: sum(m < v for m in metrics) for k, v in ref_values.items() if v is not None}
        out.append("<table><tr><th>reference</th><th class=\"num\">" + escape(abbr) + "</th><th>students below it"
                   "</th></tr>")
        names = {"baseline": "the starting weights (baseline)", "average": "predicting the average for every row",
                 "best": "the best solve finds"}
        for key in ("baseline", "average", "best"):
            if ref_values[key] is not None:
                shown = _reference(key, ref_values[key], ref_values)
                out.append(f"<tr><td>{names[key]}</td><td class=\"num\">{shown}</td>"
                           f"<td class=\"num\">{below[key]} of {len(metrics)}</td></tr>")
        out.append("</table>")
        if len({x.baseline for x in refs}) > 1:
            out.append('<p class="note">Students have their own variants: medians over the variants are shown.</p>')

    out.append("<h2>Findings by kind</h2>")
    by_code: dict[str, list[GradeResult]] = defaultdict(list)
    examples: dict[str, str] = {}
    for r in results:
        for code in dict.fromkeys(f.code for f in r.findings):
            by_code[code].append(r)
        for f in r.findings:
            examples.setdefault(f.code, f.message)
    errors = Counter(r.error_code for r in results if not r.graded)
    if by_code or errors:
        out.append("<table><tr><th>finding</th><th class=\"num\">submissions</th><th>for example</th></tr>")
        for code, rs in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            out.append(f"<tr><td>{escape(code)}</td><td class=\"num\">{len(rs)}</td>"
                       f"<td>{escape(examples[code])}</td></tr>")
        for code, n in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"<tr class=\"error\"><td>not graded: {escape(code)}</td><td class=\"num\">{n}</td><td>"
                       f"{escape(next(r.error for r in results if r.error_code == code))}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No findings: every submission changed only its weights.</p>")

    out.append("<h2>Similar weights</h2>")
    found = groups(list(pairs))
    if found:
        out.append("<table><tr><th>group</th><th>students</th><th>weights</th></tr>")
        for n, g in enumerate(found, start=1):
            out.append(f"<tr><td>{n}</td><td>{escape(', '.join(g.members))}</td><td>{escape(g.note)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No two submissions have identical or nearly identical weights.</p>")

    hidden = [(i, r) for i, r in scored if r.hidden_metric is not None]
    if hidden:
        test = getattr(assignments[hidden[0][0]], "test", None)
        noun = test.noun if test else "rows"
        flags = {i: advice.is_overfit(assignments[i], r.metric, r.hidden_metric) for i, r in hidden}
        out.append("<h2>Hidden test</h2>")
        gaps = [r.hidden_gap for _, r in hidden]
        out.append(f"<p>{len(test.data.rows) if test else ''} hidden {escape(noun)}, not in any workbook. Median gap "
                   f"(hidden − sheet {escape(abbr)}): <b>{_num(_median(gaps))}</b>; "
                   f"<b>{sum(flags.values())}</b> of {len(hidden)} students overfit (red: hidden {escape(abbr)} above "
                   f"{test.overfit_ratio if test else 1.5:g}× the sheet's).</p>")
        out.append(gaps_svg([(r.metric, r.hidden_metric, flags[i]) for i, r in hidden], abbr, noun))

    out.append("<h2>Students</h2><table><tr><th>student</th><th>name</th><th>status</th>"
               f"<th class=\"num\">{escape(abbr)}</th><th class=\"num\">improvement</th><th class=\"num\">points</th>"
               + ("<th class=\"num\">hidden</th><th class=\"num\">gap</th>" if hidden else "")
               + "<th>findings</th><th>feedback</th></tr>")
    for i, r in enumerate(results):
        status = r.status if r.graded or r.status == r.error_code else f"{r.status}: {r.error_code}"
        improvement = percent(r.improvement)
        cells = [escape(who(r)), escape(r.student_name), escape(status), _num(r.metric), improvement,
                 f"{r.points:g}" if r.graded else "—"]
        if hidden:
            cells += [_num(r.hidden_metric), _num(r.hidden_gap)]
        cells.append(escape(", ".join(dict.fromkeys(f.code for f in r.findings))) or "—")
        link = links.get(i)
        cells.append(f'<a href="{escape(link)}">feedback</a>' if link else "—")
        numeric = {3, 4, 5, 6, 7} if hidden else {3, 4, 5}
        row = "".join(f'<td class="num">{c}</td>' if k in numeric else f"<td>{c}</td>" for k, c in enumerate(cells))
        out.append(f'<tr class="student{"" if r.graded else " error"}">{row}</tr>')
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write_class_report(results: Sequence[GradeResult], assignments: Sequence, path: Path, *,
                       pairs: Sequence[Pair] = (), feedback_files: Sequence[Path] | None = None) -> Path:
    """Write the page; `feedback_files[i]` (if given) is result i's feedback, linked relative to the page."""
    path = Path(path)
    links = {}
    for i, f in enumerate(feedback_files or ()):
        links[i] = Path(os.path.relpath(Path(f).resolve(), path.resolve().parent)).as_posix()
    path.write_text(render(results, assignments, pairs=pairs, feedback_links=links), encoding="utf-8")
    return path


def _counts(results, graded: int) -> str:
    """'13 submission(s), 12 graded, 1 not graded'; a roster student who handed in nothing is no submission."""
    missing = sum(1 for r in results if r.status == "missing")
    handed = len(results) - missing
    text = f"{handed} submission(s), {graded} graded" + (f", {handed - graded} not graded" if graded < handed else "")
    return text + (f", {missing} student(s) handed in nothing" if missing else "")
