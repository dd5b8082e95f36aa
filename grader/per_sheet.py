"""What the grader derives from a graded sheet's description, kept while it grades against it.

Grading a class checks hundreds of files against one `GradedSheet`: its issued formulas as
checked cell by cell, the cells where nothing is issued, the baseline's loss are the same for
every file, so each is worked out once. A GradedSheet is frozen but holds arrays (not hashable),
so entries are kept by identity, for the last few sheets asked about, each with the sheet itself
so that an id is never reused while its entry lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEPT = 16  # sheets remembered: a batch grades against one, a lecture workbook against a few; and layouts

_MEMO: dict[int, tuple[object, dict[Any, Any]]] = {}
_BY_LAYOUT: dict[tuple, dict[str, Any]] = {}  # a sheet's layout_key -> what was derived from the layout alone
_LAYOUT = object()  # a sheet's entry's key for its layout's entry in _BY_LAYOUT
_MISSING = object()


def derived(sheet: object, key: str, make: Callable[[], Any], *, layout_only: bool = False) -> Any:
    """`make()` for this `sheet` and `key`, worked out the first time it is asked for.

    `layout_only`: what `make` derives depends on nothing but where the sheet's cells sit and which
    formulas they hold (`GradedSheet.layout_key`), so every sheet of the same layout shares it: a class
    set gives each student their own variant, hence their own GradedSheet, of one layout. The layout's
    entry is found once per sheet and kept in the sheet's own: a layout_key is a tuple of some 300 items,
    hashed and compared anew on every lookup (a few microseconds each, several lookups per file)."""
    entry = _MEMO.get(id(sheet))
    if entry is None or entry[0] is not sheet:
        if len(_MEMO) >= KEPT:
            del _MEMO[next(iter(_MEMO))]  # the sheet asked about first goes first
        entry = _MEMO[id(sheet)] = (sheet, {})
    found = entry[1]
    if layout_only:
        shared = found.get(_LAYOUT)
        if shared is None:
            layout = sheet.layout_key
            shared = _BY_LAYOUT.get(layout)
            if shared is None:
                if len(_BY_LAYOUT) >= KEPT:
                    del _BY_LAYOUT[next(iter(_BY_LAYOUT))]
                shared = _BY_LAYOUT[layout] = {}
            found[_LAYOUT] = shared
        found = shared
    value = found.get(key, _MISSING)
    if value is _MISSING:
        value = found[key] = make()
    return value
