"""RQ entry points for families: sending a notification's email (a partner's import:
``families.partners.jobs``).

A notification row is created once per event (``dedupe_key``,
``families.notifications.notification_send``); its email job is keyed by the
row, locks it and sends only while ``emailed_at`` is empty, so a job enqueued
twice, retried or run twice sends one email.

Every try is counted on the row (``email_attempts``, the last ``email_error``).
After ``NOTIFICATION_EMAIL_MAX_ATTEMPTS`` failed tries the email is given up
(``email_given_up_at``): it is retried no more, ``reconcile`` leaves it alone,
and the admin lists it and can try it again. The notice stays in the inbox.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from families.models import Notification
from families.notifications import subject_line

logger = logging.getLogger(__name__)


def send_notification_email(notification_id: int) -> bool:
    """Sends the notification's email unless it was sent or given up; ``True`` when sent now.

    The row stays locked while the mail goes out, so a second run waits and
    then sees ``emailed_at``; a failed send rolls back, is counted, and the
    retry tries again until the tries are used up.
    """
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update()
                .select_related("recipient")
                .filter(pk=notification_id)
                .first()
            )
            if (notification is None or notification.emailed_at is not None
                    or notification.email_given_up_at is not None):
                return False
            recipient = notification.recipient
            if not recipient.is_active or not recipient.email:
                logger.info("notification %s: recipient has no usable email", notification_id)
                return False
            body = notification.body
            if notification.link:
                body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}\n"
            EmailMessage(
                # Rows written before subjects were made one line are sent as one line too.
                subject=subject_line(notification.subject),
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[recipient.email],
            ).send(fail_silently=False)
            Notification.objects.filter(pk=notification.pk).update(
                emailed_at=timezone.now(), email_attempts=F("email_attempts") + 1,
                email_error="",
            )
    except Exception as error:
        if _record_failure(notification_id, error):
            return False  # given up: no retry
        raise
    logger.info("notification %s emailed (%s)", notification_id, notification.kind)
    return True


def _record_failure(notification_id: int, error: Exception) -> bool:
    """Counts a failed try; gives the email up once the tries are used up (``True`` then)."""
    limit = max(getattr(settings, "NOTIFICATION_EMAIL_MAX_ATTEMPTS", 10), 1)
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().filter(pk=notification_id).first()
        )
        if notification is None:
            return True
        notification.email_attempts += 1
        notification.email_error = f"{type(error).__name__}: {error}"[:2000]
        fields = ["email_attempts", "email_error"]
        if notification.email_attempts >= limit:
            notification.email_given_up_at = timezone.now()
            fields.append("email_given_up_at")
        notification.save(update_fields=fields)
    if notification.email_given_up_at is not None:
        logger.error("notification %s: email given up after %d tries: %s",
                     notification_id, notification.email_attempts, notification.email_error)
        return True
    logger.warning("notification %s: email try %d of %d failed: %s", notification_id,
                   notification.email_attempts, limit, notification.email_error)
    return False


def __getattr__(name: str) -> object:
    """``run_partner_import``, by the dotted name that jobs queued before it moved to
    ``families.partners.jobs`` carry (RQ looks a job's function up by that name)."""
    if name == "run_partner_import":
        # wing alias: the partners' wing builds on this module, not the other way
        from families.partners.jobs import run_partner_import

        return run_partner_import
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
