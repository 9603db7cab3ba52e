"""Face workers scale out: two worker processes, each with its own working and temporary
folder (as on two machines), sharing one Redis and one database, split a batch of photos
between them; every job runs exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Worker
from rq.job import Job

from families.models import Photo, Sex
from matching.models import Face, MatchJob
from tests import builders
from tests.conftest import BASE_DIR, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

PHOTOS = ("img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg", "img5.jpg", "img6.jpg",
          "img7.jpg", "img8.jpg", "img9.jpg", "img10.jpg", "img12.jpg", "img13.jpg")


def _start_worker(folder: Path, media_root: Path) -> subprocess.Popen:
    """``manage.py rqworker`` on the face queue, started in ``folder`` with its own TMPDIR."""
    (folder / "tmp").mkdir(parents=True)
    env = worker_environment(media_root)
    env["TMPDIR"] = str(folder / "tmp")
    return subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "rqworker",
         "--worker-class", "reunion.worker.PortalWorker", "face"],
        env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_workers_on_two_folders_split_the_jobs_and_run_each_once(
    make_user, photo_bytes, media_root, redis_queues, tmp_path
):
    face_queue = redis_queues["face"]
    workers = {name: _start_worker(tmp_path / name, media_root) for name in ("a", "b")}
    try:
        # Each worker registers with Redis once its model is loaded, ready for jobs.
        _wait_for(
            lambda: len(Worker.all(queue=face_queue)) == 2
            or any(w.poll() is not None for w in workers.values()),
            timeout=300, what="both workers to load the model",
        )
        assert all(w.poll() is None for w in workers.values()), "a worker stopped early"
        for name, worker in workers.items():  # each runs in its own folders
            assert Path(f"/proc/{worker.pid}/cwd").resolve() == (tmp_path / name).resolve()
            environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
            assert f"TMPDIR={tmp_path / name / 'tmp'}".encode() in environ

        case = builders.case(family=make_user(), sex=Sex.FEMALE, birth_year_min=1990,
                             birth_year_max=1991, missing_date="1993-05-01")
        photos = [builders.photo(data=photo_bytes(name), case=case, age_in_photo=None)
                  for name in PHOTOS]
        jobs = MatchJob.objects.filter(kind=MatchJob.Kind.PROCESS_PHOTO, photo__in=photos)
        assert jobs.count() == len(PHOTOS)
        _wait_for(
            lambda: jobs.filter(status=MatchJob.Status.DONE).count() == len(PHOTOS)
            or jobs.filter(status=MatchJob.Status.FAILED).exists(),
            timeout=600, what="every photo to be processed",
        )
    finally:
        outputs = {}
        for name, worker in workers.items():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            outputs[name], _ = worker.communicate(timeout=120)

    assert not jobs.filter(status=MatchJob.Status.FAILED).exists(), outputs
    # Each job ran once: one attempt recorded, one execution result in RQ, one face per photo.
    assert list(jobs.values_list("attempts", flat=True)) == [1] * len(PHOTOS)
    pids = {worker.pid for worker in workers.values()}
    ran_in = []
    for job in jobs:
        rq_job = Job.fetch(job.rq_job_id, connection=face_queue.connection)
        executions = rq_job.results()
        assert len(executions) == 1, (job.rq_job_id, outputs)
        ran_in.append(executions[0].return_value["pid"])
    assert len(ran_in) == len(PHOTOS) and set(ran_in) <= pids
    assert set(ran_in) == pids, f"both workers took some of the jobs: {ran_in}"
    for photo in photos:
        photo.refresh_from_db()
        assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert Face.objects.filter(photo__in=photos).count() == len(PHOTOS)
