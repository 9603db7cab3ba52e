"""Tips: leads about a public case from anyone, handled by the case's volunteers.

A tip is private from the moment it is sent: the sender is never told anything
about the case, the family hears only what a volunteer chooses to pass on, and
every look by a volunteer is audited. A tip's photo goes through the same
checks as every upload (``families.uploads``) but is never matched or shown
publicly.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from families.audit import audit_record
from families.models import CaseStatus, MissingChildCase, Tip, User
from families.notifications import notification_send
from families.selectors import tip_handleable_by
from families.uploads import normalise_photo

#: What a sender fills in; everything else is the volunteers'.
TIP_FIELDS = {"text", "place", "when", "contact"}


def tip_submit(
    *,
    actor: User | AnonymousUser,
    case: MissingChildCase,
    fields: dict[str, Any],
    photo_data: bytes | None = None,
    held_for_review: bool = False,
) -> Tip:
    """Stores a lead about a public case; its optional photo is checked like every upload.

    A tip sent past a rate limit is kept all the same, ``held_for_review``: a
    witness is never turned away, and a flood can't bury the other tips.

    Raises ``ValidationError`` (and stores nothing) for a case that is not
    public or whose child has been found (reunited), unknown fields, or a
    refused photo.
    """
    if not case.is_public:
        raise ValidationError(_("Tips are for public cases."))
    if case.status == CaseStatus.REUNITED:
        raise ValidationError(_("This child has been found: the case takes no more tips."))
    unknown = set(fields) - TIP_FIELDS
    if unknown:
        raise ValueError(f"Fields not allowed here: {sorted(unknown)}")
    normalised = normalise_photo(photo_data) if photo_data else None
    sender = actor if actor.is_authenticated else None
    with transaction.atomic():
        tip = Tip(case=case, sender=sender, held_for_review=held_for_review, **fields)
        tip.full_clean(exclude=["photo"])
        if normalised is not None:
            tip.photo.save("tip.jpg", ContentFile(normalised.content), save=False)
        try:
            tip.save()
            audit_record(actor=sender, action="tip.received", obj=tip,
                         detail={"case": case.pk, "photo": normalised is not None,
                                 "held": held_for_review})
        except Exception:
            if tip.photo:
                tip.photo.delete(save=False)
            raise
    return tip


def tip_handle(*, actor: User, tip: Tip, status: str, note: str = "") -> Tip:
    """A volunteer marks a tip useful, not useful or passed to the police, with a note."""
    if not tip_handleable_by(user=actor, tip=tip):
        raise PermissionDenied("Only the case's volunteers handle its tips.")
    if status not in Tip.Status.values or status == Tip.Status.NEW:
        raise ValidationError(_("Choose what this tip is."))
    with transaction.atomic():
        tip = Tip.objects.select_for_update().get(pk=tip.pk)
        previous = tip.status
        tip.status = status
        tip.volunteer_note = note.strip()
        tip.handled_by = actor
        tip.handled_at = timezone.now()
        tip.save(update_fields=["status", "volunteer_note", "handled_by", "handled_at"])
        audit_record(actor=actor, action="tip.handled", obj=tip,
                     detail={"from": previous, "to": status})
    return tip


def tip_pass_to_family(*, actor: User, tip: Tip, message: str) -> Tip:
    """Tells the family what a volunteer chose to pass on of a tip, in the volunteer's words.

    The tip itself (its text, its sender, its photo) is never shown to the family.
    """
    if not tip_handleable_by(user=actor, tip=tip):
        raise PermissionDenied("Only the case's volunteers handle its tips.")
    message = message.strip()
    if not message:
        raise ValidationError(_("Write what the family should hear."))
    with transaction.atomic():
        tip = Tip.objects.select_for_update().select_related("case__family").get(pk=tip.pk)
        tip.passed_to_family_at = timezone.now()
        tip.save(update_fields=["passed_to_family_at"])
        audit_record(actor=actor, action="tip.passed_to_family", obj=tip)
        case = tip.case
        with translation.override(case.family.preferred_language or "en"):
            subject = _("A volunteer has news about a lead on your case")
        notification_send(
            recipient=case.family, kind="tip_passed_on", subject=subject,
            body=message, link=case.get_absolute_url(),
            dedupe_key=f"tip:{tip.pk}:passed:{int(tip.passed_to_family_at.timestamp())}",
            about=case,
        )
    return tip
