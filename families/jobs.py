"""RQ entry points for families: sending a notification's email.

A notification row is created once per event (``dedupe_key``); its email job
is keyed by the row, locks it and sends only while ``emailed_at`` is empty, so
a job enqueued twice, retried or run twice sends one email.

Every try is counted on the row (``email_attempts``, the last ``email_error``).
After ``NOTIFICATION_EMAIL_MAX_ATTEMPTS`` failed tries the email is given up
(``email_given_up_at``): it is retried no more, ``reconcile`` leaves it alone,
and the admin lists it and can try it again. The notice stays in the inbox.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

import django_rq
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from families.models import Notification

logger = logging.getLogger(__name__)

#: An email server that is down for a moment must not lose a notice: retry with back-off.
EMAIL_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])


def enqueue_notification_email(notification_id: int) -> str:
    """Queues the email of a notification; the job id makes enqueuing twice harmless."""
    job = django_rq.get_queue(settings.NOTIFY_QUEUE).enqueue(
        "families.jobs.send_notification_email",
        notification_id,
        job_id=f"notification-email-{notification_id}",
        retry=EMAIL_RETRY,
        job_timeout=120,
    )
    return job.id


def send_notification_email(notification_id: int) -> bool:
    """Sends the notification's email unless it was sent or given up; ``True`` when sent now.

    The row stays locked while the mail goes out, so a second run waits and
    then sees ``emailed_at``; a failed send rolls back, is counted, and the
    retry tries again until the tries are used up.
    """
    from families.services import subject_line

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


#: RQ states in which a job will still run by itself.
_LIVE_STATES = {"queued", "started", "scheduled", "deferred"}


def notifications_requeue_unsent(*, grace: timedelta = timedelta(minutes=5)) -> int:
    """Queues again the email of every notice not yet emailed whose job no queue holds.

    For ``reconcile`` after Redis lost its data: a notice older than ``grace``
    with no live job is enqueued again (sending stays once-only). Returns how many.
    """
    connection = django_rq.get_connection(settings.NOTIFY_QUEUE)
    unsent = Notification.objects.filter(
        emailed_at__isnull=True, email_given_up_at__isnull=True,
        created_at__lt=timezone.now() - grace, recipient__is_active=True,
    ).exclude(recipient__email="").values_list("pk", flat=True)
    count = 0
    for notification_id in unsent.iterator():
        try:
            status = Job.fetch(f"notification-email-{notification_id}",
                               connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status not in _LIVE_STATES:
            enqueue_notification_email(notification_id)
            count += 1
    return count


def notifications_retry_email(*, actor: object, notifications: QuerySet) -> int:
    """Tries again the emails of given-up (or unsent) notices, from a fresh count of tries.

    For the admin, once the cause is fixed (the mail server, the address). Sent
    notices are left alone. Returns how many were queued.
    """
    from families.services import audit_record

    with transaction.atomic():
        retried = list(
            notifications.select_for_update().filter(emailed_at__isnull=True)
        )
        for notification in retried:
            Notification.objects.filter(pk=notification.pk).update(
                email_attempts=0, email_error="", email_given_up_at=None,
            )
            audit_record(actor=actor, action="notification.email_retried", obj=notification)
            transaction.on_commit(
                lambda pk=notification.pk: _enqueue_again(pk)
            )
    return len(retried)


def _enqueue_again(notification_id: int) -> None:
    """Queues the email; a finished or failed job of the same id is replaced."""
    connection = django_rq.get_connection(settings.NOTIFY_QUEUE)
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(f"notification-email-{notification_id}", connection=connection).delete()
    enqueue_notification_email(notification_id)
