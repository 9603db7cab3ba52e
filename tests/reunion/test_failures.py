"""Failures: a worker killed mid-job, Redis emptied or restarted, the database gone for a
moment. Each time, nothing that was accepted is lost: ``reconcile`` finds the unfinished work
in the database and queues it again, pages answer 503 with a message, and jobs retry.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rq.registry import StartedJobRegistry

from families import services as family_services
from families.models import AuditEntry, Photo
from matching.models import Candidate, Face, MatchJob
from matching.services import reconcile_pending
from reunion import embedded_redis
from reunion.middleware import server_error
from tests import builders
from tests.waiting import lock_row, make_due, someone_waits_for_a_lock, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timedelta(0)  # reconcile everything, however young


def _unfinished() -> dict[str, int]:
    return {
        "jobs": MatchJob.objects.exclude(status=MatchJob.Status.DONE).count(),
        "photos": Photo.objects.filter(face_state__in=(
            Photo.FaceState.WAITING, Photo.FaceState.PROCESSING, Photo.FaceState.FAILED
        )).count(),
    }


def _work(*, queues: tuple[str, ...] = ("face", "match", "notify"), scheduler: bool = False):
    """A real face worker in this process, until the queues are empty."""
    from reunion.worker import PortalWorker

    worker = PortalWorker([django_rq.get_queue(name) for name in queues],
                        connection=django_rq.get_connection("face"))
    worker.work(burst=True, with_scheduler=scheduler)


# --- A worker killed mid-job ----------------------------------------------------------


def test_a_worker_killed_mid_job_loses_nothing(
    make_user, photo_bytes, redis_queues, worker_process
):
    family = make_user()
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    job = MatchJob.objects.get(photo=photo)

    holder = lock_row("families_photo", photo.pk)
    try:
        worker = worker_process(burst=False, queues=("face", "match"))
        wait_for(someone_waits_for_a_lock, timeout=240, what="the worker to reach the photo")
        job.refresh_from_db()
        assert job.status == MatchJob.Status.RUNNING
        started = StartedJobRegistry(queue=redis_queues["face"])
        assert job.rq_job_id in started.get_job_ids()

        worker.send_signal(signal.SIGKILL)  # mid-job: no clean-up, no failure handling
        worker.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()

    # RQ still believes the job runs; no queue holds it; the database says "running".
    assert redis_queues["face"].count == 0
    assert job.rq_job_id in StartedJobRegistry(queue=redis_queues["face"]).get_job_ids()
    assert _unfinished() == {"jobs": 1, "photos": 1}

    report = reconcile_pending(grace=NOW)
    assert report["requeued"] == 1
    assert redis_queues["face"].count == 1
    assert AuditEntry.objects.filter(action="match_job.requeued", object_id=str(job.pk)).exists()
    assert reconcile_pending(grace=NOW)["requeued"] == 0, "queued once, not twice"

    _work()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert Face.objects.get(photo=photo).embedding is not None
    assert _unfinished() == {"jobs": 0, "photos": 0}


# --- Redis emptied --------------------------------------------------------------------


def test_redis_emptied_twice_then_reconcile_finishes_everything(
    make_user, photo_bytes, redis_queues
):
    family, seeker = make_user(), make_user()
    case, posting = builders.case(family=family), builders.seeker_posting(seeker=seeker)
    child = builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    # the same person, at the same age
    adult = builders.photo(data=photo_bytes("img2.jpg"), posting=posting, age_in_photo=30)
    redis = django_rq.get_connection("face")
    assert redis_queues["face"].count == 2

    redis.flushdb()  # the photos' jobs are gone
    assert redis_queues["face"].count == 0
    report = reconcile_pending(grace=NOW)
    assert report["requeued"] == 2
    assert redis_queues["face"].count == 2

    _work(queues=("face",))
    assert Face.objects.filter(embedding__isnull=False, searchable=True).count() == 2
    match_jobs = MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE)
    assert match_jobs.count() == 2 and redis_queues["match"].count == 2

    redis.flushdb()  # now the match jobs are gone too
    # ...and one face's match job row never got written (a crash between two steps).
    adult_face = Face.objects.get(photo=adult)
    match_jobs.filter(face=adult_face).delete()
    report = reconcile_pending(grace=NOW)
    assert (report["requeued"], report["faces_scheduled"]) == (1, 1)
    assert redis_queues["match"].count == 2

    _work()
    assert _unfinished() == {"jobs": 0, "photos": 0}
    assert Candidate.objects.filter(case=case, seeker_posting=posting).exists()
    child.refresh_from_db()
    assert child.face_state == Photo.FaceState.FACE_FOUND


def test_reconcile_leaves_young_and_live_work_alone(make_user, photo_bytes, redis_queues):
    family = make_user()
    builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    assert reconcile_pending()["requeued"] == 0, "younger than the grace period"
    report = reconcile_pending(grace=NOW)
    assert (report["requeued"], report["in_queue"]) == (0, 1), "its job is still queued"
    assert redis_queues["face"].count == 1


def test_reconcile_command_reports_what_it_queued(make_user, photo_bytes, redis_queues, capsys):
    family = make_user()
    builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    MatchJob.objects.update(created_at=timezone.now() - timedelta(hours=1))
    django_rq.get_connection("face").flushdb()
    call_command("reconcile")
    assert "Queued again: 1 match job(s)" in capsys.readouterr().out
    assert redis_queues["face"].count == 1


def test_reconcile_queues_again_a_notice_whose_email_redis_lost(make_user, redis_queues):
    family = make_user()
    notice = family_services.notification_send(
        recipient=family, kind="candidate_created", subject="A possible match is under review",
        body="A volunteer is looking at it.", dedupe_key=f"test-lost-email-{family.pk}",
    )
    django_rq.get_connection("notify").flushdb()  # Redis lost the email job
    assert redis_queues["notify"].count == 0

    assert reconcile_pending(grace=NOW)["emails_requeued"] == 1
    assert redis_queues["notify"].job_ids == [f"notification-email-{notice.pk}"]
    assert reconcile_pending(grace=NOW)["emails_requeued"] == 0, "its job is queued now"


# --- Redis restarted --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart empties it."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or str(embedded_redis.server_binary()),
             "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        wait_for(lambda: self._answers(client), timeout=10, what="redis-server")

    @staticmethod
    def _answers(client) -> bool:
        import redis

        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path, monkeypatch, redis_queues) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        embedded_redis.server_binary()  # the packaged one (raises when not installed)
    server = PrivateRedis(tmp_path)
    server.start()
    from django_rq import settings as rq_settings

    for name, config in rq_settings.QUEUES.items():
        monkeypatch.setitem(rq_settings.QUEUES, name, {**config, "URL": server.url})
    yield server
    server.kill()


def test_redis_restarted_uploads_still_accepted_and_nothing_lost(
    make_user, photo_bytes, private_redis, client, caplog
):
    family = make_user()
    case = builders.case(family=family)
    before = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    assert django_rq.get_queue("face").count == 1

    private_redis.kill()
    # accepted while Redis is down
    during = builders.photo(data=photo_bytes("img4.jpg"), case=case)
    assert "left for reconcile" in caplog.text
    assert MatchJob.objects.get(photo=during).status == MatchJob.Status.QUEUED
    assert client.get(reverse("families:case_list")).status_code == 200

    private_redis.start()  # back, and empty
    assert django_rq.get_queue("face").count == 0
    assert reconcile_pending(grace=NOW)["requeued"] == 2
    _work()
    for photo in (before, during):
        photo.refresh_from_db()
        assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert _unfinished() == {"jobs": 0, "photos": 0}


# --- The database unreachable for a moment ----------------------------------------------


def test_pages_answer_503_with_a_message_while_the_database_is_away(
    make_user, client, media_root, database_outage
):
    family = make_user()
    case = builders.case(family=family)
    client.force_login(family)
    pages = [reverse("families:case_list"), reverse("families:case_detail", args=[case.pk]),
             reverse("families:dashboard")]
    assert [client.get(url).status_code for url in pages] == [200, 200, 200]

    with database_outage():
        for url in pages:
            response = client.get(url)
            assert response.status_code == 503, url
            assert b"briefly unavailable" in response.content
            assert b"try again in a minute" in response.content
            assert response["Retry-After"] == "30"
        upload = client.post(reverse("families:case_photos", args=[case.pk]), {"kind": "x"})
        assert upload.status_code == 503
    assert not any(media_root.rglob("*.jpg")), "nothing half-stored"

    assert [client.get(url).status_code for url in pages] == [200, 200, 200]


def test_a_database_error_outside_a_view_is_a_503_too():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert b"briefly unavailable" in response.content
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


def test_jobs_retry_after_the_database_comes_back(
    make_user, photo_bytes, redis_queues, database_outage
):
    from rq.job import Job, JobStatus

    family = make_user()
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    job = MatchJob.objects.get(photo=photo)
    face_queue = redis_queues["face"]

    with database_outage():
        _work(queues=("face",))  # the job fails: no database
        rq_job = Job.fetch(job.rq_job_id, connection=face_queue.connection)
        assert rq_job.get_status() == JobStatus.SCHEDULED, "RQ will retry it"
        assert rq_job.retries_left == 2

    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.WAITING
    make_due(face_queue.scheduled_job_registry, job.rq_job_id)  # the retry's time comes
    _work(scheduler=True)
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert _unfinished() == {"jobs": 0, "photos": 0}


def test_reconcile_command_fails_clearly_when_redis_is_down(monkeypatch):
    from django.core.management.base import CommandError
    from django_rq import settings as rq_settings

    for name, config in rq_settings.QUEUES.items():
        monkeypatch.setitem(rq_settings.QUEUES, name,
                            {**config, "URL": f"redis://127.0.0.1:{_free_port()}/1"})
    with pytest.raises(CommandError, match="Redis is unavailable, nothing was queued"):
        call_command("reconcile")



def test_reconcile_gives_up_on_a_job_that_keeps_failing(make_user, photo_bytes, redis_queues):
    """A photo that failed every attempt stays failed for an admin, instead of looping."""
    from matching.services import RECONCILE_MAX_ATTEMPTS

    family = make_user()
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    MatchJob.objects.filter(photo=photo).update(
        status=MatchJob.Status.FAILED, attempts=RECONCILE_MAX_ATTEMPTS, error="broken file"
    )
    django_rq.get_connection("face").flushdb()
    report = reconcile_pending(grace=NOW)
    assert (report["requeued"], report["given_up"], report["photos_scheduled"]) == (0, 1, 0)
    assert redis_queues["face"].count == 0
    MatchJob.objects.filter(photo=photo).update(attempts=RECONCILE_MAX_ATTEMPTS - 1)
    assert reconcile_pending(grace=NOW)["requeued"] == 1
