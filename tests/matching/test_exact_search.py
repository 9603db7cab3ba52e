"""The exact search reads the covering indexes by birth-range width and returns what a
brute force over every face returns, whatever the widths of the birth ranges."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection, transaction

from families.models import Sex
from matching.faces import current_model_version
from matching.models import SEARCH_WIDTH_CLASSES, Face, Side
from matching.selectors.search import (
    _EXACT_SQL,
    PersonFacts,
    compatible_sexes,
    faces_nearest,
    vector_literal,
)
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

SEXES = (Sex.MALE, Sex.FEMALE, Sex.UNKNOWN)


@pytest.fixture
def many_faces(make_user, photo_bytes, redis_queues):
    """600 searchable seeker faces with random unit vectors, every sex and birth-range
    width from 0 to 15 years (each width class and the wide ones), on 6 postings; a few
    not searchable or of another model version."""
    postings = [
        builders.seeker_posting(seeker=make_user(), display_name=f"p{i}")
        for i in range(6)
    ]
    photos = [builders.photo(data=photo_bytes("img2.jpg"), posting=p) for p in postings]
    rng = np.random.default_rng(14)
    vectors = rng.standard_normal((600, 128))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    version = current_model_version()
    faces = []
    for number, vector in enumerate(vectors):
        born = int(rng.integers(1960, 1990))
        width = int(rng.integers(0, 16))
        faces.append(Face(
            photo=photos[number % 6], box_x=0, box_y=0, box_w=10, box_h=10,
            embedding=vector, model_version=version if number % 50 else "an older one",
            side=Side.SEEKER, sex=SEXES[int(rng.integers(0, 3))],
            birth_year_min=born, birth_year_max=born + width, searchable=number % 37 != 0,
        ))
    Face.objects.bulk_create(faces)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE matching_face")  # index-only scans need the map
    return {p.pk: p for p in postings}


def brute_force(query: np.ndarray, facts: PersonFacts, limit: int) -> list[int]:
    """Every face, in full precision (numpy), with the filters written out again."""
    rows = Face.objects.filter(
        searchable=True, model_version=current_model_version(), side=facts.side,
        sex__in=compatible_sexes(facts.sex),
        birth_year_min__lte=facts.birth_year_max, birth_year_max__gte=facts.birth_year_min,
    ).values_list("id", "embedding")
    ranked = sorted((1.0 - float(np.dot(query, np.asarray(e))), face_id) for face_id, e in rows)
    return [face_id for _distance, face_id in ranked[:limit]]


def test_the_exact_search_finds_what_a_brute_force_finds(many_faces, settings):
    settings.MATCH_VECTOR_SEARCH = "exact"
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(40):
        born = int(rng.integers(1958, 1992))
        facts = PersonFacts(
            side=Side.SEEKER, sex=SEXES[int(rng.integers(0, 3))], birth_year_min=born,
            birth_year_max=born + int(rng.integers(0, 12)),
        )
        query = rng.standard_normal(128)
        query /= np.linalg.norm(query)
        expected = brute_force(query, facts, limit=8)
        found = faces_nearest(embedding=query, facts=facts, max_distance=2, limit=8)
        assert [n.face_id for n in found] == expected
        faces = dict(Face.objects.filter(pk__in=expected).values_list("pk", "embedding"))
        for neighbour in found:
            exact = 1.0 - float(np.dot(query, np.asarray(faces[neighbour.face_id])))
            assert neighbour.distance == pytest.approx(exact, abs=1e-6)  # full precision
            assert neighbour.owner_id in many_faces
        checked += len(expected)
    assert checked > 200


def exact_plan(*switched_off: str) -> str:
    """The exact search's plan with the planner's ``switched_off`` methods off."""
    params = {
        "query": vector_literal(np.ones(128) / np.sqrt(128)), "side": Side.SEEKER,
        "sexes": [Sex.FEMALE, Sex.UNKNOWN], "born_min": 1970, "born_max": 1975,
        "limit": 10, "rerank": 20, "max_distance": 2, "model_version": current_model_version(),
        "centring_version": 0,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for method in switched_off:
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("EXPLAIN (COSTS OFF) " + _EXACT_SQL, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_every_width_class_is_read_from_its_covering_index(many_faces):
    """With sequential and bitmap scans off, the plan must still be index-only scans of the
    four ``face_search_w*`` indexes: the branches' predicates are the indexes' own."""
    plan = exact_plan("seqscan", "bitmapscan")
    names = [f"face_search_w{low}_{high}" for low, high in SEARCH_WIDTH_CLASSES]
    for name in [*names, "face_search_wide"]:
        assert f"Index Only Scan using {name} " in plan, plan


def test_the_exact_search_never_reads_the_approximate_index(many_faces):
    """Even where sorting looks dear to the planner, the full-precision step is not planned
    as a scan of the HNSW index (which yields only its ``ef_search`` nearest faces of every
    side and version, and so would miss faces the facts allow)."""
    for switched_off in (("sort",), ("sort", "seqscan"), ("sort", "seqscan", "incremental_sort")):
        plan = exact_plan(*switched_off)
        assert "face_embedding_hnsw" not in plan, plan
