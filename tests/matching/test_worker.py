"""The face worker loads the model once per process and keeps it for every job, and its
reconcile (at start-up and at every maintenance) neither swallows a stop request nor dies of
an outage."""

from __future__ import annotations

import logging
import signal
import time
from datetime import timedelta

import django_rq
import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from rq.job import Job

from families.models import Photo, Sex
from matching import services
from matching.models import MatchJob
from reunion.worker import PortalWorker
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

RECONCILE_LOCK = "reunion:reconcile"


def test_worker_loads_the_model_once_for_two_jobs(
    make_user, photo_bytes, redis_queues, worker_process
):
    family = make_user()
    case = builders.case(family=family, sex=Sex.FEMALE, birth_year_min=1990,
                         birth_year_max=1991, missing_date="1993-05-01")
    photos = [
        builders.photo(data=photo_bytes(name), case=case, age_in_photo=None)
        for name in ("img2.jpg", "img3.jpg")
    ]
    face_queue = redis_queues["face"]
    job_ids = list(face_queue.job_ids)
    assert len(job_ids) == 2

    process = worker_process(queues=("face",))
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output

    results = [Job.fetch(job_id, connection=face_queue.connection).return_value()
               for job_id in job_ids]
    assert all(result is not None for result in results), output
    assert results[0]["pid"] == results[1]["pid"], "both jobs ran in the worker's own process"
    assert [result["model_loads"] for result in results] == [1, 1]
    assert output.count("face model loaded") == 1
    for photo in photos:
        photo.refresh_from_db()
        assert photo.face_state == Photo.FaceState.FACE_FOUND


# --- Reconcile inside the worker --------------------------------------------------------


def _lost_photo_job(make_user, photo_bytes, redis_queues) -> MatchJob:
    """A photo accepted an hour ago whose job Redis lost: only reconcile can find it."""
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=make_user()))
    redis_queues["face"].connection.flushdb()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    MatchJob.objects.filter(photo=photo).update(created_at=an_hour_ago)
    Photo.objects.filter(pk=photo.pk).update(uploaded_at=an_hour_ago)
    return MatchJob.objects.get(photo=photo)


def _sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_stop_request_during_reconcile_stops_the_worker_and_loses_no_job(
    make_user, photo_bytes, redis_queues, worker_process
):
    """SIGTERM while reconcile runs (here: while it waits for a row another transaction
    holds) stops the worker promptly, as RQ would; the job reconcile was queueing again is
    not lost, and reconcile's lock is free for the next run."""
    job = _lost_photo_job(make_user, photo_bytes, redis_queues)
    redis = redis_queues["face"].connection
    holder = psycopg2.connect(**connection.get_connection_params())
    try:
        cursor = holder.cursor()
        cursor.execute("SELECT id FROM matching_matchjob WHERE id = %s FOR UPDATE", [job.pk])
        worker = worker_process(burst=False, queues=("match",))
        _wait_for(lambda: _sessions_waiting_on_a_lock() == 1, timeout=120,
                  what="the worker's reconcile to wait for the held row")
        assert redis.exists(RECONCILE_LOCK), "the worker is inside reconcile"
        worker.send_signal(signal.SIGTERM)
    finally:
        holder.rollback()
        holder.close()

    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "warm shut down requested" in output
    assert "reconcile failed" not in output, "the stop request was not taken for a failure"
    assert not redis.exists(RECONCILE_LOCK), "reconcile's lock is released"

    # No job is lost: queued again by the stopped run, or found by the next one.
    job.refresh_from_db()
    assert job.status in (MatchJob.Status.QUEUED, MatchJob.Status.FAILED), job.status
    if job.rq_job_id not in redis_queues["face"].job_ids:
        assert services.reconcile_pending(grace=timedelta(0))["requeued"] == 1
        job.refresh_from_db()
    assert redis_queues["face"].job_ids == [job.rq_job_id]


def test_an_outage_during_reconcile_is_logged_and_the_next_run_catches_up(
    make_user, photo_bytes, redis_queues, database_outage, caplog
):
    """A database outage fails reconcile, not the worker: it is logged, the lock is released,
    and the next maintenance queues the lost job again."""
    job = _lost_photo_job(make_user, photo_bytes, redis_queues)
    redis = django_rq.get_connection("match")
    worker = PortalWorker([redis_queues["match"]], connection=redis)

    with database_outage(), caplog.at_level(logging.ERROR, logger="reunion.worker"):
        worker.run_maintenance_tasks()
    assert "reconcile failed; it runs again at the next maintenance" in caplog.text
    assert not redis.exists(RECONCILE_LOCK)
    assert redis_queues["face"].count == 0

    worker.run_maintenance_tasks()
    job.refresh_from_db()
    assert job.status == MatchJob.Status.QUEUED
    assert redis_queues["face"].job_ids == [job.rq_job_id]
