"""A real job on real Redis, run by a real RQ worker, stores a real embedding."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection, transaction
from rq.registry import StartedJobRegistry

from families.models import AuditEntry, Photo, Sex
from matching import queueing, services
from matching.models import Candidate, Face, MatchJob
from reunion.worker import PortalWorker
from tests import builders
from tests.waiting import make_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_photo_job_stores_a_128_number_embedding_in_pgvector(
    make_user, photo_bytes, redis_queues, run_worker
):
    family = make_user()
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family))
    assert redis_queues["face"].count == 1

    run_worker()

    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    face = Face.objects.get(photo=photo)
    assert face.model_name == "SFace"
    assert len(face.embedding) == 128 and len(face.embedding_dlib) == 128
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT vector_dims(embedding_dlib), pg_typeof(embedding_dlib)::text "
            "FROM matching_face WHERE id = %s", [face.pk],
        )
        assert cursor.fetchone() == (128, "vector")
        cursor.execute(
            "SELECT vector_dims(embedding), pg_typeof(embedding)::text FROM matching_face "
            "WHERE id = %s", [face.pk],
        )
        assert cursor.fetchone() == (128, "vector")
    assert MatchJob.objects.get(photo=photo, kind=MatchJob.Kind.PROCESS_PHOTO).status == "done"


def test_photo_with_several_faces_waits_for_a_person(make_user, photo_bytes, run_worker):
    family = make_user()
    photo = builders.photo(data=photo_bytes("couple.jpg"), case=builders.case(family=family),
                           age_in_photo=None)
    run_worker()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.SEVERAL_FACES
    detected = Face.objects.filter(photo=photo)
    assert detected.count() >= 2
    assert not detected.filter(embedding__isnull=False).exists()


# --- A worker killed in the middle of a match job -------------------------------------

PEOPLE = {  # name → (sex, year of birth, photos): the first photo is the case's
    "person01": (Sex.FEMALE, 1975, ["img1.jpg", "img2.jpg", "img4.jpg"]),
    "person02": (Sex.FEMALE, 1969, ["img3.jpg", "img12.jpg"]),
    "person06": (Sex.MALE, 1971, ["img18.jpg", "img19.jpg"]),
}


def _candidate_rows() -> list[tuple]:
    return sorted(
        (c.case_id, c.seeker_posting_id, c.case_face_id, c.seeker_face_id, c.model_version,
         round(c.best_distance, 6), round(c.score, 6), c.age_gap_years)
        for c in Candidate.objects.all()
    )


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_during_a_match_job_loses_nothing(
    make_user, photo_bytes, redis_queues, run_worker, worker_process
):
    cases, seekers = {}, {}
    for person, (sex, born, names) in PEOPLE.items():
        family, adult = make_user(), make_user()
        cases[person] = builders.case(
            family=family, given_name=person, sex=sex, birth_year_min=born,
            birth_year_max=born, missing_date=f"{born + 3}-01-01",
        )
        seekers[person] = builders.seeker_posting(
            seeker=adult, display_name=person, sex=sex, birth_year_min=born - 2,
            birth_year_max=born + 2,
        )
        builders.photo(data=photo_bytes(names[0]), case=cases[person], age_in_photo=None)
        for name in names[1:]:
            builders.photo(data=photo_bytes(name), posting=seekers[person], age_in_photo=None)
    run_worker(("face",))
    match_queue = redis_queues["match"]
    assert match_queue.count == 7 and not Candidate.objects.exists()

    # Hold the first candidate's row, uncommitted, so the worker that reaches it
    # is stopped inside its transaction, part-way through writing candidates.
    first = cases["person01"], seekers["person01"]
    with transaction.atomic():
        Candidate.objects.create(
            case=first[0], seeker_posting=first[1], best_distance=1, score=-1,
            model_version="held by the test",
        )
        worker = worker_process(queues=("match",))
        _wait_for(
            lambda: _sessions_waiting_on_a_lock() == 1, timeout=120,
            what="the worker to block on the held row",
        )
        running = MatchJob.objects.get(status=MatchJob.Status.RUNNING)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        transaction.set_rollback(True)

    assert worker.returncode == -signal.SIGKILL
    # The killed job is left "started" in RQ and "running" here: nothing says it finished.
    started = StartedJobRegistry(queue=match_queue)
    assert running.rq_job_id in started.get_job_ids(cleanup=False)
    running.refresh_from_db()
    assert running.status == MatchJob.Status.RUNNING

    # Once its heartbeat has expired, any worker's registry cleanup (at start-up and
    # every maintenance interval) finds the job abandoned and schedules its retry.
    heartbeat_ttl = queueing.MATCH_JOB_TIMEOUT + 60
    started.cleanup(timestamp=time.time() + heartbeat_ttl + 1)
    assert running.rq_job_id in match_queue.scheduled_job_registry.get_job_ids()
    make_due(match_queue.scheduled_job_registry, running.rq_job_id)
    PortalWorker([match_queue], connection=match_queue.connection).work(
        burst=True, with_scheduler=True
    )
    run_worker(("match",))

    assert match_queue.count == 0 and not started.get_job_ids()
    assert set(MatchJob.objects.values_list("status", flat=True)) == {MatchJob.Status.DONE}
    running.refresh_from_db()
    assert running.attempts == 2
    recovered = _candidate_rows()
    assert "held by the test" not in {row[4] for row in recovered}
    for person in PEOPLE:
        assert Candidate.objects.filter(case=cases[person], seeker_posting=seekers[person]).exists()
    created = AuditEntry.objects.filter(action="candidate.created")
    assert created.count() == Candidate.objects.count()

    # The same work done again from scratch, with no worker killed, ends the same.
    Candidate.objects.all().delete()
    for job in MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE).order_by("pk"):
        services.face_match(match_job_id=job.pk, face_id=job.face_id)
    assert _candidate_rows() == recovered


def _sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction: take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
