"""Seeker postings: posting, editing (consent is the seeker's alone) and withdrawing them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import SeekerPosting, User
from families.selectors import consent_changeable_by
from families.services.common import FACE_FACT_FIELDS, assign_fields, withdraw
from matching.services import candidates_end, faces_refresh_facts

#: Seeker posting fields the seeker edits through the posting form.
SEEKER_EDITABLE_FIELDS = {
    "posted_for", "display_name", "sex", "birth_year_min", "birth_year_max",
    "grew_up_province", "grew_up_city", "grew_up_district", "memories", "dialect",
    "arrived_year", "contact_phone", "contact_email", "consent_to_matching", "matching_basis",
}


def seeker_posting_create(*, actor: User, fields: dict[str, Any]) -> SeekerPosting:
    with transaction.atomic():
        posting = SeekerPosting(owner=actor, **fields)
        if posting.consent_to_matching:
            posting.consented_at = timezone.now()
        _require_matching_basis(posting)
        posting.full_clean()
        posting.save()
        audit_record(actor=actor, action="seeker_posting.created", obj=posting)
    return posting


def seeker_posting_update(
    *, actor: User, posting: SeekerPosting, fields: dict[str, Any]
) -> SeekerPosting:
    """Changes a posting; giving consent stamps it, taking it back stops matching.

    Consent (and a found person's basis for matching) is changed by the posting's
    owner alone; taking it back ends every candidate that is not reunited.
    """
    with transaction.atomic():
        changed = assign_fields(posting, fields, SEEKER_EDITABLE_FIELDS)
        if {"consent_to_matching", "matching_basis"} & set(changed) and not (
            consent_changeable_by(user=actor, posting=posting)
        ):
            raise PermissionDenied("Only the seeker gives or withdraws consent to matching.")
        if "consent_to_matching" in changed:
            posting.consented_at = timezone.now() if posting.consent_to_matching else None
        _require_matching_basis(posting)
        posting.full_clean()
        posting.save()
        audit_record(actor=actor, action="seeker_posting.updated", obj=posting,
                     detail={"fields": sorted(changed)})
        if "consent_to_matching" in changed and not posting.consent_to_matching:
            candidates_end(actor=actor, seeker_posting=posting, reason="consent_withdrawn")
        if (FACE_FACT_FIELDS | {"consent_to_matching"}) & set(changed):
            faces_refresh_facts(actor=actor, seeker_posting=posting)
    return posting


def _require_matching_basis(posting: SeekerPosting) -> None:
    """A found person can't consent here: who posts them says on what basis they are matched."""
    if (
        posting.posted_for == SeekerPosting.PostedFor.FOUND_PERSON
        and posting.consent_to_matching
        and not posting.matching_basis.strip()
    ):
        raise ValidationError({"matching_basis": _(
            "Say on what basis this found person's photos may be compared."
        )})


def seeker_posting_withdraw(
    *, actor: User, posting: SeekerPosting, reason: str = ""
) -> SeekerPosting:
    """Takes a posting out of matching; its data is kept. Its candidates end."""
    with transaction.atomic():
        if withdraw(
            actor=actor, obj=posting, action="seeker_posting.withdrawn", reason=reason
        ):
            candidates_end(actor=actor, seeker_posting=posting,
                            reason="seeker_posting_withdrawn")
            faces_refresh_facts(actor=actor, seeker_posting=posting)
    return posting
