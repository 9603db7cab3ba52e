"""Seeker postings: posting, editing (consent is the seeker's alone) and withdrawing them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import Photo, SeekerPosting, User
from families.selectors import consent_changeable_by
from families.services.common import FACE_FACT_FIELDS, assign_fields, normalised, withdraw
from matching.services import candidates_end, faces_refresh_facts

#: Seeker posting fields the seeker edits through the posting form.
SEEKER_EDITABLE_FIELDS = {
    "posted_for", "display_name", "sex", "birth_year_min", "birth_year_max",
    "grew_up_province", "grew_up_city", "grew_up_district", "grew_up_country", "memories",
    "dialect", "remembered_names", "distinguishing_marks", "height_cm",
    "arrived_year", "contact_phone", "contact_email", "consent_to_matching", "matching_basis",
}


def seeker_posting_create(*, actor: User, fields: dict[str, Any]) -> SeekerPosting:
    with transaction.atomic():
        posting = SeekerPosting(owner=actor, **normalised(fields))
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
        was_found_person = posting.is_found_person
        changed = assign_fields(posting, fields, SEEKER_EDITABLE_FIELDS)
        if was_found_person and not posting.is_found_person:
            raise ValidationError({"posted_for": _(
                "A found person's posting stays one: who posted them can't speak for them. "
                "A person looking for their family posts themself."
            )})
        if {"consent_to_matching", "matching_basis"} & set(changed) and not (
            consent_changeable_by(user=actor, posting=posting)
        ):
            raise PermissionDenied("Only the seeker gives or withdraws consent to matching.")
        if "consent_to_matching" in changed:
            posting.consented_at = timezone.now() if posting.consent_to_matching else None
            if not posting.consent_to_matching:
                posting.published_at = None  # withdrawn consent takes the posting down at once
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
    """Takes a posting out of matching and off the public pages; its data is kept.

    Its candidates end.
    """
    with transaction.atomic():
        if withdraw(
            actor=actor, obj=posting, action="seeker_posting.withdrawn", reason=reason
        ):
            SeekerPosting.objects.filter(pk=posting.pk).update(published_at=None)
            posting.published_at = None
            candidates_end(actor=actor, seeker_posting=posting,
                            reason="seeker_posting_withdrawn")
            faces_refresh_facts(actor=actor, seeker_posting=posting)
    return posting


def seeker_posting_publish(
    *, actor: User, posting: SeekerPosting, photos: Iterable[Photo], show_memories: bool
) -> SeekerPosting:
    """Shows a posting on the public pages, with the photos its owner picked.

    Publishing is the owner's choice alone, for themself: a found person's posting
    (a volunteer's, the police's, a partner's) is never public, since nobody can
    consent for them. Only a posting that consents to matching and is in matching
    can be public.
    Contacts, the district and the year of arrival are never shown; the memories
    only when the owner says so. Photos not picked are hidden (again).
    """
    if not consent_changeable_by(user=actor, posting=posting):
        raise PermissionDenied("Only the posting's owner publishes it.")
    if posting.is_found_person:
        raise PermissionDenied("A found person's posting is never public.")
    picked = {photo.pk for photo in photos}
    with transaction.atomic():
        posting = SeekerPosting.objects.select_for_update().get(pk=posting.pk)
        if not posting.is_matchable:
            raise ValidationError(_(
                "Give your consent to matching first: only a posting in matching can be public."
            ))
        if not picked <= set(posting.photos.values_list("pk", flat=True)):
            raise ValidationError(_("Choose among this posting's photos."))
        posting.photos.update(use_on_poster=False)
        posting.photos.filter(pk__in=picked).update(use_on_poster=True)
        posting.published_at = posting.published_at or timezone.now()
        posting.show_memories = show_memories
        posting.save(update_fields=["published_at", "show_memories", "updated_at"])
        audit_record(actor=actor, action="seeker_posting.published", obj=posting,
                     detail={"photos": sorted(picked), "show_memories": show_memories})
    return posting


def seeker_posting_unpublish(*, actor: User, posting: SeekerPosting) -> SeekerPosting:
    """Takes a published posting off the public pages; it stays in matching."""
    if not consent_changeable_by(user=actor, posting=posting):
        raise PermissionDenied("Only the posting's owner unpublishes it.")
    with transaction.atomic():
        posting = SeekerPosting.objects.select_for_update().get(pk=posting.pk)
        if posting.published_at is not None:
            posting.published_at = None
            posting.save(update_fields=["published_at", "updated_at"])
            audit_record(actor=actor, action="seeker_posting.unpublished", obj=posting)
    return posting
