"""One result model for every output (table, CSV, JSON, feedback, Gradescope, LMS exports).

Renderers only format these dataclasses; they never recompute or re-read anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Finding kinds. "tamper" findings may cost points (template/CLI decide); "weight" findings
# make a weight unusable or say how it was read; "info" findings only inform.
TAMPER, WEIGHT, INFO = "tamper", "weight", "info"


@dataclass(frozen=True)
class Finding:
    """One thing the grader noticed, named precisely enough to check by hand."""

    code: str  # stable identifier, e.g. "formula-overwritten", "weight-text"
    kind: str  # TAMPER, WEIGHT or INFO
    message: str  # a sentence a student can act on
    cell: str = ""  # "'Manual Machine Learning'!J11" when one cell is to blame
    expected: str = ""  # what the issued workbook had there
    found: str = ""  # what the submission has


@dataclass(frozen=True)
class GradeResult:
    """Everything known about one submission."""

    file: str  # the submission's path, as given
    status: str  # "graded" or "error" (could not be graded at all)
    student_id: str = ""
    student_name: str = ""
    assignment: str = ""
    metric_name: str = ""  # "rmse", "mse", "mae"
    metric: float | None = None  # recomputed by NumPy from the student's weights and the assignment's data
    baseline: float | None = None  # the starting weights' metric
    improvement: float | None = None  # (baseline - metric) / baseline
    points: float = 0.0
    max_points: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    error: str = ""  # why status == "error"
    error_code: str = ""
    penalised: bool = False  # points set to 0 because of tampering findings (integrity "zero")
    hidden_metric: float | None = None  # the metric on the template's hidden test rows (never in the workbook)
    hidden_baseline: float | None = None  # the starting weights on those rows
    hidden_improvement: float | None = None
    seconds: float = 0.0

    @classmethod
    def unreadable(cls, exc: BaseException, seconds: float, **base: Any) -> GradeResult:
        """The error result for a file that could not be read: the reason a student can act on."""
        from grader.errors import SubmissionError

        if isinstance(exc, SubmissionError):
            return cls(status="error", error=exc.detail, error_code=exc.code, seconds=seconds, **base)
        if isinstance(exc, MemoryError):
            return cls(status="error", error="the file needs too much memory to read", error_code="too-large",
                       seconds=seconds, **base)
        return cls(status="error", error=f"could not be read ({type(exc).__name__}: {exc})", error_code="internal",
                   seconds=seconds, **base)

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def hidden_gap(self) -> float | None:
        """Hidden-row metric minus the sheet's: how much worse the weights do on rows they were not tuned on."""
        if self.hidden_metric is None or self.metric is None:
            return None
        return self.hidden_metric - self.metric

    @property
    def tamper_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == TAMPER]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [asdict(f) for f in self.findings]
        return data
