"""Seekers whose faces the real pipeline embedded, for the matching reads' tests."""

from __future__ import annotations

import pytest

from families.models import Sex
from tests import builders


@pytest.fixture
def seekers(make_user, photo_bytes, run_worker):
    """Three consenting seekers: person01 twice (F, born 1973-77) and person02 (F, 1967-71)."""
    made = {}
    for key, name, born in (("a", "img2.jpg", 1973), ("b", "img4.jpg", 1975),
                            ("c", "img3.jpg", 1967)):
        adult = make_user()
        posting = builders.seeker_posting(seeker=adult, display_name=key, sex=Sex.FEMALE,
                                          birth_year_min=born, birth_year_max=born + 4)
        builders.photo(data=photo_bytes(name), posting=posting, age_in_photo=None)
        made[key] = posting
    run_worker()
    return made
