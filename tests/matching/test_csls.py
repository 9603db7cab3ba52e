"""Hubness reduction (CSLS): its arithmetic by hand on made-up numbers (``matching.csls``),
then each face's ``r`` with real photos, the real models, a real worker and PostgreSQL
(``matching.services.csls``, the match job's re-rank with ``MATCH_CSLS``)."""

from __future__ import annotations

import numpy as np
import pytest

from matching import csls, ranking, services
from matching.faces import current_model_version
from matching.models import Candidate, Centring, Face, MatchJob, Side
from matching.selectors.search import csls_r_of
from matching.services import csls as csls_services
from reunion.worker import upkeep_steps
from tests import builders


def test_r_is_the_mean_similarity_of_the_k_nearest():
    distances = [0.9, 0.1, 0.5, 0.3, 0.7]
    # The three nearest: 0.1, 0.3, 0.5 → similarities 0.9, 0.7, 0.5.
    assert csls.r_from_distances(distances, k=3) == pytest.approx(0.7)
    # Fewer than k: over all of them; none: 0 (no hub).
    assert csls.r_from_distances([0.2, 0.4], k=10) == pytest.approx(0.7)
    assert csls.r_from_distances([], k=10) == 0.0


def test_the_score_and_its_distance_give_one_order():
    assert csls.csls_score(0.8, 0.5, 0.3) == pytest.approx(0.8)
    # distance 0.2 (similarity 0.8): 0.2 + (0.5 + 0.3) / 2 = 0.6 = 1 − 0.8 / 2
    assert csls.csls_distance(0.2, 0.5, 0.3) == pytest.approx(0.6)
    assert csls.csls_distance(0.2, 0.5, 0.3) == pytest.approx(
        1 - csls.csls_score(0.8, 0.5, 0.3) / 2)


def test_a_hub_falls_behind_a_face_a_little_further_away():
    # Face 1 is nearer (0.30) but near everyone (r 0.6); face 2 a little further (0.35),
    # near nobody (r 0.2); the query's own r is 0.4.
    hub, other = csls.csls_distance(0.30, 0.4, 0.6), csls.csls_distance(0.35, 0.4, 0.2)
    assert other < hub
    assert other == pytest.approx(0.35 + (0.4 + 0.2) / 2)
    assert hub == pytest.approx(0.30 + (0.4 + 0.6) / 2)


def test_a_face_without_r_is_neither_favoured_nor_held_back():
    filled = csls.r_filled({1: 0.6, 2: 0.2}, [1, 2, 3])
    assert filled == {1: 0.6, 2: 0.2, 3: pytest.approx(0.4)}
    assert csls.r_filled({}, [5, 6]) == {5: 0.0, 6: 0.0}
    # Without any r the order is the distances': every face moves by the same amount.
    r = csls.r_filled({}, [1, 2, 3])
    moved = {face: csls.csls_distance(d, 0.5, r[face]) - d
             for face, d in ((1, 0.3), (2, 0.3), (3, 0.1))}
    assert moved == {1: pytest.approx(0.25), 2: pytest.approx(0.25), 3: pytest.approx(0.25)}


def test_the_matrix_takes_each_sides_r_from_the_other_side():
    similarities = np.array([
        [0.9, 0.8, 0.1],
        [0.2, 0.7, 0.3],
    ])
    # k = 2: rows (queries) over their two largest, columns (gallery) over their two.
    r_query = csls.r_of_rows(similarities, 2)
    r_gallery = csls.r_of_rows(similarities.T, 2)
    assert r_query == pytest.approx([0.85, 0.5])
    assert r_gallery == pytest.approx([0.55, 0.75, 0.2])
    scores = csls.csls_matrix(similarities, 2)
    assert scores[0, 1] == pytest.approx(2 * 0.8 - 0.85 - 0.75)
    assert scores[1, 2] == pytest.approx(2 * 0.3 - 0.5 - 0.2)
    # Query 1's best by cosine is gallery 1 (0.7); by CSLS too (0.15 vs 0.1 and −0.05)...
    assert int(np.argmax(scores[1])) == 1
    # ...while query 0 prefers gallery 0, the one nearer no other query.
    assert int(np.argmax(scores[0])) == 0
    assert csls.r_of_rows(np.zeros((2, 0)), 10) == pytest.approx([0.0, 0.0])
    # In distance terms: 1 − score / 2, the same order.
    distances = csls.csls_distance_matrix(1 - similarities, 2)
    assert distances == pytest.approx(1 - scores / 2)


def test_a_photo_without_a_face_counts_in_no_r():
    similarities = np.array([[0.9, np.nan, 0.1], [np.nan, np.nan, np.nan]])
    assert csls.r_of_rows(similarities, 2) == pytest.approx([0.5, 0.0])
    assert np.isnan(csls.csls_matrix(similarities, 2)[0, 1])


def test_pairs_of_one_group_take_each_photos_r_from_the_others():
    distances = np.array([
        [0.0, 0.2, 0.6],
        [0.2, 0.0, 0.4],
        [0.6, 0.4, 0.0],
    ])
    # k = 1: each photo's nearest other photo (never itself): r = 0.8, 0.8, 0.6.
    result = csls.csls_pairwise(distances, 1)
    assert result[0, 1] == pytest.approx(0.2 + 0.8)
    assert result[1, 2] == pytest.approx(0.4 + 0.7)
    assert result[0, 2] == pytest.approx(0.6 + 0.7)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def test_a_persons_closest_pair_under_csls_weighs_each_photos_r():
    # Two photos of mine, one of theirs: photo 1 is nearer (cos 0.8) but a hub (r 0.7),
    # photo 2 further (cos 0.6) and near nobody (r 0.0).
    mine = {1: (_unit(1.0, 0.0), 5.0), 2: (_unit(0.0, 1.0), 6.0)}
    theirs = {10: (np.array([0.8, 0.6]), 30.0)}
    pair = csls.closest_pair_csls(mine, theirs, {1: 0.7, 2: 0.0, 10: 0.2})
    # 1: 0.2 + (0.7 + 0.2) / 2 = 0.65; 2: 0.4 + (0.0 + 0.2) / 2 = 0.5.
    assert (pair.face_a, pair.face_b) == (2, 10)
    assert pair.csls == pytest.approx(0.5)
    assert pair.distance == pytest.approx(0.4)
    assert csls.closest_pair_csls(mine, {}, {}) is None


def test_a_new_face_changes_an_r_only_by_coming_nearer_than_its_kth():
    assert csls.kth_distance([0.9, 0.1, 0.5, 0.3], k=3) == pytest.approx(0.5)
    assert csls.kth_distance([0.9, 0.1], k=3) is None
    assert csls.r_changed_by(0.4, 0.5) and not csls.r_changed_by(0.5, 0.5)
    assert not csls.r_changed_by(0.7, 0.5)
    assert csls.r_changed_by(1.5, None), "fewer than k: every new face counts"


# --- each face's r, with real photos ----------------------------------------------------

#: One seeker posting per person (a photo at 35); person01 is also the case (img1.jpg).
SEEKERS = {"img2.jpg": "person01", "img3.jpg": "person02", "img8.jpg": "person03",
           "img13.jpg": "person04"}


def add_seekers(make_user, photo_bytes, identities, names=SEEKERS) -> dict[str, object]:
    return builders.seeker_postings_of_people(make_user=make_user, photo_bytes=photo_bytes,
                                              identities=identities, photos=names)


def distance(a, b) -> float:
    return ranking.cosine_distance(np.asarray(a, dtype=np.float64),
                                   np.asarray(b, dtype=np.float64))


def r_by_hand(face: Face, others: list[Face], k: int) -> float:
    """The mean similarity of ``face`` to its ``k`` nearest of ``others``."""
    distances = sorted(distance(face.embedding, other.embedding) for other in others)
    return float(np.mean([1 - d for d in distances[:k]])) if distances else 0.0


@pytest.mark.django_db(transaction=True)
def test_a_match_job_stores_its_faces_r_and_the_upkeep_takes_the_changed_ones_again(
    settings, monkeypatch, make_user, photo_bytes, run_worker, identities
):
    settings.MATCH_CSLS_K = 2
    assert "the hubness r" in [step.name for step in upkeep_steps()]
    add_seekers(make_user, photo_bytes, identities)
    run_worker()
    version = current_model_version()
    seekers = list(Face.objects.filter(side=Side.SEEKER).order_by("pk"))
    assert len(seekers) == len(SEEKERS)
    for face in seekers:  # no case yet: nothing near, no hub
        assert (face.csls_r, face.csls_kth) == (0.0, None)
        assert (face.csls_model_version, face.csls_centring_version) == (version, 0)

    case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    run_worker()
    case_face = Face.objects.get(side=Side.CASE)
    # Its own match job took the case face's r from its search: its 2 nearest seekers.
    assert case_face.csls_r == pytest.approx(r_by_hand(case_face, seekers, 2), abs=1e-5)
    assert case_face.csls_kth == pytest.approx(
        sorted(distance(case_face.embedding, f.embedding) for f in seekers)[1], abs=1e-5)
    assert (case_face.csls_model_version, case_face.csls_centring_version) == (version, 0)
    # The seekers had fewer than 2 faces across: the new face changed their r, so it went.
    assert not Face.objects.filter(side=Side.SEEKER, csls_r__isnull=False).exists()
    assert services.faces_waiting_for_csls() == len(SEEKERS)
    candidate = Candidate.objects.get(case=case, seeker_posting__photos__faces__in=[
        seekers[0]])
    assert (candidate.model_version, candidate.centring_version) == (version, 0)

    run_worker()  # the upkeep takes them again: over the one case face
    for face in Face.objects.filter(side=Side.SEEKER):
        assert face.csls_r == pytest.approx(r_by_hand(face, [case_face], 2), abs=1e-5)
        assert face.csls_kth is None
    assert services.faces_waiting_for_csls() == 0

    # Interrupted in its third face (batches of one), the refresh keeps the first two and
    # continues where it stopped.
    Face.objects.update(csls_r=None)
    taken = []
    take = csls_services.csls_r_of_face

    def interrupted(face, **kwargs):
        taken.append(face.pk)
        if len(taken) == 3:
            raise KeyboardInterrupt
        return take(face, **kwargs)

    monkeypatch.setattr(csls_services, "csls_r_of_face", interrupted)
    with pytest.raises(KeyboardInterrupt):
        services.faces_csls_refresh(batch=1)
    faces = list(Face.objects.order_by("pk"))
    assert [face.csls_r is not None for face in faces] == [True, True, False, False, False]
    monkeypatch.setattr(csls_services, "csls_r_of_face", take)
    assert services.faces_csls_refresh(batch=1) == 3
    assert services.faces_csls_refresh() == 0
    for face in Face.objects.filter(side=Side.SEEKER):
        assert face.csls_r == pytest.approx(r_by_hand(face, [case_face], 2), abs=1e-5)
    assert Face.objects.get(side=Side.CASE).csls_r == pytest.approx(
        r_by_hand(case_face, seekers, 2), abs=1e-5)


@pytest.mark.django_db(transaction=True)
def test_an_r_taken_under_another_centring_is_never_used(
    settings, make_user, photo_bytes, run_worker, identities
):
    settings.CENTRING_MIN_FACES = settings.CENTRING_MIN_PEOPLE = 3
    postings = add_seekers(make_user, photo_bytes, identities)
    case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    run_worker()  # embedded and matched, plain
    run_worker()  # its upkeep: the first centring (5 adults), faces re-centred, matched again
    run_worker()  # its upkeep takes the r the matching cleared
    first = Centring.objects.get()
    version = current_model_version()
    faces = list(Face.objects.order_by("pk"))
    ids = [face.pk for face in faces]
    assert {face.centring_version for face in faces} == {first.pk}
    assert {(face.csls_model_version, face.csls_centring_version) for face in faces} == {
        (version, first.pk)}
    case_face = next(face for face in faces if face.side == Side.CASE)
    seekers = [face for face in faces if face.side == Side.SEEKER]
    # Each r over the other side's centred embeddings (fewer than 10 there: all of them).
    assert case_face.csls_r == pytest.approx(r_by_hand(case_face, seekers, 10), abs=1e-5)
    for face in seekers:
        assert face.csls_r == pytest.approx(r_by_hand(face, [case_face], 10), abs=1e-5)
    assert csls_r_of(ids, model_version=version, centring_version=first.pk) == {
        face.pk: pytest.approx(face.csls_r) for face in faces}
    # The candidate says which centring its distance was measured under.
    found = Candidate.objects.get(case=case, seeker_posting=postings["person01"])
    assert (found.model_version, found.centring_version) == (version, first.pk)

    # A new centring: the faces moved to it keep the r of the old one, which is never read.
    second = Centring.objects.create(model_version=version, means=first.means,
                                     counts=first.counts)
    assert services.faces_recentre() == len(faces)
    assert all(face.csls_r is not None and face.csls_centring_version == first.pk
               for face in Face.objects.all())
    assert csls_r_of(ids, model_version=version, centring_version=second.pk) == {}
    assert services.faces_waiting_for_csls() == len(faces)
    assert services.faces_csls_refresh() == len(faces)
    assert set(csls_r_of(ids, model_version=version,
                                   centring_version=second.pk)) == set(ids)


@pytest.mark.django_db(transaction=True)
def test_csls_on_and_off_rank_as_computed_by_hand(
    settings, make_user, photo_bytes, run_worker, identities
):
    """Two seekers (person01, person03), two cases (person03, then person01 matched last);
    every pair within the loose distance, so the top-1 cut alone decides."""
    settings.MATCH_DISTANCE_BASE = settings.MATCH_DISTANCE_MAX = 2.0
    settings.MATCH_DISTANCE_PER_YEAR = 0.0
    settings.MATCH_TOP_K = 1
    postings = add_seekers(make_user, photo_bytes, identities,
                           {"img2.jpg": "person01", "img8.jpg": "person03"})
    assert identities["img9.jpg"] == "person03" and identities["img1.jpg"] == "person01"
    other_case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img9.jpg"), case=other_case, age_in_photo=30)
    case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    run_worker()
    s1 = Face.objects.get(photo__seeker_posting=postings["person01"])
    s3 = Face.objects.get(photo__seeker_posting=postings["person03"])
    c3 = Face.objects.get(photo__case=other_case)
    c1 = Face.objects.get(photo__case=case)

    def d(a: Face, b: Face) -> float:
        return distance(a.embedding, b.embedding)

    # Each person is nearer to their own photo.
    assert d(c1, s1) < d(c1, s3) and d(s3, c3) < d(s3, c1) and d(s1, c1) < d(s1, c3)
    # Seeker person01 made a hub by hand (an r above any a real face reaches, so the order
    # surely turns); the others no hub. A k-th nearest at 0 keeps the case face's match
    # job from clearing them (nothing comes nearer).
    hub = 2 * (d(c1, s3) - d(c1, s1)) + 0.2
    for face, r in ((s1, hub), (s3, 0.0), (c3, 0.0)):
        Face.objects.filter(pk=face.pk).update(csls_r=r, csls_kth=0.0)

    def candidates(on: bool) -> set[int]:
        settings.MATCH_CSLS = on
        Candidate.objects.filter(case=case).delete()
        job = MatchJob.objects.create(kind=MatchJob.Kind.MATCH_FACE, face=c1)
        services.face_match(match_job_id=job.pk, face_id=c1.pk)
        return set(Candidate.objects.filter(case=case).values_list("seeker_posting", flat=True))

    # Off: the case ranks person01 first; person03's seeker ranks their own case first.
    assert candidates(False) == {postings["person01"].pk}
    r_c1 = Face.objects.get(pk=c1.pk).csls_r  # its match job took it: both seekers
    assert r_c1 == pytest.approx(r_by_hand(c1, [s1, s3], 10), abs=1e-5)

    # On, by hand: the hub falls behind, so person03's seeker is the case's first ...
    assert csls.csls_distance(d(c1, s3), r_c1, 0.0) < csls.csls_distance(d(c1, s1), r_c1, hub)
    # ... while the hub's own ranking (by CSLS too) still puts this case first.
    assert csls.csls_distance(d(s1, c1), hub, r_c1) < csls.csls_distance(d(s1, c3), hub, 0.0)
    assert candidates(True) == {postings["person01"].pk, postings["person03"].pk}
    # CSLS changes the order, not the accept rule: the candidate keeps its plain distance
    # and score.
    turned = Candidate.objects.get(case=case, seeker_posting=postings["person03"])
    assert turned.best_distance == pytest.approx(d(c1, s3), abs=1e-5)
    assert turned.score == pytest.approx(ranking.score(
        d(c1, s3), turned.age_gap_years, ranking.RankingParameters.from_settings()), abs=1e-5)
