"""The restore drill: a populated portal is backed up, restored into a fresh PostgreSQL and an
empty media folder, and the restored portal is the same portal: every table's count, every
file's checksum, the same search answering the same faces, and a worker matching a new photo
against the restored data."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from families.models import PartnerImport, PartnerOrganisation, Tip
from families.services import partner_import_run, partner_import_start, tip_submit
from matching import services as matching_services
from matching.models import Candidate, DnaTest, Face, Review
from reunion import backup
from tests import builders
from tests.reunion.fresh_postgres import fresh_postgres

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]
IMPORT_CSV = (b"reference,name,sex,birth_year,province,notes\r\n"
              b"HS-1,Xiao Hong,F,1986,Hebei,A red door.\r\n"
              b"HS-2,Li Ming,X,1984,Hebei,\r\n")


def search_answers() -> dict[str, list[list[float]]]:
    """For every embedded face, the faces the search answers on the other side and their
    distances: what a restored portal must answer alike."""
    from matching.models import Face, Side
    from matching.selectors.search import PersonFacts, faces_nearest

    answers = {}
    for face in Face.objects.filter(embedding__isnull=False).order_by("pk"):
        other = Side.SEEKER if face.side == Side.CASE else Side.CASE
        facts = PersonFacts(side=other, sex=face.sex, birth_year_min=face.birth_year_min,
                            birth_year_max=face.birth_year_max)
        found = faces_nearest(embedding=face.embedding, facts=facts, max_distance=2.0,
                              model_version=face.model_version)
        answers[str(face.pk)] = [[n.face_id, round(n.distance, 6)] for n in found]
    return answers


def _media_checksums(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _restored_environment(data_dir: Path, media: Path) -> dict[str, str]:
    """The portal as an operator runs it on the restored data: the embedded PostgreSQL under
    ``data_dir``, the restored media; the test's own Redis database."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REUNION_DB_NAME", "DJANGO_SETTINGS_MODULE")}
    env.update(REUNION_DATA_DIR=str(data_dir), REUNION_DB_NAME="restored",
               MEDIA_ROOT=str(media), DEEPFACE_HOME=str(settings.DEEPFACE_HOME), DEBUG="true",
               REDIS_URL=settings.REDIS_URL)
    return env


def _in_restored_portal(code: str, env: dict[str, str]) -> str:
    script = ("import os, json, django\n"
              "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'reunion.settings')\n"
              "django.setup()\n" + code)
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=BASE_DIR,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def populated(make_user, photo_bytes, redis_queues, run_worker):
    """Cases and seeker postings with faces from real photos, their candidates, a review, a
    DNA step, a tip, a partner's import."""
    volunteer = make_user(volunteer=True)
    first_case = builders.case(family=make_user())
    second_case = builders.case(family=make_user(), given_name="Hong")
    first_posting = builders.seeker_posting(seeker=make_user())
    second_posting = builders.seeker_posting(seeker=make_user(), display_name="Zhang Wei")
    builders.photo(data=photo_bytes("img1.jpg"), case=first_case, age_in_photo=30)
    builders.photo(data=photo_bytes("img2.jpg"), posting=first_posting, age_in_photo=30)
    builders.photo(data=photo_bytes("img3.jpg"), case=second_case, age_in_photo=30)
    builders.photo(data=photo_bytes("img53.jpg"), posting=second_posting, age_in_photo=30)
    run_worker()
    assert Face.objects.filter(embedding__isnull=False).count() == 4

    candidate = Candidate.objects.get(case=first_case, seeker_posting=first_posting)
    matching_services.candidate_claim(actor=volunteer, candidate=candidate)
    matching_services.candidate_review(actor=volunteer, candidate=candidate,
                                       decision=Review.Decision.CONFIRM,
                                       note="The photos and the memories agree.")
    dna_test = DnaTest.objects.get(candidate=candidate)
    matching_services.dna_test_record_samples(actor=volunteer, dna_test=dna_test,
                                              collected_at=timezone.now())
    tip_submit(actor=AnonymousUser(), case=first_case,
               fields={"text": "Seen in Xi'an market."}, photo_data=builders.jpeg())
    member = make_user(email_confirmed_at=timezone.now())
    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind=PartnerOrganisation.Kind.SHELTER, region="Hebei",
        matching_basis="Intake records of the shelter, 1985-1995.")
    shelter.members.add(member)
    started = partner_import_start(actor=member, organisation=shelter, csv_data=IMPORT_CSV,
                                   csv_name="hope.csv", queue=False)
    assert partner_import_run(partner_import_id=started.pk).status == PartnerImport.Status.DONE
    run_worker()
    assert Tip.objects.exists() and Review.objects.exists()
    return second_case


def test_a_backup_restores_into_a_fresh_portal_that_answers_and_works_alike(
    populated, media_root, tmp_path, redis_queues, faces_dir
):
    source = backup.configured_database()
    counts = backup.table_counts(source)
    assert counts["matching_face"] >= 4 and counts["matching_candidate"] >= 2
    assert counts["matching_dnatest"] == 1 and counts["families_tip"] == 1
    assert counts["families_partnerimport"] == 1
    files = _media_checksums(media_root)
    assert len(files) >= 5, files
    answers = search_answers()
    assert any(answers.values()), "the search finds faces on the other side"

    key = backup.generate_key()
    archive = tmp_path / "drill.backup"
    manifest = backup.backup_create(archive=archive, database=source, media_root=media_root,
                                    key=key)
    assert manifest["tables"] == counts

    restored_media = tmp_path / "restored-media"
    with fresh_postgres() as (restored, data_dir):
        backup.backup_restore(archive=archive, database=restored, media_root=restored_media,
                              keys=[key])
        assert backup.table_counts(restored) == counts, "every table's count is equal"
        assert _media_checksums(restored_media) == files, "every file's checksum is equal"

        env = _restored_environment(data_dir, restored_media)
        restored_answers = json.loads(_in_restored_portal(
            "from tests.reunion.test_restore_drill import search_answers\n"
            "print(json.dumps(search_answers()))", env))
        assert restored_answers == answers, "the same search answers the same faces"

        # A new seeker posting on the restored portal, of the second case's child: a worker
        # processes its photo and matches it against the restored faces.
        django_rq.get_connection("face").flushdb()
        posting_id = int(_in_restored_portal(
            "from tests import builders\n"
            "from families.models import User\n"
            "seeker = User.objects.create_user(email='new.seeker@example.org',\n"
            "    password='a long enough password 1', full_name='New Seeker')\n"
            "posting = builders.seeker_posting(seeker=seeker, display_name='Li Na')\n"
            f"builders.photo(data=open({str(faces_dir / 'img12.jpg')!r}, 'rb').read(),\n"
            "    posting=posting, age_in_photo=30)\n"
            "print(posting.pk)", env))
        worker = subprocess.run(
            [sys.executable, "manage.py", "rqworker", "--worker-class",
             "reunion.worker.PortalWorker", "--burst", "face", "match"],
            env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=600,
        )
        assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
        with restored.connect() as conn, conn.cursor() as cursor:
            cursor.execute("SELECT face_state FROM families_photo WHERE seeker_posting_id = %s",
                           [posting_id])
            assert cursor.fetchall() == [("face_found",)]
            cursor.execute("SELECT count(*) FROM matching_candidate WHERE case_id = %s AND "
                           "seeker_posting_id = %s", [populated.pk, posting_id])
            assert cursor.fetchone()[0] == 1, "matched against the restored case's face"
            conn.rollback()

