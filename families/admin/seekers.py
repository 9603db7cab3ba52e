"""Seeker postings in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from families import services
from families.admin.common import (
    AuditedViewMixin,
    DeletionMixin,
    PhotoInline,
    PhotoInlineDeletionMixin,
    ThroughTheServicesMixin,
    place_filters,
)
from families.models import SeekerPosting
from matching.services import faces_refresh_facts


@admin.action(description=_("Withdraw the selected seeker postings (their candidates end)"))
def withdraw_seeker_postings(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    for posting in queryset:
        services.seeker_posting_withdraw(actor=request.user, posting=posting,
                                         reason="withdrawn in the admin")
    modeladmin.message_user(request, _("Withdrawn."), messages.SUCCESS)


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
