"""Whose workbook is this? Stamps and HMAC signatures against the class manifest.

`manualml generate --roster` stamps each workbook with the student id, the variant digest and
an HMAC signature keyed by the instructor's secret (never stored in a workbook). Here the
grader checks them: a workbook issued to another student, a forged or altered signature, and
a workbook of another assignment are each reported by name.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from grader.results import TAMPER, Finding
from workbook.roster import signature


@dataclass(frozen=True)
class Expected:
    """What the manifest says the submitter's workbook must carry."""

    student_id: str
    assignment_id: str
    variant_digest: str
    secret: bytes | None  # None: signatures are not checked (not configured)


def check(props: dict[str, str], expected: Expected) -> list[Finding]:
    findings = []
    stamped_student = props.get("student_id", "")
    if stamped_student and stamped_student != expected.student_id:
        findings.append(Finding("other-student", TAMPER, f"this workbook was issued to student {stamped_student}, "
                                f"not to {expected.student_id} who submitted it", expected=expected.student_id,
                                found=stamped_student))
    elif not stamped_student:
        findings.append(Finding("no-student-stamp", TAMPER, "this workbook carries no student id: it is not the "
                                "personal workbook you were given", expected=expected.student_id))
    stamped_variant = props.get("variant", "")
    if stamped_student == expected.student_id and stamped_variant != expected.variant_digest:
        findings.append(Finding("variant-altered", TAMPER, "the workbook's variant stamp does not match the one "
                                "issued to you", expected=expected.variant_digest, found=stamped_variant))
    if expected.secret is not None:
        given = props.get("signature", "")
        if not given:
            findings.append(Finding("signature-missing", TAMPER, "the workbook's signature is missing"))
        else:
            want = signature(expected.secret, props.get("assignment", ""), stamped_student, stamped_variant)
            if not hmac.compare_digest(want, given):
                findings.append(Finding("signature-invalid", TAMPER, "the workbook's signature is not valid: the "
                                        "stamp was forged or altered", found=given[:16] + "…"))
    return findings
