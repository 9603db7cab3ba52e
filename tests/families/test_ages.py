"""Ages as a search needs them: how old the child was (whole years, months under two) and how
old they are now, exact from a date of birth, "about" from a range of birth years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from families.ages import Age, age_now_text, age_on, age_text, whole_months
from tests import builders


@dataclass
class Person:
    birth_date: date | None
    birth_year_min: int
    birth_year_max: int


@pytest.mark.parametrize(("born", "when", "months"), [
    (date(1988, 2, 10), date(1992, 6, 1), 51),   # 4 years 3 months
    (date(1988, 2, 10), date(1992, 2, 9), 47),   # the day before the 4th birthday
    (date(1988, 2, 10), date(1992, 2, 10), 48),  # the birthday itself
    (date(1988, 1, 31), date(1988, 2, 29), 0),
    (date(1990, 5, 1), date(1989, 1, 1), 0),     # never negative
])
def test_whole_months(born, when, months):
    assert whole_months(born, when) == months


def test_exact_ages_from_a_date_of_birth():
    person = Person(date(1988, 2, 10), 1988, 1988)
    assert age_on(person, date(1992, 6, 1)) == Age(51, approximate=False)
    with translation.override("en"):
        assert age_text(age_on(person, date(1992, 6, 1))) == "4 years old"
        assert age_text(age_on(person, date(1989, 8, 9))) == "17 months old"
        assert age_text(age_on(person, date(1990, 2, 10))) == "2 years old"
        assert age_text(age_on(person, date(1988, 3, 10))) == "1 month old"
        assert age_now_text(person, date(2026, 12, 3)) == "Now 38 years old"
    with translation.override("zh-hans"):
        assert age_text(age_on(person, date(1992, 6, 1))) == "4 岁"
        assert age_text(age_on(person, date(1989, 8, 9))) == "17 个月"
        assert age_now_text(person, date(2026, 12, 3)) == "现年 38 岁"


def test_estimated_ages_from_a_range_of_years():
    """The middle of the range (1 July of the middle year) stands for the birthday."""
    one_year = Person(None, 1986, 1986)
    with translation.override("en"):
        assert age_text(age_on(one_year, date(1988, 3, 1))) == "about 20 months old"
        assert age_now_text(one_year, date(2026, 12, 3)) == "Now about 40 years old"
    wide = Person(None, 1984, 1988)  # middle: 1 July 1986
    with translation.override("zh-hans"):
        assert age_text(age_on(wide, date(1990, 9, 1))) == "约 4 岁"
        assert age_now_text(wide, date(2026, 12, 3)) == "现年约 40 岁"


@pytest.mark.django_db
def test_the_case_page_shows_both_ages_in_whole_years(client, make_user):
    case = builders.case(family=make_user(), given_name="小梅", family_name="李",
                         birth_date="1988-02-10", birth_year_min=1988, birth_year_max=1988,
                         missing_date="1992-06-01")
    with translation.override("zh-hans"):
        page = client.get(reverse("families:case_detail", args=[case.pk])).content.decode()
    assert "走失时年龄</dt><dd>4 岁</dd>" in page
    assert "现年" in page and "4.2" not in page and "4.3" not in page
