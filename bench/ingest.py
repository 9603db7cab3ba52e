"""Ingest throughput: photos per second through the real services and real face workers.

Every photo of ../shared/faces (61) is uploaded through ``families.services.photo_add`` (the
upload checks and normalisation, the Photo row, the match job queued on the ``face``
queue), then processed by 1, then 2 face workers (``manage.py rqworker --worker-class
reunion.worker.PortalWorker face``, separate processes, each its own working and temporary
folder) started after the uploads, in burst mode. Throughput is the photos over the time
from the first job's start to the last job's end (``MatchJob.started_at/finished_at``): the
workers' model loading is left out, as a running worker has its model loaded. In the same
run, plain ``DeepFace.represent(path, model_name="Dlib", detector_backend="dlib")`` on
the same files, one after the other in one process (the baseline).

Runs in its own database (``reunion_bench_ingest`` on the embedded server), its own Redis
database (``--redis-url``, refused unless empty) and a temporary media folder.

    .venv/bin/python bench/ingest.py --repeat 1 --plain-photos 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _django import FACES_DIR, OUT_DIR, ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--database", default="reunion_bench_ingest")
    parser.add_argument("--repeat", type=int, default=2, help="batches per worker count")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--plain-photos", type=int, default=0,
                        help="time plain DeepFace on every n-th photo only (0: all)")
    args = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="ingest-media-"))
    os.environ.update({
        "REUNION_DB_NAME": args.database, "REDIS_URL": args.redis_url,
        "MEDIA_ROOT": str(media), "DEBUG": "true", "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    from _django import setup

    setup()
    import csv

    import django_rq
    from django.core.management import call_command

    redis = django_rq.get_connection("face")
    if redis.dbsize():
        raise SystemExit(f"{args.redis_url} is not empty: give an unused Redis database.")
    call_command("migrate", verbosity=0)

    from families import services as family_services
    from families.models import Photo, User
    from matching import faces
    from matching.models import MatchJob
    from tests import builders

    with open(FACES_DIR / "identities.csv", newline="") as handle:
        names = sorted(r["file"] for r in csv.DictReader(handle))
    family = User.objects.create_user(email=f"ingest-{time.time_ns()}@example.org")
    case = builders.case(family=family)
    report = {"photos_per_batch": len(names), "load": [os.getloadavg()], "rows": []}

    def batch(worker_count: int) -> dict:
        started = time.perf_counter()
        photos = [family_services.photo_add(actor=family, data=(FACES_DIR / n).read_bytes(),
                                            case=case, kind=Photo.Kind.CHILDHOOD,
                                            age_in_photo=2) for n in names]
        upload_seconds = time.perf_counter() - started
        jobs = MatchJob.objects.filter(kind=MatchJob.Kind.PROCESS_PHOTO, photo__in=photos)
        assert redis.llen("rq:queue:face") == len(names)
        work = Path(tempfile.mkdtemp(prefix="ingest-workers-"))
        processes = []
        for number in range(worker_count):
            folder = work / f"worker-{number}"
            (folder / "tmp").mkdir(parents=True)
            processes.append(subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "rqworker", "--burst",
                 "--worker-class", "reunion.worker.PortalWorker", "face"],
                cwd=folder, env={**os.environ, "TMPDIR": str(folder / "tmp")},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        for process in processes:
            process.wait()
        done = jobs.filter(status=MatchJob.Status.DONE)
        first = min(done.values_list("started_at", flat=True))
        last = max(done.values_list("finished_at", flat=True))
        seconds = (last - first).total_seconds()
        row = {
            "workers": worker_count, "photos": done.count(), "seconds": seconds,
            "photos_per_second": done.count() / seconds,
            "upload_seconds_per_photo": upload_seconds / len(names),
            "faces_found": Photo.objects.filter(
                pk__in=[p.pk for p in photos], face_state=Photo.FaceState.FACE_FOUND
            ).count(),
        }
        redis.delete("rq:queue:match")  # matching is not measured here
        print(row, flush=True)
        return row

    def plain() -> dict:
        engine = faces.get_engine()
        engine.represent_plain(str(FACES_DIR / names[0]))  # warm
        chosen = names[::args.plain_photos] if args.plain_photos else names
        started = time.perf_counter()
        for name in chosen:
            engine.represent_plain(str(FACES_DIR / name))
        seconds = time.perf_counter() - started
        row = {"workers": "plain DeepFace, 1 process", "photos": len(chosen), "seconds": seconds,
               "photos_per_second": len(chosen) / seconds}
        print(row, flush=True)
        return row

    counts = [int(c) for c in args.workers.split(",")]
    for _ in range(args.repeat):  # interleaved, so the machine's load hits all alike
        report["rows"].append(plain())
        for count in counts:
            report["rows"].append(batch(count))
    report["load"].append(os.getloadavg())
    summary = {}
    for row in report["rows"]:
        summary.setdefault(str(row["workers"]), []).append(row["photos_per_second"])
    report["median_photos_per_second"] = {k: statistics.median(v) for k, v in summary.items()}
    print(report["median_photos_per_second"], "load", report["load"])
    (OUT_DIR / "ingest.json").write_text(json.dumps(report, indent=2, default=str))
    redis.flushdb()


if __name__ == "__main__":
    main()
