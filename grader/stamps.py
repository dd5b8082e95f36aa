"""A quick look at a workbook before grading it: its manualml stamp and when it was last saved.

Planning a class needs both for every file (whose workbook is it, which assignment, which of a
student's several files is the latest) without reading any sheet: the stamp lives in the small
custom-properties part (docProps/custom.xml, or meta.xml in an .ods) and the saved time in the
core properties (docProps/core.xml dcterms:modified, or meta.xml dc:date). A file that cannot be
opened peeks as empty; grading it later says why.
"""

from __future__ import annotations

import hmac
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import XML

from grader.xml_parse import prolog
from workbook import PROPERTY_PREFIX

CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
DCTERMS_MODIFIED = "{http://purl.org/dc/terms/}modified"
DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
SMALL = 4 * 2**20  # property parts are a few KB; a bigger one is not worth reading to plan


@dataclass(frozen=True)
class Peek:
    """What a workbook says about itself."""

    path: Path
    stamp: dict[str, str] = field(default_factory=dict)  # manualml_* custom properties, prefix removed
    saved: datetime | None = None  # the workbook's own last-saved time (UTC)

    @property
    def assignment(self) -> str:
        return self.stamp.get("assignment", "")

    @property
    def student_id(self) -> str:
        return self.stamp.get("student_id", "")

    def signed_by(self, secret: bytes) -> bool:
        """Does the stamp's signature verify under `secret`?"""
        from workbook.roster import signature

        given = self.stamp.get("signature", "")
        if not given:
            return False
        want = signature(secret, self.assignment, self.student_id, self.stamp.get("variant", ""))
        return hmac.compare_digest(want, given)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)  # LibreOffice writes nanoseconds
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _tree(data: bytes):
    """A small property part as a tree, refused (raising) if it declares a DTD: what defusedxml's
    `fromstring(data, forbid_dtd=True)` gives, at a fifth of its cost. defusedxml runs the standard
    library's pure-Python parser (a Python call per element); here expat checks the prolog, the only
    place a DTD can stand, and the standard library's C parser builds the same tree, refusing as
    malformed a later DOCTYPE or an undefined entity (grader.xml_parse). Planning a class peeks at
    every file, and a refused part peeks as empty either way."""
    prolog(io.BytesIO(data))
    return XML(data)


_SAVED: dict[bytes, datetime | None] = {}  # core.xml's exact bytes -> its saved time
_SAVED_KEPT = 16
_SAVED_PART_BYTES = 4096  # the usual core.xml is some 600 bytes, the same in every file of a class set


def _saved_in(core: bytes) -> datetime | None:
    """dcterms:modified of core.xml (raising if the part is refused), kept by the part's exact bytes: every
    file of a class set carries the same one, and the answer is a function of its bytes alone. A part that
    fails to parse is never kept, so it fails every time, as before; a datetime is never changed."""
    if core in _SAVED:
        return _SAVED[core]
    modified = next(_tree(core).iter(DCTERMS_MODIFIED), None)
    saved = _when(modified.text if modified is not None else None)
    if len(core) <= _SAVED_PART_BYTES:
        if len(_SAVED) >= _SAVED_KEPT:
            del _SAVED[next(iter(_SAVED))]
        _SAVED[core] = saved
    return saved


def peek(path: str | Path) -> Peek:
    """The stamp and saved time of one file; an unreadable file peeks as empty (never raises)."""
    from grader.safety import open_submission

    path = Path(path)
    try:
        with open_submission(path) as archive:
            stamp, saved = {}, None
            if archive.kind == "ods":
                if archive.has("meta.xml") and archive.size("meta.xml") < SMALL:
                    meta = _tree(archive.read("meta.xml"))
                    stamp = {el.get(f"{META}name", ""): el.text or "" for el in meta.iter(f"{META}user-defined")}
                    date = next(meta.iter(DC_DATE), None)
                    saved = _when(date.text if date is not None else None)
            else:
                if archive.has("docProps/custom.xml") and archive.size("docProps/custom.xml") < SMALL:
                    for prop in _tree(archive.read("docProps/custom.xml")).iter(
                            f"{CUSTOM}property"):
                        value = next(iter(prop), None)
                        stamp[prop.get("name", "")] = (value.text or "") if value is not None else ""
                if archive.has("docProps/core.xml") and archive.size("docProps/core.xml") < SMALL:
                    saved = _saved_in(archive.read("docProps/core.xml"))
    except Exception:  # noqa: BLE001 - planning only: grading the file reports what is wrong with it
        return Peek(path)
    return Peek(path, {k.removeprefix(PROPERTY_PREFIX): v for k, v in stamp.items() if k.startswith(PROPERTY_PREFIX)},
                saved)
