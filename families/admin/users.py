"""The accounts in the admin: opening one is audited, deleting one goes through the
account's deletion."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from families import services
from families.admin.common import AuditedViewMixin, DeletionMixin
from families.models import User


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
