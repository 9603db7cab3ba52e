"""Journeys 8 and 9: candidates people propose.

8: an adult reading a public case says "this might be me"; a volunteer finds the candidate
in the queue, marked as proposed by the seeker, and reviews it.
9: a family finds a published seeker posting in the public list and says "this might be our
child"; the candidate waits in the queue, marked as proposed by the family.
"""

from __future__ import annotations

import re

from django.urls import reverse

from families.services import seeker_posting_create, seeker_posting_publish
from matching.models import Candidate
from tests.browser.conftest import assert_fits_width, axe_check


def _posting(seeker):
    return seeker_posting_create(actor=seeker, fields={
        "display_name": "Li Na", "sex": "F", "birth_year_min": 1985, "birth_year_max": 1987,
        "grew_up_province": "Henan", "grew_up_city": "Zhengzhou", "consent_to_matching": True,
        "contact_phone": "+86 139 4444 5555",
    })


def test_a_seeker_says_this_might_be_me_and_a_volunteer_reviews_it(
    new_page, confirmed_user, published_case, person_photos, log_in, screenshot, redis_queues
):
    case = published_case(family=confirmed_user(), photos=(person_photos(0)[0],))
    seeker = confirmed_user(full_name="Li Na")
    _posting(seeker)
    volunteer = confirmed_user(volunteer=True)

    page = new_page()
    log_in(page, seeker)
    page.goto(reverse("families:case_detail", args=[case.pk]))
    page.get_by_role("link", name="This might be me").click()
    page.wait_for_url(re.compile(rf"/propose/case/{case.pk}/$"))
    axe_check(page)
    page.get_by_label("Why do you think so?").fill("I remember a railway station and my "
                                                   "grandmother's red coat.")
    assert_fits_width(page)
    screenshot(page, "this-might-be-me")
    page.get_by_role("button", name="Send to the volunteers").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert "A volunteer will look at it carefully" in page.content()
    candidate = Candidate.objects.get()
    assert candidate.source == Candidate.Source.SEEKER

    review = new_page()
    log_in(review, volunteer)
    review.goto(reverse("matching:queue") + "?source=seeker")
    row = review.locator("tbody tr").filter(has_text=f"Candidate #{candidate.short_reference}")
    row.get_by_text("The seeker: this might be me").wait_for()
    row.get_by_role("link", name=f"Candidate #{candidate.short_reference}").click()
    review.get_by_text("Proposed by a person, not found by the faces").wait_for()
    assert "railway station" in review.locator("main").inner_text()
    axe_check(review)
    screenshot(review, "proposed-candidate-review")


def test_a_family_finds_a_published_posting_and_proposes_it(
    new_page, confirmed_user, published_case, person_photos, log_in, screenshot, redis_queues
):
    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family, photos=(person_photos(0)[0],))
    posting = _posting(confirmed_user())
    seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                           show_memories=False)

    page = new_page()
    log_in(page, family)
    page.goto(reverse("families:case_list"))
    page.get_by_role("link", name="Adults looking for their family").click()
    page.get_by_label("Grew up in (province or city)").fill("Henan")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Li Na").click()
    page.wait_for_url(re.compile(rf"/people/{posting.pk}/$"))
    assert "+86 139 4444 5555" not in page.content()
    axe_check(page)
    page.get_by_role("button", name="This might be our child").click()
    page.get_by_label("Our case").select_option(str(case.pk))
    page.get_by_label("Why do you think so?").fill("She grew up near where Lin was taken.")
    screenshot(page, "this-might-be-our-child")
    page.get_by_role("button", name="Send to the volunteers").click()
    page.wait_for_url(re.compile(rf"/people/{posting.pk}/$"))
    candidate = Candidate.objects.get()
    assert (candidate.case, candidate.seeker_posting, candidate.source) == (
        case, posting, Candidate.Source.FAMILY)
