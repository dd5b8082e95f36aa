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
    """All pairs closer than `threshold`, except pairs of workbooks both unchanged from their starting weights
    (`starting`: who -> issued weights): 200 untouched workbooks are not 19,900 suspicious pairs."""
    graded = [r for r in results if r.graded and r.weights]
    starting = starting or {}
    pairs = []
    for i, ra in enumerate(graded):
        for rb in graded[i + 1:]:
            if ra.weights == starting.get(who(ra)) and rb.weights == starting.get(who(rb)):
                continue
            d = distance(ra.weights, rb.weights)
            if d <= threshold:
                pairs.append(Pair(who(ra), who(rb), d, "identical" if d == 0 else "nearly identical"))
    return sorted(pairs, key=lambda p: (p.distance, p.a, p.b))


def starting_weights(results: list[GradeResult], assignments: list) -> dict[str, dict[str, float]]:
    """who -> the weights each result's workbook was issued with (a student's variant, or the template's)."""
    start = {}
    for r, a in zip(results, assignments, strict=True):
        weights = getattr(a, "weights", None)
        if not isinstance(weights, dict):
            weights = getattr(a, "start", None)
        if weights is not None:
            start[who(r)] = {k: float(v) for k, v in dict(weights).items()}
    return start


@dataclass(frozen=True)
class Group:
    """Students whose weights are linked by (nearly) identical pairs."""

    members: tuple[str, ...]
    distance: float  # the largest distance of a link inside the group
    note: str


def groups(pairs: list[Pair]) -> list[Group]:
    """Connected pairs as groups, largest first: five students sharing weights are one group, not ten pairs."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        parent[find(p.a)] = find(p.b)
    members: dict[str, list[str]] = {}
    for name in list(parent):
        members.setdefault(find(name), []).append(name)
    found = []
    for names in members.values():
        inside = [p for p in pairs if p.a in names]
        worst = max(p.distance for p in inside)
        found.append(Group(tuple(sorted(names)), worst, "identical" if worst == 0 else "nearly identical"))
    return sorted(found, key=lambda g: (-len(g.members), g.members))


def write_similarity(pairs: list[Pair], path: Path) -> Path:
    """One row per group of students with (nearly) identical weights."""
    from grader.csvsafe import number, text

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "size", "students", "max_distance", "note"])
        for n, g in enumerate(groups(pairs), start=1):
            writer.writerow([n, len(g.members), text("; ".join(g.members)), number(g.distance), g.note])
    return path
