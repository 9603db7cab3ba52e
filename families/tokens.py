"""Email confirmation links.

A link carries a signed, timestamped token naming the account and the email
address it was sent to: it can't be forged, it expires after
``EMAIL_CONFIRMATION_DAYS`` days, and it stops working when the address changes.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from families.models import User

SALT = "reunion.families.email-confirmation"


def email_confirmation_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=SALT, compress=True)


def user_for_confirmation_token(token: str) -> User | None:
    """The account a valid, unexpired token was made for; ``None`` otherwise."""
    max_age = getattr(settings, "EMAIL_CONFIRMATION_DAYS", 7) * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email != data.get("email"):
        return None
    return user
