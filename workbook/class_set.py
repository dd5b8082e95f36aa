"""Writing a class set: one signed workbook per student and the manifest that lists them.

What a variant, a signature and a manifest are is `workbook.roster`'s business (the grader
reads them too); this module only builds the files, on every core.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from workbook import LAYOUT_VERSION, model
from workbook.roster import (
    MANIFEST_VERSION,
    Student,
    file_stem,
    sha256_file,
    signature,
    variant,
    variant_digest,
    variant_payload,
)
from workbook.spec import Assignment


def generate_class(assignment: Assignment, students: Sequence[Student], out_dir: str | Path, *,
                   template_path: Path, secret: bytes | None, password: str | None = None, workers: int = 1,
                   progress: Callable[[int], None] | None = None) -> Path:
    """Write one signed workbook per student and DIR/manifest.json; returns the manifest path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = []
    for s in students:
        v = variant(assignment, s.id)
        digest = variant_digest(v)
        props = {"variant": digest}
        if secret:
            props["signature"] = signature(secret, assignment.id, s.id, digest)
        tasks.append((v, out_dir / f"{file_stem(s.id)}.xlsx", s, props, password))
    _build_all(tasks, workers, progress)
    entries = []
    for v, path, s, props, _ in tasks:
        entries.append({"id": s.id, "name": s.name, "email": s.email, "extra": s.extra, "file": path.name,
                        "sha256": sha256_file(path), "variant_digest": props["variant"],
                        "baseline": model.loss(v), "variant": variant_payload(v)})
    manifest = {
        "manifest_version": MANIFEST_VERSION, "layout": LAYOUT_VERSION, "assignment": assignment.id,
        "title": assignment.title, "template": str(template_path.resolve()),
        "template_sha256": sha256_file(template_path), "target_noise": assignment.target_noise, "signed": bool(secret),
        "students": entries,
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def _build_one(task) -> str:
    from workbook.builder import build_workbook

    v, path, s, props, password = task
    build_workbook(v, path, student_id=s.id, student_name=s.name, password=password, properties=props)
    return str(path)


def _build_all(tasks, workers: int, progress) -> None:
    if workers <= 1 or len(tasks) < 8:
        for task in tasks:
            _build_one(task)
            if progress:
                progress(1)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(_build_one, tasks, chunksize=max(1, len(tasks) // (workers * 8))):
            if progress:
                progress(1)
