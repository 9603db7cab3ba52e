"""The hard moments, in a real browser: the portal's own 404 page in Chinese on a phone;
the family's match page after a confirmation (their child's photo beside the person's, one
status word, the money warning); a volunteer recording a DNA match, which asks to be
confirmed and says who will be told; and the reunited case's public page, which says the
child was found, with no tip form and no poster."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from matching import services
from matching.models import Candidate, DnaTest
from tests import builders
from tests.browser.conftest import assert_fits_width, axe_check, field, image_loaded

DESKTOP = {"width": 1280, "height": 900}


def test_an_old_link_shows_the_portals_own_404_in_chinese(new_page, screenshot, page_problems):
    page = new_page(locale="zh-CN")
    response = page.goto("/cases/999999/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "找不到这个页面"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "404-zh", docs_name="error-404-zh")
    page.get_by_role("link", name="返回首页").click()
    page.wait_for_url(re.compile(r"/zh-hans/$"))
    # The browser reports the document's own 404 status; that one is this test's point.
    page_problems.errors[:] = [
        error for error in page_problems.errors
        if not (error.startswith(f"console error at {response.url}:") and "404" in error)
    ]


@pytest.fixture
def candidate(confirmed_user, published_case, person_photos, matched_seeker):
    """A case and a seeker posting with real photos, matched by a real worker."""
    family = confirmed_user(full_name="Chen Mei")
    return matched_seeker(published_case(family=family, photos=(person_photos(0)[0],)))


def test_the_family_after_a_confirmation_and_the_reunion(
    new_page, candidate, make_user, log_in, screenshot
):
    volunteer = make_user(volunteer=True, full_name="Zhao Min")
    builders.confirm(candidate=candidate, volunteer=volunteer)
    case = candidate.case

    # The family's match page: their child's photo beside the person's, one status word.
    family = new_page(viewport=DESKTOP)
    log_in(family, case.family)
    family.goto(reverse("matching:match_detail", args=[candidate.reference]))
    main = family.locator("main")
    assert main.locator(".badge").inner_text() == "Not yet certain: a DNA test is next"
    assert "Your photos of Lin Chen" in main.inner_text()
    assert "Photos of Li Na" in main.inner_text()
    assert "Never pay anyone for news of a match." in main.inner_text()
    assert "Your volunteer is Zhao Min" in main.inner_text()
    images = main.locator(".match-photos img").all()
    assert len(images) == 3 and all(image_loaded(image) for image in images)
    axe_check(family)
    screenshot(family, "match-page-family", docs_name="match-page-family")

    # The volunteer records the samples, then a match: it asks to be confirmed first.
    services.dna_test_record_samples(actor=volunteer,
                                     dna_test=DnaTest.objects.get(candidate=candidate))
    page = new_page(viewport=DESKTOP)
    log_in(page, volunteer)
    page.goto(reverse("matching:dna_test", args=[candidate.reference]))
    told = page.locator("main").inner_text()
    assert "Who will be told, by email and in their inbox: the family (Chen Mei) and Li Na." \
        in told
    page.get_by_label("match", exact=True).check()
    page.get_by_role("button", name="Record the result").click()
    page.get_by_text("tick this box to confirm it").wait_for()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    axe_check(page)
    screenshot(page, "dna-match-asks-to-confirm", docs_name="dna-match-confirm")
    page.get_by_label("match", exact=True).check()
    page.get_by_label(field("I have checked the laboratory's report: it is a match, and "
                            "they are reunited")).check()
    page.get_by_role("button", name="Record the result").click()
    page.get_by_text("The reunion is recorded").wait_for()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.REUNITED

    # The volunteers see it on their dashboard.
    page.goto(reverse("matching:dashboard"))
    assert f"Case #{case.pk}" in page.locator("#reunions-heading + p + ul").inner_text()

    # The family's page now says who the person is.
    family.reload()
    assert family.locator("main .badge").inner_text() == "Reunited: the DNA test confirms it"
    assert "may be" not in family.locator("main").inner_text()

    # Anyone: the case's page says the child was found; no tip form, no poster.
    visitor = new_page()
    visitor.goto(reverse("families:case_detail", args=[case.pk]))
    text = visitor.locator("main").inner_text()
    assert "This child has been found" in text
    assert "If you recognise this child" not in text
    assert visitor.get_by_role("link", name="Print the poster (PDF)").count() == 0
    assert visitor.get_by_role("link", name=re.compile("tip")).count() == 0
    assert_fits_width(visitor)
    axe_check(visitor)
    screenshot(visitor, "case-found", docs_name="case-found")
