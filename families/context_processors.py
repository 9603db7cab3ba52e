"""Template context for every page: the signed-in user's unread notification count."""

from __future__ import annotations

from django.http import HttpRequest


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    """``unread_notifications`` for the inbox link in the navigation (0 when signed out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": user.notifications.filter(read_at__isnull=True).count()}
