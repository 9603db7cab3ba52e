"""Face picking, matching and candidates, with real photos, real DeepFace and real workers."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from families.models import AuditEntry, CaseStatus, Photo, Sex
from matching import services
from matching.faces import Box, cosine_distance
from matching.models import Candidate, Face, MatchJob
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


# --- face_pick --------------------------------------------------------------------


def test_picking_a_detected_face_embeds_it_and_removes_the_other_boxes(
    make_user, photo_bytes, run_worker
):
    family = make_user()
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("couple.jpg"), case=case, age_in_photo=None)
    run_worker()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.SEVERAL_FACES
    boxes = list(photo.faces.order_by("box_x"))
    assert len(boxes) >= 2 and all(face.embedding is None for face in boxes)

    job = services.face_pick(actor=family, photo=photo, face_id=boxes[0].pk)
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert list(photo.faces.values_list("pk", flat=True)) == [boxes[0].pk]
    assert AuditEntry.objects.filter(action="face.picked", object_id=str(photo.pk)).exists()
    run_worker()

    face = Face.objects.get(pk=boxes[0].pk)
    assert face.picked_by == family
    assert len(face.embedding) == 128
    assert face.searchable and face.model_name == "SFace" and len(face.embedding_dlib) == 128
    job.refresh_from_db()
    assert job.status == MatchJob.Status.DONE
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face, status="done").exists()


def test_a_drawn_box_is_embedded_like_the_detected_face_it_surrounds(
    make_user, photo_bytes, run_worker, settings
):
    family = make_user()
    case = builders.case(family=family)
    first = builders.photo(data=photo_bytes("couple.jpg"), case=case, age_in_photo=None)
    second = builders.photo(data=photo_bytes("couple.jpg"), case=case, age_in_photo=None)
    run_worker()
    detected = first.faces.order_by("box_x").first()
    services.face_pick(actor=family, photo=first, face_id=detected.pk)
    # A person draws a looser box around the same face on the other copy.
    drawn = Box(detected.box_x - 20, detected.box_y - 30, detected.box_w + 40, detected.box_h + 50)
    services.face_pick(actor=family, photo=second, box=drawn)
    run_worker()

    picked = Face.objects.get(photo=first)
    hand_drawn = Face.objects.get(photo=second)
    assert hand_drawn.picked_by == family and hand_drawn.detector_confidence is None
    assert (hand_drawn.box_x, hand_drawn.box_w) == (drawn.x, drawn.w)
    # Same person by the same-age threshold (the looser box shows the face smaller: 0.037 here).
    distance = cosine_distance(np.array(picked.embedding), np.array(hand_drawn.embedding))
    assert distance < settings.MATCH_SAME_AGE_THRESHOLD
    # The detector running again (reindex, a retry) never brings the removed boxes back.
    services.photo_process(
        match_job_id=services.photo_schedule_processing(actor=family, photo=second).pk,
        photo_id=second.pk,
    )
    assert list(Face.objects.filter(photo=second)) == [hand_drawn]


def test_only_the_owner_or_a_volunteer_may_pick(make_user, photo_bytes, run_worker):
    family, stranger, volunteer = make_user(), make_user(), make_user(volunteer=True)
    photo = builders.photo(data=photo_bytes("couple.jpg"), case=builders.case(family=family),
                           age_in_photo=None)
    run_worker()
    face = photo.faces.first()
    with pytest.raises(PermissionDenied):
        services.face_pick(actor=stranger, photo=photo, face_id=face.pk)
    with pytest.raises(ValidationError):
        services.face_pick(actor=family, photo=photo)
    with pytest.raises(ValidationError):
        services.face_pick(actor=family, photo=photo, face_id=face.pk, box=Box(0, 0, 50, 50))
    with pytest.raises(ValidationError):
        services.face_pick(actor=family, photo=photo, box=Box(0, 0, 4, 4))
    services.face_pick(actor=volunteer, photo=photo, face_id=face.pk)
    assert Face.objects.get(pk=face.pk).picked_by == volunteer


# --- matching ---------------------------------------------------------------------


def test_a_case_and_a_seeker_of_the_same_person_become_one_candidate(
    make_user, photo_bytes, run_worker
):
    family, adult = make_user(), make_user()
    case = builders.case(family=family)
    seeker = builders.seeker_posting(seeker=adult)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    builders.photo(data=photo_bytes("img5.jpg"), case=case, age_in_photo=33)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=40)
    builders.photo(data=photo_bytes("img4.jpg"), posting=seeker, age_in_photo=42)
    run_worker()

    candidate = Candidate.objects.get()
    assert (candidate.case, candidate.seeker_posting) == (case, seeker)
    # All four photo pairs were compared and the closest one kept.
    case_faces = Face.objects.filter(photo__case=case)
    seeker_faces = Face.objects.filter(photo__seeker_posting=seeker)
    distances = {
        (a.pk, b.pk): cosine_distance(np.array(a.embedding), np.array(b.embedding))
        for a in case_faces for b in seeker_faces
    }
    best = min(distances, key=distances.get)
    assert (candidate.case_face_id, candidate.seeker_face_id) == best
    assert candidate.best_distance == pytest.approx(distances[best], abs=1e-5)
    ages = {face.pk: face.age_in_photo for face in [*case_faces, *seeker_faces]}
    assert candidate.age_gap_years == pytest.approx(abs(ages[best[1]] - ages[best[0]]))
    assert candidate.model_version.startswith("deepface-")
    assert 0 < candidate.score <= 1
    case.refresh_from_db()
    seeker.refresh_from_db()
    # Nothing of a candidate shows before a volunteer confirms it.
    assert case.status == CaseStatus.PUBLISHED
    assert seeker.status == CaseStatus.PUBLISHED
    assert AuditEntry.objects.filter(action="candidate.created").count() == 1


def test_running_a_match_job_again_changes_nothing(make_user, photo_bytes, run_worker):
    family, adult = make_user(), make_user()
    case = builders.case(family=family)
    seeker = builders.seeker_posting(seeker=adult)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=None)
    run_worker()
    before = list(Candidate.objects.values())
    assert len(before) == 1
    for job in MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE):
        services.face_match(match_job_id=job.pk, face_id=job.face_id)
        services.face_match(match_job_id=job.pk, face_id=job.face_id)
    after = list(Candidate.objects.values())
    assert [{**row, "updated_at": None} for row in after] == [
        {**row, "updated_at": None} for row in before
    ]
    assert AuditEntry.objects.filter(action="candidate.created").count() == 1


@pytest.mark.parametrize(
    ("seeker_sex", "seeker_born", "consent"),
    [
        (Sex.FEMALE, (1985, 1987), True),  # another sex: the child is a boy born in 1986
        (Sex.MALE, (1990, 2000), True),    # born too late to be the child
        (Sex.MALE, (1985, 1987), False),   # no consent
    ],
)
def test_impossible_pairs_are_left_out(
    make_user, photo_bytes, run_worker, seeker_sex, seeker_born, consent
):
    family, adult = make_user(), make_user()
    case = builders.case(family=family)
    seeker = builders.seeker_posting(
        seeker=adult, sex=seeker_sex, birth_year_min=seeker_born[0],
        birth_year_max=seeker_born[1], consent_to_matching=consent,
    )
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=None)
    run_worker()
    assert not Candidate.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLISHED


def test_unknown_sex_is_never_excluded(make_user, photo_bytes, run_worker):
    family, adult = make_user(), make_user()
    case = builders.case(family=family, sex=Sex.UNKNOWN)
    seeker = builders.seeker_posting(seeker=adult, sex=Sex.FEMALE)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=None)
    run_worker()
    assert Candidate.objects.filter(case=case, seeker_posting=seeker).exists()


def test_consent_given_later_refreshes_the_faces_and_matches_them(
    make_user, photo_bytes, run_worker
):
    family, adult = make_user(), make_user()
    case = builders.case(family=family)
    seeker = builders.seeker_posting(seeker=adult, consent_to_matching=False)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=None)
    run_worker()
    face = Face.objects.get(photo__seeker_posting=seeker)
    assert face.embedding is not None and not face.searchable
    assert not Candidate.objects.exists()

    seeker.consent_to_matching = True
    seeker.save()
    rematched = services.faces_refresh_facts(seeker_posting=seeker)
    assert rematched == [face.pk]
    face.refresh_from_db()
    assert face.searchable
    run_worker()
    assert Candidate.objects.filter(case=case, seeker_posting=seeker).exists()


def test_refreshing_facts_copies_sex_and_birth_years_and_withdrawal(
    make_user, photo_bytes, run_worker
):
    family = make_user()
    case = builders.case(family=family)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=3)
    run_worker()
    case.sex, case.birth_year_min, case.birth_year_max = Sex.UNKNOWN, 1970, 1980
    case.save()
    services.faces_refresh_facts(case=case)
    face = Face.objects.get(photo__case=case)
    assert (face.sex, face.birth_year_min, face.birth_year_max) == (Sex.UNKNOWN, 1970, 1980)
    assert face.searchable
    case.status = CaseStatus.WITHDRAWN
    case.save()
    assert services.faces_refresh_facts(case=case) == []
    face.refresh_from_db()
    assert not face.searchable


def test_a_failing_match_job_is_recorded_for_admins_and_retried(
    make_user, photo_bytes, redis_queues, run_worker, settings
):
    family = make_user()
    builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family),
                   age_in_photo=None)
    run_worker(("face",))
    settings.MATCH_SEARCH_LIMIT = -1  # PostgreSQL refuses a negative LIMIT
    run_worker(("match",))

    job = MatchJob.objects.get(kind=MatchJob.Kind.MATCH_FACE)
    assert job.status == MatchJob.Status.FAILED
    assert "LIMIT" in job.error and job.attempts == 1
    match_queue = redis_queues["match"]
    assert match_queue.scheduled_job_registry.get_job_ids() == [job.rq_job_id]
    assert match_queue.fetch_job(job.rq_job_id).retries_left == 2


def test_a_match_job_for_a_face_removed_meanwhile_finishes_quietly(
    make_user, photo_bytes, run_worker
):
    family = make_user()
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=builders.case(family=family),
                           age_in_photo=None)
    run_worker(("face",))
    job = MatchJob.objects.get(kind=MatchJob.Kind.MATCH_FACE)
    photo.delete()  # the face and its match job rows go with it
    assert services.face_match(match_job_id=job.pk, face_id=job.face_id) == []
    assert not MatchJob.objects.filter(pk=job.pk).exists()
