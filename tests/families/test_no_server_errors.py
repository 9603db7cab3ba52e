"""Requests that once ended in a 500: a photo file gone from the disk, a malformed choice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import Face
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_face_crop_of_a_missing_photo_file_is_404(client, make_user, photo_bytes, caplog):
    family = make_user()
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img3.jpg"), case=case)
    face = Face.objects.create(photo=photo, box_x=10, box_y=10, box_w=60, box_h=60,
                               side="case", sex="M", birth_year_min=1986, birth_year_max=1986)
    url = reverse("matching:photo_face", args=[photo.pk, face.pk])
    client.force_login(family)
    assert client.get(url).status_code == 200
    photo.image.storage.delete(photo.image.name)
    with caplog.at_level("WARNING", logger="matching.views.faces"):
        response = client.get(url)
    assert response.status_code == 404
    assert f"photo {photo.pk} not shown" in caplog.text
    # An unreadable file is the same.
    with photo.image.storage.open(photo.image.name, "wb") as handle:
        handle.write(b"not a jpeg")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("estimate", ["abc", "", "1.5", "99999999999999999999", "-1"])
def test_a_malformed_estimate_choice_is_a_form_error(client, make_user, photo_bytes, estimate):
    family = make_user(email_confirmed_at="2026-01-01T00:00:00Z")
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    client.force_login(family)
    url = reverse("matching:photo_age_progression", args=[photo.pk])
    response = client.post(url, {"estimate": estimate, "use_in_matching": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Your choice was not saved." in page
    assert "Choose one of the estimates on this page." in page


def test_an_estimate_of_another_photo_is_refused(client, make_user, photo_bytes):
    """Only this photo's estimates can be chosen: another photo's (even one's own) can't."""
    family = make_user(email_confirmed_at="2026-01-01T00:00:00Z")
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    other = builders.photo(data=photo_bytes("img2.jpg"), case=case)
    assert other.use_in_matching
    client.force_login(family)
    url = reverse("matching:photo_age_progression", args=[photo.pk])
    response = client.post(url, {"estimate": other.pk})  # would take it out of matching
    assert response.status_code == 400
    assert "Choose one of the estimates on this page." in response.content.decode()
    other.refresh_from_db()
    assert other.use_in_matching
