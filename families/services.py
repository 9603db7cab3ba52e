"""Operations that change families' data: cases, seeker postings, photos, audit.

Each service takes keyword-only arguments, the acting user first, runs in one
transaction, writes its audit entry and queues follow-up work on commit.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone

from families.images import normalise_photo
from families.models import (
    AuditEntry,
    CaseStatus,
    MissingChildCase,
    Photo,
    SeekerPosting,
    User,
)


def audit_record(
    *, actor: User | None, action: str, obj: models.Model, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Writes one audit entry: who (``actor``) did or saw ``action`` on ``obj``."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        detail=detail or {},
    )


def case_create(*, actor: User, fields: dict[str, Any], publish: bool = False) -> MissingChildCase:
    with transaction.atomic():
        case = MissingChildCase(family=actor, **fields)
        if publish:
            case.status = CaseStatus.PUBLISHED
            case.published_at = timezone.now()
        case.full_clean()
        case.save()
        audit_record(actor=actor, action="case.created", obj=case, detail={"status": case.status})
    return case


def seeker_posting_create(*, actor: User, fields: dict[str, Any]) -> SeekerPosting:
    with transaction.atomic():
        posting = SeekerPosting(owner=actor, **fields)
        if posting.consent_to_matching:
            posting.consented_at = timezone.now()
        posting.full_clean()
        posting.save()
        audit_record(actor=actor, action="seeker_posting.created", obj=posting)
    return posting


def photo_add(
    *,
    actor: User,
    data: bytes,
    kind: str,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
    age_in_photo: float | None = None,
    year_taken: int | None = None,
    caption: str = "",
) -> Photo:
    """Validates, normalises and stores an uploaded photo, then queues face processing.

    Raises ``ValidationError`` (and stores nothing) when the file is refused.
    """
    from matching.services import photo_schedule_processing

    normalised = normalise_photo(data)
    with transaction.atomic():
        photo = Photo(
            owner=actor,
            case=case,
            seeker_posting=seeker_posting,
            kind=kind,
            sha256=normalised.sha256,
            width=normalised.width,
            height=normalised.height,
            age_in_photo=age_in_photo,
            year_taken=year_taken,
            caption=caption,
            is_estimate=kind == Photo.Kind.AGE_PROGRESSED,
        )
        photo.image.save("photo.jpg", ContentFile(normalised.content), save=False)
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
