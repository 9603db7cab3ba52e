"""After (or before) a load run: waits for the worker to drain, then reports.

    report.py --wait-idle 120                 # wait until every queue and photo is done
    report.py --since ISO --stats CSV --out DIR  # the numbers of a run, as JSON and Markdown

"Keeping up" is measured on the photos uploaded during the run: the time from
upload to the end of face processing, and to the end of their matching, and how
long the queues took to empty after the last user stopped.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import setup

PENDING_PHOTO = ("waiting", "processing")


def _idle() -> tuple[bool, dict]:
    import django_rq
    from django.conf import settings

    from families.models import Photo
    from matching.models import MatchJob

    queued = {name: django_rq.get_queue(name).count
              for name in (settings.FACE_QUEUE, settings.MATCH_QUEUE, settings.NOTIFY_QUEUE)}
    started = {name: django_rq.get_queue(name).started_job_registry.count for name in queued}
    pending_photos = Photo.objects.filter(face_state__in=PENDING_PHOTO).count()
    pending_jobs = MatchJob.objects.filter(status__in=("queued", "running")).count()
    state = {"queued": queued, "started": started, "pending_photos": pending_photos,
             "pending_match_jobs": pending_jobs}
    idle = not any(queued.values()) and not any(started.values()) and not pending_photos \
        and not pending_jobs
    return idle, state


def wait_idle(timeout: float) -> float:
    """Seconds until the worker had nothing left; raises SystemExit on timeout."""
    started = time.monotonic()
    while True:
        idle, state = _idle()
        if idle:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            sys.exit(f"the worker did not drain within {timeout:.0f} s: {state}")
        time.sleep(1)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)

    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2)

    return {"n": len(values), "p50": pct(50), "p95": pct(95), "max": round(values[-1], 2),
            "mean": round(statistics.fmean(values), 2)}


def processing(since: datetime) -> dict:
    from django.db.models import Max

    from families.models import Photo
    from matching.models import MatchJob

    photos = Photo.objects.filter(uploaded_at__gte=since)
    face_seconds, match_seconds = [], []
    for photo in photos:
        job = MatchJob.objects.filter(photo=photo, kind="process_photo", face=None,
                                      status="done").order_by("finished_at").first()
        if job:
            face_seconds.append((job.finished_at - photo.uploaded_at).total_seconds())
        matched = MatchJob.objects.filter(face__photo=photo, kind="match_face", status="done"
                                          ).aggregate(last=Max("finished_at"))["last"]
        if matched:
            match_seconds.append((matched - photo.uploaded_at).total_seconds())
    states: dict[str, int] = {}
    for state in photos.values_list("face_state", flat=True):
        states[state] = states.get(state, 0) + 1
    return {"photos_uploaded": photos.count(), "face_states": states,
            "upload_to_faces_s": _percentiles(face_seconds),
            "upload_to_matched_s": _percentiles(match_seconds)}


def http_stats(path: Path) -> list[dict]:
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({
                "name": row["Name"] if row["Name"] != "Aggregated" else "all requests",
                "method": row["Type"], "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50": row["50%"], "p95": row["95%"], "p99": row["99%"],
                "max": round(float(row["Max Response Time"])),
            })
    return rows


def markdown(report: dict) -> str:
    lines = ["| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in report["http"]:
        label = row["name"] if row["name"] == "all requests" else f"{row['method']} {row['name']}"
        lines.append(f"| {label} | {row['requests']} | {row['failures']} | {row['rps']} | "
                     f"{row['p50']} | {row['p95']} | {row['p99']} | {row['max']} |")
    work = report["processing"]
    faces, matched = work["upload_to_faces_s"], work["upload_to_matched_s"]
    lines += [
        "",
        f"Photos uploaded during the run: {work['photos_uploaded']} "
        f"(final face states: {work['face_states']}).",
        f"Upload → faces stored: p50 {faces.get('p50')} s, p95 {faces.get('p95')} s, "
        f"max {faces.get('max')} s. Upload → matched: p50 {matched.get('p50')} s, "
        f"p95 {matched.get('p95')} s, max {matched.get('max')} s.",
        f"Queues empty {report['drain_seconds']:.0f} s after the last user stopped.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wait-idle", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--since")
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    setup()
    drained = wait_idle(args.wait_idle) if args.wait_idle is not None else 0.0
    if not args.since:
        print(f"idle after {drained:.0f} s")
        return
    since = datetime.fromisoformat(args.since)
    report = {"drain_seconds": drained, "processing": processing(since),
              "http": http_stats(args.stats)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "summary.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
