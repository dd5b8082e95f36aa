"""A zip of submissions (an LMS's "download all"), graded as the folder it holds.

Canvas, Moodle, Blackboard and Gradescope hand course staff one .zip of every student's files;
asking them to unzip it first is a step that goes wrong (a half-extracted folder, a second copy
graded twice). The grader unpacks it into a private temporary folder, never beside the zip and
never changing it, and every message, gradebook and feedback file names the files inside as
`submissions.zip/<path inside>`. Unpacking is defensive, since the zip comes from outside: names
that climb out of the folder (`../`, absolute, drive letters) and symbolic links are listed and
not written, an encrypted member is listed, and a member count and a byte budget (each member's
real size counted while it is copied, not its header's claim) stop a zip bomb. A zip inside a zip
is unpacked too, up to a few levels.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 20_000
MAX_BYTES = 4 * 2**30  # every member together, as really inflated
MAX_DEPTH = 3  # a zip in a zip in a zip
_CHUNK = 2**20


@dataclass(frozen=True)
class Refused:
    """A member of a zip not written out, and why (so that no handed-in file vanishes)."""

    path: Path  # where it would have been, in the unpacked folder
    reason: str


@dataclass
class Unpacker:
    """Unpacks the zips a grading run meets into one temporary folder; a context manager that removes it."""

    root: Path | None = None
    shown_as: dict[Path, str] = field(default_factory=dict)  # unpacked folder -> the zip as given
    refused: list[Refused] = field(default_factory=list)
    _budget: int = MAX_BYTES
    _depth: dict[Path, int] = field(default_factory=dict)

    def __enter__(self) -> Unpacker:
        return self

    def __exit__(self, *exc) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def wants(self, path: Path) -> bool:
        """A .zip that is not itself a workbook (an .xlsx renamed .zip is graded, and told its name is wrong)."""
        if path.suffix.lower() != ".zip" or not path.is_file():
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False  # grading says what is wrong with it
        return not names & {"[Content_Types].xml", "mimetype", "content.xml"}

    def depth_of(self, path: Path) -> int:
        for folder, depth in self._depth.items():
            if path.is_relative_to(folder):
                return depth
        return 0

    def unpack(self, path: Path) -> Path | None:
        """The folder `path`'s members were written to; None when it is nested too deep to unpack."""
        depth = self.depth_of(path) + 1
        if depth > MAX_DEPTH:
            return None
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="manualml-unzipped-"))
        target = self.root / str(len(self._depth)) / path.name
        target.mkdir(parents=True)
        self._depth[target] = depth
        self.shown_as[target] = self.show(path)
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if not any(not m.is_dir() for m in members):
                self.refused.append(Refused(target, "an empty zip archive: nothing in it to grade"))
                return target
            if len(members) > MAX_MEMBERS:
                self.refused.append(Refused(target, f"the zip holds {len(members):,} entries, more than the "
                                                    f"{MAX_MEMBERS:,} a class download can have: unzip it yourself"))
                return target
            for info in members:
                self._extract(zf, info, target)
        return target

    def _extract(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        where = target / name.lstrip("/")
        if info.is_dir():
            return
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts or not parts:
            self.refused.append(Refused(target / PurePosixPath(name).name,
                                        f"not unpacked: its name in the zip ({info.filename!r}) points outside it"))
            return
        if stat.S_ISLNK(info.external_attr >> 16):
            self.refused.append(Refused(where, "not unpacked: a symbolic link, not a file"))
            return
        if info.flag_bits & 0x1:
            self.refused.append(Refused(where, "not unpacked: this entry of the zip is password-protected"))
            return
        where.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with zf.open(info) as source, where.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > self._budget:
                        raise _OverBudget
                    out.write(chunk)
        except _OverBudget:
            where.unlink(missing_ok=True)
            self.refused.append(Refused(where, f"not unpacked: the zip inflates to more than {MAX_BYTES // 2**30} GB "
                                               "(a zip bomb, or not a class download)"))
            self._budget = 0
            return
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            where.unlink(missing_ok=True)
            self.refused.append(Refused(where, f"not unpacked: this entry of the zip is damaged ({exc})"))
            return
        self._budget -= written

    def show(self, path: Path | str) -> str:
        """How a path inside an unpacked zip is named to people: `submissions.zip/Kim_12/hp.xlsx`."""
        return self.restore(str(path))

    def restore(self, text: str) -> str:
        """Every unpacked path inside `text` (a message, a gradebook line) named as inside its zip."""
        for folder, zip_name in sorted(self.shown_as.items(), key=lambda kv: -len(str(kv[0]))):
            text = text.replace(str(folder), zip_name)
        return text


class _OverBudget(Exception):
    pass
