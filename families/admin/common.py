"""What the families' admin pages share: audited views, deletion through the services,
the photos inline, the fields only the services change, the place filters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from families import divisions, services
from families.audit import audit_record
from families.divisions import all_divisions
from families.models import Photo
from families.places import label as place_label
from families.services.common import FACE_FACT_FIELDS


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
