"""Students whose weights are identical or nearly so, for an instructor to look at.

Distance is scale-aware: each weight's difference is divided by the larger magnitude of the
two (so 0.001 vs 0.002 counts as far apart, 1000 vs 1000.1 as close), then averaged. Hand-
tuned weights that agree to the third significant digit across nine parameters are unusual.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.report import who
from grader.results import GradeResult

NEAR = 1e-3  # mean relative difference below this is listed


@dataclass(frozen=True)
class Pair:
    """Two submissions with (nearly) the same weights."""

    a: str
    b: str
    distance: float  # 0 = identical
    note: str


def distance(wa: dict[str, float], wb: dict[str, float]) -> float:
    keys = sorted(set(wa) & set(wb))
    if not keys or set(wa) != set(wb):
        return float("inf")
    x = np.array([wa[k] for k in keys])
    y = np.array([wb[k] for k in keys])
    scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-12)
    return float(np.mean(np.abs(x - y) / scale))


def similar_pairs(results: list[GradeResult], *, threshold: float = NEAR,
                  starting: dict[str, dict[str, float]] | None = None) -> list[Pair]:
    """All pairs closer than `threshold`; `starting` (who -> issued weights) marks untouched files."""
    graded = [r for r in results if r.graded and r.weights]
    pairs = []
    for i, ra in enumerate(graded):
        for rb in graded[i + 1:]:
            d = distance(ra.weights, rb.weights)
            if d <= threshold:
                note = "identical" if d == 0 else "nearly identical"
                if starting and ra.weights == starting.get(who(ra)) and rb.weights == starting.get(who(rb)):
                    note += " (both unchanged from the starting weights)"
                pairs.append(Pair(who(ra), who(rb), d, note))
    return sorted(pairs, key=lambda p: (p.distance, p.a, p.b))


def write_similarity(pairs: list[Pair], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_a", "student_b", "distance", "note"])
        for p in pairs:
            writer.writerow([p.a, p.b, f"{p.distance:.6g}", p.note])
    return path
