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
import dataclasses
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from workbook import LAYOUT_VERSION
from workbook.errors import WorkbookError
from workbook.spec import Assignment, Dataset, draw_weights

MANIFEST_VERSION = 1
SECRET_ENV = "MANUALML_SECRET"
# Student id headers, most specific first (compared after _norm_header): what LMS exports and
# registrars' lists call the id. Canvas's own "ID" is its internal number, so "SIS User ID" comes
# before it; an email address is an id only when nothing else is.
ID_COLUMNS = ("student id", "student number", "student no", "student nr", "matriculation number", "matric number",
              "matrikelnummer", "matr nr", "id number", "sis user id", "id", "username", "user name", "sis login id",
              "login id", "email", "email address", "e mail", "e mail address")
NAME_COLUMNS = ("name", "full name", "student name", "student")
FIRST_NAME_COLUMNS = ("first name", "given name", "firstname", "vorname")  # Moodle: First name, Last name
LAST_NAME_COLUMNS = ("last name", "surname", "family name", "lastname", "nachname")
EMAIL_COLUMNS = ("email", "email address", "e mail", "e mail address", "mail")  # Outlook: "E-mail Address"
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class Student:
    """One roster line."""

    id: str
    name: str = ""
    email: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # other roster columns, kept for exports


def _norm_header(text: str) -> str:
    """'Student_ID', 'student-id', ' Student  ID ' -> 'student id'."""
    return " ".join(re.sub(r"[_\-.]+", " ", text).lower().split())


def _roster_text(path: Path) -> str:
    """The file as text: UTF-8 with or without a BOM, or UTF-16 with a BOM (Excel's "Unicode Text")."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read the roster ({exc.strerror or exc})") from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise WorkbookError(f"{path}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the roster "
                            "as \"CSV UTF-8\" (Excel: File > Save As > CSV UTF-8)") from None


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most columns (comma on a tie, tab before semicolon)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(counts.values())
    return next(d for d in (",", "\t", ";") if counts[d] == best)


def _records(text: str, delimiter: str):
    """(physical line number where the record starts, fields) for every non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for fields in reader:
        if any(f.strip() for f in fields):
            yield line, fields
        line = reader.line_num + 1


def read_roster(path: str | Path, *, id_column: str | None = None) -> list[Student]:
    """Roster CSV as instructors have it: comma, semicolon or tab separated, any of the usual id headers.

    Line numbers in messages are the file's own (blank lines and quoted line breaks counted), so
    an instructor can jump straight to the line.
    """
    path = Path(path)
    text = _roster_text(path)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first)
    records = _records(text, delimiter)
    try:
        header_line, header = next(records)
    except StopIteration:
        raise WorkbookError(f"{path}: the roster is empty; it needs a header line naming a student id column") from None
    except csv.Error as exc:
        raise WorkbookError(f"{path}: not a readable CSV file ({exc})") from None
    header = [h.strip() for h in header]
    normal = [_norm_header(h) for h in header]
    id_at = _id_index(path, header, normal, id_column)
    name_at = next((normal.index(c) for c in NAME_COLUMNS if c in normal and normal.index(c) != id_at), None)
    name_parts = [] if name_at is not None else [
        next((normal.index(c) for c in columns if c in normal), None) for columns in (FIRST_NAME_COLUMNS,
                                                                                     LAST_NAME_COLUMNS)]
    name_parts = [i for i in name_parts if i is not None and i != id_at]
    email_at = next((normal.index(c) for c in EMAIL_COLUMNS if c in normal), None)
    known = {id_at, name_at, email_at, *name_parts}
    students: list[Student] = []
    seen: dict[str, int] = {}
    try:
        for line, fields in records:
            fields = [f.strip() for f in fields]
            if len(fields) > len(header) and any(fields[len(header):]):
                raise WorkbookError(f"{path}: line {line} has {len(fields)} fields but the header has {len(header)} "
                                    f"(an unquoted {DELIMITER_NAMES[delimiter]} inside a value?)")
            fields += [""] * (len(header) - len(fields))
            sid = fields[id_at]
            if not sid:
                if name_at is not None and fields[name_at].lower() == "points possible":
                    continue  # the second line of a Canvas gradebook export
                raise WorkbookError(f"{path}: line {line} has no student id (column {header[id_at]!r})")
            if sid in seen:
                raise WorkbookError(f"{path}: line {line}: student id {sid!r} appears twice "
                                    f"(first on line {seen[sid]})")
            seen[sid] = line
            extra = {h: fields[i] for i, h in enumerate(header) if i not in known and h}
            name = fields[name_at] if name_at is not None else " ".join(fields[i] for i in name_parts if fields[i])
            students.append(Student(sid, name, fields[email_at] if email_at is not None else "", extra))
    except csv.Error as exc:
        raise WorkbookError(f"{path}: not a readable CSV file ({exc})") from None
    if not students:
        raise WorkbookError(f"{path}: the roster lists no students (only the header, line {header_line})")
    return students


def _id_index(path: Path, header: list[str], normal: list[str], id_column: str | None) -> int:
    found = ", ".join(header) or "no header"
    if id_column is not None:
        wanted = _norm_header(id_column)
        if wanted not in normal:
            raise WorkbookError(f"{path}: no column {id_column!r} (--id-column); found: {found}")
        return normal.index(wanted)
    for candidate in ID_COLUMNS:
        if candidate in normal:
            return normal.index(candidate)
    raise WorkbookError(f"{path}: the roster needs a student id column (one of: {', '.join(ID_COLUMNS)}), or name "
                        f"yours with --id-column; found: {found}")


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(student_id: str) -> str:
    """A safe file name from a student id."""
    return _UNSAFE.sub("_", student_id).strip("._") or "student"


def _salt_int(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def variant(assignment: Assignment, student_id: str, *, target_noise: float | None = None) -> Assignment:
    """The student's own copy: their starting weights and, optionally, their own noisy targets."""
    given = {k: assignment.weights[k] for k in assignment.explicit_weights}
    spread = assignment.weight_variants
    if spread is not None:  # [variants] starting_weights = "random": even the named weights move
        seed = str(assignment.random_init.seed) if assignment.random_init else ""
        rng = np.random.default_rng(_salt_int(seed, assignment.id, student_id, "weights"))
        given = {k: round(float(v + rng.uniform(-spread.spread, spread.spread)), spread.decimals) + 0.0
                 for k, v in given.items()}
    if assignment.random_init is not None:
        weights = draw_weights(assignment.network, given, assignment.random_init, salt=student_id)
    else:
        weights = {k: given.get(k, v) for k, v in assignment.weights.items()}
    data = assignment.data
    target_noise = assignment.target_noise if target_noise is None else target_noise
    if target_noise:
        rng = np.random.default_rng(_salt_int(assignment.id, student_id, "targets"))
        factors = 1 + rng.uniform(-target_noise, target_noise, size=len(data.rows))
        rows = tuple((*r[:-1], round(r[-1] * f, 6)) for r, f in zip(data.rows, factors, strict=True))
        data = Dataset(inputs=data.inputs, target=data.target, rows=rows)
    return _with(assignment, weights, data)


_FIELDS = tuple(f.name for f in dataclasses.fields(Assignment))
_PLAIN_INIT = not hasattr(Assignment, "__post_init__")  # its __init__ only sets the fields


def _with(assignment: Assignment, weights: dict, data: Dataset) -> Assignment:
    """`replace(assignment, weights=weights, data=data)`: the same fields set on a new object, without
    dataclasses' per-field checks (a tenth of a student's variant); never a cached property's value."""
    if type(assignment) is not Assignment or not _PLAIN_INIT:
        return replace(assignment, weights=weights, data=data)
    made = object.__new__(Assignment)
    known = assignment.__dict__
    made.__dict__.update({name: weights if name == "weights" else data if name == "data" else known[name]
                          for name in _FIELDS})
    return made


def variant_payload(assignment: Assignment) -> dict:
    """What identifies a variant: its data and starting weights (JSON-ready, exact floats)."""
    return {"rows": [list(r) for r in assignment.data.rows], "weights": dict(assignment.weights)}


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # json.dumps with these, made once
_spaced = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(x, ensure_ascii=False), as a manifest line
_ROWS: list = [lambda: None, None]  # the last dataset asked about (weakly) and its rows as both JSON texts


def _rows_json(data: Dataset) -> tuple[str, str]:
    """The rows of `variant_payload` as `_canonical` and `_spaced` write them, once per dataset (a class's
    students share theirs unless their targets are their own)."""
    if _ROWS[0]() is not data:
        rows = [list(r) for r in data.rows]
        _ROWS[:] = [weakref.ref(data), (_canonical(rows), _spaced(rows))]
    return _ROWS[1]


def variant_digest(assignment: Assignment) -> str:
    """sha256 of the variant's payload as sorted, compact JSON."""
    rows = _rows_json(assignment.data)[0]  # the payload's keys sorted: "rows", then "weights"
    canonical = f'{{"rows":{rows},"weights":{_canonical(dict(assignment.weights))}}}'
    return hashlib.sha256(canonical.encode()).hexdigest()


def variant_payload_text(assignment: Assignment) -> str:
    """`json.dumps(variant_payload(assignment), ensure_ascii=False)`: a student's manifest line holds it."""
    rows = _rows_json(assignment.data)[1]
    return f'{{"rows": {rows}, "weights": {_spaced(dict(assignment.weights))}}}'


def signature(secret: bytes, assignment_id: str, student_id: str, digest: str) -> str:
    """HMAC-SHA256 over assignment id, student id and variant digest."""
    message = "\x1f".join([LAYOUT_VERSION, assignment_id, student_id, digest]).encode()
    return hmac.digest(secret, message, "sha256").hex()  # hmac.new(...).hexdigest(), in one call


def secret_path() -> Path:
    """Where `generate --roster` keeps the instructor's signing key when none is given.

    The user's configuration folder ($XDG_CONFIG_HOME, else ~/.config; %APPDATA% on Windows), the
    way Jupyter keeps its notebook signing secret: outside every class folder and repository.
    """
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if base and Path(base).is_absolute():
        root = Path(base)
    elif os.name == "nt" and os.environ.get("APPDATA"):
        root = Path(os.environ["APPDATA"])
    else:
        root = Path.home() / ".config"
    return root / "manualml" / "secret"


@dataclass(frozen=True)
class SigningKey:
    """The instructor secret and where it came from (for the message that tells the user)."""

    value: bytes
    origin: str  # "--key-file PATH", "MANUALML_SECRET" or the configuration file's path
    path: Path | None = None  # the file holding it, if any
    created: bool = False  # made just now by find_secret(create=True)


def _read_key(path: Path, what: str) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if not secret:
        raise WorkbookError(f"{path}: the {what} is empty; put a long random string in it (or delete it and run "
                            "`manualml generate --roster` to make a new one, which cannot check old signatures)")
    return secret


def find_secret(key_file: str | Path | None = None, *, create: bool = False,
                outside: str | Path | None = None) -> SigningKey | None:
    """The instructor secret: --key-file, else MANUALML_SECRET, else the configuration file.

    With `create`, a missing configuration file is made (32 random bytes as hex, mode 0600).
    `outside`: a class folder the key must not be in (everything there may reach students).
    """
    if key_file:
        key = SigningKey(_read_key(Path(key_file), "key file"), f"--key-file {key_file}", Path(key_file))
    elif os.environ.get(SECRET_ENV, ""):
        key = SigningKey(os.environ[SECRET_ENV].encode(), SECRET_ENV)
    else:
        path = secret_path()
        if path.exists():
            key = SigningKey(_read_key(path, "signing secret"), str(path), path)
        elif create:
            _refuse_inside(path, outside)
            key = SigningKey(_create_secret(path), str(path), path, created=True)
        else:
            return None
    if key.path is not None:
        _refuse_inside(key.path, outside)
    return key


def _refuse_inside(path: Path, folder: str | Path | None) -> None:
    if folder is not None and Path(path).resolve().is_relative_to(Path(folder).resolve()):
        raise WorkbookError(f"{path}: the signing secret must not be inside the class folder {folder} (whatever is "
                            "there may reach students); keep it elsewhere")


def _create_secret(path: Path) -> bytes:
    secret = secrets.token_hex(32).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run made it a moment ago: use theirs
        return _read_key(path, "signing secret")
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot create the signing secret ({exc.strerror or exc}); set "
                            f"{SECRET_ENV} or pass --key-file instead") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret + b"\n")
    return secret


def load_secret(key_file: str | Path | None = None, *, required: bool = True) -> bytes | None:
    """The instructor secret (see find_secret), never created here: grading needs the key that signed."""
    key = find_secret(key_file)
    if key is None and required:
        raise WorkbookError(f"no signing secret: set {SECRET_ENV}, pass --key-file, or keep it in {secret_path()} "
                            "(where `manualml generate --roster` creates one); keep it out of the workbooks "
                            "and out of version control")
    return key.value if key else None


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
