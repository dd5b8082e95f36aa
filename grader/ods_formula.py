"""OpenDocument formula text -> Excel syntax, so one formula comparison serves .xlsx and .ods.

Its own module because both the cell-by-cell reader (`grader.cells`) and the bulk row reader
(`grader.ods_runs`) translate formulas, and neither may import the other.
"""

from __future__ import annotations

import re

from workbook.address import ods_to_excel

_ODS_REF = re.compile(r"\[([^\]]*)\]")


def ods_formula(text: str) -> str:
    """'of:=[.A12]*w_in1_h1+[$Sheet1.$C$5]' -> '=A12*w_in1_h1+Sheet1!$C$5' (Excel syntax)."""
    body = text.split(":", 1)[1] if re.match(r"^[a-z]+:", text) else text
    out, i = [], 0
    while i < len(body):  # walk outside string literals only
        ch = body[i]
        if ch == '"':
            j = i + 1
            while j < len(body) and not (body[j] == '"' and (j + 1 >= len(body) or body[j + 1] != '"')):
                j += 2 if body[j] == '"' else 1
            out.append(body[i:j + 1])
            i = j + 1
        elif ch == "[":
            j = body.find("]", i)
            j = len(body) - 1 if j < 0 else j
            out.append(ods_to_excel(body[i + 1:j]))
            i = j + 1
        else:
            out.append("," if ch == ";" else ch)
            i += 1
    result = "".join(out)
    return result if result.startswith("=") else "=" + result
