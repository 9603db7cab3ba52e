"""The admin for matching: no raw embeddings, failures in sight, audited candidate pages."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from families import services as family_services
from families.models import AuditEntry, Photo
from matching.models import Candidate, DnaTest, Face, MatchJob, Review
from tests.matching.test_review import make_candidate, make_people

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        email="admin@example.org", password="a long enough password 1"
    )


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_every_matching_model_has_an_admin(admin_client, make_user, redis_queues):
    from matching import services

    volunteer = make_user(volunteer=True)
    candidate = make_candidate(*make_people(make_user))
    services.candidate_review(actor=volunteer, candidate=candidate,
                              decision=Review.Decision.CONFIRM)
    for model in (Face, MatchJob, Candidate, Review, DnaTest):
        model_admin = admin.site._registry[model]
        assert model_admin.list_filter and model_admin.search_fields, model
        url = reverse(f"admin:matching_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, model
        assert admin_client.get(url, {"q": "1"}).status_code == 200, model
    page = admin_client.get(reverse("admin:matching_candidate_change", args=[candidate.pk]))
    assert page.status_code == 200
    assert AuditEntry.objects.filter(action="admin.viewed", object_type="matching.candidate",
                                     object_id=str(candidate.pk)).exists()
    dna = DnaTest.objects.get(candidate=candidate)
    assert admin_client.get(reverse("admin:matching_dnatest_change", args=[dna.pk])) \
        .status_code == 200


def test_the_admin_never_shows_a_raw_embedding(
    admin_client, make_user, photo_bytes, run_worker
):
    case, _ = make_people(make_user)
    photo = family_services.photo_add(actor=case.family, case=case,
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    run_worker()
    face = Face.objects.get(photo=photo)
    numbers = [f"{value:.4f}"[:6] for value in face.embedding[:8]]
    for url in (reverse("admin:matching_face_changelist"),
                reverse("admin:matching_face_change", args=[face.pk])):
        text = admin_client.get(url).content.decode()
        assert "128 numbers" in text
        assert face.model_version in text
        assert 'name="embedding"' not in text
        assert sum(number in text for number in numbers) <= 1, "embedding values shown"
    # Saving the face in the admin keeps its embedding.
    face_admin = admin.site._registry[Face]
    assert "embedding" in face_admin.exclude


def test_failed_match_jobs_show_their_error_and_can_be_retried(
    admin_client, make_user, photo_bytes, run_worker
):
    case, _ = make_people(make_user)
    photo = family_services.photo_add(actor=case.family, case=case,
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    # The stored file vanishes before the worker runs (a lost volume, say).
    photo.image.storage.delete(photo.image.name)
    run_worker()
    job = MatchJob.objects.get(photo=photo)
    assert job.status == MatchJob.Status.FAILED and "FileNotFoundError" in job.error

    listing = admin_client.get(reverse("admin:matching_matchjob_changelist"),
                               {"status__exact": "failed"})
    text = listing.content.decode()
    assert "FileNotFoundError" in text
    assert listing.context["cl"].result_count == 1
    detail = admin_client.get(reverse("admin:matching_matchjob_change", args=[job.pk]))
    assert "Traceback" in detail.content.decode()

    response = admin_client.post(reverse("admin:matching_matchjob_changelist"), {
        "action": "retry_jobs", "_selected_action": [job.pk]})
    assert response.status_code == 302
    assert MatchJob.objects.filter(photo=photo, kind=MatchJob.Kind.PROCESS_PHOTO).count() == 2


def test_reindex_from_the_face_list(admin_client, make_user, photo_bytes, run_worker,
                                    redis_queues):
    case, _ = make_people(make_user)
    photo = family_services.photo_add(actor=case.family, case=case,
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    run_worker()
    face = Face.objects.get(photo=photo)
    admin_client.post(reverse("admin:matching_face_changelist"), {
        "action": "reindex_face_photos", "_selected_action": [face.pk]})
    assert redis_queues["face"].count == 1
    run_worker()
    assert Face.objects.filter(photo=photo, embedding__isnull=False).count() == 1
