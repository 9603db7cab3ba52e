"""Django admin for accounts, cases, seeker postings, photos, notifications, partners and
the audit log.

Opening a case, a seeker posting or an account in the admin is a view of
private data, so it is audited like any other. Consent, status and publication
are shown and never typed: they change through the services' actions, as in the
portal. Deleting one (its change page or
the bulk action) goes through the same service as the owner's own deletion. The
audit log itself can be read and never changed, not even by a superuser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from families import divisions, services
from families.audit import audit_record
from families.divisions import all_divisions
from families.models import (
    AuditEntry,
    Division,
    MissingChildCase,
    Notification,
    PartnerAPIKey,
    PartnerImport,
    PartnerImportRefusal,
    PartnerOrganisation,
    Photo,
    PublicContact,
    SeekerPosting,
    User,
)
from families.notifications import notifications_retry_email
from families.places import label as place_label
from families.services.common import FACE_FACT_FIELDS
from matching.services import (
    case_mark_reunited,
    case_rematch,
    faces_refresh_facts,
    photo_schedule_processing,
)


class AuditedViewMixin:
    """Writes an audit entry each time an admin opens one object's page."""

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None:
                audit_record(actor=request.user, action="admin.viewed", obj=obj)
        return super().change_view(request, object_id, form_url, extra_context)


class DeletionMixin:
    """Deleting in the admin takes the path of every deletion, audited, one row at a time.

    A model with a deletion service (case, seeker posting, photo, account) is
    deleted through it, as its owner would; any other is deleted with an audit
    entry. Either way ``Model.delete`` runs, so the receivers of the apps'
    ``signals`` modules remove the files, notices and log-in records that go
    with it; nothing takes the bulk SQL path.
    """

    #: The audit action of a deletion without a service; ``<model_name>.deleted`` if empty.
    deletion_action = ""

    def delete_one(self, request: HttpRequest, obj: Model) -> None:
        with transaction.atomic():
            audit_record(actor=request.user, obj=obj, detail={"by": "admin"},
                         action=self.deletion_action or f"{obj._meta.model_name}.deleted")
            obj.delete()

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.delete_one(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for pk in list(queryset.values_list("pk", flat=True)):
                # Re-read: a row may have gone with an earlier one (an estimate with its photo).
                obj = self.model._default_manager.filter(pk=pk).first()
                if obj is not None:
                    self.delete_one(request, obj)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet) -> list[LogEntry]:
        """The admin's history of deletions names no one, as the audit entry doesn't."""
        content_type = ContentType.objects.get_for_model(self.model, for_concrete_model=False)
        return LogEntry.objects.bulk_create([
            LogEntry(user_id=request.user.pk, content_type=content_type, object_id=str(obj.pk),
                     object_repr=f"{self.model._meta.verbose_name} #{obj.pk}",
                     action_flag=DELETION)
            for obj in queryset
        ])


class PhotoInlineDeletionMixin:
    """A photo ticked for deletion in a case's or posting's photo list goes through
    ``photo_delete``, like one deleted from its own page."""

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseModelFormSet, change: bool
    ) -> None:
        if formset.model is not Photo:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for photo in formset.deleted_objects:
            if Photo.objects.filter(pk=photo.pk).exists():  # not already gone with its source
                services.photo_delete(actor=request.user, photo=photo)
        for photo in instances:
            photo.save()
        formset.save_m2m()


class ReunionUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class ReunionUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedViewMixin, DeletionMixin, DjangoUserAdmin):
    form = ReunionUserChangeForm
    add_form = ReunionUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_volunteer_display", "review_provinces",
                    "email_confirmed_at", "is_staff", "is_active", "date_joined")
    list_filter = ("groups", "is_staff", "is_superuser", "is_active", "preferred_language")
    search_fields = ("email", "full_name", "phone")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal details"), {"fields": (
            "full_name", "phone", "address", "preferred_language", "email_confirmed_at"
        )}),
        (_("Volunteer"), {"fields": ("review_provinces",)}),
        (_("Permissions"), {"fields": (
            "is_active", "is_staff", "is_superuser", "groups", "user_permissions"
        )}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1",
                                                 "password2")}),
    )

    @admin.display(description=_("volunteer"), boolean=True)
    def is_volunteer_display(self, user: User) -> bool:
        return user.is_volunteer

    def delete_one(self, request: HttpRequest, obj: User) -> None:
        services.account_delete(actor=request.user, user=obj)


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    fields = ("kind", "age_in_photo", "year_taken", "face_state", "use_in_matching",
              "use_on_poster", "uploaded_at")
    # Whether a photo is on the poster is its owner's choice (through the services).
    readonly_fields = ("face_state", "use_on_poster", "uploaded_at")
    show_change_link = True


class ThroughTheServicesMixin:
    """Consent, status and publication are never typed in the admin's forms.

    They change through the services, as in the portal: a withdrawal (the action
    below) ends the candidates; consent and publication are their owner's alone; a
    reunion is marked by its action or the DNA step. A change of the facts matching
    filters on takes the faces' facts along, as the services do.
    """

    #: Shown, never edited here.
    ruled_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple:
        return (*super().get_readonly_fields(request, obj), *self.ruled_fields)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and FACE_FACT_FIELDS & set(form.changed_data):
                self.refresh_facts(request, obj)

    def refresh_facts(self, request: HttpRequest, obj: Model) -> None:
        raise NotImplementedError


@admin.action(description=_("Re-run matching for the selected cases"))
def rematch_cases(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    jobs = sum(case_rematch(actor=request.user, case=case) for case in queryset)
    modeladmin.message_user(request, ngettext(
        "%(count)d job queued.", "%(count)d jobs queued.", jobs) % {"count": jobs},
        messages.SUCCESS)


@admin.action(description=_("Mark the selected cases reunited"))
def mark_cases_reunited(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    for case in queryset:
        case_mark_reunited(actor=request.user, case=case, note="marked in the admin")
    modeladmin.message_user(request, _("Marked reunited."), messages.SUCCESS)


@admin.action(description=_("Withdraw the selected cases (their candidates end)"))
def withdraw_cases(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    for case in queryset:
        services.case_withdraw(actor=request.user, case=case, reason="withdrawn in the admin")
    modeladmin.message_user(request, _("Withdrawn."), messages.SUCCESS)


@admin.action(description=_("Withdraw the selected seeker postings (their candidates end)"))
def withdraw_seeker_postings(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    for posting in queryset:
        services.seeker_posting_withdraw(actor=request.user, posting=posting,
                                         reason="withdrawn in the admin")
    modeladmin.message_user(request, _("Withdrawn."), messages.SUCCESS)


def place_filters(prefix: str) -> tuple[type[admin.SimpleListFilter], ...]:
    """The province (by code, whatever name was written) and whether the place is in the
    list of divisions: "no" lists the places in China to be set by hand."""
    code_field, country_field = f"{prefix}_place_code", f"{prefix}_country"

    class ProvinceFilter(admin.SimpleListFilter):
        title = _("province")
        parameter_name = "province"

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
            return [(d.code, place_label(d.code)) for d in all_divisions().values()
                    if d.level == divisions.PROVINCE]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset.filter(**{f"{code_field}__startswith": value}) if value else queryset

    class PlaceListedFilter(admin.SimpleListFilter):
        title = _("place in the list of divisions")
        parameter_name = "place_listed"

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
            return [("yes", _("yes")), ("no", _("no: in China, to be set by hand")),
                    ("abroad", _("outside China"))]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            if value == "yes":
                return queryset.exclude(**{code_field: ""})
            if value == "no":
                return queryset.filter(**{code_field: "", country_field: ""})
            if value == "abroad":
                return queryset.exclude(**{country_field: ""})
            return queryset

    return ProvinceFilter, PlaceListedFilter


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    """The list places are chosen from: read, never typed (it is the package's)."""

    list_display = ("code", "name", "english", "pinyin", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "english", "pinyin")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(MissingChildCase)
class MissingChildCaseAdmin(
    AuditedViewMixin, DeletionMixin, PhotoInlineDeletionMixin, ThroughTheServicesMixin,
    admin.ModelAdmin,
):
    list_display = ("__str__", "sex", "birth_year_min", "birth_year_max", "missing_date",
                    "missing_province", "missing_place_code", "status", "family", "published_at")
    list_filter = ("status", "sex", *place_filters("missing"))
    # The search terms: 李小梅 is found by 李小梅 or Xiaomei, as in the public search.
    search_fields = ("search_terms", "given_name", "family_name", "nicknames",
                     "missing_province", "missing_city", "police_report_number", "family__email",
                     "contact_name", "public_number")
    date_hierarchy = "missing_date"
    raw_id_fields = ("family",)
    readonly_fields = ("public_number", "missing_place_code", "created_at", "updated_at")
    ruled_fields = ("status", "published_at")
    inlines = [PhotoInline]
    actions = [rematch_cases, mark_cases_reunited, withdraw_cases]

    def delete_one(self, request: HttpRequest, obj: MissingChildCase) -> None:
        services.case_delete(actor=request.user, case=obj)

    def refresh_facts(self, request: HttpRequest, obj: MissingChildCase) -> None:
        faces_refresh_facts(actor=request.user, case=obj)


@admin.register(PublicContact)
class PublicContactAdmin(admin.ModelAdmin):
    """The organisation's hotline: the newest row is the number cases give by default."""

    list_display = ("name", "phone", "hours", "updated_at")
    search_fields = ("name", "phone")


@admin.register(SeekerPosting)
class SeekerPostingAdmin(
    AuditedViewMixin, DeletionMixin, PhotoInlineDeletionMixin, ThroughTheServicesMixin,
    admin.ModelAdmin,
):
    list_display = ("display_name", "posted_for", "sex", "birth_year_min", "birth_year_max",
                    "grew_up_province", "consent_to_matching", "status", "owner", "created_at")
    list_filter = ("status", "sex", "posted_for", "consent_to_matching", "organisation",
                   *place_filters("grew_up"))
    search_fields = ("display_name", "grew_up_province", "grew_up_city", "owner__email",
                     "partner_reference")
    raw_id_fields = ("owner",)
    readonly_fields = ("grew_up_place_code", "created_at", "updated_at")
    ruled_fields = ("consent_to_matching", "consented_at", "matching_basis", "status",
                    "published_at", "show_memories")
    inlines = [PhotoInline]
    actions = [withdraw_seeker_postings]

    def delete_one(self, request: HttpRequest, obj: SeekerPosting) -> None:
        services.seeker_posting_delete(actor=request.user, posting=obj)

    def refresh_facts(self, request: HttpRequest, obj: SeekerPosting) -> None:
        faces_refresh_facts(actor=request.user, seeker_posting=obj)


@admin.action(description=_("Reindex the selected photos (detect and embed again)"))
def reindex_photos(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    count = 0
    for photo in queryset:
        photo_schedule_processing(actor=request.user, photo=photo)
        count += 1
    modeladmin.message_user(request, ngettext(
        "%(count)d photo queued.", "%(count)d photos queued.", count) % {"count": count},
        messages.SUCCESS)


@admin.register(Photo)
class PhotoAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    list_display = ("pk", "kind", "side", "case", "seeker_posting", "age_in_photo",
                    "face_state", "use_in_matching", "use_on_poster", "uploaded_at")
    list_filter = ("face_state", "kind", "use_in_matching", "use_on_poster", "is_estimate")
    search_fields = ("sha256", "caption", "case__search_terms", "case__given_name",
                     "case__family_name", "seeker_posting__display_name")
    raw_id_fields = ("owner", "case", "seeker_posting", "source_photo")
    # The file is never linked from the admin: photos go through access-checked views.
    exclude = ("image",)
    readonly_fields = ("sha256", "width", "height", "face_state", "face_state_detail",
                       "use_on_poster", "uploaded_at", "updated_at")
    actions = [reindex_photos]

    def delete_one(self, request: HttpRequest, obj: Photo) -> None:
        services.photo_delete(actor=request.user, photo=obj)


@admin.action(description=_("Try the email of the selected notices again"))
def retry_notification_emails(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    count = notifications_retry_email(actor=request.user, notifications=queryset)
    modeladmin.message_user(request, ngettext(
        "%(count)d email queued again.", "%(count)d emails queued again.", count,
    ) % {"count": count}, messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(AuditedViewMixin, admin.ModelAdmin):
    """Notices and their emails; an email that kept failing is marked given up."""

    list_display = ("subject", "kind", "recipient", "created_at", "read_at", "emailed_at",
                    "email_attempts", "email_given_up_at")
    list_filter = ("kind", ("emailed_at", admin.EmptyFieldListFilter),
                   ("email_given_up_at", admin.EmptyFieldListFilter),
                   ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "recipient__email", "dedupe_key")
    raw_id_fields = ("recipient",)
    readonly_fields = ("dedupe_key", "created_at", "read_at", "emailed_at", "email_attempts",
                       "email_error", "email_given_up_at")
    actions = [retry_notification_emails]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Readable, never editable: no one adds, changes or deletes an audit entry."""

    list_display = ("created_at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type", "object_id", "actor__email")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "actor", "action", "object_type", "object_id", "detail")
    list_select_related = ("actor",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False


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
            services.partner_postings_hand_over(
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
