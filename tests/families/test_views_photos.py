"""Photos: uploads, who may see them, face states that update, and the face picker."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image

from families import selectors, services
from families.models import AuditEntry, Photo
from matching.models import Candidate, Face
from matching.services import photo_set_estimate_use
from tests import builders


def _files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()]


def _jpeg_with_gps(source: bytes) -> bytes:
    """A real photo carrying GPS coordinates, a camera model and a comment in its EXIF."""
    image = Image.open(io.BytesIO(source))
    exif = image.getexif()
    exif[ExifTags.Base.Model] = "Phone X"
    exif[ExifTags.Base.ImageDescription] = "home address"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (34.0, 15.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (108.0, 56.0, 10.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=92)
    return out.getvalue()


def _upload(client, case, data: bytes, name: str = "photo.jpg", **fields):
    return client.post(reverse("families:case_photos", args=[case.pk]), {
        "image": SimpleUploadedFile(name, data, content_type="image/jpeg"),
        "kind": Photo.Kind.CHILDHOOD, "age_in_photo": "2", **fields,
    })


@pytest.fixture
def family(make_user):
    user = make_user()
    services.user_confirm_email(user=user)
    return user


@pytest.mark.django_db
def test_a_jpeg_with_gps_is_stored_with_no_exif_at_all(client, family, photo_bytes, media_root):
    upload = _jpeg_with_gps(photo_bytes("img1.jpg"))
    with Image.open(io.BytesIO(upload)) as original:  # the test file really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    case = builders.case(family=family)
    client.force_login(family)
    response = _upload(client, case, upload)
    assert response.status_code == 302
    photo = Photo.objects.get(case=case)
    stored = Path(photo.image.path)
    assert stored.parent.is_relative_to(media_root)
    assert stored.name != "photo.jpg" and len(stored.stem) == 32  # unguessable name
    content = stored.read_bytes()
    assert b"Exif" not in content and b"Phone X" not in content and b"home address" not in content
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert "exif" not in image.info
        assert len(image.getexif()) == 0
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert image.size == (photo.width, photo.height)


@pytest.mark.django_db
def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(client, family, media_root):
    case = builders.case(family=family)
    client.force_login(family)
    audit_before = AuditEntry.objects.count()
    response = _upload(client, case, b"not a photo at all\n" * 54, name="child.jpg")
    assert len(b"not a photo at all\n" * 54) == 1026
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_image_error_1"' in page
    assert "This file is not a photo we can read" in page
    assert not Photo.objects.exists()
    assert _files(media_root) == []
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.django_db
def test_upload_form_errors_are_beside_the_fields(client, family, photo_bytes, media_root):
    case = builders.case(family=family)
    client.force_login(family)
    response = _upload(client, case, photo_bytes("img1.jpg"), age_in_photo="", year_taken="")
    assert response.status_code == 400
    assert 'id="id_age_in_photo_error_1"' in response.content.decode()
    assert not Photo.objects.exists() and _files(media_root) == []


@pytest.mark.django_db
def test_unconfirmed_accounts_cannot_upload(client, make_user, photo_bytes, media_root):
    user = make_user()
    case = builders.case(family=user)
    client.force_login(user)
    response = _upload(client, case, photo_bytes("img1.jpg"))
    assert response.status_code == 302
    assert not Photo.objects.exists()


@pytest.fixture
def everyone(make_user, django_user_model):
    return {
        "anonymous": None, "family": make_user(), "other family": make_user(),
        "seeker": make_user(), "other seeker": make_user(),
        "volunteer": make_user(volunteer=True),
        "admin": django_user_model.objects.create_superuser(email="a@example.org", password="x"),
    }


@pytest.mark.django_db
def test_a_seekers_photo_answers_404_to_everyone_but_the_seeker_and_admins(
    client, everyone, photo_bytes
):
    # Volunteers see a seeker's photos through the candidates they review
    # (matching:candidate_photo), never here (docs/PRIVACY.md).
    posting = builders.seeker_posting(seeker=everyone["seeker"])
    builders.seeker_posting(seeker=everyone["other seeker"])
    photo = builders.photo(data=photo_bytes("img3.jpg"), posting=posting)
    url = reverse("families:photo_image", args=[photo.pk])
    assert "/media" not in url
    for name, user in everyone.items():
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        allowed = name in ("seeker", "admin")
        assert response.status_code == (200 if allowed else 404), name
        if allowed:
            assert response["Content-Type"] == "image/jpeg"
            assert response["Cache-Control"] == "private, no-store"
            assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        for page in ("seeker_detail", "seeker_photos"):
            status = client.get(reverse(f"families:{page}", args=[posting.pk])).status_code
            assert status == (200 if allowed else 404 if user else 302), (name, page)
    viewers = set(AuditEntry.objects.filter(action="photo.private_viewed")
                  .values_list("actor__email", flat=True))
    assert viewers == {everyone["admin"].email}


@pytest.mark.django_db
def test_case_photos_public_or_private(client, everyone, photo_bytes):
    family = everyone["family"]
    case = builders.case(family=family)
    public = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    private = builders.photo(data=photo_bytes("img2.jpg"), case=case)
    services.photo_update(actor=family, photo=private, fields={"use_on_poster": False})
    response = client.get(reverse("families:photo_image", args=[public.pk]))
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    assert client.get(reverse("families:photo_image", args=[private.pk])).status_code == 404
    client.force_login(everyone["other family"])
    assert client.get(reverse("families:photo_image", args=[private.pk])).status_code == 404
    client.force_login(family)
    response = client.get(reverse("families:photo_image", args=[private.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    # Another family can neither edit nor delete a photo.
    client.force_login(everyone["other family"])
    assert client.post(reverse("families:photo_delete", args=[public.pk])).status_code == 404
    assert client.post(reverse("families:photo_edit", args=[public.pk]), {
        "kind": "childhood", "age_in_photo": "2", "use_on_poster": ""}).status_code == 404
    assert Photo.objects.filter(pk=public.pk, use_on_poster=True).exists()
    # The owner can.
    client.force_login(family)
    assert client.post(reverse("families:photo_delete", args=[public.pk])).status_code == 302
    assert not Photo.objects.filter(pk=public.pk).exists()
    assert AnonymousUser().is_authenticated is False


@pytest.mark.django_db(transaction=True)
def test_face_states_update_and_the_owner_picks_a_face(
    client, family, photo_bytes, redis_queues, run_worker
):
    """couple.jpg holds two faces: the page shows it, and the owner picks one in the picker."""
    case = builders.case(family=family)
    client.force_login(family)
    assert _upload(client, case, photo_bytes("couple.jpg"), age_in_photo="",
                   year_taken="1987").status_code == 302
    photo = Photo.objects.get(case=case)
    page = client.get(reverse("families:case_photos", args=[case.pk])).content.decode()
    assert f'data-photo-id="{photo.pk}"' in page and 'data-photo-state="waiting"' in page
    assert "js/photo-states.js" in page
    states_url = reverse("families:photo_states") + f"?ids={photo.pk}"
    assert client.get(states_url).json()["photos"][0]["state"] == "waiting"

    run_worker(("face",))
    data = client.get(states_url).json()["photos"][0]
    assert (data["state"], data["needs_pick"]) == ("several_faces", True)
    detected = list(Face.objects.filter(photo=photo, embedding__isnull=True))
    assert len(detected) >= 2

    picker = client.get(reverse("matching:face_picker", args=[photo.pk]))
    assert picker.status_code == 200
    html = picker.content.decode()
    for face in detected:
        assert f'value="{face.pk}"' in html  # keyboard: one radio input per detected face
        assert f'data-face-id="{face.pk}"' in html  # mouse: one box per detected face
    assert 'name="box_x"' in html and "js/face-picker.js" in html

    response = client.post(reverse("matching:face_picker", args=[photo.pk]),
                           {"face": detected[0].pk})
    assert response.status_code == 302
    run_worker(("face",))
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    chosen = Face.objects.get(photo=photo)
    assert chosen.pk == detected[0].pk
    assert chosen.embedding is not None and len(chosen.embedding) == 128
    assert chosen.picked_by == family

    # The search for matches shows its progress live, and nothing of its result.
    data = client.get(states_url).json()["photos"][0]
    assert (data["state"], data["match_state"]) == ("face_found", "queued")
    assert data["match_label"] == "Waiting to search for possible matches"
    run_worker(("match",))
    data = client.get(states_url).json()["photos"][0]
    assert data["match_state"] == "done"
    assert set(data) == {"id", "state", "label", "needs_pick", "match_state", "match_label"}


@pytest.mark.django_db(transaction=True)
def test_an_admin_draws_a_box_on_a_seeker_photo(
    client, make_user, photo_bytes, redis_queues, run_worker, django_user_model
):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker)
    photo = builders.photo(data=photo_bytes("couple.jpg"), posting=posting)
    run_worker(("face",))
    face = Face.objects.filter(photo=photo).order_by("box_x").first()
    for nobody in (make_user(), make_user(volunteer=True)):
        client.force_login(nobody)
        assert client.get(reverse("matching:face_picker", args=[photo.pk])).status_code == 404
    client.force_login(django_user_model.objects.create_superuser(email="a@example.org",
                                                                  password="x"))
    response = client.post(reverse("matching:face_picker", args=[photo.pk]), {
        "box_x": face.box_x, "box_y": face.box_y, "box_w": face.box_w, "box_h": face.box_h})
    assert response.status_code == 302
    run_worker(("face",))
    faces = list(Face.objects.filter(photo=photo))
    assert len(faces) == 1 and faces[0].embedding is not None
    assert (faces[0].box_x, faces[0].box_w) == (face.box_x, face.box_w)


@pytest.mark.django_db
def test_face_crop_for_review_pages(client, everyone, photo_bytes):
    posting = builders.seeker_posting(seeker=everyone["seeker"])
    photo = builders.photo(data=photo_bytes("img3.jpg"), posting=posting)
    face = Face.objects.create(photo=photo, box_x=10, box_y=10, box_w=60, box_h=60,
                               side="seeker", sex="M", birth_year_min=1985,
                               birth_year_max=1987)
    url = reverse("matching:photo_face", args=[photo.pk, face.pk])
    assert client.get(url).status_code == 404
    # A volunteer's review shows it through the candidate (matching:candidate_face).
    client.force_login(everyone["volunteer"])
    assert client.get(url).status_code == 404
    client.force_login(everyone["admin"])
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    with Image.open(io.BytesIO(response.content)) as crop:
        assert crop.format == "JPEG" and max(crop.size) <= 256


@pytest.mark.django_db
def test_photo_states_answer_only_the_photos_one_manages(client, everyone, photo_bytes):
    case = builders.case(family=everyone["family"])
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    url = reverse("families:photo_states") + f"?ids={photo.pk},999999,abc"
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(everyone["other family"])
    assert client.get(url).json() == {"photos": []}
    client.force_login(everyone["volunteer"])
    response = client.get(url)
    assert [item["id"] for item in response.json()["photos"]] == [photo.pk]
    assert "no-store" in response["Cache-Control"]


# --- a volunteer hides a family's photo, never deletes it ---------------------------


@pytest.mark.django_db
def test_a_volunteer_hides_a_familys_photo_but_never_deletes_it_nor_changes_the_poster(
    client, everyone, photo_bytes, media_root, redis_queues
):
    family, volunteer = everyone["family"], everyone["volunteer"]
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    stored = media_root / photo.image.name
    client.force_login(volunteer)
    delete = reverse("families:photo_delete", args=[photo.pk])
    assert client.get(delete).status_code == 404
    assert client.post(delete).status_code == 404
    with pytest.raises(PermissionDenied):
        services.photo_delete(actor=volunteer, photo=photo)
    # Whether it is on the poster is the family's choice: the form has no such field for a
    # volunteer, and the service refuses.
    edit = reverse("families:photo_edit", args=[photo.pk])
    assert "use_on_poster" not in client.get(edit).context["form"].fields
    assert client.post(edit, {"kind": "childhood", "age_in_photo": "3",
                              "use_in_matching": "on"}).status_code == 302
    with pytest.raises(PermissionDenied):
        services.photo_update(actor=volunteer, photo=Photo.objects.get(pk=photo.pk),
                              fields={"use_on_poster": False})
    photo.refresh_from_db()
    assert photo.use_on_poster and photo.age_in_photo == 3 and stored.exists()
    page = client.get(reverse("families:case_photos", args=[case.pk])).content.decode()
    assert delete not in page and reverse("families:photo_hide", args=[photo.pk]) in page

    # Hidden: kept with its file, shown to nobody publicly, still seen by its family.
    hide = reverse("families:photo_hide", args=[photo.pk])
    assert client.post(hide, {"step": "hide", "reason": "Not the child."}).status_code == 302
    photo.refresh_from_db()
    assert photo.is_hidden and photo.use_on_poster and stored.exists()
    assert AuditEntry.objects.filter(action="photo.hidden", actor=volunteer,
                                     object_id=str(photo.pk)).exists()
    image = reverse("families:photo_image", args=[photo.pk])
    anonymous = Client()
    assert anonymous.get(image).status_code == 404
    assert image not in anonymous.get(case.get_absolute_url()).content.decode()
    assert selectors.public_photos(case) == []
    (listed,) = selectors.public_cases()
    assert not listed.poster_photos
    client.force_login(family)
    assert client.get(image).status_code == 200
    assert "hidden by a volunteer" in client.get(
        reverse("families:case_photos", args=[case.pk])).content.decode()
    assert client.get(hide).status_code == 404  # hiding and showing are the volunteers'

    # Shown again, as it was; the family (and admins) keep the deletion.
    client.force_login(volunteer)
    assert client.post(hide, {"step": "show"}).status_code == 302
    assert anonymous.get(image).status_code == 200
    client.force_login(family)
    assert client.post(delete).status_code == 302
    assert not Photo.objects.filter(pk=photo.pk).exists()


@pytest.mark.django_db
def test_a_volunteer_never_puts_an_estimate_on_the_poster(everyone):
    family, volunteer = everyone["family"], everyone["volunteer"]
    case = builders.case(family=family)
    source = builders.photo_row(case=case)
    estimate = Photo.objects.create(
        owner=family, case=case, kind=Photo.Kind.AGE_PROGRESSED, is_estimate=True,
        source_photo=source, image="photos/none.jpg", sha256="1" * 64, use_on_poster=False,
        use_in_matching=False)
    with pytest.raises(PermissionDenied):
        photo_set_estimate_use(actor=volunteer, photo=estimate, use_in_matching=False,
                               use_on_poster=True)
    photo_set_estimate_use(actor=volunteer, photo=estimate, use_in_matching=True,
                           use_on_poster=False)
    photo_set_estimate_use(actor=family, photo=estimate, use_in_matching=True,
                           use_on_poster=True)
    estimate.refresh_from_db()
    assert estimate.use_in_matching and estimate.use_on_poster


@pytest.mark.django_db(transaction=True)
def test_a_hidden_photo_is_not_matched_until_shown_again(
    make_user, photo_bytes, media_root, run_worker
):
    """Two photos of one person (../shared/faces): no candidate while one is hidden."""
    volunteer = make_user(volunteer=True)
    case = builders.case(family=make_user())
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    services.photo_hide(actor=volunteer, photo=photo)
    posting = builders.seeker_posting(seeker=make_user())
    builders.photo(data=photo_bytes("img2.jpg"), posting=posting, age_in_photo=40)
    run_worker()
    face = Face.objects.get(photo=photo)
    assert face.embedding is not None and not face.searchable
    assert not Candidate.objects.exists()
    services.photo_show(actor=volunteer, photo=photo)
    run_worker()
    assert Face.objects.get(photo=photo).searchable
    assert Candidate.objects.filter(case=case, seeker_posting=posting).exists()
