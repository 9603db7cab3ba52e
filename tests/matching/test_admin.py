"""The admin for matching: no raw embeddings, failures in sight, audited candidate pages."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib import admin
from django.urls import reverse

from families import services as family_services
from families.models import AuditEntry, Photo
from matching.models import Candidate, DnaTest, Face, MatchJob, Review
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_matching_model_has_an_admin(admin_client, make_user, redis_queues, make_candidate):

    volunteer = make_user(volunteer=True)
    candidate = make_candidate()
    builders.confirm(candidate=candidate, volunteer=volunteer)
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


def test_every_admin_page_of_private_data_is_audited(
    admin_client, superuser, make_user, redis_queues, make_candidate
):
    from families.models import Notification

    candidate = make_candidate()
    builders.confirm(candidate=candidate, volunteer=make_user(volunteer=True))
    face = builders.face(photo=builders.photo(data=builders.jpeg(), case=candidate.case))
    pages = {
        "matching_candidate": candidate, "matching_dnatest": DnaTest.objects.get(),
        "matching_review": Review.objects.get(), "matching_face": face,
        "families_notification": Notification.objects.filter(
            recipient=candidate.case.family).first(),
        "families_missingchildcase": candidate.case,
        "families_seekerposting": candidate.seeker_posting, "families_photo": face.photo,
        "families_user": candidate.seeker_posting.owner,
    }
    for name, obj in pages.items():
        assert obj is not None, name
        assert admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk])) \
            .status_code == 200, name
        assert AuditEntry.objects.filter(
            actor=superuser, action="admin.viewed", object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
        ).count() == 1, name


def _printed_forms(embedding) -> set[str]:
    """Each value of an embedding as it would look printed: as the float32 it is stored as, as
    a Python float, and as NumPy prints an array (eight digits, positional or scientific). Only
    forms long enough never to turn up in a page by chance count."""
    forms = set()
    for value in np.asarray(embedding, dtype=np.float32):
        forms |= {
            str(value), repr(float(value)), np.format_float_positional(value, precision=8),
            np.format_float_scientific(value, precision=8, unique=False),
        }
    return {form for form in forms if len(form.lstrip("-0.")) >= 6}


def test_the_admin_never_shows_a_raw_embedding(admin_client, photo_bytes, run_worker, make_people):
    case, _ = make_people()
    photo = family_services.photo_add(actor=case.family, case=case,
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    run_worker()
    face = Face.objects.get(photo=photo)
    printed = _printed_forms(face.embedding) | _printed_forms(face.embedding_dlib)
    assert len(printed) >= 256
    for url in (reverse("admin:matching_face_changelist"),
                reverse("admin:matching_face_change", args=[face.pk])):
        text = admin_client.get(url).content.decode()
        assert "128 numbers" in text
        assert face.model_version in text
        assert 'name="embedding"' not in text and 'name="embedding_dlib"' not in text
        assert 'name="embedding_raw"' not in text and 'name="embedding_dlib_raw"' not in text
        shown = sorted(number for number in printed if number in text)
        assert not shown, f"embedding values shown: {shown}"
    # Saving the face in the admin keeps its embedding.
    face_admin = admin.site._registry[Face]
    assert {"embedding", "embedding_dlib", "embedding_raw", "embedding_dlib_raw"} <= set(
        face_admin.exclude)


def test_failed_match_jobs_show_their_error_and_can_be_retried(
    admin_client, photo_bytes, run_worker, make_people
):
    case, _ = make_people()
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


def test_reindex_from_the_face_list(
    admin_client, photo_bytes, run_worker, redis_queues, make_people
):
    case, _ = make_people()
    photo = family_services.photo_add(actor=case.family, case=case,
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    run_worker()
    face = Face.objects.get(photo=photo)
    admin_client.post(reverse("admin:matching_face_changelist"), {
        "action": "reindex_face_photos", "_selected_action": [face.pk]})
    assert redis_queues["face"].count == 1
    run_worker()
    assert Face.objects.filter(photo=photo, embedding__isnull=False).count() == 1


def test_an_admin_reads_a_message_thread_audited_and_deletes_a_message_but_edits_none(
    admin_client, superuser, make_user, redis_queues, make_candidate
):
    from matching import services
    from matching.models import MatchMessage

    candidate = make_candidate()
    builders.confirm(candidate=candidate, volunteer=make_user(volunteer=True))
    services.match_message_post(actor=candidate.case.family, candidate=candidate,
                                thread=MatchMessage.Thread.FAMILY,
                                body="Someone asks us for money before the test.")
    message = MatchMessage.objects.get()
    listing = admin_client.get(reverse("admin:matching_matchmessage_changelist"),
                               {"q": str(candidate.reference)})
    assert listing.status_code == 200 and str(candidate.reference) in listing.content.decode()
    page = admin_client.get(reverse("admin:matching_matchmessage_change", args=[message.pk]))
    assert page.status_code == 200 and "asks us for money" in page.content.decode()
    assert AuditEntry.objects.filter(actor=superuser, action="admin.viewed",
                                     object_type="matching.matchmessage",
                                     object_id=str(message.pk)).count() == 1
    refused = admin_client.post(reverse("admin:matching_matchmessage_change", args=[message.pk]),
                                {"body": "changed"})
    assert refused.status_code == 403
    assert MatchMessage.objects.get().body == "Someone asks us for money before the test."
    assert admin_client.get(reverse("admin:matching_matchmessage_add")).status_code == 403
    deleted = admin_client.post(reverse("admin:matching_matchmessage_delete", args=[message.pk]),
                                {"post": "yes"})
    assert deleted.status_code == 302 and not MatchMessage.objects.exists()
    assert AuditEntry.objects.filter(actor=superuser, action="match_message.deleted",
                                     object_id=str(message.pk)).exists()
