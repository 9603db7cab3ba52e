"""Partner organisations, their API keys and imports in the admin (docs/PARTNERS.md)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from families.admin.common import AuditedViewMixin, DeletionMixin
from families.audit import audit_record
from families.models import (
    PartnerAPIKey,
    PartnerImport,
    PartnerImportRefusal,
    PartnerOrganisation,
    SeekerPosting,
    User,
)
from families.partners import services as partner_services

# --- Partner organisations and their API keys (docs/PARTNERS.md) ---------------------------

# Partners' keys are ``PartnerAPIKey`` rows, each of one organisation: the package's own
# key model, with no organisation, is not offered.
admin.site.unregister(APIKey)


class PartnerOrganisationForm(ModelForm):
    class Meta:
        model = PartnerOrganisation
        fields = ("name", "kind", "region", "matching_basis", "members", "is_active")

    def clean_members(self) -> QuerySet[User]:
        members = self.cleaned_data["members"]
        if self.instance.pk is None:
            return members
        staying = {member.pk for member in members if member.is_active}
        leaving_with_postings = SeekerPosting.objects.filter(
            organisation=self.instance).exclude(owner__in=staying)
        if leaving_with_postings.exists() and not staying:
            raise ValidationError(_(
                "Keep at least one active member: the found people posted by the members "
                "taken off go to a member who stays."))
        return members


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    """A member taken off the organisation hands the found people they posted for it to
    another member (the postings are the organisation's); with nobody left to take them,
    the form says so and nothing changes."""

    form = PartnerOrganisationForm
    list_display = ("name", "kind", "region", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "region", "members__email")
    filter_horizontal = ("members",)
    readonly_fields = ("created_at",)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any,
                     change: bool) -> None:
        organisation = form.instance
        before = set(organisation.members.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        leaving = before - set(organisation.members.values_list("pk", flat=True))
        for member in User.objects.filter(pk__in=leaving):
            partner_services.partner_postings_hand_over(
                actor=request.user, from_user=member, organisation=organisation)


class PartnerAPIKeyForm(ModelForm):
    class Meta:
        model = PartnerAPIKey
        fields = ("name", "organisation", "member", "expiry_date", "revoked")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        organisation, member = data.get("organisation"), data.get("member")
        if organisation and member and not organisation.members.filter(pk=member.pk).exists():
            self.add_error("member", _("Choose a member of this organisation."))
        return data


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Keys are created here and shown once, on creation; revoking one can't be undone.

    A key's row holds no private data (its hash, name and dates); creating, changing and
    deleting one is audited against its organisation, by the key's prefix.
    """

    form = PartnerAPIKeyForm
    list_display = ("prefix", "name", "organisation", "member", "created", "expiry_date",
                    "_has_expired", "revoked")
    list_filter = ("organisation", "revoked")
    search_fields = ("name", "prefix", "organisation__name", "member__email")
    raw_id_fields = ("member",)

    def get_readonly_fields(
        self, request: HttpRequest, obj: PartnerAPIKey | None = None
    ) -> tuple[str, ...]:
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "organisation", "member") if obj is not None else fields

    def save_model(
        self, request: HttpRequest, obj: PartnerAPIKey, form: ModelForm, change: bool
    ) -> None:
        created = not obj.pk
        with transaction.atomic():
            if created:
                key = PartnerAPIKey.objects.assign_key(obj)
            obj.save()
            audit_record(actor=request.user, obj=obj.organisation,
                         action="api_key.created" if created else "api_key.changed",
                         detail={"key": obj.prefix, "revoked": obj.revoked})
        if created:
            messages.warning(request, _(
                "The API key for %(name)s is: %(key)s — store it somewhere safe now: "
                "it will not be shown again."
            ) % {"name": obj.name, "key": key})

    def delete_model(self, request: HttpRequest, obj: PartnerAPIKey) -> None:
        with transaction.atomic():
            audit_record(actor=request.user, obj=obj.organisation, action="api_key.deleted",
                         detail={"key": obj.prefix})
            obj.delete()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset.select_related("organisation"):
                self.delete_model(request, obj)


class PartnerImportRefusalInline(admin.TabularInline):
    """The refused rows: where and why. The rows' cells (found people's details) stay out of
    the admin: the members fix them from the import's own page."""

    model = PartnerImportRefusal
    fields = ("line", "column", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(PartnerImport)
class PartnerImportAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    """Members make imports and the worker runs them: here they are only read, or deleted.

    Opening one is audited (its refused rows name found people). Deleting one takes its
    refused rows with it, and its uploaded files if still kept (``families.signals``);
    the postings it made stay, being the organisation's.
    """

    deletion_action = "partner_import.deleted"
    list_display = ("organisation", "csv_name", "status", "rows_total", "rows_processed",
                    "rows_refused", "photos_added", "created_at")
    list_filter = ("status", "organisation")
    search_fields = ("csv_name", "csv_sha256", "organisation__name")
    date_hierarchy = "created_at"
    list_select_related = ("organisation",)
    # The uploaded files are never linked: they hold personal data.
    fields = ("organisation", "uploaded_by", "csv_name", "csv_sha256", "photos_zip_name",
              "photo_folder", "status", "error", "rows_total", "rows_processed", "rows_created",
              "rows_updated", "rows_unchanged", "rows_refused", "photos_added", "created_at",
              "started_at", "heartbeat_at", "finished_at")
    readonly_fields = fields
    inlines = [PartnerImportRefusalInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PartnerImport | None = None
    ) -> bool:
        return False
