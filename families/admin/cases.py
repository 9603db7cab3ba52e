"""Missing-child cases and the hotline in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from families import services
from families.admin.common import (
    AuditedViewMixin,
    DeletionMixin,
    PhotoInline,
    PhotoInlineDeletionMixin,
    ThroughTheServicesMixin,
    place_filters,
)
from families.models import MissingChildCase, PublicContact
from matching.services import case_mark_reunited, case_rematch, faces_refresh_facts


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
