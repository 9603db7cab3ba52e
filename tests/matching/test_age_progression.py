"""Reunion's age-progressed estimates: the growth model, the warp on real photos, the
service that stores an estimate, the family's decision, and the page they use.

The estimate of a photo from ../shared/faces is re-measured by locating its 68
landmarks again: the proportions must move the way the cardioidal strain says,
by the amounts it predicts.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from families import selectors as family_selectors
from families import services as family_services
from families.models import AuditEntry, Photo
from matching import age_progression
from matching.models import Face, MatchJob
from matching.services import photo_estimate_age_progression, photo_set_estimate_use
from tests import builders

# --- The growth model ----------------------------------------------------------------


def test_strain_is_larger_the_younger_the_child_and_nothing_between_adult_ages():
    strains = [age_progression.growth_strain(age, 25) for age in (2, 5, 10, 15)]
    assert strains == sorted(strains, reverse=True)
    assert 0.15 < strains[0] < 0.35  # a toddler to an adult
    assert strains[-1] < 0.03  # fifteen to adult: growth is nearly over
    assert age_progression.growth_strain(25, 40) == 0
    assert age_progression.growth_strain(6, 6) == 0
    with pytest.raises(ValueError):
        age_progression.growth_strain(20, 10)


def test_strain_composes_like_the_proportions_it_was_derived_from():
    """1 + 2k is the ratio of the face-to-cranium index at the two ages, so two steps make one."""
    one_step = 1 + 2 * age_progression.growth_strain(3, 20)
    two_steps = (1 + 2 * age_progression.growth_strain(3, 9)) * (
        1 + 2 * age_progression.growth_strain(9, 20)
    )
    assert one_step == pytest.approx(two_steps)
    assert one_step == pytest.approx(
        age_progression.face_to_cranium_index(20) / age_progression.face_to_cranium_index(3)
    )


def test_cardioidal_strain_keeps_the_vault_and_grows_the_face_below_the_centre():
    centre = np.array([100.0, 100.0])
    points = np.array([[100, 40], [160, 100], [100, 160], [40, 100]], dtype=float)
    moved = age_progression.strain_points(points, centre, 0.2)
    assert moved[0] == pytest.approx([100, 40])  # straight above: θ = 0, unchanged
    assert moved[1] == pytest.approx([172, 100])  # beside: R (1 + k)
    assert moved[2] == pytest.approx([100, 184])  # straight below: R (1 + 2k)
    assert moved[3] == pytest.approx([28, 100])


# --- The estimate of a real photo -----------------------------------------------------


def _rgb(photo_bytes, name: str) -> np.ndarray:
    return age_progression.decode_rgb(photo_bytes(name))


@pytest.mark.parametrize("name", ["img10.jpg", "img12.jpg", "img1.jpg"])
def test_estimate_moves_the_relocated_landmarks_as_the_growth_model_predicts(photo_bytes, name):
    image = _rgb(photo_bytes, name)
    result = age_progression.age_progress(image, source_age=3, target_age=25)
    k = result.strain
    assert k == pytest.approx(age_progression.growth_strain(3, 25))
    assert result.image.shape[1] == image.shape[1]
    assert not np.array_equal(result.image[: image.shape[0]], image)

    # Landmarks located again on the estimate, by the same 68-point model.
    again = age_progression.locate_landmarks(result.image)
    before = age_progression.face_proportions(result.source_landmarks)
    predicted = age_progression.face_proportions(result.target_landmarks)
    measured = age_progression.face_proportions(again)
    # Locating the landmarks twice on the unchanged photo: the measuring noise.
    noise = age_progression.face_proportions(age_progression.locate_landmarks(image))

    for name_of, grows in (("lower_to_upper", True), ("eye_height", False)):
        expected_change = predicted[name_of] - before[name_of]
        change = measured[name_of] - before[name_of]
        noise_level = abs(noise[name_of] - before[name_of]) + 1e-3
        # The lower face lengthens against the upper; the eyes rise in the face.
        assert (change > 0) == grows and (expected_change > 0) == grows, name_of
        assert abs(change) > 5 * noise_level, name_of
        # By the amount the model predicts (within a third of the predicted change).
        assert change == pytest.approx(expected_change, rel=0.33), name_of

    # Below the centre (near the ear canal) distances grow by 1 + 2k; the chin shows it.
    centre = result.centre
    chin_before = result.source_landmarks[8, 1] - centre[1]
    chin_after = again[8, 1] - centre[1]
    assert chin_after / chin_before == pytest.approx(1 + 2 * k, rel=0.06)
    # Above it the vault grows much less: the brows rise only as the model says.
    brows_before = centre[1] - result.source_landmarks[17:27, 1].mean()
    brows_predicted = centre[1] - result.target_landmarks[17:27, 1].mean()
    brows_after = centre[1] - again[17:27, 1].mean()
    assert brows_predicted / brows_before - 1 < 0.7 * (2 * k)
    assert brows_after / brows_before == pytest.approx(brows_predicted / brows_before, rel=0.06)


def test_estimate_between_adult_ages_leaves_the_face_as_it_is(photo_bytes):
    image = _rgb(photo_bytes, "img10.jpg")
    result = age_progression.age_progress(image, source_age=30, target_age=45)
    assert result.strain == 0
    assert np.abs(result.image.astype(int) - image.astype(int)).mean() < 1.0


def test_a_face_cut_by_the_edge_of_the_photo_is_aged_too(photo_bytes):
    image = _rgb(photo_bytes, "img10.jpg")
    landmarks = age_progression.locate_landmarks(image)
    # Cut the photo through the left cheek and just under the chin.
    left = int(landmarks[:, 0].min() + 0.15 * np.ptp(landmarks[:, 0]))
    bottom = int(landmarks[8, 1]) + 3
    cut = np.ascontiguousarray(image[:bottom, left:])
    result = age_progression.age_progress(cut, source_age=4, target_age=30)
    assert result.image.shape[1] == cut.shape[1]
    assert result.image.shape[0] > cut.shape[0]  # room made for the grown chin
    assert result.target_landmarks[8, 1] < result.image.shape[0]


def test_a_photo_without_a_face_is_refused():
    blank = np.full((300, 300, 3), 200, dtype=np.uint8)
    with pytest.raises(age_progression.NoFaceFound):
        age_progression.age_progress(blank, source_age=3, target_age=25)


# --- Storing an estimate, and the family's decision ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_estimate_is_stored_labelled_and_kept_out_of_matching_until_the_family_decides(
    make_user, photo_bytes, run_worker
):
    family = make_user()
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img10.jpg"), case=case)
    run_worker()

    estimate = photo_estimate_age_progression(actor=family, photo=photo, target_age=38)
    assert estimate.kind == Photo.Kind.AGE_PROGRESSED and estimate.is_estimate
    assert estimate.source_photo == photo and estimate.case == case
    assert estimate.age_years() == 38
    assert not estimate.use_in_matching and not estimate.use_on_poster
    assert not family_selectors.photo_is_public(estimate)
    audit = AuditEntry.objects.get(action="photo.age_progression_estimated")
    assert audit.detail["source_photo"] == photo.pk and audit.detail["target_age"] == 38
    assert audit.detail["strain_k"] == pytest.approx(
        age_progression.growth_strain(2, 38), abs=1e-4
    )

    run_worker()
    estimate.refresh_from_db()
    assert estimate.face_state == Photo.FaceState.FACE_FOUND
    face = Face.objects.get(photo=estimate)
    # Matched like a photo at the target age, but not searchable yet.
    assert face.age_in_photo == 38 and len(face.embedding) == 128
    assert not face.searchable

    photo_set_estimate_use(actor=family, photo=estimate, use_in_matching=True, use_on_poster=True)
    face.refresh_from_db()
    estimate.refresh_from_db()
    assert face.searchable and estimate.use_on_poster
    assert family_selectors.photo_is_public(estimate)
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face).exists()
    decision = AuditEntry.objects.get(action="photo.estimate_use_set")
    assert decision.detail == {"use_in_matching": True, "use_on_poster": True}

    photo_set_estimate_use(actor=family, photo=estimate, use_in_matching=False, use_on_poster=False)
    face.refresh_from_db()
    assert not face.searchable
    assert not family_selectors.photo_is_public(Photo.objects.get(pk=estimate.pk))


@pytest.mark.django_db(transaction=True)
def test_only_the_family_or_a_volunteer_may_make_or_decide_on_an_estimate(
    make_user, photo_bytes, redis_queues
):
    family, stranger, volunteer = make_user(), make_user(), make_user(volunteer=True)
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img10.jpg"), case=case)
    with pytest.raises(PermissionDenied):
        photo_estimate_age_progression(actor=stranger, photo=photo, target_age=30)
    estimate = photo_estimate_age_progression(actor=volunteer, photo=photo, target_age=30)
    with pytest.raises(PermissionDenied):
        photo_set_estimate_use(
            actor=stranger, photo=estimate, use_in_matching=True, use_on_poster=True
        )
    estimate.refresh_from_db()
    assert not estimate.use_in_matching and not estimate.use_on_poster


@pytest.mark.django_db(transaction=True)
def test_photos_that_cannot_be_aged_are_refused_with_a_reason(make_user, photo_bytes, redis_queues):
    family = make_user()
    case = builders.case(family=family)
    no_age = family_services.photo_add(
        actor=family, data=photo_bytes("img10.jpg"), case=case, kind=Photo.Kind.CHILDHOOD,
    )
    with pytest.raises(ValidationError):
        photo_estimate_age_progression(actor=family, photo=no_age, target_age=30)
    photo = builders.photo(data=photo_bytes("img10.jpg"), case=case, age_in_photo=4)
    with pytest.raises(ValidationError):
        photo_estimate_age_progression(actor=family, photo=photo, target_age=3)
    estimate = photo_estimate_age_progression(actor=family, photo=photo, target_age=30)
    with pytest.raises(ValidationError):
        photo_estimate_age_progression(actor=family, photo=estimate, target_age=40)
    with pytest.raises(ValidationError):
        photo_set_estimate_use(actor=family, photo=photo, use_in_matching=False,
                               use_on_poster=False)
    assert Photo.objects.filter(case=case).count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_artists_age_progressed_image_is_matched_at_its_target_age_as_an_estimate(
    make_user, photo_bytes, run_worker
):
    family = make_user()
    case = builders.case(family=family)
    artist = family_services.photo_add(
        actor=family, data=photo_bytes("img12.jpg"), case=case,
        kind=Photo.Kind.AGE_PROGRESSED, age_in_photo=36,
    )
    assert artist.is_estimate
    run_worker()
    face = Face.objects.get(photo=artist)
    assert face.age_in_photo == 36 and face.searchable


# --- The family's page ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_family_makes_an_estimate_sees_it_labelled_beside_the_original_and_decides(
    make_user, photo_bytes, client, redis_queues
):
    family = make_user(email_confirmed_at="2026-01-01T00:00:00Z")
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img10.jpg"), case=case)
    url = reverse("matching:photo_age_progression", args=[photo.pk])

    assert client.get(url).status_code == 302  # anonymous: log in first
    client.force_login(make_user())
    assert client.get(url).status_code == 404  # another family
    client.force_login(family)
    page = client.get(url)
    assert page.status_code == 200
    assert "No estimate has been made from this photo yet." in page.content.decode()

    bad = client.post(url, {"target_age": "1"})
    assert bad.status_code == 400 and not photo.estimates.exists()
    response = client.post(url, {"target_age": "34"})
    assert response.status_code == 302
    estimate = photo.estimates.get()
    page = client.get(url).content.decode()
    assert "Original photo" in page and "ESTIMATE: not a photo" in page
    assert reverse("families:photo_image", args=[photo.pk]) in page
    assert reverse("families:photo_image", args=[estimate.pk]) in page

    response = client.post(url, {"estimate": estimate.pk, "use_in_matching": "on"})
    assert response.status_code == 302
    estimate.refresh_from_db()
    assert estimate.use_in_matching and not estimate.use_on_poster
    # An estimate has no estimates page of its own.
    assert client.get(
        reverse("matching:photo_age_progression", args=[estimate.pk])
    ).status_code == 404
