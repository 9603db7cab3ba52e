"""Partner organisations' found-person postings: created or updated by the partner's reference.

A partner (a shelter, a police unit, an NGO) posts the found people it knows of. Each
posting belongs to the organisation, is owned by the member who posted it, and is
matched on the organisation's basis (``PartnerOrganisation.matching_basis``), recorded
as the found person's basis for matching instead of a personal consent. The partner's
own reference is the key: posting the same reference twice updates the first posting.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from families.audit import audit_record
from families.models import PartnerOrganisation, SeekerPosting, User
from families.selectors import partner_organisations_left_alone
from families.services.common import normalised
from families.services.seeker_postings import seeker_posting_create, seeker_posting_update

#: Fields a partner sets on its found-person postings (consent and basis come from it).
PARTNER_POSTING_FIELDS = {
    "display_name", "sex", "birth_year_min", "birth_year_max", "grew_up_province",
    "grew_up_city", "grew_up_district", "grew_up_country", "memories", "dialect",
    "arrived_year", "contact_phone", "contact_email",
}


def partner_member_check(actor: User, organisation: PartnerOrganisation) -> None:
    """``PermissionDenied`` unless ``actor`` is an active member of an active organisation."""
    if not (
        organisation.is_active
        and actor.is_active
        and organisation.members.filter(pk=actor.pk).exists()
    ):
        raise PermissionDenied("Only an active member posts for a partner organisation.")


#: What ``partner_posting_save`` did.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def partner_posting_save(
    *,
    actor: User,
    organisation: PartnerOrganisation,
    reference: str,
    fields: dict[str, Any],
    via: str = "",
) -> tuple[SeekerPosting, str]:
    """Creates the organisation's found-person posting of ``reference``, or updates it.

    Returns the posting and what was done: ``CREATED``, ``UPDATED`` or ``UNCHANGED``
    (every field given already held its value: nothing is written, so sending the
    same thing twice changes nothing). ``fields`` may hold only
    ``PARTNER_POSTING_FIELDS``; an update changes only the fields given. Two calls
    with one reference at once never make two postings: the organisation's row is
    locked while the reference is looked up. ``via`` says how (e.g. ``api``), for the
    audit log. Raises ``ValidationError`` (nothing saved) on a field that is not valid.
    """
    unknown = set(fields) - PARTNER_POSTING_FIELDS
    if unknown:
        raise ValueError(f"Fields not allowed here: {sorted(unknown)}")
    partner_member_check(actor, organisation)
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
            outcome = CREATED
        else:
            fields = {name: value for name, value in normalised(fields).items()
                      if getattr(posting, name) != value}
            if not fields:
                return posting, UNCHANGED
            posting = seeker_posting_update(actor=actor, posting=posting, fields=fields)
            outcome = UPDATED
        audit_record(
            actor=actor, action="partner_posting.saved", obj=posting,
            detail={"organisation": organisation.pk, "reference": reference,
                    "created": outcome == CREATED, "fields": sorted(fields), "via": via},
        )
    return posting, outcome


def partner_postings_hand_over(
    *, actor: User | None, from_user: User, organisation: PartnerOrganisation | None = None
) -> int:
    """Gives the organisations' postings owned by ``from_user`` to another active member
    (of ``organisation`` only, when given: the member is leaving it).

    What a member posts belongs to the organisation: it must outlive the member's
    account and membership. Raises ``ValidationError`` (nothing changed) when an
    organisation has no other active member. Returns how many postings changed hands.
    """
    alone = list(partner_organisations_left_alone(from_user))
    if organisation is not None:
        alone = [each for each in alone if each.pk == organisation.pk]
    if alone:
        raise ValidationError(_(
            "%(names)s would be left with no member to look after the found people posted "
            "from this account. An admin must add another member first."
        ) % {"names": ", ".join(each.name for each in alone)})
    moved = 0
    with transaction.atomic():
        organisations = PartnerOrganisation.objects.filter(
            postings__owner=from_user).distinct()
        if organisation is not None:
            organisations = organisations.filter(pk=organisation.pk)
        for each in organisations:
            successor = each.members.filter(is_active=True).exclude(
                pk=from_user.pk).order_by("pk").first()
            count = SeekerPosting.objects.filter(
                organisation=each, owner=from_user).update(owner=successor)
            audit_record(actor=actor, action="partner_postings.handed_over", obj=each,
                         detail={"from": from_user.pk, "to": successor.pk, "postings": count})
            moved += count
    return moved
