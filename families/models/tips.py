"""Tips about a public case, for its volunteers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.models.cases import MissingChildCase


def tip_photo_upload_to(instance: Tip, filename: str) -> str:
    """Outside ``photos/``: a tip's photo is evidence for volunteers, never matched or shown."""
    return f"tips/{uuid.uuid4().hex}.jpg"


class Tip(models.Model):
    """A lead about a public case from anyone, signed in or not, for the case's volunteers.

    Private: only volunteers (never about their own case) and admins read it; the
    family hears only what a volunteer chooses to pass on.
    """

    class Status(models.TextChoices):
        NEW = "new", _("new")
        USEFUL = "useful", _("useful")
        NOT_USEFUL = "not_useful", _("not useful")
        PASSED_TO_POLICE = "passed_to_police", _("passed to the police")

    # Pages and forms name a tip by this, never its id: ids count tips about every case.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(MissingChildCase, on_delete=models.CASCADE, related_name="tips")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("what you saw or know"), max_length=4000)
    place = models.CharField(_("where"), max_length=200, blank=True)
    when = models.CharField(_("when"), max_length=100, blank=True)
    contact = models.CharField(
        _("how to reach you (optional)"), max_length=200, blank=True,
        help_text=_("Only the volunteers see it."),
    )
    photo = models.ImageField(upload_to=tip_photo_upload_to, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # Sent past a rate limit (many tips from one address, or about one case): kept all
    # the same, never refused, and listed after the other new tips.
    held_for_review = models.BooleanField(_("held: sent past a limit"), default=False)
    volunteer_note = models.TextField(blank=True, max_length=4000)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    passed_to_family_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"tip #{self.pk} on case #{self.case_id}"

    @property
    def short_reference(self) -> str:
        """The reference's first eight characters: what pages show volunteers."""
        return str(self.reference)[:8]
