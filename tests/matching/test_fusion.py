"""Fusion of the two models (``MATCH_FUSION``), with real photos, real DeepFace and a real worker.

The arithmetic is unit-tested in test_ranking.py; here both settings must find the true
person among strangers, and with fusion on the candidate records the fused score.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import ranking
from matching.models import Candidate, Face
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

#: One seeker posting per person; person01 is the child of the case below (img1.jpg).
SEEKERS = {"img2.jpg": "person01", "img3.jpg": "person02", "img8.jpg": "person03",
           "img13.jpg": "person04"}


@pytest.mark.parametrize("fusion", [False, True], ids=["fusion off", "fusion on"])
def test_fusion_on_and_off_both_rank_the_true_person_first(
    fusion, settings, make_user, photo_bytes, run_worker, identities
):
    settings.MATCH_FUSION = fusion
    postings = {}
    for name, person in SEEKERS.items():
        assert identities[name] == person
        posting = builders.seeker_posting(seeker=make_user())
        builders.photo(data=photo_bytes(name), posting=posting, age_in_photo=35)
        postings[person] = posting
    run_worker()
    assert not Candidate.objects.exists(), "no case yet"
    # The case's face is matched last: every candidate is ranked from its side.
    case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    run_worker()

    best = Candidate.objects.order_by("-score").first()
    assert best is not None
    assert best.seeker_posting == postings["person01"]
    case_face = Face.objects.get(photo__case=case)
    seeker_faces = list(Face.objects.filter(photo__seeker_posting__isnull=False))
    assert len(seeker_faces) == len(SEEKERS)
    assert case_face.embedding_dlib is not None
    assert all(face.embedding_dlib is not None for face in seeker_faces)

    def distance(a, b) -> float:
        return ranking.cosine_distance(np.asarray(a), np.asarray(b))

    true_face = best.seeker_face
    sface = distance(case_face.embedding, true_face.embedding)
    assert best.best_distance == pytest.approx(sface, abs=1e-5)
    plain_score = ranking.score(
        sface, best.age_gap_years, ranking.RankingParameters.from_settings()
    )
    if not fusion:
        assert best.score == pytest.approx(plain_score, abs=1e-5)
        return
    # The case face's pool is every seeker face: z-scores against it, both models.
    stats = ranking.pool_stats(
        [distance(case_face.embedding, face.embedding) for face in seeker_faces],
        [distance(case_face.embedding_dlib, face.embedding_dlib) for face in seeker_faces],
    )
    fused = ranking.fused_distance(
        sface, distance(case_face.embedding_dlib, true_face.embedding_dlib), stats
    )
    assert best.score == pytest.approx(ranking.fused_score(fused), abs=1e-4)
    assert best.score != pytest.approx(plain_score, abs=1e-3), "the fused score, not the plain"
