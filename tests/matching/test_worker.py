"""The face worker loads the model once per process and keeps it for every job."""

from __future__ import annotations

import pytest
from rq.job import Job

from families import services as family_services
from families.models import Photo, Sex

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_loads_the_model_once_for_two_jobs(
    make_user, photo_bytes, redis_queues, worker_process
):
    family = make_user()
    case = family_services.case_create(
        actor=family, publish=True,
        fields={
            "given_name": "Lan", "sex": Sex.FEMALE, "birth_year_min": 1990,
            "birth_year_max": 1991, "missing_date": "1993-05-01",
            "missing_province": "Sichuan", "contact_name": "Wang",
        },
    )
    photos = [
        family_services.photo_add(
            actor=family, case=case, data=photo_bytes(name), kind=Photo.Kind.CHILDHOOD
        )
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


def test_a_stop_request_during_reconcile_stops_the_worker(redis_queues, monkeypatch):
    """SIGTERM raises StopRequested wherever the worker is; reconcile must not swallow it."""
    import django_rq
    from rq.exceptions import StopRequested

    from matching import services
    from matching.worker import FaceWorker

    def stop_requested(**kwargs):
        raise StopRequested

    def outage(**kwargs):
        raise ConnectionError("database away")

    worker = FaceWorker([redis_queues["match"]], connection=django_rq.get_connection("match"))
    monkeypatch.setattr(services, "reconcile_pending", stop_requested)
    with pytest.raises(StopRequested):
        worker.run_maintenance_tasks()
    monkeypatch.setattr(services, "reconcile_pending", outage)
    worker.run_maintenance_tasks()  # an outage is logged, and the worker carries on
