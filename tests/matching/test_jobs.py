"""A real job on real Redis, run by a real RQ worker, stores a real embedding."""

from __future__ import annotations

import pytest
from django.db import connection

from families import services as family_services
from families.models import Photo, Sex
from matching.models import Face, MatchJob

pytestmark = pytest.mark.django_db(transaction=True)


def _case(user):
    return family_services.case_create(
        actor=user,
        publish=True,
        fields={
            "given_name": "Ming", "family_name": "Li", "sex": Sex.MALE,
            "birth_year_min": 1986, "birth_year_max": 1986,
            "missing_date": "1988-03-01", "missing_province": "Shaanxi",
            "contact_name": "Li Hua",
        },
    )


def test_photo_job_stores_a_128_number_embedding_in_pgvector(
    make_user, photo_bytes, redis_queues, run_worker
):
    family = make_user()
    photo = family_services.photo_add(
        actor=family, case=_case(family), data=photo_bytes("img1.jpg"),
        kind=Photo.Kind.CHILDHOOD, age_in_photo=2,
    )
    assert redis_queues["face"].count == 1

    run_worker()

    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    face = Face.objects.get(photo=photo)
    assert face.model_name == "Dlib"
    assert len(face.embedding) == 128
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT vector_dims(embedding), pg_typeof(embedding)::text FROM matching_face "
            "WHERE id = %s", [face.pk],
        )
        assert cursor.fetchone() == (128, "vector")
    assert MatchJob.objects.get(photo=photo, kind=MatchJob.Kind.PROCESS_PHOTO).status == "done"


def test_photo_with_several_faces_waits_for_a_person(make_user, photo_bytes, run_worker):
    family = make_user()
    photo = family_services.photo_add(
        actor=family, case=_case(family), data=photo_bytes("couple.jpg"),
        kind=Photo.Kind.CHILDHOOD,
    )
    run_worker()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.SEVERAL_FACES
    detected = Face.objects.filter(photo=photo)
    assert detected.count() >= 2
    assert not detected.filter(embedding__isnull=False).exists()
