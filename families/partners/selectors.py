"""Reads of partner organisations' data: their postings, API keys and imports, and who
may see an import (docs/PARTNERS.md). A user's memberships are families' own
(``families.selectors.partner_organisations_of``): the portal's pages ask them too.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Prefetch, QuerySet

from families.models import Photo, SeekerPosting
from families.partners.models import PartnerAPIKey, PartnerImport, PartnerOrganisation
from families.selectors import AnyUser, partner_organisations_of


def partner_postings_of(
    user: AnyUser, *, query: str = "", partner_import: int | None = None,
) -> QuerySet[SeekerPosting]:
    """The postings of the organisations ``user`` is an active member of, newest first:
    searched by name or reference, filtered by the import that brought them, each with
    its count of photos needing a face picked by hand."""
    postings = SeekerPosting.objects.filter(
        organisation__in=partner_organisations_of(user)).select_related("organisation")
    for word in query.split():
        postings = postings.filter(
            models.Q(display_name__icontains=word) | models.Q(partner_reference__icontains=word))
    if partner_import is not None:
        postings = postings.filter(partner_imports=partner_import)
    return postings.annotate(needs_pick=models.Count("photos", filter=models.Q(
        photos__face_state__in=Photo.NEEDS_PICK))).order_by("-created_at", "-pk")


def partner_key_from(raw_key: str) -> PartnerAPIKey | None:
    """The API key a partner sent (revoked or expired too, so its use can be recorded).

    None when no stored key has that prefix and hash.
    """
    prefix, dot, _ = raw_key.partition(".")
    if not dot or not prefix:
        return None
    key = (
        PartnerAPIKey.objects.select_related("organisation", "member")
        .filter(prefix=prefix).first()
    )
    if key is None or not key.is_valid(raw_key):
        return None
    return key


def partner_postings(
    *, organisation: PartnerOrganisation, status: str = "", reference: str = ""
) -> QuerySet[SeekerPosting]:
    """The organisation's own postings, newest first, with their photos."""
    postings = SeekerPosting.objects.filter(organisation=organisation)
    if status:
        postings = postings.filter(status=status)
    if reference:
        postings = postings.filter(partner_reference=reference)
    photos = Photo.objects.order_by("uploaded_at", "pk")
    return postings.prefetch_related(Prefetch("photos", queryset=photos)).order_by(
        "-created_at", "-pk"
    )


def partner_imports_of(user: AnyUser) -> QuerySet[PartnerImport]:
    """The imports of the organisations ``user`` is a member of, newest first."""
    return PartnerImport.objects.filter(
        organisation__in=partner_organisations_of(user)
    ).select_related("organisation", "uploaded_by")


def partner_import_visible_to(*, user: AnyUser, partner_import: PartnerImport) -> bool:
    """Its organisation's members, and admins (whose every look is audited)."""
    return bool(user.is_authenticated and (
        user.is_superuser
        or partner_organisations_of(user).filter(pk=partner_import.organisation_id).exists()
    ))


def partner_import_photo_states(partner_import: PartnerImport) -> dict[str, int]:
    """How far the face pipeline has come with the import's photos, by what a member needs
    to know: embedded, still waiting, needing a face picked by hand, failed."""
    states = dict(partner_import.photos.values_list("face_state").annotate(
        count=models.Count("pk")).order_by())
    state = Photo.FaceState
    return {
        "embedded": states.get(state.FACE_FOUND, 0),
        "waiting": states.get(state.WAITING, 0) + states.get(state.PROCESSING, 0),
        "needs_pick": states.get(state.NO_FACE, 0) + states.get(state.SEVERAL_FACES, 0),
        "failed": states.get(state.FAILED, 0),
    }
