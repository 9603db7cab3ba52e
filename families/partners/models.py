"""Partner organisations, their API keys and their bulk imports.

Families' models (app label ``families``: its tables, its migrations), kept in the partners'
wing and imported by ``families.models``, where Django finds them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.models import AbstractAPIKey

from families.models.seekers import SeekerPosting


class PartnerOrganisation(models.Model):
    """A partner: a shelter, a police unit or an NGO posting the found people it knows of.

    Set up by an admin, with its members. What it posts is a found person's seeker
    posting that belongs to it and is matched on its basis (``matching_basis``), which
    stands in for the personal consent the found person can't give through the portal.
    """

    class Kind(models.TextChoices):
        SHELTER = "shelter", _("shelter")
        POLICE = "police", _("police")
        NGO = "ngo", _("NGO")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.CharField(_("region"), max_length=200, blank=True)
    matching_basis = models.TextField(
        _("basis for posting found people"),
        help_text=_("On what basis the found people this organisation posts may be compared "
                    "(e.g. police case records, the shelter's intake records)."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="partner_organisations",
        verbose_name=_("members"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerAPIKey(AbstractAPIKey):
    """A partner organisation's key to the REST API: stored hashed, shown once, revocable.

    Each key acts for one member of the organisation, who is recorded as the actor of
    every call made with it and owns the postings it creates.
    """

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="api_keys",
        verbose_name=_("partner organisation"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_api_keys",
        verbose_name=_("acts for member"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")

    def usable(self) -> bool:
        """Not revoked or expired, its organisation active, its member still one of it."""
        return bool(
            not self.revoked
            and not self.has_expired
            and self.organisation.is_active
            and self.member.is_active
            and self.organisation.members.filter(pk=self.member_id).exists()
        )


def partner_import_upload_to(instance: PartnerImport, filename: str) -> str:
    """Random names: the uploaded file's own name is kept in the row, not on disk."""
    suffix = ".zip" if filename.lower().endswith(".zip") else ".csv"
    return f"partner-imports/{uuid.uuid4().hex}{suffix}"


class PartnerImport(models.Model):
    """A partner's bulk import: a CSV of found people and a zip (or folder) of their photos.

    Rows are taken in order, each in its own transaction with ``rows_processed``, so
    a stopped import resumes at the first row it had not finished. The uploaded files
    are deleted once the import is done; the counts and the refused rows stay.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("stopped")

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="imports",
        verbose_name=_("organisation"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="partner_imports",
    )
    csv_file = models.FileField(upload_to=partner_import_upload_to, blank=True)
    csv_name = models.CharField(_("CSV file"), max_length=255)
    csv_sha256 = models.CharField(max_length=64, db_index=True)
    # The columns as the file names them: the refused rows are given back under them.
    csv_header = models.JSONField(default=list)
    photos_zip = models.FileField(upload_to=partner_import_upload_to, blank=True)
    photos_zip_name = models.CharField(_("photos"), max_length=255, blank=True)
    # A folder on the server (``manage.py partner_import``) instead of a zip.
    photo_folder = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    photos_added = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The people its rows created, updated or found up to date (the organisation's list
    # filters by import).
    postings = models.ManyToManyField(
        SeekerPosting, blank=True, related_name="partner_imports", verbose_name=_("postings"))
    # The refused rows hold people's details: they go ``PARTNER_IMPORT_REFUSALS_KEEP_DAYS``
    # after the import ends.
    refusals_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner import")
        verbose_name_plural = _("partner imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import #{self.pk} of {self.organisation}: {self.csv_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def status_words(self) -> str:
        """The status as the member reads it: a finished import with refused rows says so."""
        if self.status == self.Status.DONE and self.rows_refused:
            return ngettext("finished with %(n)d row refused", "finished with %(n)d rows refused",
                            self.rows_refused) % {"n": self.rows_refused}
        return str(self.get_status_display())

    @property
    def tone(self) -> str:
        """The bar's colour: ``ok`` (running or all in), ``warning`` (rows refused),
        ``error`` (stopped)."""
        if self.status == self.Status.FAILED:
            return "error"
        return "warning" if self.rows_refused else "ok"


class PartnerImportRefusal(models.Model):
    """A row an import refused: where (line, column), why, and the row as it was sent."""

    partner_import = models.ForeignKey(
        PartnerImport, on_delete=models.CASCADE, related_name="refusals"
    )
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    cells = models.JSONField(default=dict)

    class Meta:
        ordering = ["line", "pk"]
        constraints = [models.UniqueConstraint(
            fields=["partner_import", "line"], name="one_refusal_per_import_line"
        )]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
