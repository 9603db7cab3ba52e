"""China's administrative divisions in the admin, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from families.models import Division


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
