"""RQ entry points for families: sending a notification's email.

A notification row is created once per event (``dedupe_key``); its email job
is keyed by the row, locks it and sends only while ``emailed_at`` is empty, so
a job enqueued twice, retried or run twice sends one email.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import django_rq
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
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
    """Sends the notification's email unless it was sent already; ``True`` when sent now.

    The row stays locked while the mail goes out, so a second run waits and
    then sees ``emailed_at``; a failed send rolls back and the retry tries again.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        recipient = notification.recipient
        if not recipient.is_active or not recipient.email:
            logger.info("notification %s: recipient has no usable email", notification_id)
            return False
        body = notification.body
        if notification.link:
            body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}\n"
        EmailMessage(
            subject=notification.subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
        ).send(fail_silently=False)
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    logger.info("notification %s emailed (%s)", notification_id, notification.kind)
    return True


#: RQ states in which a job will still run by itself.
_LIVE_STATES = {"queued", "started", "scheduled", "deferred"}


def notifications_requeue_unsent(*, grace: timedelta = timedelta(minutes=5)) -> int:
    """Queues again the email of every notice not yet emailed whose job no queue holds.

    For ``reconcile`` after Redis lost its data: a notice older than ``grace``
    with no live job is enqueued again (sending stays once-only). Returns how many.
    """
    connection = django_rq.get_connection(settings.NOTIFY_QUEUE)
    unsent = Notification.objects.filter(
        emailed_at__isnull=True, created_at__lt=timezone.now() - grace,
        recipient__is_active=True,
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
