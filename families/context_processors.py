"""Template context for every page: the unread notices, whether the user posts for a partner."""

from __future__ import annotations

from django.http import HttpRequest

from families import selectors


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    """``unread_notifications`` for the inbox link in the navigation (0 when signed out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": user.notifications.filter(read_at__isnull=True).count()}


def partner_member(request: HttpRequest) -> dict[str, bool]:
    """``partner_member``: whether to show the link to the organisation's imports."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"partner_member": False}
    return {"partner_member": selectors.partner_organisations_of(user).exists()}
