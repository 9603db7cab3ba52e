"""The review queue at 1280 px and on a phone: whole on a desktop screen (the Claim button
in view, no sideways scrolling), and on a phone each stacked row keeps its column names."""

from __future__ import annotations

from django.urls import reverse

from tests import builders
from tests.browser.conftest import PHONE, assert_fits_width, axe_check

DESKTOP = {"width": 1280, "height": 900}


def test_the_queue_fits_1280_px_and_keeps_its_labels_on_a_phone(
    new_page, make_user, make_people, log_in, screenshot
):
    for province in ("Sichuan", "Guangdong", "Shaanxi"):
        case, posting = make_people(missing_province=province, missing_city="A long city name")
        builders.candidate(case=case, posting=posting)
    volunteer = make_user(volunteer=True, full_name="Zhao Min")

    page = new_page(viewport=DESKTOP)
    log_in(page, volunteer)
    page.goto(reverse("matching:queue"))
    scroll = page.locator(".table-scroll").evaluate(
        "el => ({scroll: el.scrollWidth, width: el.clientWidth})")
    assert scroll["scroll"] <= scroll["width"], scroll
    for button in page.get_by_role("button", name="Claim").all():
        box = button.bounding_box()
        assert box["x"] + box["width"] <= DESKTOP["width"]
    axe_check(page)
    screenshot(page, "queue-1280", docs_name="queue-1280")

    page.set_viewport_size(PHONE)
    first = page.locator("tbody tr").first
    labels = first.locator("td[data-label]").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert '"Came from"' in labels and '"Missing from"' in labels
    # The headers are still there for screen readers.
    assert page.get_by_role("columnheader", name="Missing from").count() == 1
    assert first.get_by_role("cell").count() == 8
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "queue-phone", docs_name="queue-phone")
