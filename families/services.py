"""Operations that change families' data: cases, seeker postings, photos, audit.

Each service takes keyword-only arguments, the acting user first, runs in one
transaction, writes its audit entry and queues follow-up work on commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone

from families.images import normalise_photo
from families.models import (
    AuditEntry,
    CaseStatus,
    MissingChildCase,
    Notification,
    Photo,
    SeekerPosting,
    User,
)
from families.selectors import deletable_by

logger = logging.getLogger(__name__)


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


# --- Accounts -----------------------------------------------------------------


def user_sign_up(
    *, email: str, password: str, full_name: str = "", preferred_language: str = "en"
) -> User:
    """Creates an account whose email is not yet confirmed, and mails the confirmation link."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email, password=password, full_name=full_name,
            preferred_language=preferred_language,
        )
        audit_record(actor=user, action="user.signed_up", obj=user)
        transaction.on_commit(lambda: _send_confirmation_quietly(user))
    return user


def _send_confirmation_quietly(user: User) -> None:
    """An email server failure must not undo a sign-up: the user can ask for the link again."""
    try:
        user_send_confirmation(user=user)
    except Exception:
        logger.exception("could not send the confirmation email to user %s", user.pk)


def user_send_confirmation(*, user: User) -> None:
    """Mails the signed confirmation link, in the user's language."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from families.tokens import email_confirmation_token

    with translation.override(user.preferred_language or "en"):
        path = reverse("families:confirm_email", args=[email_confirmation_token(user)])
        context = {"user": user, "link": settings.SITE_URL.rstrip("/") + path}
        subject = render_to_string("emails/confirm_email_subject.txt", context).strip()
        body = render_to_string("emails/confirm_email.txt", context)
    send_mail(subject, body, None, [user.email])


def user_confirm_email(*, user: User) -> User:
    """Marks the email confirmed; posting cases and seeker postings needs it."""
    with transaction.atomic():
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            audit_record(actor=user, action="user.email_confirmed", obj=user)
    return user


def profile_update(*, actor: User, user: User, fields: dict[str, Any]) -> User:
    """Changes private contact details; a new email address must be confirmed again."""
    allowed = {"full_name", "phone", "address", "preferred_language", "email"}
    with transaction.atomic():
        changed = _assign(user, fields, allowed)
        if "email" in changed:
            user.email = User.objects.normalize_email(user.email).lower()
            user.email_confirmed_at = None
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(actor=actor, action="user.profile_updated", obj=user,
                     detail={"fields": sorted(changed)})
        if "email" in changed:
            transaction.on_commit(lambda: _send_confirmation_quietly(user))
    return user


def _assign(obj: models.Model, fields: dict[str, Any], allowed: set[str]) -> list[str]:
    """Sets the allowed fields that differ; returns the names of those that changed."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Fields not allowed here: {sorted(unknown)}")
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# --- Cases and seeker postings --------------------------------------------------

#: Case fields a family (or volunteer) edits through the case form.
CASE_EDITABLE_FIELDS = {
    "given_name", "family_name", "nicknames", "sex", "birth_date", "birth_year_min",
    "birth_year_max", "missing_date", "missing_province", "missing_city", "missing_district",
    "missing_latitude", "missing_longitude", "height_cm", "build", "distinguishing_marks",
    "dialect", "circumstances", "police_report_number", "police_station", "contact_name",
    "contact_phone", "contact_email",
}

#: Seeker posting fields the seeker edits through the posting form.
SEEKER_EDITABLE_FIELDS = {
    "posted_for", "display_name", "sex", "birth_year_min", "birth_year_max",
    "grew_up_province", "grew_up_city", "grew_up_district", "memories", "dialect",
    "arrived_year", "contact_phone", "contact_email", "consent_to_matching",
}

#: Fields that faces copy for filtered search (see matching.models.Face).
_FACE_FACT_FIELDS = {"sex", "birth_year_min", "birth_year_max"}


def case_update(*, actor: User, case: MissingChildCase, fields: dict[str, Any]) -> MissingChildCase:
    with transaction.atomic():
        changed = _assign(case, fields, CASE_EDITABLE_FIELDS)
        case.full_clean()
        case.save()
        audit_record(actor=actor, action="case.updated", obj=case,
                     detail={"fields": sorted(changed)})
        if _FACE_FACT_FIELDS & set(changed):
            _faces_refresh(actor=actor, case=case)
    return case


def case_publish(*, actor: User, case: MissingChildCase) -> MissingChildCase:
    """Shows a draft (or withdrawn) case on the public pages and lets its photos be matched."""
    with transaction.atomic():
        _lock(case)
        if case.status in (CaseStatus.DRAFT, CaseStatus.WITHDRAWN):
            case.status = CaseStatus.PUBLISHED
            case.published_at = timezone.now()
            case.save(update_fields=["status", "published_at", "updated_at"])
            audit_record(actor=actor, action="case.published", obj=case)
            _faces_refresh(actor=actor, case=case)
    return case


def case_withdraw(*, actor: User, case: MissingChildCase, reason: str = "") -> MissingChildCase:
    """Takes a case off the public pages and out of matching; its data is kept."""
    with transaction.atomic():
        if _withdraw(actor=actor, obj=case, action="case.withdrawn", reason=reason):
            _faces_refresh(actor=actor, case=case)
    return case


def _withdraw(
    *, actor: User, obj: MissingChildCase | SeekerPosting, action: str, reason: str
) -> bool:
    """Sets a case or posting withdrawn (locked, audited); False if it already was."""
    _lock(obj)
    if obj.status == CaseStatus.WITHDRAWN:
        return False
    previous = obj.status
    obj.status = CaseStatus.WITHDRAWN
    obj.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=action, obj=obj,
                 detail={"previous_status": previous, "reason": reason})
    return True


def seeker_posting_update(
    *, actor: User, posting: SeekerPosting, fields: dict[str, Any]
) -> SeekerPosting:
    """Changes a posting; giving consent stamps it, taking it back stops matching."""
    with transaction.atomic():
        changed = _assign(posting, fields, SEEKER_EDITABLE_FIELDS)
        if "consent_to_matching" in changed:
            posting.consented_at = timezone.now() if posting.consent_to_matching else None
        posting.full_clean()
        posting.save()
        audit_record(actor=actor, action="seeker_posting.updated", obj=posting,
                     detail={"fields": sorted(changed)})
        if (_FACE_FACT_FIELDS | {"consent_to_matching"}) & set(changed):
            _faces_refresh(actor=actor, seeker_posting=posting)
    return posting


def seeker_posting_withdraw(
    *, actor: User, posting: SeekerPosting, reason: str = ""
) -> SeekerPosting:
    """Takes a posting out of matching; its data is kept."""
    with transaction.atomic():
        if _withdraw(
            actor=actor, obj=posting, action="seeker_posting.withdrawn", reason=reason
        ):
            _faces_refresh(actor=actor, seeker_posting=posting)
    return posting


def _lock(obj: MissingChildCase | SeekerPosting) -> None:
    """Locks the row and reloads it, so two status changes never interleave."""
    list(type(obj).objects.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True))
    obj.refresh_from_db()


def _faces_refresh(
    *,
    actor: User,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
) -> None:
    """Keeps the facts faces copy for search in step; faces that become searchable are matched.

    A case published after its photos were processed, or a seeker who gives
    consent later, must still be matched against everyone.
    """
    from matching.services import faces_refresh_facts

    faces_refresh_facts(actor=actor, case=case, seeker_posting=seeker_posting)


# --- Photos -------------------------------------------------------------------

#: Photo fields the owner edits after upload.
PHOTO_EDITABLE_FIELDS = {
    "kind", "age_in_photo", "year_taken", "caption", "use_in_matching", "use_on_poster",
}


def photo_update(*, actor: User, photo: Photo, fields: dict[str, Any]) -> Photo:
    """Changes what is said about a photo (kind, age, caption, where it is used)."""
    with transaction.atomic():
        changed = _assign(photo, fields, PHOTO_EDITABLE_FIELDS)
        if "kind" in changed:
            photo.is_estimate = photo.kind == Photo.Kind.AGE_PROGRESSED
        photo.full_clean()
        photo.save()
        audit_record(actor=actor, action="photo.updated", obj=photo,
                     detail={"fields": sorted(changed)})
        if {"use_in_matching", "age_in_photo", "year_taken"} & set(changed):
            _faces_refresh(
                actor=actor,
                case=photo.case if photo.case_id else None,
                seeker_posting=None if photo.case_id else photo.seeker_posting,
            )
    return photo


def photo_delete(*, actor: User, photo: Photo) -> None:
    """Deletes a photo, its faces and embeddings, and (once committed) its file."""
    with transaction.atomic():
        audit_record(actor=actor, action="photo.deleted", obj=photo,
                     detail={"side": photo.side, "kind": photo.kind, "sha256": photo.sha256})
        storage = photo.image.storage
        # Estimates made from this photo go with it (the foreign key cascades): their files too.
        names = [photo.image.name, *(p.image.name for p in photo.estimates.all())]
        photo.delete()
        transaction.on_commit(lambda: [storage.delete(name) for name in names if name])


# --- Notifications ------------------------------------------------------------


def notification_send(
    *,
    recipient: User,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    dedupe_key: str,
    about: models.Model | None = None,
) -> Notification:
    """Puts a notice in the recipient's inbox once per ``dedupe_key`` and queues its email.

    ``about`` names the row the notice is about (a candidate, a case): when that
    row is deleted or the candidate ends, the notice goes with it.

    The same event notified twice (a retried job, a repeated click) finds the
    existing row and queues nothing; the email job itself sends at most once.
    """
    from families.jobs import enqueue_notification_email

    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "recipient": recipient, "kind": kind, "subject": str(subject)[:200],
                "body": str(body), "link": link,
                "about_type": about._meta.label_lower if about is not None else "",
                "about_id": str(about.pk) if about is not None else "",
            },
        )
        if created:
            audit_record(
                actor=None, action="notification.created", obj=notification,
                detail={"kind": kind, "recipient": recipient.pk},
            )
            transaction.on_commit(lambda: enqueue_notification_email(notification.pk))
    return notification


def notification_mark_read(*, actor: User, notifications: models.QuerySet) -> int:
    """Marks the actor's own unread notifications read; returns how many changed."""
    with transaction.atomic():
        ids = list(
            notifications.filter(recipient=actor, read_at__isnull=True).values_list("pk", flat=True)
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
            audit_record(actor=actor, action="notifications.read", obj=actor,
                         detail={"notifications": ids})
    return len(ids)


# --- Deleting and exporting a person's data -------------------------------------------
#
# Deleting removes the rows (photos, faces with their embeddings, match jobs and
# candidates go with them through their foreign keys) and, once the transaction
# commits, the photo files. The audit entry stays, and says only what was removed,
# never who the person was. Queued jobs for removed rows find nothing and stop.


def _removal_counts(photos: models.QuerySet) -> dict[str, int]:
    from matching.models import Face

    faces = Face.objects.filter(photo__in=photos)
    return {
        "photos": photos.count(),
        "faces": faces.count(),
        "embeddings": faces.filter(embedding__isnull=False).count(),
    }


def _delete_files_on_commit(photos: models.QuerySet) -> list[str]:
    names = [name for name in photos.values_list("image", flat=True) if name]
    storage = Photo._meta.get_field("image").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return names


def case_delete(*, actor: User, case: MissingChildCase) -> dict[str, int]:
    """Deletes a case for good: its photos and their files, faces, embeddings, candidates.

    Only the family that posted it or an admin may. Returns what was removed.
    """
    if not deletable_by(user=actor, owner_id=case.family_id):
        raise PermissionDenied("Only the case's family or an admin may delete it.")
    return _delete_with_photos(
        actor=actor, obj=case, photos=Photo.objects.filter(case=case), action="case.deleted"
    )


def seeker_posting_delete(*, actor: User, posting: SeekerPosting) -> dict[str, int]:
    """Deletes a seeker posting for good, as ``case_delete`` does a case."""
    if not deletable_by(user=actor, owner_id=posting.owner_id):
        raise PermissionDenied("Only the posting's owner or an admin may delete it.")
    return _delete_with_photos(
        actor=actor, obj=posting, photos=Photo.objects.filter(seeker_posting=posting),
        action="seeker_posting.deleted",
    )


def _delete_with_photos(
    *, actor: User, obj: MissingChildCase | SeekerPosting, photos: models.QuerySet, action: str
) -> dict[str, int]:
    """Deletes a case or posting with its photos (files after commit), audited with counts."""
    with transaction.atomic():
        _lock(obj)
        removed = {**_removal_counts(photos), "candidates": obj.candidates.count()}
        _delete_files_on_commit(photos)
        audit_record(actor=actor, action=action, obj=obj, detail=removed)
        obj.delete()
    return removed


def account_delete(*, actor: User, user: User) -> dict[str, int]:
    """Deletes an account and everything posted from it; the person's own request or an admin's.

    Cases, seeker postings, photos (files too), faces, embeddings, notifications
    and log-in records go; the audit log keeps entries with the actor blanked.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    if not deletable_by(user=actor, owner_id=user.pk):
        raise PermissionDenied("Only the account's owner or an admin may delete it.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        # Photos a volunteer added to someone else's case stay with that case.
        photos = Photo.objects.filter(
            models.Q(case__family=user) | models.Q(seeker_posting__owner=user)
        )
        removed = {
            **_removal_counts(photos),
            "cases": user.cases.count(),
            "seeker_postings": user.seeker_postings.count(),
            "notifications": user.notifications.count(),
        }
        _delete_files_on_commit(photos)
        for model in (AccessAttempt, AccessLog, AccessFailureLog):
            model.objects.filter(username__iexact=user.email).delete()
        audit_record(
            actor=actor if actor.pk != user.pk else None, action="account.deleted", obj=user,
            detail={**removed, "by": "self" if actor.pk == user.pk else "admin"},
        )
        photos.delete()
        user.delete()
    return removed


def account_export(*, actor: User) -> bytes:
    """Everything the portal holds about ``actor``, as a zip: JSON files and their photos.

    Other people's data stays out: a candidate shows its status and dates, never
    the other person; an audit entry shows who acted as a role, never a name.
    """
    import io
    import json
    import zipfile

    from django.core.serializers.json import DjangoJSONEncoder
    from django.forms.models import model_to_dict

    def dump(value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)

    def photo_data(photo: Photo) -> dict[str, Any]:
        data = model_to_dict(photo, exclude=["image", "owner"])
        data.update(
            id=photo.pk, file=f"photos/{photo.pk}.jpg", uploaded_at=photo.uploaded_at,
            faces=[
                {
                    "id": face.pk, "box": [face.box_x, face.box_y, face.box_w, face.box_h],
                    "picked_by_a_person": face.picked_by_id is not None,
                    "model": face.model_version,
                    "embedding": None if face.embedding is None else [
                        float(number) for number in face.embedding
                    ],
                    "created_at": face.created_at,
                }
                for face in photo.faces.all().order_by("pk")
            ],
        )
        return data

    def candidates(queryset: models.QuerySet) -> list[dict[str, Any]]:
        return [
            {"id": c.pk, "status": c.status, "created_at": c.created_at,
             "updated_at": c.updated_at}
            for c in queryset.order_by("pk")
        ]

    def role(entry: AuditEntry) -> str:
        if entry.actor_id is None:
            return "system"
        if entry.actor_id == actor.pk:
            return "you"
        return "volunteer or admin"

    with transaction.atomic():
        cases = list(MissingChildCase.objects.filter(family=actor).order_by("pk"))
        postings = list(SeekerPosting.objects.filter(owner=actor).order_by("pk"))
        # Only the person's own cases and postings: a volunteer's uploads to
        # other families' cases are theirs, not the volunteer's.
        photos = list(Photo.objects.filter(
            models.Q(case__family=actor) | models.Q(seeker_posting__owner=actor)
        ).order_by("pk"))
        objects = [("families.missingchildcase", c.pk) for c in cases] + [
            ("families.seekerposting", p.pk) for p in postings
        ] + [("families.photo", p.pk) for p in photos] + [("families.user", actor.pk)]
        about = models.Q()
        for object_type, object_id in objects:
            about |= models.Q(object_type=object_type, object_id=str(object_id))
        audit = AuditEntry.objects.filter(about | models.Q(actor=actor)).order_by("created_at")
        account = model_to_dict(actor, fields=[
            "email", "full_name", "phone", "address", "preferred_language",
            "date_joined", "last_login", "email_confirmed_at",
        ])
        account.update(date_joined=actor.date_joined, last_login=actor.last_login)

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", (
                "Everything Reunion holds about you, as of "
                f"{timezone.now():%Y-%m-%d %H:%M} UTC.\n"
                "account.json: your account. cases.json, seeker_postings.json: what you posted, "
                "with each photo's faces and their embeddings (the numbers faces are compared "
                "by). photos/: the photos as stored. notifications.json: what we told you. "
                "audit.json: every recorded action on your data and by you.\n"
            ))
            archive.writestr("account.json", dump(account))
            archive.writestr("cases.json", dump([
                {**model_to_dict(case, exclude=["family"]), "id": case.pk,
                 "created_at": case.created_at, "published_at": case.published_at,
                 "photos": [photo_data(p) for p in photos if p.case_id == case.pk],
                 "candidates": candidates(case.candidates.all())}
                for case in cases
            ]))
            archive.writestr("seeker_postings.json", dump([
                {**model_to_dict(posting, exclude=["owner"]), "id": posting.pk,
                 "created_at": posting.created_at, "consented_at": posting.consented_at,
                 "photos": [photo_data(p) for p in photos if p.seeker_posting_id == posting.pk],
                 "candidates": candidates(posting.candidates.all())}
                for posting in postings
            ]))
            archive.writestr("notifications.json", dump([
                {"subject": n.subject, "body": n.body, "link": n.link, "kind": n.kind,
                 "created_at": n.created_at, "read_at": n.read_at}
                for n in actor.notifications.all().order_by("created_at")
            ]))
            archive.writestr("audit.json", dump([
                {"when": e.created_at, "who": role(e), "action": e.action,
                 "object": f"{e.object_type}#{e.object_id}"}
                for e in audit
            ]))
            for photo in photos:
                with photo.image.open("rb") as handle:
                    archive.writestr(f"photos/{photo.pk}.jpg", handle.read())
        audit_record(actor=actor, action="account.exported", obj=actor,
                     detail={"photos": len(photos), "cases": len(cases),
                             "seeker_postings": len(postings)})
    return buffer.getvalue()
