"""Notices in the admin: trying a failed email again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from families.admin.common import AuditedViewMixin
from families.models import Notification
from families.notifications import notifications_retry_email


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
