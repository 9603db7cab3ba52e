"""Notices: once per event in the inbox, one email each, sent by a real RQ worker."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import django_rq
import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.urls import reverse
from rq.registry import ScheduledJobRegistry

from families import jobs, notifications
from families.models import AuditEntry, Notification
from families.services import notification_send

pytestmark = pytest.mark.django_db(transaction=True)


class FailingBackend(BaseEmailBackend):
    """An email server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


class SlowBackend(LocmemBackend):
    """A slow email server, so two runs of one job overlap."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def send(user, key="event-1", **extra):
    values = {"kind": "test", "subject": "A notice", "body": "Hello.", "link": "/me/"}
    return notification_send(recipient=user, dedupe_key=key, **{**values, **extra})


def test_a_notice_goes_to_the_inbox_and_is_emailed_once_by_the_worker(
    make_user, redis_queues, run_worker
):
    user = make_user(email="mother@example.org")
    notice = send(user)
    again = send(user, subject="Sent twice by mistake")
    assert again.pk == notice.pk and again.subject == "A notice"
    assert Notification.objects.count() == 1
    assert AuditEntry.objects.filter(action="notification.created").count() == 1
    assert redis_queues["notify"].job_ids == [f"notification-email-{notice.pk}"]

    run_worker(("notify",))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.subject, message.from_email) == (
        ["mother@example.org"], "A notice", settings.DEFAULT_FROM_EMAIL)
    assert message.body.startswith("Hello.") and message.body.rstrip().endswith("/me/")
    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.read_at is None


def test_the_same_notice_is_not_sent_twice_when_its_job_runs_twice(
    make_user, redis_queues, run_worker
):
    notice = send(make_user())
    run_worker(("notify",))
    assert len(mail.outbox) == 1
    emailed_at = Notification.objects.get().emailed_at

    # The job is put on the queue again (a retry, a reconcile) and run again.
    notifications.enqueue_notification_email(notice.pk)
    assert redis_queues["notify"].count == 1
    run_worker(("notify",))
    assert jobs.send_notification_email(notice.pk) is False
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at == emailed_at


def test_two_runs_of_one_job_at_the_same_time_send_one_email(make_user, redis_queues, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    notice = send(make_user())
    results = []

    def run() -> None:
        try:
            results.append(jobs.send_notification_email(notice.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_and_then_sent_once(
    make_user, redis_queues, run_worker, settings
):
    notice = send(make_user())
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    run_worker(("notify",))
    notice.refresh_from_db()
    assert notice.emailed_at is None
    queue = django_rq.get_queue("notify")
    job = queue.fetch_job(f"notification-email-{notice.pk}")
    # RQ keeps the job and schedules it again with back-off.
    assert job.get_status() == "scheduled"
    assert job.retries_left == notifications.EMAIL_RETRY.max - 1
    assert job.id in ScheduledJobRegistry(queue=queue)

    # The mail server is back; the retry (run here without waiting) sends it once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    queue.enqueue_job(job)
    run_worker(("notify",))
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    assert len(mail.outbox) == 1


def test_the_inbox_lists_notices_counts_unread_and_marks_them_read(make_user, client):
    user, other = make_user(), make_user()
    first = send(user, key="a", subject="First notice", link=reverse("families:dashboard"))
    send(user, key="b", subject="Second notice")
    hidden = send(other, key="c", subject="Someone else's notice")
    client.force_login(user)

    page = client.get(reverse("families:inbox"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "First notice" in text and "Second notice" in text
    assert "Someone else" not in text
    assert page.context["unread"] == 2 and page.context["unread_notifications"] == 2

    response = client.post(reverse("families:notification_open", args=[first.reference]))
    assert response.status_code == 302 and response["Location"] == first.link
    assert client.get(reverse("families:inbox")).context["unread_notifications"] == 1
    hidden_url = reverse("families:notification_open", args=[hidden.reference])
    assert client.post(hidden_url).status_code == 404
    hidden.refresh_from_db()
    assert hidden.read_at is None

    client.post(reverse("families:inbox"))
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert client.get(reverse("families:inbox")).context["unread_notifications"] == 0
    reads = AuditEntry.objects.filter(action="notifications.read", object_id=str(user.pk))
    assert reads.count() == 2


def test_the_inbox_is_for_signed_in_users(client):
    response = client.get(reverse("families:inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_notices_lost_with_redis_are_queued_again_and_sent_once(
    make_user, redis_queues, run_worker
):
    from datetime import timedelta

    lost = send(make_user(), key="lost")
    fresh = send(make_user(), key="fresh")
    Notification.objects.filter(pk=lost.pk).update(created_at=lost.created_at
                                                   - timedelta(hours=1))
    # Redis restarts empty: the queued emails are gone.
    redis_queues["notify"].connection.flushdb()
    assert notifications.notifications_requeue_unsent() == 1  # the fresh one is left alone
    assert notifications.notifications_requeue_unsent() == 0  # already back in the queue
    # The worker finds Redis emptied (reconcile's marker is gone) and reconciles at once,
    # without the grace: the fresh notice is queued too, and each is sent once.
    run_worker(("notify",))
    assert sorted(m.to for m in mail.outbox) == sorted(
        [[lost.recipient.email], [fresh.recipient.email]])
    assert notifications.notifications_requeue_unsent(grace=timedelta(0)) == 0
    run_worker(("notify",))
    assert len(mail.outbox) == 2
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert fresh.pk != lost.pk


def test_a_subject_with_a_newline_is_sent_on_one_line(make_user, redis_queues, run_worker):
    """A province typed with a line break once broke the volunteers' email for good."""
    user = make_user()
    notice = send(user, subject="New candidate: Shaanxi\nBcc: someone@example.org\r\x00 Xi'an")
    assert notice.subject == "New candidate: Shaanxi Bcc: someone@example.org Xi'an"
    run_worker(("notify",))
    assert [message.subject for message in mail.outbox] == [notice.subject]
    assert mail.outbox[0].recipients() == [user.email]
    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.email_attempts == 1

    # A row stored before subjects were cleaned is sent on one line too.
    old = send(user, key="old")
    Notification.objects.filter(pk=old.pk).update(subject="Line one\nline two")
    run_worker(("notify",))
    assert mail.outbox[-1].subject == "Line one line two"


def _run_until_settled(queue, run_worker, rounds: int = 10) -> None:
    """Runs the email job and each scheduled retry at once, without the back-off waits."""
    registry = ScheduledJobRegistry(queue=queue)
    for _ in range(rounds):
        run_worker(("notify",))
        waiting = registry.get_job_ids()
        if not waiting:
            return
        for job_id in waiting:
            registry.remove(job_id)
            queue.enqueue_job(queue.fetch_job(job_id))


def test_an_email_that_keeps_failing_is_given_up_and_shown_in_the_admin(
    make_user, redis_queues, run_worker, settings, client
):
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    notice = send(make_user())
    kept = send(make_user(), key="fine")
    Notification.objects.filter(pk=kept.pk).update(emailed_at="2026-01-01T00:00:00Z")
    queue = django_rq.get_queue("notify")
    _run_until_settled(queue, run_worker)

    notice.refresh_from_db()
    assert notice.email_attempts == 3
    assert notice.email_given_up_at is not None and notice.emailed_at is None
    assert "the mail server is down" in notice.email_error
    assert queue.fetch_job(f"notification-email-{notice.pk}").get_status() == "finished"
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == []
    # Reconcile leaves it alone, however often it runs; the job does nothing more.
    assert notifications.notifications_requeue_unsent(grace=timedelta(0)) == 0
    assert jobs.send_notification_email(notice.pk) is False
    notice.refresh_from_db()
    assert notice.email_attempts == 3

    # The admin lists given-up emails and tries them again once the server is back.
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:families_notification_changelist")
    page = client.get(changelist, {"email_given_up_at__isempty": "0"})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [notice]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(changelist, {
        "action": "retry_notification_emails", "_selected_action": [notice.pk, kept.pk],
    })
    assert response.status_code == 302
    notice.refresh_from_db()
    assert (notice.email_attempts, notice.email_given_up_at, notice.email_error) == (0, None, "")
    run_worker(("notify",))
    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.email_attempts == 1
    assert [message.to for message in mail.outbox] == [[notice.recipient.email]]
    assert AuditEntry.objects.filter(action="notification.email_retried").count() == 1
