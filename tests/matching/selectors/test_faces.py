"""The faces of many people in one query, as matching compares them."""

from __future__ import annotations

import pytest

from matching.models import Face, Side
from matching.selectors.faces import faces_of_people, faces_of_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_faces_of_people_groups_embedded_searchable_faces(seekers):
    grouped = faces_of_people(side=Side.SEEKER, owner_ids=[seekers["a"].pk, seekers["c"].pk])
    assert set(grouped) == {seekers["a"].pk, seekers["c"].pk}
    assert all(len(faces) == 1 for faces in grouped.values())
    assert faces_of_person(side=Side.SEEKER, owner_id=seekers["b"].pk).keys() == {
        Face.objects.get(photo__seeker_posting=seekers["b"]).pk
    }
