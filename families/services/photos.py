"""Photos: the checked and normalised upload, what is said about a photo, hiding it, its
deletion."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from families.audit import audit_record
from families.models import MissingChildCase, PartnerImport, Photo, SeekerPosting, User
from families.selectors import (
    photo_deletable_by,
    photo_hideable_by,
    photo_poster_changeable_by,
)
from families.services.common import assign_fields
from families.uploads import NormalisedImage, normalise_photo
from matching.services import faces_refresh_facts, photo_schedule_processing


def photo_add(
    *,
    actor: User,
    data: bytes | NormalisedImage,
    kind: str,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
    age_in_photo: float | None = None,
    year_taken: int | None = None,
    caption: str = "",
    partner_import: PartnerImport | None = None,
) -> Photo:
    """Validates, normalises and stores an uploaded photo, then queues face processing.

    ``data`` is the upload, or a photo ``normalise_photo`` already checked (a bulk
    import looks at its hash first, to skip a photo it holds). Raises
    ``ValidationError`` (and stores nothing) when the file is refused.
    """
    image = data if isinstance(data, NormalisedImage) else normalise_photo(data)
    with transaction.atomic():
        photo = Photo(
            owner=actor,
            case=case,
            seeker_posting=seeker_posting,
            kind=kind,
            sha256=image.sha256,
            width=image.width,
            height=image.height,
            age_in_photo=age_in_photo,
            year_taken=year_taken,
            caption=caption,
            is_estimate=kind == Photo.Kind.AGE_PROGRESSED,
            # A seeker's photo is shown publicly only once they pick it for a published posting.
            use_on_poster=case is not None,
            partner_import=partner_import,
        )
        photo.image.save("photo.jpg", ContentFile(image.content), save=False)
        try:
            photo.save()
            audit_record(
                actor=actor, action="photo.added", obj=photo,
                detail={"kind": kind, "side": photo.side},
            )
            photo_schedule_processing(actor=actor, photo=photo)
        except Exception:
            # A refused or failed save must leave no file behind.
            photo.image.delete(save=False)
            raise
    return photo


#: Photo fields the owner edits after upload.
PHOTO_EDITABLE_FIELDS = {
    "kind", "age_in_photo", "year_taken", "caption", "use_in_matching", "use_on_poster",
}


def photo_update(*, actor: User, photo: Photo, fields: dict[str, Any]) -> Photo:
    """Changes what is said about a photo (kind, age, caption, where it is used).

    Whether a photo is on the poster is the family's choice (or an admin's): a
    volunteer changing it is refused.
    """
    with transaction.atomic():
        changed = assign_fields(photo, fields, PHOTO_EDITABLE_FIELDS)
        if "use_on_poster" in changed and not photo_poster_changeable_by(user=actor, photo=photo):
            raise PermissionDenied("Only the family chooses the poster's photos.")
        if "kind" in changed:
            photo.is_estimate = photo.kind == Photo.Kind.AGE_PROGRESSED
        photo.full_clean()
        photo.save()
        audit_record(actor=actor, action="photo.updated", obj=photo,
                     detail={"fields": sorted(changed)})
        if {"use_in_matching", "age_in_photo", "year_taken"} & set(changed):
            faces_refresh_facts(
                actor=actor,
                case=photo.case if photo.case_id else None,
                seeker_posting=None if photo.case_id else photo.seeker_posting,
            )
    return photo


def photo_delete(*, actor: User, photo: Photo) -> None:
    """Deletes a photo, its faces and embeddings, and (once committed) its file.

    Only the family (or the posting's owner) and admins delete: a volunteer hides
    a photo instead (``photo_hide``). Estimates made from this photo go with it
    (the foreign key cascades); the receivers of ``families.signals`` remove
    every deleted photo's file on commit.
    """
    if not photo_deletable_by(user=actor, photo=photo):
        raise PermissionDenied("Only the family or an admin deletes a photo.")
    with transaction.atomic():
        audit_record(actor=actor, action="photo.deleted", obj=photo,
                     detail={"side": photo.side, "kind": photo.kind, "sha256": photo.sha256})
        photo.delete()


def photo_hide(*, actor: User, photo: Photo, reason: str = "") -> Photo:
    """A volunteer hides a photo instead of deleting it: kept with its file and faces, seen
    by its family, volunteers and admins, never public and never matched until shown again.
    """
    return _photo_set_hidden(actor=actor, photo=photo, hidden=True, reason=reason)


def photo_show(*, actor: User, photo: Photo) -> Photo:
    """Shows a hidden photo again: public (if it was on the poster) and matched as before."""
    return _photo_set_hidden(actor=actor, photo=photo, hidden=False)


def _photo_set_hidden(*, actor: User, photo: Photo, hidden: bool, reason: str = "") -> Photo:
    if not photo_hideable_by(user=actor, photo=photo):
        raise PermissionDenied("Only volunteers and admins hide or show a photo.")
    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related(
            "case", "seeker_posting").get(pk=photo.pk)
        if (photo.hidden_at is not None) == hidden:
            return photo
        photo.hidden_at = timezone.now() if hidden else None
        photo.save(update_fields=["hidden_at", "updated_at"])
        audit_record(actor=actor, action="photo.hidden" if hidden else "photo.shown", obj=photo,
                     detail={"side": photo.side, "reason": reason.strip()} if hidden
                     else {"side": photo.side})
        faces_refresh_facts(
            actor=actor,
            case=photo.case if photo.case_id else None,
            seeker_posting=None if photo.case_id else photo.seeker_posting,
        )
    return photo
