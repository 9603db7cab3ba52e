"""Backup and restore time: ``manage.py backup`` and ``restore`` on a portal of many postings.

Data: ``--postings`` seeker postings (10,000 by default), each of its own account, with one
photo and its face: the photo file is one of the single-face photos of ../shared/faces
(``identities.csv``, each stored under its own name as an upload would be), the face's
embedding a random unit vector (the face model is not what a backup measures). Rows are
written with ``bulk_create``; making them is not timed.

Everything runs on an embedded PostgreSQL of its own (a temporary data folder, removed at
the end) and a temporary media folder; nothing of the portal's own data is touched.

Timed, each once: ``backup_create`` unencrypted, then encrypted (Fernet); ``archive_check``
(reading and checking the encrypted archive); ``backup_restore`` of the encrypted archive
into an empty database of the same server and an empty media folder. Sizes of the
database, the media and the archives are reported. Results in var/bench/backup_restore.json.

    .venv/bin/python bench/backup_restore.py --postings 10000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from _django import FACES_DIR, OUT_DIR


def _dir_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="reunion-bench-backup-"))
    os.environ.update(REUNION_DATA_DIR=str(work / "data"), REUNION_DB_NAME="bench_portal",
                      MEDIA_ROOT=str(work / "media"))
    os.environ.pop("DATABASE_URL", None)
    from _django import setup

    setup()
    try:
        run(args, work)
    finally:
        pid_file = work / "data" / "pgdata" / "postmaster.pid"
        if pid_file.exists():  # the server this benchmark started
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
            time.sleep(2)
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    import numpy as np
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from families.models import Photo, SeekerPosting, Sex, User
    from matching.models import Face, Side
    from reunion import backup

    call_command("migrate", verbosity=0)
    with open(FACES_DIR / "identities.csv", newline="") as handle:
        sources = [FACES_DIR / row["file"] for row in csv.DictReader(handle)]
    media = Path(settings.MEDIA_ROOT)
    (media / "photos").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    password = make_password("not a real password 1")
    started = time.perf_counter()
    batch = 1000
    for first in range(0, args.postings, batch):
        numbers = range(first, min(first + batch, args.postings))
        users = User.objects.bulk_create([
            User(email=f"seeker{n}@bench.example.org", password=password,
                 full_name=f"Seeker {n}") for n in numbers])
        postings = SeekerPosting.objects.bulk_create([
            SeekerPosting(owner=user, display_name=f"Seeker {n}", sex=Sex.MALE,
                          birth_year_min=1980, birth_year_max=1990, consent_to_matching=True)
            for n, user in zip(numbers, users, strict=True)])
        photos = []
        for n, posting in zip(numbers, postings, strict=True):
            name = f"photos/bench-{n:06d}.jpg"
            shutil.copyfile(sources[n % len(sources)], media / name)
            photos.append(Photo(owner=posting.owner, seeker_posting=posting, image=name,
                                kind=Photo.Kind.RECENT, sha256=f"{n:064d}", age_in_photo=35,
                                face_state=Photo.FaceState.FACE_FOUND))
        photos = Photo.objects.bulk_create(photos)
        vectors = rng.normal(size=(len(photos), Face._meta.get_field("embedding").dimensions))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Face.objects.bulk_create([
            Face(photo=photo, box_x=10, box_y=10, box_w=100, box_h=100, embedding=vector,
                 model_name="bench", model_version="bench", side=Side.SEEKER, sex=Sex.MALE,
                 birth_year_min=1980, birth_year_max=1990, searchable=True)
            for photo, vector in zip(photos, vectors, strict=True)])
    print(f"made {args.postings} postings in {time.perf_counter() - started:.0f} s", flush=True)

    database = backup.configured_database()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    result: dict[str, object] = {
        "postings": args.postings, "database_bytes": database_bytes,
        "media_files": len(list(media.rglob("*.jpg"))), "media_bytes": _dir_bytes(media),
    }

    def timed(label: str, function, **kwargs):
        began = time.perf_counter()
        value = function(**kwargs)
        result[f"{label}_seconds"] = round(time.perf_counter() - began, 1)
        print(f"{label}: {result[f'{label}_seconds']} s", flush=True)
        return value

    key = backup.generate_key()
    plain, encrypted = work / "plain.backup", work / "encrypted.backup"
    timed("backup", backup.backup_create, archive=plain, database=database, media_root=media)
    timed("backup_encrypted", backup.backup_create, archive=encrypted, database=database,
          media_root=media, key=key)
    result["archive_bytes"], result["encrypted_archive_bytes"] = \
        plain.stat().st_size, encrypted.stat().st_size
    plain.unlink()
    timed("check", backup.archive_check, archive=encrypted, keys=[key])

    admin = database.connect()  # an empty database on the same server
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE bench_restored")
    admin.close()
    restored = backup.Database(name="bench_restored", host=database.host, user="postgres",
                               bin_dir=backup.embedded_bin_dir())
    timed("restore", backup.backup_restore, archive=encrypted, database=restored,
          media_root=work / "restored-media", keys=[key])
    assert backup.table_counts(restored) == backup.table_counts(database)

    out = OUT_DIR / "backup_restore.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
