"""Grading a class set against its manifest: each file to its student, each student once.

Whose file is it? First the workbook's own stamp: `generate --roster` wrote the student id into
every workbook and signed it, so a file is its student's wherever the LMS put it and whatever it
is called (a stamp whose signature does not verify proves nothing and is not used). One
exception: when the path names exactly one other roster student, that student handed in someone
else's workbook; they are graded (with the "issued to another student" finding) and it is noted.
Names are the fallback, for a workbook whose stamp is gone or untrusted: every part of the file's path (its folders and
its name, split at `_`) is compared with each roster student's id, email, login, name (both
orders, accents and case ignored) and the id columns an LMS export carries. That covers the
downloads of Canvas (`angstromzoe_LATE_12345_67890_house-prices-1.xlsx`), Moodle (one folder per
student, `Zoë Ångström_123_assignsubmission_file_/house-prices.xlsx`), Blackboard
(`Homework_s001_attempt_2026-11-30-10-00-00_house-prices.xlsx`) and a Gradescope export
(`submission_123/…` with the submitters in `submission_metadata.yml`).

Several files for one student: the one the workbook itself says was saved last (its document
properties: dcterms:modified, or dc:date in an .ods) is graded; ties go to the file modified last
on disk, then to the later name. The others are listed as superseded and not graded, so every
export has exactly one row per roster student: a grade, an error, or "missing".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from grader.batch import Job
from grader.cells import no_cyclic_gc
from grader.errors import WrongKeyError
from grader.identity import Expected
from grader.results import GradeResult
from grader.stamps import Peek, peek
from workbook.catalog import load
from workbook.roster import read_manifest, student_assignment
from workbook.spec import Assignment

# roster columns (as an LMS export names them, compared case-insensitively) holding an identifier of the student
ID_COLUMNS = ("id", "sis user id", "sis login id", "username", "user name", "login", "login id", "user id",
              "userid", "id number", "idnumber", "student number", "matriculation number", "sid", "netid")
GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass(frozen=True)
class Superseded:
    """A student's file that was not graded because a later one was."""

    path: Path
    student_id: str
    chosen: Path  # the file graded instead
    reason: str


@dataclass(frozen=True)
class ClassPlan:
    """What to grade, and who handed in nothing."""

    jobs: list[Job]
    missing: list[dict]  # manifest entries (id, name, email, ...) with no submission
    unmatched: list[Path]  # files that name no roster student (graded against the base template)
    base: Assignment
    superseded: list[Superseded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things the instructor should look at
    roster: dict[str, dict] = field(default_factory=dict)  # id -> manifest entry


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def norm(text: str) -> str:
    """'Zoë Ångström' -> 'zoeangstrom': accents, case, spaces and punctuation ignored."""
    text = str(text)
    if text.isascii():  # the same result, five times faster: a class of 1,000 has some 7,000 keys to make
        return _NOT_ALNUM.sub("", text).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()


def _keys(entry: dict) -> tuple[set[str], set[str]]:
    """(identifier keys, name keys) a path may carry for this roster student."""
    ids, names = _key_texts(entry)
    return _kept([norm(t) for t in ids], [norm(t) for t in names])


def _key_texts(entry: dict) -> tuple[list[str], list[str]]:
    """The texts whose `norm` are the student's (identifier keys, name keys)."""
    ids = [str(entry["id"])]
    email = entry.get("email", "")
    if email:
        ids += [str(email), str(email.split("@")[0])]
    for column, value in (entry.get("extra") or {}).items():
        if str(column).strip().casefold() in ID_COLUMNS and value:
            ids.append(str(value))
    names = []
    name = entry.get("name", "")
    if name:
        words = name.replace(",", " ").split()
        names += [str(name), " ".join(words[1:] + words[:1]), " ".join(words[-1:] + words[:-1])]
    return ids, names


def _kept(ids: list[str], names: list[str]) -> tuple[set[str], set[str]]:
    return {k for k in ids if len(k) >= 2}, {k for k in names if len(k) >= 3}


_NOT_ALNUM_BYTES = bytes(b for b in range(128) if b and not chr(b).isalnum())  # what norm drops from ASCII, NUL kept


def _roster_keys(roster: dict[str, dict], among: set[str] | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """`_keys` of every roster student, in roster order. A class of 1,000 has some 6,000 texts to normalise:
    when all are ASCII, they are normalised in one pass (joined at NULs, which no text holds, every other
    byte that is not a letter or digit deleted by bytes.translate, one lower() over the lot, split again),
    which gives each text exactly its own `norm` for a tenth of the cost of 6,000 calls.

    `among`: only the keys in it are kept, and only the students left with one: what a path's tokens can
    match (`_Keys.named` looks up nothing else), without a set built for each of the other students."""
    texts = [(sid, *_key_texts(e)) for sid, e in roster.items()]
    flat = [t for _, ids, names in texts for t in (*ids, *names)]
    joined = "\0".join(flat)
    if flat and joined.isascii() and joined.count("\0") == len(flat) - 1:
        normed = joined.encode("ascii").translate(None, _NOT_ALNUM_BYTES).decode("ascii").lower().split("\0")
    else:
        normed = [norm(t) for t in flat]
    if among is not None:
        return _keys_among(texts, normed, among)
    found = {}
    at = 0
    for sid, ids, names in texts:
        middle, end = at + len(ids), at + len(ids) + len(names)
        found[sid] = _kept(normed[at:middle], normed[middle:end])
        at = end
    return found


def _keys_among(texts: list[tuple], normed: list[str], among: set[str]) -> dict[str, tuple[set[str], set[str]]]:
    """`_roster_keys` restricted to the keys in `among`: the flat list of normalised texts is searched for
    them (a set intersection, then one pass), and only the students holding one are sliced out."""
    hits = among.intersection(normed)
    if not hits:
        return {}
    wanted = [i for i, k in enumerate(normed) if k in hits]  # ascending
    found = {}
    at, w = 0, 0
    for sid, ids, names in texts:
        end = at + len(ids) + len(names)
        if w < len(wanted) and wanted[w] < end:
            middle = at + len(ids)
            ids_kept, names_kept = _kept(normed[at:middle], normed[middle:end])
            ids_kept &= hits
            names_kept &= hits
            if ids_kept or names_kept:
                found[sid] = (ids_kept, names_kept)
            while w < len(wanted) and wanted[w] < end:
                w += 1
        at = end
    return found


def _gradescope_submitters(root: Path) -> dict[str, set[str]]:
    """submission_123 -> the sids, emails and names `submission_metadata.yml` lists for it (read as text)."""
    meta = root / GRADESCOPE_METADATA
    if not meta.is_file():
        return {}
    found: dict[str, set[str]] = {}
    current = None
    try:
        lines = meta.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        block = re.match(r"^(submission_\d+):\s*$", line)
        if block:
            current = found.setdefault(block.group(1), set())
            continue
        value = re.match(r"^\s*(?:-\s*)?:?(sid|email|name):\s*(.+?)\s*$", line)
        if current is not None and value:
            current.add(value.group(2).strip("'\""))
    return found


def path_tokens(path: Path, root: Path | None, extra: dict[str, set[str]] | None = None,
                *, strong: bool = False) -> set[str]:
    """Every normalised piece of a file's path below `root` that could name its student.

    `strong`: only whole folder or file names and their `_`-separated pieces (what an LMS writes),
    not the words inside them (a date's "10" in Blackboard's attempt stamp must never decide an owner).
    """
    weak, strong_ = _path_tokens(path, root, extra)
    return strong_ if strong else weak


def _path_tokens(path: Path, root: Path | None, extra: dict[str, set[str]] | None) -> tuple[set[str], set[str]]:
    """(`path_tokens`, `path_tokens(strong=True)`) in one pass over the path (the strong ones are among the
    others: the words inside the pieces are what only the first adds)."""
    parts = list(path.relative_to(root).parts[:-1]) if root is not None and path.is_relative_to(root) else \
        [path.parent.name]
    stem = re.sub(r"-\d+$", "", path.stem)  # Canvas numbers a resubmission: name-1.xlsx
    strong, words = set(), set()
    for part in [*parts, stem]:
        strong.add(norm(part))
        for piece in re.split(r"_+", part):
            strong.add(norm(piece))
            words |= {norm(p) for p in re.split(r"[ .\-]+", piece)}
        for key, people in (extra or {}).items():
            if part == key:
                strong |= {norm(p) for p in people} | {norm(p.split("@")[0]) for p in people}
    strong.discard("")
    words.discard("")
    return strong | words, strong


class _Keys:
    """Which roster students a path's tokens could name: each student's keys (`_keys`) indexed by key, so a
    class of n files costs n lookups, not n × n comparisons (planning a class of 1,000: 0.15 s less)."""

    def __init__(self, keys: dict[str, tuple[set[str], set[str]]]):
        self.order = {sid: i for i, sid in enumerate(keys)}
        self.ids: dict[str, set[str]] = {}
        self.names: dict[str, set[str]] = {}
        for sid, (ids, names) in keys.items():
            for k in ids:
                self.ids.setdefault(k, set()).add(sid)
            for k in names:
                self.names.setdefault(k, set()).add(sid)

    def named(self, tokens: set[str]) -> list[str]:
        """The students one of `tokens` identifies (by id or e-mail), else those it names, in roster order."""
        for index in (self.ids, self.names):
            found = set().union(*(index.get(t, ()) for t in tokens))
            if found:
                return sorted(found, key=self.order.__getitem__)
        return []


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    inside = [r for r in roots if path.is_relative_to(r)]
    return max(inside, key=lambda r: len(r.parts)) if inside else None


def plan(manifest_path: str | Path, files: list[Path], *, template: str | None = None,
         secret: bytes | None = None, options: dict | None = None, roots: list[Path] | None = None) -> ClassPlan:
    """Match every file to its roster student, pick one file each, and say who is missing.

    Raises PlanError when the key verifies none of the signed workbooks (the wrong key: grading
    would call every student's stamp forged).
    """
    with no_cyclic_gc():  # the manifest is some 100,000 objects: a collection would walk them all, for nothing
        return _plan(manifest_path, files, template=template, secret=secret, options=options, roots=roots)


def _plan(manifest_path, files, *, template, secret, options, roots) -> ClassPlan:
    manifest = read_manifest(manifest_path)
    base = load(template or manifest["template"])
    roster = {e["id"]: e for e in manifest["students"]}
    peeks = [peek(p) for p in files]
    _check_key(peeks, secret, manifest_path)
    roots = [Path(r) for r in (roots or []) if Path(r).is_dir()]
    submitters = {r: _gradescope_submitters(r) for r in roots}
    tokens = []
    for p in peeks:
        root = _root_of(p.path, roots)
        tokens.append(_path_tokens(p.path, root, submitters.get(root)))
    # a path names a student only by one of its tokens (its strong ones are among them): no other key is looked up
    keys = _Keys(_roster_keys(roster, among=set().union(*(weak for weak, _ in tokens))))
    owners: dict[str, list[Peek]] = {}
    notes, unmatched = [], []
    for p, (weak, strong) in zip(peeks, tokens, strict=True):
        named = keys.named(weak)
        stamped = _trusted_owner(p, roster, manifest["assignment"], secret)
        strongly = keys.named(strong) if stamped else []
        if stamped is not None and (stamped in strongly or len(strongly) != 1):
            owner = stamped
        elif stamped is not None:
            # the LMS says who handed it in (a whole name or `_` piece of the path), the stamp whose workbook it
            # is: the submitter is graded, and the grade carries the "issued to another student" finding
            owner = strongly[0]
            notes.append(f"{p.path}: handed in under the name of {_who(roster, owner)} but it is the workbook "
                         f"issued to {_who(roster, stamped)}")
        elif len(named) == 1:
            owner = named[0]
        else:
            if len(named) > 1:
                notes.append(f"{p.path}: its name fits several students ({', '.join(named)}) and it carries no "
                             "valid stamp; graded against the base template")
            unmatched.append(p.path)
            continue
        owners.setdefault(owner, []).append(p)
    jobs, superseded = [], []
    for sid, entry in roster.items():
        if sid not in owners:
            continue
        chosen, *older = sorted(owners[sid], key=_recency, reverse=True)
        for p in older:
            superseded.append(Superseded(p.path, sid, chosen.path, _superseded_reason(p, chosen)))
        expected = Expected(sid, manifest["assignment"], entry["variant_digest"], secret)
        opts = {**(options or {}), "student_id": sid, "student_name": entry.get("name", ""), "expected": expected}
        jobs.append(Job(chosen.path, student_assignment(base, entry), opts))
    jobs += [Job(path, base, dict(options or {})) for path in unmatched]
    missing = [e for e in manifest["students"] if e["id"] not in owners]
    return ClassPlan(jobs=jobs, missing=missing, unmatched=unmatched, base=base, superseded=superseded, notes=notes,
                     roster=roster)


def _who(roster: dict[str, dict], sid: str) -> str:
    name = roster.get(sid, {}).get("name", "")
    return f"{sid} ({name})" if name else sid


def _trusted_owner(p: Peek, roster: dict[str, dict], assignment: str, secret: bytes | None) -> str | None:
    """The roster student the stamp names, if it can be believed: signed with the key (or the class is unsigned)."""
    sid = p.student_id
    if not sid or sid not in roster or p.assignment != assignment:
        return None
    if secret is not None and not p.signed_by(secret):
        return None
    return sid


def _check_key(peeks: list[Peek], secret: bytes | None, manifest_path) -> None:
    signed = [p for p in peeks if p.stamp.get("signature")]
    if secret is None or not signed or any(p.signed_by(secret) for p in signed):
        return
    raise WrongKeyError(f"the signing key verifies none of the {len(signed)} signed workbook(s): it is not the key "
                    f"the class in {manifest_path} was generated with (--key-file, or MANUALML_SECRET)")


_OLDEST = datetime.min.replace(tzinfo=UTC)


def _recency(p: Peek) -> tuple:
    try:
        mtime = p.path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (p.saved or _OLDEST, mtime, str(p.path))


def _superseded_reason(p: Peek, chosen: Peek) -> str:
    if p.saved and chosen.saved and p.saved != chosen.saved:
        return (f"superseded by {chosen.path.name}, saved later ({chosen.saved:%Y-%m-%d %H:%M} UTC; this one "
                f"{p.saved:%Y-%m-%d %H:%M})")
    if chosen.saved and not p.saved:
        return f"superseded by {chosen.path.name}: this file has no saved time of its own"
    return f"superseded by {chosen.path.name} (same saved time; the file modified later on disk, then by name)"


def missing_results(plan_: ClassPlan) -> list[GradeResult]:
    """A 'missing' row per roster student without a file, so gradebooks list everyone."""
    return [GradeResult(file="", status="missing", student_id=e["id"], student_name=e.get("name", ""),
                        assignment=plan_.base.id, metric_name=plan_.base.metric,
                        max_points=plan_.base.rubric.max_points, error="no submission", error_code="missing")
            for e in plan_.missing]
