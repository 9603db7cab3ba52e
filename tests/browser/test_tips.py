"""Journey 7: an anonymous visitor sends a tip from a case page; a volunteer of that
province reads it, marks it and passes a word on to the family, who reads it in the inbox."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.browser.conftest import assert_fits_width, axe_check


def test_an_anonymous_tip_reaches_a_volunteer_and_a_word_reaches_the_family(
    new_page, confirmed_user, published_case, person_photos, log_in, screenshot, redis_queues
):
    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family, photos=(person_photos(0)[0],))
    volunteer = confirmed_user(volunteer=True, full_name="Wang Fang",
                               review_provinces="Shaanxi")

    # A visitor with no account finds the form on the case page and sends a tip.
    visitor = new_page()
    visitor.goto(reverse("families:case_detail", args=[case.pk]))
    visitor.get_by_role("link", name="Send the volunteers a tip about this child").click()
    visitor.wait_for_url(re.compile(rf"/cases/{case.pk}/tip/$"))
    axe_check(visitor)
    visitor.get_by_label("What you saw or know").fill(
        "A girl like her sold flowers at the Bell Tower in 1995. www.example.org")
    visitor.get_by_label("Where").fill("Bell Tower, Xi'an")
    visitor.get_by_label("When").fill("summer 1995")
    visitor.get_by_label("How to reach you (optional)").fill("+86 139 0000 5678")
    assert_fits_width(visitor)
    screenshot(visitor, "tip-form")
    visitor.get_by_role("button", name="Send the tip").click()
    visitor.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert "A volunteer will read your tip" in visitor.content()

    # The volunteer of the province finds it in the tips queue and marks it.
    page = new_page()
    log_in(page, volunteer)
    page.goto(reverse("home"))
    page.locator("nav.site-nav").get_by_role("link", name="Tips").click()
    page.wait_for_url(re.compile(r"/tips/$"))
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"Tip #[0-9a-f]{8}\b")).first.click()
    body = page.locator("main").inner_text()
    assert "Bell Tower" in body and "+86 139 0000 5678" in body
    assert page.locator("main a[href*='example.org']").count() == 0
    axe_check(page)
    assert_fits_width(page)
    screenshot(page, "tip-page")
    page.get_by_label("useful", exact=True).check()
    page.get_by_label("Note for the other volunteers").fill("Ask the Bell Tower vendors.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The tip is marked.").wait_for()
    page.get_by_label("What the family should hear").fill(
        "Someone may have seen Lin in Xi'an in 1995; we are following it up.")
    page.get_by_role("button", name="Send to the family").click()
    page.get_by_text("The family is told what you wrote.").wait_for()

    # The family reads the volunteer's words in the inbox, and nothing of the tip itself.
    home = new_page()
    log_in(home, family)
    home.goto(reverse("families:inbox"))
    inbox = home.locator("main").inner_text()
    assert "we are following it up" in inbox
    assert "Bell Tower" not in inbox and "5678" not in inbox
    axe_check(home)
