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

KEPT = 16  # sheets remembered: a batch grades against one, a lecture workbook against a few

_MEMO: dict[int, tuple[object, dict[str, Any]]] = {}
_BY_LAYOUT: dict[tuple, Any] = {}  # (key, the sheet's layout_key) -> what was derived


def derived(sheet: object, key: str, make: Callable[[], Any], *, layout_only: bool = False) -> Any:
    """`make()` for this `sheet` and `key`, worked out the first time it is asked for.

    `layout_only`: what `make` derives depends on nothing but where the sheet's cells sit and which
    formulas they hold (`GradedSheet.layout_key`), so every sheet of the same layout shares it: a class
    set gives each student their own variant, hence their own GradedSheet, of one layout."""
    if layout_only:
        memo_key = (key, sheet.layout_key)
        if memo_key not in _BY_LAYOUT:
            if len(_BY_LAYOUT) >= KEPT * 4:
                del _BY_LAYOUT[next(iter(_BY_LAYOUT))]
            _BY_LAYOUT[memo_key] = make()
        return _BY_LAYOUT[memo_key]
    entry = _MEMO.get(id(sheet))
    if entry is None or entry[0] is not sheet:
        if len(_MEMO) >= KEPT:
            del _MEMO[next(iter(_MEMO))]  # the sheet asked about first goes first
        entry = _MEMO[id(sheet)] = (sheet, {})
    found = entry[1]
    if key not in found:
        found[key] = make()
    return found[key]
