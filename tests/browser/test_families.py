"""Journeys of a family: signing up, posting a case with photos, picking a face.

Journey 1: a family signs up, confirms the email, posts a case with two photos
and sees the faces found.
Journey 4: a photo with two faces: the owner picks the face in the browser, and
it is embedded.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from families.models import MissingChildCase, Photo, User
from matching.models import Face
from tests.browser.conftest import (
    assert_fits_width,
    assert_not_reloaded,
    axe_check,
    field,
    image_loaded,
    mark_page,
    tab_to,
)


def test_family_signs_up_confirms_and_posts_a_case_with_two_photos(
    page, faces_dir, person_photos, run_worker, screenshot
):
    photos = person_photos(2)[:2]

    # Sign up.
    page.goto(reverse("home"))
    page.locator("nav.site-nav").get_by_role("link", name="Sign up").click()
    page.wait_for_url(re.compile(r"/signup/$"))
    axe_check(page)
    page.get_by_label(field("Email address")).fill("mei.chen@example.org")
    page.get_by_label(field("Your name")).fill("Chen Mei")
    page.get_by_label(field("Password")).fill("lanterns over the river 1988")
    page.get_by_label(field("Password again")).fill("lanterns over the river 1988")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/signup/sent/$"))
    assert "mei.chen@example.org" in page.locator("main").inner_text()
    axe_check(page)

    # Confirm the email address with the link that was mailed.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mei.chen@example.org"]
    link = re.search(r"https?://\S+/confirm/\S+/", mail.outbox[0].body).group(0)
    page.goto(urlsplit(link).path)
    # Sign-up logs nobody in (its answer is the same for an address that has an account).
    page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".messages")).to_contain_text("your email address is confirmed")
    assert User.objects.get(email="mei.chen@example.org").email_confirmed_at is not None
    page.get_by_label(field("Email address")).fill("mei.chen@example.org")
    page.get_by_label(field("Password")).fill("lanterns over the river 1988")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/me/$"))
    axe_check(page)

    # Post the case.
    page.get_by_role("button", name="Post a missing child").click()
    page.wait_for_url(re.compile(r"/cases/new/$"))
    axe_check(page)
    page.get_by_label(field("Given name")).fill("Lin")
    page.get_by_label(field("Family name")).fill("Chen")
    page.get_by_label(field("Sex")).select_option(label="female")
    page.get_by_label(field("Date of birth")).fill("1986-03-02")
    page.get_by_label(field("Date missing")).fill("1989-04-12")
    page.get_by_label(field("Province missing from")).fill("Shaanxi")
    page.get_by_label(field("City")).fill("Xi'an")
    page.get_by_label(field("Circumstances")).fill("Last seen outside the railway station.")
    page.get_by_label(field("Contact name")).fill("Chen Mei")
    page.get_by_label(field("Contact phone")).fill("+86 29 5555 0101")
    page.get_by_role("button", name="Save as a draft and add photos").click()
    page.wait_for_url(re.compile(r"/cases/\d+/photos/$"))
    case = MissingChildCase.objects.get(given_name="Lin", family__email="mei.chen@example.org")

    # Two childhood photos.
    for count, (name, age) in enumerate(zip(photos, ("2", "3"), strict=True), start=1):
        page.get_by_label(field("Photo")).set_input_files(faces_dir / name)
        page.get_by_label(field("Kind")).select_option(value=Photo.Kind.CHILDHOOD)
        page.get_by_label(field("Age in the photo (years)")).fill(age)
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("[data-photo-id]")).to_have_count(count)
        expect(page.locator(".messages")).to_contain_text("The photo is stored")
    states = page.locator("[data-photo-state]")
    assert states.count() == 2
    assert_fits_width(page)
    axe_check(page)

    # A real worker finds the faces; the page shows them without a reload.
    mark_page(page)
    assert run_worker() is True
    expect(page.locator('[data-photo-state="face_found"]')).to_have_count(2, timeout=30_000)
    assert_not_reloaded(page)
    assert set(case.photos.values_list("face_state", flat=True)) == {"face_found"}
    assert Face.objects.filter(photo__case=case, embedding__isnull=False).count() == 2
    axe_check(page)
    screenshot(page, "photos-faces-found")

    # Publish: the case is public.
    page.get_by_role("button", name="Publish the case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    case.refresh_from_db()
    assert case.status == "published"
    assert page.locator("main img").count() == 2
    assert all(image_loaded(image) for image in page.locator("main img").all())
    axe_check(page)
    screenshot(page, "case-published")


@pytest.fixture
def couple_photo(confirmed_user, published_case, photo_bytes, run_worker):
    """A case whose photo shows two people, after the face worker has looked at it."""
    from families.services import photo_add

    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family)
    photo = photo_add(
        actor=family, data=photo_bytes("couple.jpg"), kind=Photo.Kind.CHILDHOOD, case=case,
        age_in_photo=3,
    )
    assert run_worker() is True
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.SEVERAL_FACES
    assert photo.faces.count() == 2
    return photo


def open_face_picker(page, photo):
    page.goto(reverse("families:case_photos", args=[photo.case_id]))
    row = page.locator(f'[data-photo-id="{photo.pk}"]')
    assert row.locator('[data-photo-state="several_faces"]').is_visible()
    axe_check(page)
    row.get_by_role("link", name="Pick the face").click()
    page.wait_for_url(re.compile(rf"/matching/photos/{photo.pk}/face/$"))
    assert image_loaded(page.locator("[data-face-picker-image]"))


def test_owner_picks_one_of_two_faces_and_it_is_embedded(
    page, couple_photo, log_in, run_worker, screenshot
):
    photo = couple_photo
    log_in(page, photo.owner)
    open_face_picker(page, photo)
    boxes = page.locator(".face-box")
    assert boxes.count() == 2
    assert_fits_width(page)
    axe_check(page)

    # Tap the second box: its choice in the form is selected.
    boxes.nth(1).click()
    assert page.get_by_label(field("Face 2")).is_checked()
    screenshot(page, "face-picker", docs_name="face-picker")
    chosen = int(boxes.nth(1).get_attribute("data-face-id"))
    page.get_by_role("button", name="Use this face").click()
    page.wait_for_url(re.compile(rf"/cases/{photo.case_id}/photos/$"))
    expect(page.locator(".messages")).to_contain_text("The face you chose is being prepared")

    # A real worker embeds the chosen face, and only that one.
    assert run_worker() is True
    face = Face.objects.get(photo=photo)
    assert face.pk == chosen
    assert face.picked_by_id == photo.owner_id
    assert face.embedding is not None and len(face.embedding) == 128
    row = page.locator(f'[data-photo-id="{photo.pk}"]')
    assert row.locator('[data-photo-state="face_found"]').is_visible()
    assert row.get_by_role("link", name="Pick the face").is_hidden()
    axe_check(page)
    screenshot(page, "face-picked")


def test_owner_draws_the_face_box_by_hand(page, couple_photo, log_in, run_worker):
    photo = couple_photo
    first = photo.faces.order_by("box_x").first()
    log_in(page, photo.owner)
    open_face_picker(page, photo)

    # Drag across the first person's face, a little larger than the detected box.
    image = page.locator("[data-face-picker-image]").bounding_box()
    scale = image["width"] / photo.width
    left = image["x"] + (first.box_x - first.box_w * 0.1) * scale
    top = image["y"] + (first.box_y - first.box_h * 0.1) * scale
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(left + first.box_w * 0.6 * scale, top + first.box_h * 0.6 * scale, steps=5)
    page.mouse.move(left + first.box_w * 1.2 * scale, top + first.box_h * 1.2 * scale, steps=5)
    page.mouse.up()
    drawn = [int(page.get_by_label(field(label)).input_value()) for label in (
        "Left (pixels)", "Top (pixels)", "Width (pixels)", "Height (pixels)")]
    assert drawn[2] == pytest.approx(first.box_w * 1.2, abs=6 / scale)
    assert drawn[0] == pytest.approx(first.box_x - first.box_w * 0.1, abs=6 / scale)
    assert page.locator("[data-drawn-box]").is_visible()
    page.get_by_role("button", name="Use this face").click()
    page.wait_for_url(re.compile(rf"/cases/{photo.case_id}/photos/$"))

    assert run_worker() is True
    face = Face.objects.get(photo=photo)
    assert face.picked_by_id == photo.owner_id
    assert [face.box_x, face.box_y, face.box_w, face.box_h] == drawn
    assert face.embedding is not None


def test_owner_picks_the_face_with_the_keyboard_alone(page, couple_photo, log_in, run_worker):
    photo = couple_photo
    log_in(page, photo.owner)
    open_face_picker(page, photo)

    first_choice = page.get_by_label(field("Face 1"))
    face_id = int(first_choice.get_attribute("value"))
    tab_to(page, first_choice)
    page.keyboard.press("Space")
    assert first_choice.is_checked()
    # The box on the photo shows which face is chosen.
    chosen = page.locator(f'.face-box[data-face-id="{face_id}"]')
    assert chosen.evaluate("el => getComputedStyle(el).borderTopWidth") == "5px"
    tab_to(page, page.get_by_role("button", name="Use this face"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/cases/{photo.case_id}/photos/$"))

    assert run_worker() is True
    face = Face.objects.get(photo=photo)
    assert face.pk == face_id
    assert face.picked_by_id == photo.owner_id
    assert face.embedding is not None
