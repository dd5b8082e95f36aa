"""A class, described: roster, each student's variant, its signature, the manifest (`workbook.class_set` writes it).

The grader reads a class through this module, so it holds no code that writes workbooks.

Variants are reproducible: starting weights are drawn from the template's seed mixed with the
student id, and (if the template asks) targets get seeded noise, so running the same command
twice writes the same files, and copying a classmate's weights does not carry their score over.
The signature is an HMAC over the assignment id, the student id and the variant, keyed by an
instructor secret that never enters a workbook.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from workbook import LAYOUT_VERSION
from workbook.errors import WorkbookError
from workbook.spec import Assignment, Dataset, draw_weights

MANIFEST_VERSION = 1
SECRET_ENV = "MANUALML_SECRET"
ID_COLUMNS = ("student_id", "id", "student id", "sis user id", "username")


@dataclass(frozen=True)
class Student:
    """One roster line."""

    id: str
    name: str = ""
    email: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # other roster columns, kept for exports


def read_roster(path: str | Path) -> list[Student]:
    """Roster CSV with columns student id, name, email (header names are matched loosely)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read the roster ({exc.strerror or exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
    id_col = next((header[c] for c in ID_COLUMNS if c in header), None)
    if id_col is None:
        raise WorkbookError(f"{path}: the roster needs a student id column (one of: {', '.join(ID_COLUMNS)}); "
                            f"found: {', '.join(reader.fieldnames or []) or 'no header'}")
    name_col, email_col = header.get("name"), header.get("email")
    students, seen = [], set()
    for line, row in enumerate(reader, start=2):
        sid = (row.get(id_col) or "").strip()
        if not sid:
            raise WorkbookError(f"{path}: line {line} has no student id")
        if sid in seen:
            raise WorkbookError(f"{path}: line {line}: student id {sid!r} appears twice")
        seen.add(sid)
        extra = {k: v for k, v in row.items() if k not in (id_col, name_col, email_col) and k}
        students.append(Student(sid, (row.get(name_col) or "").strip() if name_col else "",
                                (row.get(email_col) or "").strip() if email_col else "", extra))
    if not students:
        raise WorkbookError(f"{path}: the roster lists no students")
    return students


def file_stem(student_id: str) -> str:
    """A safe file name from a student id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", student_id).strip("._") or "student"


def _salt_int(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def variant(assignment: Assignment, student_id: str, *, target_noise: float | None = None) -> Assignment:
    """The student's own copy: their starting weights and, optionally, their own noisy targets."""
    given = {k: assignment.weights[k] for k in assignment.explicit_weights}
    if assignment.random_init is not None:
        weights = draw_weights(assignment.network, given, assignment.random_init, salt=student_id)
    else:
        weights = dict(assignment.weights)
    data = assignment.data
    target_noise = assignment.target_noise if target_noise is None else target_noise
    if target_noise:
        rng = np.random.default_rng(_salt_int(assignment.id, student_id, "targets"))
        factors = 1 + rng.uniform(-target_noise, target_noise, size=len(data.rows))
        rows = tuple((*r[:-1], round(r[-1] * f, 6)) for r, f in zip(data.rows, factors, strict=True))
        data = Dataset(inputs=data.inputs, target=data.target, rows=rows)
    return replace(assignment, weights=weights, data=data)


def variant_payload(assignment: Assignment) -> dict:
    """What identifies a variant: its data and starting weights (JSON-ready, exact floats)."""
    return {"rows": [list(r) for r in assignment.data.rows], "weights": dict(assignment.weights)}


def variant_digest(assignment: Assignment) -> str:
    canonical = json.dumps(variant_payload(assignment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def signature(secret: bytes, assignment_id: str, student_id: str, digest: str) -> str:
    """HMAC-SHA256 over assignment id, student id and variant digest."""
    message = "\x1f".join([LAYOUT_VERSION, assignment_id, student_id, digest]).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def load_secret(key_file: str | Path | None = None, *, required: bool = True) -> bytes | None:
    """The instructor secret: a key file, else the MANUALML_SECRET environment variable."""
    if key_file:
        try:
            secret = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise WorkbookError(f"{key_file}: cannot read the key file ({exc.strerror or exc})") from None
    else:
        secret = os.environ.get(SECRET_ENV, "").encode()
    if not secret and required:
        raise WorkbookError(f"no signing secret: set {SECRET_ENV} or pass --key-file (keep it out of the workbooks "
                            "and out of version control)")
    return secret or None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(path: str | Path) -> dict:
    """Load and check a manifest written by generate_class."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbookError(f"{path}: cannot read the manifest ({exc})") from None
    if data.get("manifest_version") != MANIFEST_VERSION:
        raise WorkbookError(f"{path}: manifest version {data.get('manifest_version')!r} is not supported "
                            f"(expected {MANIFEST_VERSION}); regenerate the class with this version of manualml")
    return data


def student_assignment(base: Assignment, entry: dict) -> Assignment:
    """Rebuild a student's variant from the manifest entry and the template."""
    payload = entry["variant"]
    rows = tuple(tuple(float(x) for x in r) for r in payload["rows"])
    data = Dataset(inputs=base.data.inputs, target=base.data.target, rows=rows)
    return replace(base, data=data, weights={k: float(v) for k, v in payload["weights"].items()})
