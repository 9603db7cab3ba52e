"""Email confirmation links.

A link carries a signed, timestamped token naming the account and the email
address it was sent to: it can't be forged, it expires after
``EMAIL_CONFIRMATION_DAYS`` days, and it stops working when the address changes.

A link that confirms a *new* address names the new address too, and works only
while that address is still the one waiting for confirmation (``pending_email``)
and no other account has taken it meanwhile.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from families.models import User

SALT = "reunion.families.email-confirmation"
CHANGE_SALT = "reunion.families.email-change"


def _max_age() -> int:
    return getattr(settings, "EMAIL_CONFIRMATION_DAYS", 7) * 24 * 3600


def email_confirmation_token(user: User, *, next_url: str = "") -> str:
    """``next_url``: the page the person was on when they signed up, to go back to after
    confirming (signed with the rest, so a link can't be made to send anyone elsewhere)."""
    data = {"user": user.pk, "email": user.email}
    if next_url:
        data["next"] = next_url
    return signing.dumps(data, salt=SALT, compress=True)


def _confirmation_data(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def next_url_of_confirmation_token(token: str) -> str:
    """The page a valid token says to go back to ("" if none); the caller still checks it
    is one of the site's own pages."""
    data = _confirmation_data(token) or {}
    return data["next"] if isinstance(data.get("next"), str) else ""


def user_for_confirmation_token(token: str) -> User | None:
    """The account a valid, unexpired token was made for; ``None`` otherwise."""
    data = _confirmation_data(token)
    if data is None:
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email != data.get("email"):
        return None
    return user


def email_change_token(user: User) -> str:
    """A token for the address waiting in ``user.pending_email``."""
    return signing.dumps(
        {"user": user.pk, "email": user.email, "new": user.pending_email},
        salt=CHANGE_SALT, compress=True,
    )


def user_for_email_change_token(token: str) -> User | None:
    """The account whose pending address a valid token confirms; ``None`` otherwise.

    Refused when the token expired, when the account's address or pending
    address changed since it was sent, or when another account uses the new
    address by now.
    """
    try:
        data = signing.loads(token, salt=CHANGE_SALT, max_age=_max_age())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not data.get("new"):
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email != data.get("email") or user.pending_email != data["new"]:
        return None
    if User.objects.filter(email__iexact=data["new"]).exclude(pk=user.pk).exists():
        return None
    return user
