"""Accounts: signing up, confirming an address, the profile, changing the address.

Sign-up and an address change never tell whether an address has an account
(docs/PRIVACY.md): the answer is the same, and that account's owner is mailed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from families.audit import audit_record
from families.models import User
from families.services.common import assign_fields
from families.tokens import email_change_token, email_confirmation_token

logger = logging.getLogger(__name__)


def user_sign_up(
    *, email: str, password: str, full_name: str = "", preferred_language: str = "en",
    send_email: bool = True, next_url: str = "",
) -> User | None:
    """Creates an account whose email is not yet confirmed, and mails the confirmation link.

    An address that already has an account gets no second one: its owner is
    mailed that someone tried to sign up with it (with a link to reset the
    password) and the caller answers as for a new account, so sign-up never
    tells whether an address has an account. Returns the new account or ``None``.
    ``send_email=False`` (past the per-address limit of sign-up emails) does the
    same and mails nobody: a new account's owner asks for the link once logged in.
    ``next_url`` (a page of the site, checked by the caller) goes into the link: after
    confirming, the person comes back to the page where they started.
    """
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(
                        email=email, password=password, full_name=full_name,
                        preferred_language=preferred_language,
                    )
            except IntegrityError:  # the same address signed up a moment ago
                existing = User.objects.filter(email__iexact=email).first()
                if existing is None:
                    raise
            else:
                audit_record(actor=user, action="user.signed_up", obj=user)
                if send_email:
                    transaction.on_commit(
                        lambda: _send_confirmation_quietly(user, next_url=next_url))
                return user
        # Hash the password all the same: the answer's timing must not tell either.
        make_password(password)
        audit_record(actor=None, action="user.sign_up_refused_address_in_use", obj=existing)
        if existing.is_active and send_email:
            transaction.on_commit(lambda: _mail_quietly(
                existing, "signup_address_in_use", to=existing.email,
                urls={"link": ("password_reset",), "login": ("login",)},
            ))
    return None


def _site_url(name: str, *args: object) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _account_mail(
    user: User, template: str, *, to: str, urls: dict[str, tuple[str, ...]] | None = None,
    **context: object,
) -> None:
    """Mails ``emails/<template>.txt`` (and its ``_subject.txt``) in ``user``'s language;
    ``urls`` (context name: URL name and arguments) become links in that language too."""
    with translation.override(user.preferred_language or "en"):
        links = {key: _site_url(name, *args) for key, (name, *args) in (urls or {}).items()}
        context = {"user": user, **context, **links}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        body = render_to_string(f"emails/{template}.txt", context)
    send_mail(subject, body, None, [to])


def _mail_quietly(user: User, template: str, *, to: str, **context: Any) -> None:
    """An email server failure must not undo what the person just did."""
    try:
        _account_mail(user, template, to=to, **context)
    except Exception:
        logger.exception("could not send the %s email about user %s", template, user.pk)


def _send_confirmation_quietly(user: User, *, next_url: str = "") -> None:
    """An email server failure must not undo a sign-up: the user can ask for the link again."""
    try:
        user_send_confirmation(user=user, next_url=next_url)
    except Exception:
        logger.exception("could not send the confirmation email to user %s", user.pk)


def user_send_confirmation(*, user: User, next_url: str = "") -> None:
    """Mails the signed confirmation link, in the user's language."""
    token = email_confirmation_token(user, next_url=next_url)
    _account_mail(user, "confirm_email", to=user.email,
                  urls={"link": ("families:confirm_email", token)})


def user_confirm_email(*, user: User) -> User:
    """Marks the email confirmed; posting cases and seeker postings needs it."""
    with transaction.atomic():
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            audit_record(actor=user, action="user.email_confirmed", obj=user)
    return user


def profile_update(*, actor: User, user: User, fields: dict[str, Any]) -> User:
    """Changes private contact details.

    A new email address waits in ``pending_email`` until its owner opens the
    link mailed to it; the account keeps its address meanwhile, so a mistyped or
    someone else's address can't take the account away. Whether another account
    uses the new address is never said: that account's owner is mailed that
    someone tried, and no link is sent. Typing the current address again cancels
    a pending change.
    """
    allowed = {"full_name", "phone", "address", "preferred_language", "email"}
    fields = dict(fields)
    new_email = fields.pop("email", None)
    with transaction.atomic():
        changed = assign_fields(user, fields, allowed)
        if new_email is not None:
            new_email = User.objects.normalize_email(new_email).lower()
            wanted = "" if new_email == user.email.lower() else new_email
            if wanted != user.pending_email:
                user.pending_email = wanted
                changed.append("pending_email")
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(actor=actor, action="user.profile_updated", obj=user,
                     detail={"fields": sorted(changed)})
        if "pending_email" in changed and user.pending_email:
            transaction.on_commit(lambda: _send_email_change_quietly(user))
    return user


def _send_email_change_quietly(user: User) -> None:
    try:
        user_send_email_change(user=user)
    except Exception:
        logger.exception("could not send the email change link of user %s", user.pk)


def user_send_email_change(*, user: User) -> None:
    """Mails the link that confirms ``pending_email``, or tells that address's account owner.

    When another account uses the address, its owner learns that someone tried
    to use it and nothing changes; the person asking is told the same as when
    the link went out.
    """
    if not user.pending_email:
        return
    owner = User.objects.filter(email__iexact=user.pending_email).exclude(pk=user.pk).first()
    if owner is not None:
        if owner.is_active:
            _account_mail(owner, "email_address_in_use", to=owner.email,
                          urls={"link": ("password_reset",)})
        return
    _account_mail(user, "email_change", to=user.pending_email,
                  urls={"link": ("families:confirm_email_change", email_change_token(user))})


def user_confirm_email_change(*, user: User) -> User | None:
    """Makes the confirmed ``pending_email`` the account's address; ``None`` if it can't be.

    The old address is told, so an owner whose account was taken over hears of it.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        new_email, old_email = user.pending_email, user.email
        if not new_email:
            return None
        try:
            with transaction.atomic():
                user.email = new_email
                user.pending_email = ""
                user.email_confirmed_at = timezone.now()
                user.save(update_fields=["email", "pending_email", "email_confirmed_at"])
        except IntegrityError:  # another account took the address a moment ago
            return None
        audit_record(actor=user, action="user.email_changed", obj=user)
        transaction.on_commit(lambda: _mail_quietly(user, "email_changed", to=old_email))
    return user
