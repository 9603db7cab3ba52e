"""Photos in the admin: reindexing, deleting through the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from families import services
from families.admin.common import AuditedViewMixin, DeletionMixin
from families.models import Photo
from matching.services import photo_schedule_processing


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
