"""Partner bulk import: rows per second imported, photos per second embedded, memory.

Data: ``--rows`` found people (10,000 by default), one photo each, made from the 61
single-face photos of ../shared/faces (``identities.csv``): around the face the dlib
detector finds, a crop with a random margin and shift, a slight turn (up to 8 degrees),
brightness and contrast (0.85-1.15), a mirror every other time on average, resized to
280-480 px and saved as JPEG (quality 82-93). Every photo is drawn from its own seed
(``--seed``, row number), so any number of rows is a prefix of the same set; the photos
are kept under ``var/bench/partner_import/`` and reused by the next run, with the CSV and
the zip of each size. Making them is not timed.

Measured, each on a fresh database (dropped, created and migrated), own Redis database
(``--redis-url``, refused unless empty) and a temporary media folder:

- **baseline**: the per-posting path a partner would otherwise take, as the REST API
  does it, one row after the other: ``families.partners.services.partner_posting_save`` then
  ``families.services.photo_add`` (the HTTP layer left out), on the first
  ``--baseline-rows`` rows; rows/s. Then, on the same rows, the import with no web and
  no worker (``manage.py partner_import``, its own process): rows/s and its peak memory;
  and ``--profile-rows`` rows through ``partner_import_run`` under cProfile (the
  functions that take the time are printed and kept in the JSON).
- **import with 1, then 2 workers** (``--workers``): ``partner_import_start`` with the
  CSV and the zip (timed: the upload's side), then the workers, started as the portal
  runs them (``manage.py rqworker --worker-class reunion.worker.PortalWorker`` on the
  queues of ``settings.WORKER_QUEUES``, own processes, each its own working and
  temporary folder, not in burst mode: a worker that finds the queues empty waits for
  work, as the portal's do): the import's slices on ``import``, the photos' face jobs on
  ``face-bulk``, their match jobs on ``match``. Rows/s is the rows over the import's
  ``started_at`` to ``finished_at`` (the workers' model loading is before it). Photos/s
  is the photos whose face job finished over the first job's start to the last job's
  end (``MatchJob.started_at/finished_at``); it is also given for the jobs started
  after the import finished (the workers doing nothing but faces then). The workers
  are stopped once ``--embed-photos`` photos were embedded after the import finished
  (``--embed-all``: once every photo was); each worker's peak memory is its ``VmHWM``
  (``/proc/<pid>/status``) read just before it is stopped.

Ratios: the import's rows/s against the baseline's; 2 workers' photos/s against 1's.

    .venv/bin/python bench/partner_import.py --rows 10000 --embed-photos 1000
    .venv/bin/python bench/partner_import.py --rows 10000 --embed-all   # every photo
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _django import FACES_DIR, OUT_DIR, ROOT

DATA_DIR = OUT_DIR / "partner_import"
PROVINCES = ("Hebei", "Henan", "Shanxi", "Shandong", "Sichuan", "Yunnan", "Guangxi", "Anhui")
HEADER = ["reference", "name", "sex", "birth_year", "province", "notes", "photos", "photo_age"]


# --- The data ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """A face photo cut down around its face: the face's box within ``image``."""

    name: str
    image: Any  # PIL.Image.Image
    box: tuple[float, float, float, float]  # left, top, right, bottom


def load_sources() -> list[Source]:
    """The single-face photos of identities.csv, each cropped to 4 faces wide around its face."""
    import dlib
    import numpy as np
    from PIL import Image, ImageOps

    detector = dlib.get_frontal_face_detector()
    with open(FACES_DIR / "identities.csv", newline="") as handle:
        names = sorted(row["file"] for row in csv.DictReader(handle))
    sources = []
    for name in names:
        image = ImageOps.exif_transpose(Image.open(FACES_DIR / name)).convert("RGB")
        scale = min(1.0, 800 / max(image.size))
        small = image.resize((round(image.width * scale), round(image.height * scale)))
        found = detector(np.asarray(small), 1)
        if not found:
            print(f"  {name}: no face found by dlib, left out", flush=True)
            continue
        face = max(found, key=lambda r: r.width() * r.height())
        left, top = face.left() / scale, face.top() / scale
        right, bottom = face.right() / scale, face.bottom() / scale
        side = max(right - left, bottom - top)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        crop = (max(0, round(cx - 2 * side)), max(0, round(cy - 2 * side)),
                min(image.width, round(cx + 2 * side)), min(image.height, round(cy + 2 * side)))
        part = image.crop(crop)
        shrink = min(1.0, 260 / side)  # faces of at most 260 px: enough for a 480 px photo
        part = part.resize((max(1, round(part.width * shrink)),
                            max(1, round(part.height * shrink))), Image.Resampling.LANCZOS)
        box = ((left - crop[0]) * shrink, (top - crop[1]) * shrink,
               (right - crop[0]) * shrink, (bottom - crop[1]) * shrink)
        sources.append(Source(name=name, image=part, box=box))
    return sources


def make_photo(sources: list[Source], seed: int, number: int) -> bytes:
    """Photo ``number``: a source face with its own small transformations, as a JPEG."""
    from PIL import Image, ImageEnhance, ImageOps

    rng = random.Random(f"{seed}-{number}")
    source = sources[number % len(sources)]
    left, top, right, bottom = source.box
    side = max(right - left, bottom - top)
    margin = rng.uniform(0.5, 0.9)  # each side, in faces
    half = side * (0.5 + margin)
    cx = (left + right) / 2 + rng.uniform(-0.12, 0.12) * side
    cy = (top + bottom) / 2 + rng.uniform(-0.12, 0.12) * side
    angle = rng.uniform(-8, 8)
    # A larger square first, so the turn brings in picture, not black corners, where it can.
    reach = half * 1.45
    square = source.image.crop((round(cx - reach), round(cy - reach),
                                round(cx + reach), round(cy + reach)))
    size = rng.randint(280, 480)
    # Brought down to about the photo's size before the turn: turning costs by the pixel.
    wide = min(square.width, round(size * reach / half) + 2)
    square = square.resize((wide, wide), Image.Resampling.BILINEAR)
    square = square.rotate(angle, resample=Image.Resampling.BILINEAR)
    inner = wide * half / (2 * reach)
    middle = wide / 2
    photo = square.crop((round(middle - inner), round(middle - inner),
                         round(middle + inner), round(middle + inner)))
    photo = photo.resize((size, round(size * rng.uniform(1.0, 1.25))), Image.Resampling.BICUBIC)
    photo = ImageEnhance.Brightness(photo).enhance(rng.uniform(0.85, 1.15))
    photo = ImageEnhance.Contrast(photo).enhance(rng.uniform(0.85, 1.15))
    if rng.random() < 0.5:
        photo = ImageOps.mirror(photo)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=rng.randint(82, 93))
    return out.getvalue()


def photo_name(number: int) -> str:
    return f"fp{number:05d}.jpg"


def prepare_data(rows: int, seed: int) -> tuple[Path, Path, Path]:
    """The photo folder, the CSV and the zip of ``rows`` rows, made once and kept."""
    folder = DATA_DIR / f"photos-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [n for n in range(1, rows + 1) if not (folder / photo_name(n)).exists()]
    if missing:
        started = time.perf_counter()
        sources = load_sources()
        print(f"making {len(missing)} photos from {len(sources)} faces", flush=True)
        for number in missing:
            partial = folder / f"{photo_name(number)}.part"
            partial.write_bytes(make_photo(sources, seed, number))
            partial.rename(folder / photo_name(number))
        print(f"  made in {time.perf_counter() - started:.0f} s", flush=True)
    csv_path = DATA_DIR / f"found-{rows}-seed{seed}.csv"
    zip_path = DATA_DIR / f"photos-{rows}-seed{seed}.zip"
    if not csv_path.exists():
        csv_path.write_bytes(make_csv(range(1, rows + 1), seed))
    if not zip_path.exists():
        partial = zip_path.with_suffix(".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            for number in range(1, rows + 1):
                archive.write(folder / photo_name(number), f"photos/{photo_name(number)}")
        partial.rename(zip_path)
    return folder, csv_path, zip_path


def make_csv(numbers: range, seed: int, prefix: str = "FP") -> bytes:
    rng = random.Random(f"{seed}-csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for number in numbers:
        birth = rng.randint(1980, 2015)
        writer.writerow([
            f"{prefix}-{number:05d}", f"Found person {number}", rng.choice("FM"), birth,
            rng.choice(PROVINCES), f"Intake record {number}.", photo_name(number),
            rng.randint(3, 40),
        ])
    return out.getvalue().encode()


# --- Processes and memory ---------------------------------------------------------------

def peak_memory_mb(pid: int) -> float | None:
    """The process's peak resident memory (``VmHWM``) in MB, ``None`` once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def seconds_between(first: dt.datetime | None, last: dt.datetime | None) -> float:
    return (last - first).total_seconds() if first and last else math.nan


# --- The run ----------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--database", default="reunion_bench_partner_import")
    parser.add_argument("--rows", type=int, default=10_000, help="rows (and photos) imported")
    parser.add_argument("--workers", default="1,2", help="worker counts, one import each")
    parser.add_argument("--embed-photos", type=int, default=1000,
                        help="stop the workers once this many photos were embedded after the "
                             "import finished")
    parser.add_argument("--embed-all", action="store_true",
                        help="stop the workers once every photo was embedded")
    parser.add_argument("--baseline-rows", type=int, default=500)
    parser.add_argument("--profile-rows", type=int, default=200,
                        help="rows imported under cProfile (0: no profile)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--stop-by", default="",
                        help="HH:MM by the clock: stop the workers then, whatever is left")
    args = parser.parse_args()
    sample = min(args.baseline_rows, args.rows)
    folder, csv_path, zip_path = prepare_data(args.rows, args.seed)
    media = Path(tempfile.mkdtemp(prefix="partner-import-media-"))
    os.environ.update({
        "REUNION_DB_NAME": args.database, "REDIS_URL": args.redis_url,
        "MEDIA_ROOT": str(media), "DEBUG": "true", "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    from _django import setup

    setup()
    import django_rq
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connections
    from django.urls import get_resolver

    redis = django_rq.get_connection(settings.IMPORT_QUEUE)
    if redis.dbsize():
        raise SystemExit(f"{args.redis_url} is not empty: give an unused Redis database.")
    atexit.register(redis.flushdb)  # ours since it was empty: left empty however the run ends

    from families import services
    from families.models import PartnerImport, PartnerOrganisation, Photo, User
    from families.partners import services as partner_services
    from matching.models import MatchJob

    stop_by: dt.datetime | None = None
    if args.stop_by:
        hour, minute = (int(part) for part in args.stop_by.split(":"))
        stop_by = dt.datetime.now().replace(hour=hour, minute=minute, second=0, microsecond=0)

    def fresh_state() -> tuple[User, PartnerOrganisation]:
        """Drops and creates the database, migrates; empties Redis and the media folder."""
        import pgserver

        connections.close_all()
        server = pgserver.get_server(settings.DATABASES["default"]["PGDATA"], cleanup_mode=None)
        server.psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE);')
        server.psql(f'CREATE DATABASE "{args.database}";')
        call_command("migrate", verbosity=0)
        redis.flushdb()
        shutil.rmtree(media, ignore_errors=True)
        media.mkdir()
        member = User.objects.create_user(email="intake@shelter.example.org")
        return member, organisation_of(member, "Hope shelter")

    def organisation_of(member: User, name: str) -> PartnerOrganisation:
        organisation = PartnerOrganisation.objects.create(
            name=name, kind="shelter", region="Hebei",
            matching_basis="Intake records of the shelter, 1985-2020.")
        organisation.members.add(member)
        return organisation

    data = csv_path.read_bytes()
    rows_sample = list(csv.reader(io.StringIO(data.decode())))[1:sample + 1]
    report: dict[str, Any] = {
        "rows": args.rows, "seed": args.seed, "command": " ".join(sys.argv[1:]),
        "photo_bytes_mean": round(sum((folder / photo_name(n)).stat().st_size
                                      for n in range(1, args.rows + 1)) / args.rows),
        "distinct_photos": len({hashlib.sha256((folder / photo_name(n)).read_bytes()).digest()
                                for n in range(1, args.rows + 1)}),
        "load": {"start": load()},
    }
    print({k: report[k] for k in ("rows", "photo_bytes_mean", "distinct_photos")}, flush=True)

    # --- Baseline: one posting, then its photo, row after row (what the REST API does).
    member, organisation = fresh_state()
    started = time.perf_counter()
    for cells in rows_sample:
        row = dict(zip(HEADER, cells, strict=True))
        posting, _outcome = partner_services.partner_posting_save(
            actor=member, organisation=organisation, reference=row["reference"],
            fields={"display_name": row["name"], "sex": row["sex"],
                    "birth_year_min": int(row["birth_year"]),
                    "birth_year_max": int(row["birth_year"]),
                    "grew_up_province": row["province"], "memories": row["notes"]},
            via="api")
        services.photo_add(actor=member, data=(folder / row["photos"]).read_bytes(),
                           seeker_posting=posting, kind=Photo.Kind.CHILDHOOD
                           if int(row["photo_age"]) < 18 else Photo.Kind.RECENT,
                           age_in_photo=float(row["photo_age"]))
    seconds = time.perf_counter() - started
    report["baseline"] = {"rows": sample, "seconds": seconds, "rows_per_second": sample / seconds,
                          "load": load()}
    print("baseline", report["baseline"], flush=True)

    # --- The same rows imported with no web and no worker: its own process, its memory.
    plain = organisation_of(member, "Plain import")
    sample_csv = DATA_DIR / f"sample-{sample}-seed{args.seed}.csv"
    sample_csv.write_bytes(make_csv(range(1, sample + 1), args.seed))
    command = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "partner_import", str(folder),
         "--csv", str(sample_csv), "--organisation", plain.name, "--member", member.email],
        stdout=subprocess.DEVNULL, env=os.environ.copy())
    _pid, status, usage = os.wait4(command.pid, 0)
    if status:
        raise SystemExit(f"manage.py partner_import failed ({status})")
    done = PartnerImport.objects.get(organisation=plain)
    seconds = seconds_between(done.started_at, done.finished_at)
    report["plain_import"] = {
        "rows": done.rows_processed, "created": done.rows_created, "seconds": seconds,
        "rows_per_second": done.rows_processed / seconds,
        "peak_memory_mb": usage.ru_maxrss / 1024, "load": load()}
    print("manage.py partner_import", report["plain_import"], flush=True)

    # --- Where an import's time goes: partner_import_run under cProfile.
    if args.profile_rows:
        profiled = organisation_of(member, "Profiled import")
        rows = min(args.profile_rows, args.rows)
        with zip_path.open("rb") as handle:
            partner_import = partner_services.partner_import_start(
                actor=member, organisation=profiled,
                csv_data=make_csv(range(1, rows + 1), args.seed), csv_name="profiled.csv",
                photos_zip=File(handle, name="photos.zip"), queue=False)
        get_resolver().url_patterns  # noqa: B018 - the URLs load once per process: not here
        profile = cProfile.Profile()
        started = time.perf_counter()
        statements: dict[str, int] = {}

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            words = sql.split()
            table = next((w.strip('"') for i, w in enumerate(words[1:], 1)
                          if words[i - 1].upper() in {"FROM", "INTO", "UPDATE"}), "")
            key = f"{words[0].upper()} {table}".strip()
            statements[key] = statements.get(key, 0) + 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(count):
            profile.enable()
            partner_services.partner_import_run(partner_import_id=partner_import.pk)
            profile.disable()
        seconds = time.perf_counter() - started
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(45)
        (DATA_DIR / "profile.txt").write_text(out.getvalue())
        totals = {f"{Path(file).name}:{name}": round(cumulative, 3)
                  for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers)
                  in stats.stats.items()  # type: ignore[attr-defined]
                  if name in {"normalise_photo", "partner_posting_save", "photo_add",
                              "audit_record", "photo_schedule_processing", "enqueue_match_job",
                              "_save", "save", "read", "_import_next_row", "_import_row",
                              "execute", "commit", "get_queue", "enqueue_call", "full_clean"}}
        report["profile"] = {"rows": rows, "seconds_profiled": seconds,
                             "queries_per_row": sum(statements.values()) / rows,
                             "queries": dict(sorted(statements.items(), key=lambda i: -i[1])),
                             "cumulative_seconds": totals}
        print("profile", report["profile"], "->", DATA_DIR / "profile.txt", flush=True)

    # --- The import with 1, then 2 workers.
    report["runs"] = []
    for worker_count in (int(c) for c in args.workers.split(",")):
        member, organisation = fresh_state()
        before = load()
        started = time.perf_counter()
        with zip_path.open("rb") as handle:
            partner_import = partner_services.partner_import_start(
                actor=member, organisation=organisation, csv_data=data,
                csv_name=csv_path.name, photos_zip=File(handle, name="photos.zip"))
        start_seconds = time.perf_counter() - started
        work = Path(tempfile.mkdtemp(prefix="partner-import-workers-"))
        processes = []
        for number in range(worker_count):
            place = work / f"worker-{number}"
            (place / "tmp").mkdir(parents=True)
            with (place / "worker.log").open("wb") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "manage.py"), "rqworker",
                     "--worker-class", "reunion.worker.PortalWorker", *settings.WORKER_QUEUES],
                    cwd=place, env={**os.environ, "TMPDIR": str(place / "tmp")},
                    stdout=log, stderr=subprocess.STDOUT,
                ))
        photo_jobs = MatchJob.objects.filter(kind=MatchJob.Kind.PROCESS_PHOTO,
                                             photo__partner_import=partner_import)
        memory: dict[int, float] = {}
        memory_at_import_end: dict[int, float] = {}
        last_print = 0.0
        stopped_by_clock = False
        while True:
            for process in processes:
                value = peak_memory_mb(process.pid)
                if value is not None and process.poll() is None:
                    memory[process.pid] = value
            partner_import.refresh_from_db()
            finished = partner_import.finished_at
            if finished is not None and not memory_at_import_end:
                memory_at_import_end = dict(memory)
            ended = photo_jobs.filter(status__in=[MatchJob.Status.DONE, MatchJob.Status.FAILED])
            after = ended.filter(started_at__gte=finished).count() if finished else 0
            total = ended.count()
            if time.monotonic() - last_print > 30:
                last_print = time.monotonic()
                print(f"  {worker_count} worker(s): {partner_import.rows_processed} rows, "
                      f"{total} photos embedded ({after} after the import), load {load()}",
                      flush=True)
            if all(process.poll() is not None for process in processes):
                break
            if partner_import.is_finished and (
                    total >= partner_import.photos_added if args.embed_all
                    else after >= args.embed_photos):
                break
            if stop_by is not None and dt.datetime.now() >= stop_by:
                stopped_by_clock = True
                print("  stopped by --stop-by", flush=True)
                break
            time.sleep(1)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # RQ's warm shutdown: the job in hand ends
        for process in processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        partner_import.refresh_from_db()
        done_jobs = photo_jobs.filter(status=MatchJob.Status.DONE)
        spans = list(done_jobs.values_list("started_at", "finished_at"))
        first = min((s for s, _f in spans), default=None)
        last = max((f for _s, f in spans), default=None)
        after_spans = [(s, f) for s, f in spans
                       if partner_import.finished_at and s >= partner_import.finished_at]
        after_first = min((s for s, _f in after_spans), default=None)
        after_last = max((f for _s, f in after_spans), default=None)
        photos = Photo.objects.filter(partner_import=partner_import)
        states = dict.fromkeys(Photo.FaceState.values, 0)
        for state in photos.values_list("face_state", flat=True):
            states[state] += 1
        embedded = states["face_found"] + states["no_face"] + states["several_faces"]
        import_seconds = seconds_between(partner_import.started_at, partner_import.finished_at)
        embed_seconds = seconds_between(first, last)
        after_seconds = seconds_between(after_first, after_last)
        run = {
            "workers": worker_count, "status": partner_import.status,
            "stopped_by_clock": stopped_by_clock,
            "rows_processed": partner_import.rows_processed,
            "rows_created": partner_import.rows_created,
            "rows_refused": partner_import.rows_refused,
            "photos_added": partner_import.photos_added,
            "start_seconds": start_seconds,
            "import_seconds": import_seconds,
            "rows_per_second": partner_import.rows_processed / import_seconds,
            "photos_embedded": len(spans), "embed_seconds": embed_seconds,
            "photos_per_second": len(spans) / embed_seconds if spans else math.nan,
            "photos_embedded_during_import": len(spans) - len(after_spans),
            "photos_embedded_after_import": len(after_spans),
            "after_import_seconds": after_seconds,
            "photos_per_second_after_import": (len(after_spans) / after_seconds
                                               if after_spans else math.nan),
            "face_states": states,
            "face_found_share": states["face_found"] / embedded if embedded else math.nan,
            "worker_peak_memory_mb": sorted(memory.values()),
            "worker_peak_memory_mb_at_import_end": sorted(memory_at_import_end.values()),
            "load_before": before, "load_after": load(),
        }
        report["runs"].append(run)
        print(run, flush=True)
        shutil.rmtree(work, ignore_errors=True)
        redis.flushdb()

    base = report["baseline"]["rows_per_second"]
    one = next((r for r in report["runs"] if r["workers"] == 1), None)
    report["ratios"] = {
        "import_vs_baseline_rows_per_second": {
            str(r["workers"]): r["rows_per_second"] / base for r in report["runs"]},
        "plain_import_vs_baseline": report["plain_import"]["rows_per_second"] / base,
        "photos_per_second_vs_1_worker": {
            str(r["workers"]): r["photos_per_second"] / one["photos_per_second"]
            for r in report["runs"]} if one else {},
        "photos_per_second_after_import_vs_1_worker": {
            str(r["workers"]): r["photos_per_second_after_import"]
            / one["photos_per_second_after_import"] for r in report["runs"]} if one else {},
    }
    for run in report["runs"]:
        rate = run["photos_per_second_after_import"]
        run["estimated_seconds_all_photos_after_import"] = args.rows / rate if rate else math.nan
    report["load"]["end"] = load()
    print("ratios", report["ratios"], "load", report["load"], flush=True)
    (OUT_DIR / "partner_import.json").write_text(json.dumps(report, indent=2, default=str))
    connections.close_all()
    redis.flushdb()
    shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
