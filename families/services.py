"""Operations that change families' data: cases, seeker postings, photos, audit.

Each service takes keyword-only arguments, the acting user first, runs in one
transaction, writes its audit entry and queues follow-up work on commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
from families.selectors import case_publishable_by, consent_changeable_by, deletable_by

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
        _require_matching_basis(posting)
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
) -> User | None:
    """Creates an account whose email is not yet confirmed, and mails the confirmation link.

    An address that already has an account gets no second one: its owner is
    mailed that someone tried to sign up with it (with a link to reset the
    password) and the caller answers as for a new account, so sign-up never
    tells whether an address has an account. Returns the new account or ``None``.
    """
    from django.contrib.auth.hashers import make_password

    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(
                        email=email, password=password, full_name=full_name,
                        preferred_language=preferred_language,
                    )
            except IntegrityError:  # the same address signed up a moment ago
                existing = User.objects.filter(email__iexact=email).first()
                if existing is None:
                    raise
            else:
                audit_record(actor=user, action="user.signed_up", obj=user)
                transaction.on_commit(lambda: _send_confirmation_quietly(user))
                return user
        # Hash the password all the same: the answer's timing must not tell either.
        make_password(password)
        audit_record(actor=None, action="user.sign_up_refused_address_in_use", obj=existing)
        if existing.is_active:
            transaction.on_commit(lambda: _mail_quietly(
                existing, "signup_address_in_use", to=existing.email,
                urls={"link": ("password_reset",), "login": ("login",)},
            ))
    return None


def _site_url(name: str, *args: object) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _account_mail(
    user: User, template: str, *, to: str, urls: dict[str, tuple[str, ...]] | None = None,
    **context: object,
) -> None:
    """Mails ``emails/<template>.txt`` (and its ``_subject.txt``) in ``user``'s language;
    ``urls`` (context name: URL name and arguments) become links in that language too."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(user.preferred_language or "en"):
        links = {key: _site_url(name, *args) for key, (name, *args) in (urls or {}).items()}
        context = {"user": user, **context, **links}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.txt", context)
    send_mail(subject, body, None, [to])


def _mail_quietly(user: User, template: str, *, to: str, **context: Any) -> None:
    """An email server failure must not undo what the person just did."""
    try:
        _account_mail(user, template, to=to, **context)
    except Exception:
        logger.exception("could not send the %s email about user %s", template, user.pk)


def _send_confirmation_quietly(user: User) -> None:
    """An email server failure must not undo a sign-up: the user can ask for the link again."""
    try:
        user_send_confirmation(user=user)
    except Exception:
        logger.exception("could not send the confirmation email to user %s", user.pk)


def user_send_confirmation(*, user: User) -> None:
    """Mails the signed confirmation link, in the user's language."""
    from families.tokens import email_confirmation_token

    _account_mail(user, "confirm_email", to=user.email,
                  urls={"link": ("families:confirm_email", email_confirmation_token(user))})


def user_confirm_email(*, user: User) -> User:
    """Marks the email confirmed; posting cases and seeker postings needs it."""
    with transaction.atomic():
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            audit_record(actor=user, action="user.email_confirmed", obj=user)
    return user


def profile_update(*, actor: User, user: User, fields: dict[str, Any]) -> User:
    """Changes private contact details.

    A new email address waits in ``pending_email`` until its owner opens the
    link mailed to it; the account keeps its address meanwhile, so a mistyped or
    someone else's address can't take the account away. Whether another account
    uses the new address is never said: that account's owner is mailed that
    someone tried, and no link is sent. Typing the current address again cancels
    a pending change.
    """
    allowed = {"full_name", "phone", "address", "preferred_language", "email"}
    fields = dict(fields)
    new_email = fields.pop("email", None)
    with transaction.atomic():
        changed = _assign(user, fields, allowed)
        if new_email is not None:
            new_email = User.objects.normalize_email(new_email).lower()
            wanted = "" if new_email == user.email.lower() else new_email
            if wanted != user.pending_email:
                user.pending_email = wanted
                changed.append("pending_email")
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(actor=actor, action="user.profile_updated", obj=user,
                     detail={"fields": sorted(changed)})
        if "pending_email" in changed and user.pending_email:
            transaction.on_commit(lambda: _send_email_change_quietly(user))
    return user


def _send_email_change_quietly(user: User) -> None:
    try:
        user_send_email_change(user=user)
    except Exception:
        logger.exception("could not send the email change link of user %s", user.pk)


def user_send_email_change(*, user: User) -> None:
    """Mails the link that confirms ``pending_email``, or tells that address's account owner.

    When another account uses the address, its owner learns that someone tried
    to use it and nothing changes; the person asking is told the same as when
    the link went out.
    """
    from families.tokens import email_change_token

    if not user.pending_email:
        return
    owner = User.objects.filter(email__iexact=user.pending_email).exclude(pk=user.pk).first()
    if owner is not None:
        if owner.is_active:
            _account_mail(owner, "email_address_in_use", to=owner.email,
                          urls={"link": ("password_reset",)})
        return
    _account_mail(user, "email_change", to=user.pending_email,
                  urls={"link": ("families:confirm_email_change", email_change_token(user))})


def user_confirm_email_change(*, user: User) -> User | None:
    """Makes the confirmed ``pending_email`` the account's address; ``None`` if it can't be.

    The old address is told, so an owner whose account was taken over hears of it.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        new_email, old_email = user.pending_email, user.email
        if not new_email:
            return None
        try:
            with transaction.atomic():
                user.email = new_email
                user.pending_email = ""
                user.email_confirmed_at = timezone.now()
                user.save(update_fields=["email", "pending_email", "email_confirmed_at"])
        except IntegrityError:  # another account took the address a moment ago
            return None
        audit_record(actor=user, action="user.email_changed", obj=user)
        transaction.on_commit(lambda: _mail_quietly(user, "email_changed", to=old_email))
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
    "arrived_year", "contact_phone", "contact_email", "consent_to_matching", "matching_basis",
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
    """Shows a draft (or withdrawn) case on the public pages and lets its photos be matched.

    Only the family decides this (``families.selectors.case_publishable_by``).
    """
    if not case_publishable_by(user=actor, case=case):
        raise PermissionDenied("Only the case's family may publish it.")
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
    """Takes a case off the public pages and out of matching; its data is kept.

    Every candidate of the case that is not reunited ends (docs/PRIVACY.md).
    """
    with transaction.atomic():
        if _withdraw(actor=actor, obj=case, action="case.withdrawn", reason=reason):
            _candidates_end(actor=actor, case=case, reason="case_withdrawn")
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
    """Changes a posting; giving consent stamps it, taking it back stops matching.

    Consent (and a found person's basis for matching) is changed by the posting's
    owner alone; taking it back ends every candidate that is not reunited.
    """
    with transaction.atomic():
        changed = _assign(posting, fields, SEEKER_EDITABLE_FIELDS)
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
            _candidates_end(actor=actor, seeker_posting=posting, reason="consent_withdrawn")
        if (_FACE_FACT_FIELDS | {"consent_to_matching"}) & set(changed):
            _faces_refresh(actor=actor, seeker_posting=posting)
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
        if _withdraw(
            actor=actor, obj=posting, action="seeker_posting.withdrawn", reason=reason
        ):
            _candidates_end(actor=actor, seeker_posting=posting,
                            reason="seeker_posting_withdrawn")
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


def _candidates_end(
    *,
    actor: User,
    reason: str,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
) -> None:
    from matching.services import candidates_end

    candidates_end(actor=actor, reason=reason, case=case, seeker_posting=seeker_posting)


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
    """Deletes a photo, its faces and embeddings, and (once committed) its file.

    Estimates made from this photo go with it (the foreign key cascades); the
    receivers of ``families.signals`` remove every deleted photo's file on commit.
    """
    with transaction.atomic():
        audit_record(actor=actor, action="photo.deleted", obj=photo,
                     detail={"side": photo.side, "kind": photo.kind, "sha256": photo.sha256})
        photo.delete()


# --- Notifications ------------------------------------------------------------


def subject_line(text: object, *, limit: int = 200) -> str:
    """``text`` as one line fit for an email subject: line breaks and other control
    characters (from a province typed with a newline, say) become spaces, which an
    email header can't hold (Django refuses the whole email)."""
    import unicodedata

    cleaned = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in str(text)
    )
    return " ".join(cleaned.split())[:limit]


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
                "recipient": recipient, "kind": kind, "subject": subject_line(subject),
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
# Deleting removes the rows (photos, estimates, faces with their embeddings, match
# jobs and candidates go with them through their foreign keys) and, once the
# transaction commits, the photo files; notices about removed rows and a removed
# account's log-in records go too. Files, notices and log-in records are removed by
# the receivers of ``families.signals`` and ``matching.signals``, so an admin's
# deletion or a cascade does the same. The audit entry stays, and says only what
# was removed, never who the person was. Queued jobs for removed rows find nothing
# and stop.


def _removal_counts(photos: models.QuerySet) -> dict[str, int]:
    from matching.models import Face

    faces = Face.objects.filter(photo__in=photos)
    return {
        "photos": photos.count(),
        "faces": faces.count(),
        "embeddings": faces.filter(embedding__isnull=False).count(),
    }


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
        audit_record(actor=actor, action=action, obj=obj, detail=removed)
        obj.delete()
    return removed


def account_delete(*, actor: User, user: User) -> dict[str, int]:
    """Deletes an account and everything posted from it; the person's own request or an admin's.

    Cases, seeker postings, photos (files too), faces, embeddings, notifications
    and log-in records go; the audit log keeps entries with the actor blanked.
    """
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
        audit_record(
            actor=actor if actor.pk != user.pk else None, action="account.deleted", obj=user,
            detail={**removed, "by": "self" if actor.pk == user.pk else "admin"},
        )
        # Cases and postings cascade to their photos; the signals take files and log-in records.
        user.delete()
    return removed


#: Where photo files live under the media root; the orphan sweep looks nowhere else.
PHOTO_MEDIA_FOLDER = "photos"


class MediaOrphan(NamedTuple):
    """A photo file that no photo row refers to."""

    name: str
    size: int


def _photo_file_names(storage: Storage, folder: str) -> Iterator[str]:
    if not storage.exists(folder):
        return
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}"
    for sub in sorted(folders):
        yield from _photo_file_names(storage, f"{folder}/{sub}")


def media_orphans_delete(
    *, actor: User | None, older_than: timedelta, dry_run: bool = True
) -> list[MediaOrphan]:
    """Finds photo files no row refers to and, unless ``dry_run``, deletes them.

    A file whose deletion failed after commit, or one left by a crash, is found
    here. A file younger than ``older_than`` is never touched: its upload may
    still be writing its row. Returns the orphans found (deleted unless dry run).
    """
    storage = Photo._meta.get_field("image").storage
    cutoff = timezone.now() - older_than
    orphans: list[MediaOrphan] = []
    names = list(_photo_file_names(storage, PHOTO_MEDIA_FOLDER))
    for start in range(0, len(names), 500):
        batch = names[start:start + 500]
        referred = set(Photo.objects.filter(image__in=batch).values_list("image", flat=True))
        for name in batch:
            if name in referred or storage.get_modified_time(name) > cutoff:
                continue
            orphans.append(MediaOrphan(name=name, size=storage.size(name)))
    if dry_run or not orphans:
        return orphans
    with transaction.atomic():
        # The rows are checked again just before the files go: nothing referred to is removed.
        referred = set(Photo.objects.filter(image__in=[o.name for o in orphans])
                       .values_list("image", flat=True))
        orphans = [orphan for orphan in orphans if orphan.name not in referred]
        for orphan in orphans:
            storage.delete(orphan.name)
        AuditEntry.objects.create(
            actor=actor if actor is not None and actor.is_authenticated else None,
            action="media.orphans_deleted", object_type="families.photo", object_id="",
            detail={"files": len(orphans), "bytes": sum(o.size for o in orphans)},
        )
    return orphans


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
        # Only what the person was told: a candidate exists for its two sides from a
        # volunteer's confirmation on (which opens its DNA test), never before.
        told = {"confirmed": "confirmed", "reunited": "reunited",
                "rejected": "dna_no_match", "ended": "ended"}
        return [
            {"id": c.pk, "status": told[c.status], "updated_at": c.updated_at}
            for c in queryset.filter(dna_test__isnull=False).order_by("pk")
            if c.status in told
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
