"""The volunteers' dashboard in a browser: charts readable on a desktop and at 320 px.

A year of work is written as rows (cases across provinces, seeker postings,
candidates with decisions and DNA results), then a volunteer opens the dashboard
on a desktop screen and on the narrowest phone, opens one chart's numbers, and the
page is checked for accessibility and width. Screenshots: docs/screenshots/
dashboard-desktop.png and dashboard-320.png (with REUNION_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from families.models import CaseStatus, MissingChildCase, SeekerPosting
from matching.models import Candidate, DnaTest, Review
from tests.browser.conftest import assert_fits_width, axe_check
from tests.matching.test_outcomes import Rows

DESKTOP = {"width": 1280, "height": 900}
NARROWEST = {"width": 320, "height": 720}
PROVINCES = {"Guangdong": 9, "Sichuan": 7, "Henan": 6, "Shaanxi": 5, "Hunan": 4,
             "Yunnan": 3, "Guizhou": 2, "Fujian": 1}


def _a_year_of_work(owner, volunteer) -> None:
    rng = random.Random(17)
    now = timezone.now()
    rows = Rows(owner, volunteer, size=90)
    provinces = [name for name, count in PROVINCES.items() for _ in range(count)]
    for case, province in zip(rows.cases, provinces, strict=False):
        MissingChildCase.objects.filter(pk=case.pk).update(
            missing_province=province, published_at=now - timedelta(days=rng.uniform(0, 360)))
    MissingChildCase.objects.filter(pk__in=[c.pk for c in rows.cases[len(provinces):]]).update(
        status=CaseStatus.DRAFT, published_at=None)
    for posting in rows.postings:
        SeekerPosting.objects.filter(pk=posting.pk).update(
            created_at=now - timedelta(days=rng.uniform(0, 360)))
    outcomes = ["none"] * 14 + ["needs_info"] * 3 + ["reject"] * 30 + ["confirm"] * 4 + [
        "dna_match"] * 3 + ["dna_no_match"] * 4
    for outcome in outcomes:
        score = rng.uniform(-0.05, 0.7)
        age = timedelta(days=rng.uniform(0.1, 300))
        made = rows.candidate(distance=0.14 * (1 - score), gap=rng.choice([2.0, 25.0]),
                              outcome=outcome)
        Candidate.objects.filter(pk=made.pk).update(created_at=now - age, score=score)
        for review in made.reviews.all():
            Review.objects.filter(pk=review.pk).update(
                created_at=now - age + timedelta(days=rng.uniform(0.2, min(20, age.days + 0.1))))
        if outcome.startswith("dna_"):
            DnaTest.objects.filter(candidate=made).update(
                requested_at=now - age + timedelta(days=5),
                result_at=now - age + timedelta(days=rng.uniform(20, 40)))


def test_a_volunteer_reads_the_dashboard_on_a_desktop_and_at_320_px(
    new_page, make_user, confirmed_user, log_in, screenshot
):
    volunteer = confirmed_user(full_name="Volunteer Zhou", volunteer=True)
    _a_year_of_work(make_user(), volunteer)

    page = new_page(viewport=DESKTOP)
    log_in(page, volunteer)
    page.goto(reverse("families:dashboard"))
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How the work is going")
    expect(page.locator("svg.chart-svg")).to_have_count(10)
    provinces = page.get_by_role("img", name="Public cases by the province")
    expect(provinces).to_be_visible()
    assert provinces.locator("text.chart-label").all_text_contents()[:3] == [
        "Guangdong", "Sichuan", "Henan"]
    # The numbers behind a chart, for screen readers and anyone who asks.
    figure = page.locator("figure", has=provinces)
    figure.get_by_text("The numbers").click()
    expect(figure.get_by_role("row", name="Guangdong 9")).to_be_visible()
    axe_check(page)
    screenshot(page, "dashboard-desktop", docs_name="dashboard-desktop")

    phone = new_page(viewport=NARROWEST)
    log_in(phone, volunteer)
    phone.goto(reverse("matching:dashboard"))
    assert_fits_width(phone)
    width = phone.locator("svg.chart-svg").first.evaluate("el => el.getBoundingClientRect().width")
    assert 250 <= width <= 320, width  # the chart fills the phone's column, no wider
    axe_check(phone)
    screenshot(phone, "dashboard-320", docs_name="dashboard-320")

    chinese = new_page(viewport=NARROWEST, locale="zh-CN")
    log_in(chinese, volunteer)
    chinese.goto("/zh-hans" + reverse("matching:dashboard"))
    expect(chinese.get_by_role("heading", level=1)).to_have_text("工作进展")
    assert_fits_width(chinese)
