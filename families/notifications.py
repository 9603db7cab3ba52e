"""Notices: one inbox row per event, and its email queued once.

Low in the house, beside the audit log: matching's notices and families' own
send through ``notification_send``. The email is sent by the job
``families.jobs.send_notification_email``, queued here by its dotted name, so
this module never imports the jobs module.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from families.audit import audit_record
from families.models import Notification, User
from reunion import queueing
from reunion.queueing import EMAIL_RETRY


def subject_line(text: object, *, limit: int = 200) -> str:
    """``text`` as one line fit for an email subject: line breaks and other control
    characters (from a province typed with a newline, say) become spaces, which an
    email header can't hold (Django refuses the whole email)."""
    cleaned = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in str(text)
    )
    return " ".join(cleaned.split())[:limit]


def notification_send(
    *,
    recipient: User,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    dedupe_key: str,
    about: models.Model | None = None,
) -> Notification:
    """Puts a notice in the recipient's inbox once per ``dedupe_key`` and queues its email.

    ``about`` names the row the notice is about (a candidate, a case): when that
    row is deleted or the candidate ends, the notice goes with it.

    The same event notified twice (a retried job, a repeated click) finds the
    existing row and queues nothing; the email job itself sends at most once.
    """
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "recipient": recipient, "kind": kind, "subject": subject_line(subject),
                "body": str(body), "link": link,
                "about_type": about._meta.label_lower if about is not None else "",
                "about_id": str(about.pk) if about is not None else "",
            },
        )
        if created:
            audit_record(
                actor=None, action="notification.created", obj=notification,
                detail={"kind": kind, "recipient": recipient.pk},
            )
            transaction.on_commit(lambda: enqueue_notification_email(notification.pk))
    return notification


def notification_mark_read(*, actor: User, notifications: models.QuerySet) -> int:
    """Marks the actor's own unread notifications read; returns how many changed."""
    with transaction.atomic():
        ids = list(
            notifications.filter(recipient=actor, read_at__isnull=True).values_list("pk", flat=True)
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
            audit_record(actor=actor, action="notifications.read", obj=actor,
                         detail={"notifications": ids})
    return len(ids)


def enqueue_notification_email(notification_id: int) -> str:
    """Queues the email of a notification; the job id makes enqueuing twice harmless."""
    return queueing.enqueue(
        settings.NOTIFY_QUEUE, "families.jobs.send_notification_email", notification_id,
        job_id=_job_id(notification_id), retry=EMAIL_RETRY, timeout=120,
    )


def _job_id(notification_id: int) -> str:
    return f"notification-email-{notification_id}"


def notifications_requeue_unsent(*, grace: timedelta = timedelta(minutes=5)) -> int:
    """Queues again the email of every notice not yet emailed whose job no queue holds.

    For ``reconcile`` after Redis lost its data: a notice older than ``grace``
    with no live job is enqueued again (sending stays once-only). Returns how many.
    """
    connection = queueing.connection(settings.NOTIFY_QUEUE)
    unsent = Notification.objects.filter(
        emailed_at__isnull=True, email_given_up_at__isnull=True,
        created_at__lt=timezone.now() - grace, recipient__is_active=True,
    ).exclude(recipient__email="").values_list("pk", flat=True)
    count = 0
    for notification_id in unsent.iterator():
        if not queueing.job_alive(connection, _job_id(notification_id)):
            queueing.job_delete(connection, _job_id(notification_id))  # a dead leftover
            enqueue_notification_email(notification_id)
            count += 1
    return count


def notifications_retry_email(*, actor: object, notifications: QuerySet) -> int:
    """Tries again the emails of given-up (or unsent) notices, from a fresh count of tries.

    For the admin, once the cause is fixed (the mail server, the address). Sent
    notices are left alone. Returns how many were queued.
    """
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
    queueing.job_delete(queueing.connection(settings.NOTIFY_QUEUE), _job_id(notification_id))
    enqueue_notification_email(notification_id)
