"""Missing-child cases: posting, editing, publishing and withdrawing them.

Withdrawing a case ends its candidates (``matching.services.candidates_end``)
and takes its faces out of matching (``faces_refresh_facts``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from families.audit import audit_record
from families.models import CaseStatus, MissingChildCase, User
from families.selectors import case_publishable_by
from families.services.common import (
    FACE_FACT_FIELDS,
    assign_fields,
    lock_for_update,
    normalised,
    withdraw,
)
from matching.services import candidates_end, faces_refresh_facts

#: Case fields a family (or volunteer) edits through the case form.
CASE_EDITABLE_FIELDS = {
    "given_name", "family_name", "nicknames", "sex", "birth_date", "birth_year_min",
    "birth_year_max", "missing_date", "missing_province", "missing_city", "missing_district",
    "missing_country", "height_cm", "build", "distinguishing_marks",
    "dialect", "circumstances", "police_report_number", "police_station", "contact_name",
    "contact_phone", "contact_email", "public_contact",
}


def case_create(*, actor: User, fields: dict[str, Any], publish: bool = False) -> MissingChildCase:
    with transaction.atomic():
        case = MissingChildCase(family=actor, **normalised(fields))
        if publish:
            case.status = CaseStatus.PUBLISHED
            case.published_at = timezone.now()
        case.full_clean()
        case.save()
        audit_record(actor=actor, action="case.created", obj=case, detail={"status": case.status})
    return case


def case_update(*, actor: User, case: MissingChildCase, fields: dict[str, Any]) -> MissingChildCase:
    with transaction.atomic():
        changed = assign_fields(case, fields, CASE_EDITABLE_FIELDS)
        case.full_clean()
        case.save()
        audit_record(actor=actor, action="case.updated", obj=case,
                     detail={"fields": sorted(changed)})
        if FACE_FACT_FIELDS & set(changed):
            faces_refresh_facts(actor=actor, case=case)
    return case


def case_publish(*, actor: User, case: MissingChildCase) -> MissingChildCase:
    """Shows a draft (or withdrawn) case on the public pages and lets its photos be matched.

    Only the family decides this (``families.selectors.case_publishable_by``).
    """
    if not case_publishable_by(user=actor, case=case):
        raise PermissionDenied("Only the case's family may publish it.")
    with transaction.atomic():
        lock_for_update(case)
        if case.status in (CaseStatus.DRAFT, CaseStatus.WITHDRAWN):
            case.status = CaseStatus.PUBLISHED
            case.published_at = timezone.now()
            case.save(update_fields=["status", "published_at", "updated_at"])
            audit_record(actor=actor, action="case.published", obj=case)
            faces_refresh_facts(actor=actor, case=case)
    return case


def case_withdraw(*, actor: User, case: MissingChildCase, reason: str = "") -> MissingChildCase:
    """Takes a case off the public pages and out of matching; its data is kept.

    Every candidate of the case that is not reunited ends (docs/PRIVACY.md).
    """
    with transaction.atomic():
        if withdraw(actor=actor, obj=case, action="case.withdrawn", reason=reason):
            candidates_end(actor=actor, case=case, reason="case_withdrawn")
            faces_refresh_facts(actor=actor, case=case)
    return case
