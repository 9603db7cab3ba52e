"""The filtered nearest-face search, over faces the real pipeline embedded."""

from __future__ import annotations

import pytest

from families.models import Sex
from matching.faces import cosine_distance
from matching.models import Face, Side
from matching.selectors.search import PersonFacts, faces_nearest

pytestmark = pytest.mark.django_db(transaction=True)


def query_vector():
    """A real embedding of person01 (img1.jpg is not stored): the first seeker's face."""
    return Face.objects.get(photo__seeker_posting__display_name="a").embedding


def facts(**overrides):
    values = {"side": Side.SEEKER, "sex": Sex.FEMALE, "birth_year_min": 1972,
              "birth_year_max": 1980}
    return PersonFacts(**{**values, **overrides})


@pytest.mark.parametrize("mode", ["exact", "hnsw"])
def test_nearest_faces_come_closest_first_with_their_people(seekers, settings, mode):
    settings.MATCH_VECTOR_SEARCH = mode
    query = query_vector()
    found = faces_nearest(embedding=query, facts=facts(birth_year_min=1960),
                          max_distance=1)
    assert [n.owner_id for n in found] == [seekers["a"].pk, seekers["b"].pk, seekers["c"].pk]
    for neighbour in found:
        face = Face.objects.get(pk=neighbour.face_id)
        assert neighbour.distance == pytest.approx(
            cosine_distance(query, face.embedding), abs=1e-5
        )
    threshold = settings.MATCH_SAME_AGE_THRESHOLD
    assert found[0].distance < 1e-6 and found[1].distance < threshold < found[2].distance


def test_filters_leave_out_what_cannot_be_true(seekers):
    query = query_vector()
    near = lambda **kw: {n.owner_id for n in faces_nearest(  # noqa: E731
        embedding=query, facts=facts(**kw), max_distance=1)}
    assert near() == {seekers["a"].pk, seekers["b"].pk}  # c was born 1967-71, not 1972-80
    assert seekers["c"].pk in near(birth_year_min=1971)
    assert near(birth_year_min=1990, birth_year_max=1995) == set()
    assert near(sex=Sex.MALE) == set()
    assert near(sex=Sex.UNKNOWN) == near()
    assert near(side=Side.CASE) == set()
    Face.objects.filter(photo__seeker_posting=seekers["b"]).update(searchable=False)
    assert near() == {seekers["a"].pk}


def test_distance_and_limit_bound_the_answer(seekers, settings):
    query = query_vector()
    assert len(faces_nearest(embedding=query, facts=facts(birth_year_min=1960),
                             max_distance=settings.MATCH_SAME_AGE_THRESHOLD)) == 2
    assert len(faces_nearest(embedding=query, facts=facts(birth_year_min=1960),
                             max_distance=1, limit=1)) == 1
