"""A missing child's ages as people who search say them: how old then, how old now.

Someone who may recognise a child decades later needs the age now ("现年约 38 岁") more
than the date of birth, and an age when missing in whole years ("4 岁", not "4.2 岁");
under two, in months. With only a range of birth years the ages are estimates from
the middle of the range, and say "about".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

#: Below this many months an age is said in months.
MONTHS_BELOW = 24


class Born(Protocol):
    birth_date: date | None
    birth_year_min: int
    birth_year_max: int


@dataclass(frozen=True)
class Age:
    """An age in whole months, and whether it is an estimate (no exact date of birth)."""

    months: int
    approximate: bool

    @property
    def years(self) -> int:
        return self.months // 12


def whole_months(born: date, when: date) -> int:
    """Completed months between two dates, never negative."""
    months = (when.year - born.year) * 12 + when.month - born.month
    if when.day < born.day:
        months -= 1
    return max(months, 0)


def age_on(person: Born, when: date) -> Age:
    """The age on ``when``: exact from a date of birth, else from the middle of the range
    of birth years (rounded to the nearest month, as an estimate)."""
    if person.birth_date:
        return Age(whole_months(person.birth_date, when), approximate=False)
    middle = (person.birth_year_min + person.birth_year_max + 1) / 2  # mid-range, 1 July
    months = round((when.year + (when.month - 1) / 12 + (when.day - 1) / 365.25 - middle) * 12)
    return Age(max(months, 0), approximate=True)


def age_text(age: Age) -> str:
    """"4 years old", "about 38 years old", "18 months old": whole years, months under two."""
    if age.months < MONTHS_BELOW:
        n = age.months
        if age.approximate:
            return ngettext("about %(n)d month old", "about %(n)d months old", n) % {"n": n}
        return ngettext("%(n)d month old", "%(n)d months old", n) % {"n": n}
    n = age.years
    if age.approximate:
        return ngettext("about %(n)d year old", "about %(n)d years old", n) % {"n": n}
    return ngettext("%(n)d year old", "%(n)d years old", n) % {"n": n}


def age_now_text(person: Born, today: date) -> str:
    """The sentence for the age now: "Now about 38 years old" (现年约 38 岁)."""
    age = age_on(person, today)
    if age.months < MONTHS_BELOW:
        return _("Now %(age)s") % {"age": age_text(age)}
    n = age.years
    if age.approximate:
        return ngettext("Now about %(n)d year old", "Now about %(n)d years old", n) % {"n": n}
    return ngettext("Now %(n)d year old", "Now %(n)d years old", n) % {"n": n}
