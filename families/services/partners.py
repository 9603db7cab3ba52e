"""Partner organisations' found-person postings: created or updated by the partner's reference.

A partner (a shelter, a police unit, an NGO) posts the found people it knows of. Each
posting belongs to the organisation, is owned by the member who posted it, and is
matched on the organisation's basis (``PartnerOrganisation.matching_basis``), recorded
as the found person's basis for matching instead of a personal consent. The partner's
own reference is the key: posting the same reference twice updates the first posting.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from families.audit import audit_record
from families.models import PartnerOrganisation, SeekerPosting, User
from families.services.seeker_postings import seeker_posting_create, seeker_posting_update

#: Fields a partner sets on its found-person postings (consent and basis come from it).
PARTNER_POSTING_FIELDS = {
    "display_name", "sex", "birth_year_min", "birth_year_max", "grew_up_province",
    "grew_up_city", "grew_up_district", "memories", "dialect", "arrived_year",
    "contact_phone", "contact_email",
}


def _require_member(actor: User, organisation: PartnerOrganisation) -> None:
    if not (
        organisation.is_active
        and actor.is_active
        and organisation.members.filter(pk=actor.pk).exists()
    ):
        raise PermissionDenied("Only an active member posts for a partner organisation.")


def partner_posting_save(
    *,
    actor: User,
    organisation: PartnerOrganisation,
    reference: str,
    fields: dict[str, Any],
    via: str = "",
) -> tuple[SeekerPosting, bool]:
    """Creates the organisation's found-person posting of ``reference``, or updates it.

    Returns the posting and whether it was created. ``fields`` may hold only
    ``PARTNER_POSTING_FIELDS``; an update changes only the fields given. Two calls
    with one reference at once never make two postings: the organisation's row is
    locked while the reference is looked up. ``via`` says how (e.g. ``api``), for the
    audit log. Raises ``ValidationError`` (nothing saved) on a field that is not valid.
    """
    unknown = set(fields) - PARTNER_POSTING_FIELDS
    if unknown:
        raise ValueError(f"Fields not allowed here: {sorted(unknown)}")
    _require_member(actor, organisation)
    with transaction.atomic():
        PartnerOrganisation.objects.select_for_update().filter(pk=organisation.pk).first()
        posting = SeekerPosting.objects.filter(
            organisation=organisation, partner_reference=reference
        ).first()
        if posting is None:
            posting = seeker_posting_create(actor=actor, fields={
                **fields,
                "posted_for": SeekerPosting.PostedFor.FOUND_PERSON,
                "organisation": organisation,
                "partner_reference": reference,
                # The organisation's basis stands in for the found person's own consent.
                "consent_to_matching": True,
                "matching_basis": organisation.matching_basis,
            })
            created = True
        else:
            posting = seeker_posting_update(actor=actor, posting=posting, fields=fields)
            created = False
        audit_record(
            actor=actor, action="partner_posting.saved", obj=posting,
            detail={"organisation": organisation.pk, "reference": reference,
                    "created": created, "fields": sorted(fields), "via": via},
        )
    return posting, created
