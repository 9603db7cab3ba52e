"""The volunteers' dashboard: its figures against the database, its charts, who may see it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from families.models import CaseStatus, MissingChildCase, SeekerPosting
from matching import charts, statistics
from matching.models import Candidate, DnaTest, Review
from tests.matching.test_outcomes import Rows

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _month(when: datetime) -> tuple[int, int]:
    return (when.year, when.month)


@pytest.fixture
def world(make_user):
    """Cases, postings, candidates, decisions and DNA tests at known times."""
    volunteer = make_user(volunteer=True)
    rows = Rows(make_user(), volunteer, size=40)
    cases = rows.cases
    # Published: two this month, one in January, one in the window's first month, one before it.
    for case, when, province, status in [
        (cases[0], NOW - 2 * DAY, "Shaanxi", CaseStatus.PUBLISHED),
        (cases[1], NOW - 5 * DAY, "Shaanxi", CaseStatus.PUBLISHED),
        (cases[2], datetime(2026, 1, 20, tzinfo=UTC), "Sichuan", CaseStatus.DNA_PENDING),
        (cases[3], datetime(2025, 7, 1, 3, tzinfo=UTC), "Sichuan", CaseStatus.REUNITED),
        (cases[4], datetime(2025, 6, 30, tzinfo=UTC), "Hunan", CaseStatus.PUBLISHED),
        (cases[5], None, "Hunan", CaseStatus.DRAFT),
        (cases[6], datetime(2026, 2, 1, tzinfo=UTC), "Hunan", CaseStatus.WITHDRAWN),
    ]:
        MissingChildCase.objects.filter(pk=case.pk).update(
            published_at=when, missing_province=province, status=status)
    MissingChildCase.objects.filter(pk__in=[c.pk for c in cases[7:]]).update(
        published_at=None, status=CaseStatus.DRAFT)
    SeekerPosting.objects.update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    SeekerPosting.objects.filter(pk__in=[p.pk for p in rows.postings[:3]]).update(
        created_at=datetime(2026, 5, 10, tzinfo=UTC))

    def candidate(age: timedelta, outcome: str, score: float, *first_decision_after: float):
        made = rows.candidate(distance=0.05, gap=3.0, outcome=outcome)
        Candidate.objects.filter(pk=made.pk).update(created_at=NOW - age, score=score)
        for review, days in zip(made.reviews.order_by("pk"), first_decision_after, strict=False):
            Review.objects.filter(pk=review.pk).update(created_at=NOW - age + days * DAY)
        return made

    # Waiting: one per wait bucket, two over three months.
    for age in (timedelta(hours=2), 3 * DAY, 10 * DAY, 40 * DAY, 100 * DAY, 120 * DAY):
        candidate(age, "none", 0.15)
    candidate(5 * DAY, "needs_info", 0.25, 0.5)  # open too: needs information
    candidate(20 * DAY, "reject", -0.05, 0.5)
    candidate(30 * DAY, "confirm", 0.4, 3)
    match = candidate(60 * DAY, "dna_match", 0.7, 10)
    no_match = candidate(90 * DAY, "dna_no_match", 0.7, 40, 80)
    DnaTest.objects.filter(pk=match.dna_test.pk).update(
        requested_at=NOW - 50 * DAY, result_at=NOW - 20 * DAY)
    DnaTest.objects.filter(pk=no_match.dna_test.pk).update(
        requested_at=NOW - 50 * DAY, result_at=NOW - 10 * DAY)
    return volunteer


def _expected_by_month(timestamps, months) -> list[int]:
    counts = Counter(_month(when) for when in timestamps if when is not None)
    return [counts[(start.year, start.month)] for start in months]


def test_the_figures_are_the_databases(world):
    figures = statistics.dashboard_figures(now=NOW)
    months = figures.months
    assert (months[0].isoformat(), months[-1].isoformat(), len(months)) == (
        "2025-07-01", "2026-06-01", 12)
    # Each series, counted again here from the rows themselves.
    sources = {
        "cases": MissingChildCase.objects.values_list("published_at", flat=True),
        "seekers": SeekerPosting.objects.values_list("created_at", flat=True),
        "candidates": Candidate.objects.values_list("created_at", flat=True),
        "decisions": Review.objects.exclude(reason="dna_no_match")
        .values_list("created_at", flat=True),
        "dna_tests": DnaTest.objects.values_list("requested_at", flat=True),
        "reunions": DnaTest.objects.filter(result="match").values_list("result_at", flat=True),
    }
    for series in figures.series:
        assert series.counts == _expected_by_month(sources[series.key], months), series.key
    by_key = {series.key: series.counts for series in figures.series}
    # Not the drafts nor June 2025; the case withdrawn after it was published counts in February.
    assert by_key["cases"] == [1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2]
    assert by_key["seekers"][-2:] == [3, 0]
    assert sum(by_key["candidates"]) == 11
    assert (by_key["dna_tests"][-3], by_key["reunions"][-2]) == (2, 1)  # April, May
    assert sum(by_key["decisions"]) == 5  # the DNA's own rejection is not a volunteer's

    assert figures.backlog_total == 7
    assert [count for _label, count in figures.backlog] == [1, 1 + 1, 1, 1, 2]
    # First decisions after 0.5, 0.5, 3, 10 and 40 days (a DNA rejection is not one).
    assert [count for _label, count in figures.first_decision_waits] == [2, 1, 1, 1, 0]
    assert figures.median_days_to_first_decision == 3.0

    bands = {band.label: (band.person, band.not_person, band.no_answer)
             for band in figures.score_bands}
    assert bands == {"< 0.1": (0, 1, 0), "0.1–0.2": (0, 0, 6), "0.2–0.3": (0, 0, 1),
                     "0.3–0.5": (1, 0, 0), "≥ 0.5": (1, 1, 0)}
    public = MissingChildCase.objects.filter(
        status__in=("published", "dna_pending", "reunited"))
    expected = Counter(public.values_list("missing_province", flat=True))
    assert figures.provinces == sorted(expected.items(), key=lambda item: (-item[1], item[0]))
    assert figures.provinces == [("Shaanxi", 2), ("Sichuan", 2), ("Hunan", 1)]


def test_the_charts_are_drawn_to_scale():
    chart = charts.bar_chart([("Shaanxi", 3), ("Sichuan", 2), ("Hunan", 0)])
    assert [bar.width for bar in chart.bars] == [280, 186.67, 0]
    assert chart.height == 3 * charts.ROW
    columns = charts.column_chart(["a", "b", "c", "d"], [0, 5, 10, 5], height=150)
    assert [c.height for c in columns.columns] == [0, 57.0, 114.0, 57.0]
    assert all(c.y + c.height == columns.baseline for c in columns.columns)
    assert max(c.x + c.width for c in columns.columns) <= charts.WIDTH
    stacked = charts.stacked_bar_chart([("x", (2, 1, 1)), ("y", (0, 0, 2))], ("a", "b", "c"))
    assert [(s.x, s.width) for s in stacked.bars[0].segments] == [(0, 140), (140, 70),
                                                                  (210, 70)]
    assert [s.width for s in stacked.bars[1].segments] == [0, 0, 140]
    assert charts.bar_chart([]).bars == []


def _page(user, language: str = "en"):
    client = Client()
    if user is not None:
        client.force_login(user)
    prefix = "" if language == "en" else f"/{language}"
    return client.get(prefix + reverse("matching:dashboard"))


def test_the_dashboard_shows_charts_with_their_numbers_and_no_people(world):
    response = _page(world)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    svgs = re.findall(r"<svg class=\"chart-svg\"[^>]*>", page)
    assert len(svgs) == 10  # six months-by-month, two waits, outcome by score, provinces
    for svg in svgs:
        assert 'viewBox="0 0 320 ' in svg and "width=" not in svg and 'role="img"' in svg
    assert page.count("<details>") == 10
    assert '<th scope="row">Shaanxi</th><td>2</td>' in page
    assert 'width="280.0"' in page  # the longest province bar fills the chart
    figures = statistics.dashboard_figures()
    assert (f"{figures.backlog_total} candidates waiting for review, by how long they have "
            "waited") in page
    for name in MissingChildCase.objects.values_list("given_name", flat=True):
        assert name not in page
    for name in SeekerPosting.objects.values_list("display_name", flat=True):
        assert name not in page
    chinese = _page(world, "zh-hans").content.decode()
    assert "工作进展" in chinese and "各省份的案件" in chinese and "具体数字" in chinese


def test_only_volunteers_and_admins_see_the_dashboard(make_user, make_people):
    case, posting = make_people()
    admin = make_user(is_staff=True, is_superuser=True)
    volunteer = make_user(volunteer=True)
    for person in (case.family, posting.owner):
        assert _page(person).status_code == 404
    anonymous = _page(None)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert _page(admin).status_code == 200
    home = Client()
    home.force_login(volunteer)
    assert f'href="{reverse("matching:dashboard")}"' in home.get(reverse("home")).content.decode()
    home.force_login(case.family)
    assert f'href="{reverse("matching:dashboard")}"' not in (
        home.get(reverse("home")).content.decode())
