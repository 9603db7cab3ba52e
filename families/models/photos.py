"""Photos of a child (case) or an adult (seeker), normalised on upload."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from families.models.cases import MissingChildCase
from families.models.seekers import SeekerPosting


def photo_upload_to(instance: Photo, filename: str) -> str:
    """Unguessable names; the original file name is never kept."""
    folder = "cases" if instance.case_id else "seekers"
    return f"photos/{folder}/{uuid.uuid4().hex}.jpg"


class Photo(models.Model):
    """A photo of a child (case) or of an adult (seeker), normalised on upload."""

    class Kind(models.TextChoices):
        CHILDHOOD = "childhood", _("childhood photo")
        AGE_PROGRESSED = "age_progressed", _("age-progressed image (estimate)")
        RECENT = "recent", _("recent photo")

    class FaceState(models.TextChoices):
        WAITING = "waiting", _("waiting")
        PROCESSING = "processing", _("processing")
        FACE_FOUND = "face_found", _("face found")
        NO_FACE = "no_face", _("no face found")
        SEVERAL_FACES = "several_faces", _("several faces")
        FAILED = "failed", _("failed")

    #: States in which a person must pick the face by hand.
    NEEDS_PICK = (FaceState.NO_FACE, FaceState.SEVERAL_FACES)

    # Who uploaded it: the family or seeker, or a volunteer helping them. The photo
    # belongs to its case or posting, so it outlives a volunteer's account.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="photos",
    )
    case = models.ForeignKey(
        MissingChildCase, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    seeker_posting = models.ForeignKey(
        SeekerPosting, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    image = models.ImageField(upload_to=photo_upload_to)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    age_in_photo = models.DecimalField(
        _("age in the photo (years)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    year_taken = models.PositiveSmallIntegerField(_("year taken"), null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    # Age-progressed images: made by an artist or by Reunion from ``source_photo``.
    is_estimate = models.BooleanField(default=False)
    source_photo = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="estimates"
    )
    use_in_matching = models.BooleanField(_("use in matching"), default=True)
    use_on_poster = models.BooleanField(_("show on the poster"), default=True)
    # Hidden by a volunteer (who may never delete a family's photo): kept, still seen by its
    # family, volunteers and admins, but never public and never matched until shown again.
    hidden_at = models.DateTimeField(_("hidden by a volunteer at"), null=True, blank=True)

    face_state = models.CharField(
        max_length=20, choices=FaceState.choices, default=FaceState.WAITING
    )
    face_state_detail = models.CharField(max_length=300, blank=True)
    # The partner's bulk import that brought the photo, for its progress page.
    partner_import = models.ForeignKey(
        "PartnerImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "pk"]
        indexes = [models.Index(fields=["face_state"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(case__isnull=False, seeker_posting__isnull=True)
                    | Q(case__isnull=True, seeker_posting__isnull=False)
                ),
                name="photo_belongs_to_case_or_seeker",
            )
        ]

    def __str__(self) -> str:
        return f"photo #{self.pk} ({self.get_kind_display()})"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def side(self) -> str:
        """``case`` (a child) or ``seeker`` (an adult): the two sides of matching."""
        return "case" if self.case_id else "seeker"

    def age_years(self) -> float | None:
        """The person's age in the photo, stated or derived from the year taken."""
        if self.age_in_photo is not None:
            return float(self.age_in_photo)
        if self.year_taken is None:
            return None
        if self.case_id:
            born = (self.case.birth_year_min + self.case.birth_year_max) / 2
        else:
            born = (self.seeker_posting.birth_year_min + self.seeker_posting.birth_year_max) / 2
        return max(0.0, self.year_taken - born)
