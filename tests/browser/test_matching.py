"""Journeys through matching: a seeker's photo finds a case, a volunteer confirms it.

Journey 2: a seeker posts with a photo of the same person, a real worker runs,
and a candidate appears for volunteers.
Journey 3: a volunteer reviews it side by side and confirms; the family sees the
notification in the inbox.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from families.models import Notification, Photo, SeekerPosting
from matching.models import Candidate
from tests.browser.conftest import (
    assert_fits_width,
    assert_not_reloaded,
    axe_check,
    field,
    image_loaded,
    mark_page,
)

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def family_case(confirmed_user, published_case, person_photos, run_worker):
    """A published case whose childhood photo has been embedded by a real worker."""
    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family, photos=(person_photos(0)[0],))
    assert run_worker() is True
    assert case.photos.get().face_state == Photo.FaceState.FACE_FOUND
    return case


def test_seeker_posts_a_photo_and_a_candidate_appears_for_volunteers(
    new_page, family_case, confirmed_user, make_user, log_in, faces_dir, person_photos,
    run_worker, screenshot,
):
    seeker = confirmed_user(full_name="Li Na")
    page = new_page()
    log_in(page, seeker)

    # The seeker posts herself.
    page.goto(reverse("families:dashboard"))
    page.get_by_role("button", name="Post a seeker posting").click()
    page.wait_for_url(re.compile(r"/seekers/new/$"))
    axe_check(page)
    page.get_by_label(field("myself")).check()
    page.get_by_label(field("Name used now")).fill("Li Na")
    page.get_by_label(field("Sex")).select_option(label="female")
    page.get_by_label(field("Born no earlier than (year)")).fill("1985")
    page.get_by_label(field("Born no later than (year)")).fill("1987")
    page.get_by_label(field("Province grown up in")).fill("Henan")
    page.get_by_label(field("Earliest memories")).fill("A railway station; a red gate.")
    page.get_by_label(field("Contact email")).fill("li.na@example.org")
    page.get_by_label(re.compile("I consent to my photos being compared")).check()
    page.get_by_role("button", name="Save and add photos").click()
    page.wait_for_url(re.compile(r"/seekers/\d+/photos/$"))
    posting = SeekerPosting.objects.get(owner=seeker)
    assert posting.consent_to_matching

    # A recent photo of the same person as the missing child.
    page.get_by_label(field("Photo")).set_input_files(faces_dir / person_photos(0)[1])
    page.get_by_label(field("Kind")).select_option(value=Photo.Kind.RECENT)
    page.get_by_label(field("Age in the photo (years)")).fill("38")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("[data-photo-id]")).to_have_count(1)
    axe_check(page)

    # A real worker embeds the face and matches it; the page updates by itself.
    mark_page(page)
    assert run_worker() is True
    expect(page.locator('[data-photo-state="face_found"]')).to_have_count(1, timeout=30_000)
    assert_not_reloaded(page)
    candidate = Candidate.objects.get(case=family_case, seeker_posting=posting)
    assert candidate.status == Candidate.Status.PENDING
    screenshot(page, "seeker-photo-face-found")

    # A volunteer sees the candidate in the review queue.
    volunteer = make_user(volunteer=True, full_name="Wang Fang")
    queue_page = new_page(viewport=DESKTOP)
    log_in(queue_page, volunteer)
    queue_page.goto(reverse("home"))
    queue_page.locator("nav.site-nav").get_by_role("link", name="Review queue").click()
    queue_page.wait_for_url(re.compile(r"/review/$"))
    row = queue_page.locator("tbody tr").filter(has_text=f"Candidate #{candidate.short_reference}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Shaanxi")
    axe_check(queue_page)
    screenshot(queue_page, "review-queue")
    # Nothing about the candidate shows to the family or the seeker before a confirmation.
    page.goto(reverse("families:seeker_detail", args=[posting.pk]))
    assert "Lin Chen" not in page.locator("main").inner_text()


@pytest.fixture
def candidate(family_case, matched_seeker):
    """A seeker posting, made through the services, that a real worker matched to the case."""
    return matched_seeker(family_case)


def test_volunteer_reviews_side_by_side_and_confirms_and_the_family_is_told(
    new_page, candidate, make_user, log_in, run_worker, screenshot
):
    family = candidate.case.family
    volunteer = make_user(volunteer=True, full_name="Wang Fang")
    page = new_page(viewport=DESKTOP)
    log_in(page, volunteer)

    # Claim the candidate from the queue.
    page.goto(reverse("matching:queue"))
    row = page.locator("tbody tr").filter(has_text=f"Candidate #{candidate.short_reference}")
    row.get_by_role("button", name="Claim").click()
    page.wait_for_url(re.compile(rf"/review/{candidate.reference}/$"))

    # Side by side: the child's photos beside the seeker's, every pair's distance, the facts.
    child, seeker = page.locator(".side-by-side > section").all()
    assert child.bounding_box()["y"] == seeker.bounding_box()["y"]
    assert child.bounding_box()["x"] < seeker.bounding_box()["x"]
    expect(child.locator("img")).to_have_count(1)
    expect(seeker.locator("img")).to_have_count(2)
    for image in page.locator("main img").all():
        assert image_loaded(image), image
    expect(page.locator(".face-crop")).to_have_count(4)
    assert page.locator(".agree").count() >= 1
    axe_check(page)
    screenshot(page, "review-page", docs_name="review-page")
    # The same page still works on a small phone.
    page.set_viewport_size({"width": 320, "height": 640})
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "review-page-320px")
    page.set_viewport_size(DESKTOP)

    # Confirm: the DNA step opens.
    page.get_by_label(field("confirm and request a DNA test")).check()
    page.get_by_label(field("Note")).fill("Same face in every pair; birth years and sex agree.")
    page.get_by_role("button", name="Record my decision").click()
    page.wait_for_url(re.compile(rf"/review/{candidate.reference}/dna/$"))
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    axe_check(page)

    # The notices go out on the queue; the family finds it in the inbox.
    run_worker()
    assert Notification.objects.filter(recipient=family, kind="candidate_confirmed").exists()
    family_page = new_page()
    log_in(family_page, family)
    family_page.goto(reverse("families:dashboard"))
    inbox_link = family_page.locator("nav.site-nav").get_by_role("link", name=re.compile("Inbox"))
    expect(inbox_link.locator(".count")).to_have_text(re.compile(r"^\d+"))
    inbox_link.click()
    family_page.wait_for_url(re.compile(r"/me/inbox/$"))
    message = family_page.locator(".inbox li").filter(
        has_text="a volunteer found a possible match"
    )
    expect(message).to_have_count(1)
    assert_fits_width(family_page)
    axe_check(family_page)
    screenshot(family_page, "family-inbox")

    # The notice opens the match page: what the confirmation grants, never the contacts.
    message.get_by_role("button", name="Open").click()
    family_page.wait_for_url(re.compile(rf"/matching/matches/{candidate.reference}/$"))
    page_text = family_page.locator("main").inner_text()
    assert "Li Na" in page_text and "Henan" in page_text
    assert "li.na@example.org" not in page_text
    assert all(image_loaded(image) for image in family_page.locator("main img").all())
    assert_fits_width(family_page)
    axe_check(family_page)
    screenshot(family_page, "family-match-page")
