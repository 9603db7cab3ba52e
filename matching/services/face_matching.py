"""Matching a face: search the other side, combine every photo of both people, rank.

``face_match`` searches the other side's faces that could be the same person
(sex, birth years, consent), combines all photos of both people, and records one
candidate per (case, seeker posting) that is within the loose distance for its
age gap and in the top few of either person (``matching.ranking``). Only faces
of the current pipeline version are compared (``Face.model_version``); a person
with a face still of another version waits for ``manage.py reindex``, which
queues their matching again. Each match job also stores its face's hubness ``r``
(``matching.services.csls``); with ``MATCH_CSLS`` on, people are ranked by CSLS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.db import transaction

from families.audit import audit_record
from families.models import MissingChildCase, Photo, User
from matching import csls, ranking
from matching.faces import current_model_version
from matching.models import Candidate, Face, MatchJob, Side
from matching.selectors.faces import faces_of_people, faces_of_person, owners_waiting_for_reindex
from matching.selectors.search import (
    Neighbour,
    PersonFacts,
    centring_current,
    csls_r_of,
    dlib_embeddings,
    faces_nearest,
    fusion_pool,
    other_side,
)
from matching.services.candidates import candidate_record
from matching.services.csls import face_csls_take
from matching.services.match_jobs import (
    face_schedule_matching,
    job_done,
    job_failed,
    job_started,
    photo_schedule_processing,
)

logger = logging.getLogger(__name__)


def _facts_of(face: Face, side: str) -> PersonFacts:
    return PersonFacts(
        side=side, sex=face.sex,
        birth_year_min=face.birth_year_min, birth_year_max=face.birth_year_max,
    )


def _rank_among(
    person_faces: dict[int, tuple[np.ndarray, float | None]],
    facts: PersonFacts,
    distance: float,
    *,
    exclude_owner: int,
    top_k: int,
    model_version: str,
    centring_version: int,
) -> int:
    """The rank the other person at ``distance`` has among everyone ``person_faces`` could be.

    Counts people strictly closer than ``distance`` over all the person's faces,
    stopping once more than ``top_k`` are found (the rank is then "not in the top").
    """
    closer: set[int] = set()
    for embedding, _age in person_faces.values():
        for neighbour in faces_nearest(
            embedding=embedding, facts=facts, max_distance=distance,
            limit=max(settings.MATCH_SEARCH_LIMIT, 4 * top_k), model_version=model_version,
            centring_version=centring_version,
        ):
            if neighbour.distance < distance and neighbour.owner_id != exclude_owner:
                closer.add(neighbour.owner_id)
        if len(closer) >= top_k:
            break
    return 1 + len(closer)


def _pool_stats_of(
    query_id: int, pool: list[Neighbour], dlib: dict[int, np.ndarray]
) -> ranking.PoolStats:
    """One query's distances to its fusion pool, per model (Dlib where both have one)."""
    query_dlib = dlib.get(query_id)
    dlib_distances = [
        ranking.cosine_distance(query_dlib, dlib[n.face_id])
        for n in pool if query_dlib is not None and n.face_id in dlib
    ]
    return ranking.pool_stats([n.distance for n in pool], dlib_distances)


def _fused_pairs(
    my_faces: dict[int, tuple[np.ndarray, float | None]],
    their_faces: dict[int, dict[int, tuple[np.ndarray, float | None]]],
    facts: PersonFacts,
    model_version: str,
    centring_version: int,
) -> dict[int, ranking.FusedPair]:
    """Each other person's photo pair closest under fusion, z-scored against each of my
    faces' own pool (its closest ``MATCH_FUSION_POOL`` faces on the SFace column)."""
    pools = {
        face_id: fusion_pool(embedding=embedding, facts=facts,
                             model_version=model_version,
                             centring_version=centring_version)
        for face_id, (embedding, _age) in my_faces.items()
    }
    ids = set(my_faces) | {n.face_id for pool in pools.values() for n in pool}
    ids |= {face_id for faces in their_faces.values() for face_id in faces}
    dlib = dlib_embeddings(ids)
    stats = {
        face_id: _pool_stats_of(face_id, pool, dlib)
        for face_id, pool in pools.items()
    }
    fused = {
        other: ranking.closest_pair_fused(my_faces, faces, dlib, stats)
        for other, faces in their_faces.items()
    }
    return {other: pair for other, pair in fused.items() if pair is not None}


#: What ranks one of a person's faces against others: the faces its search finds (the
#: pool) and the distance of a face of the pool (its id, its SFace distance) under the
#: re-ranking.
Distance = Callable[[int, float], float]
PoolScorer = Callable[[int, np.ndarray], tuple[list[Neighbour], Distance]]


def _rank_in_pools(
    person_faces: dict[int, tuple[np.ndarray, float | None]],
    my_faces: dict[int, tuple[np.ndarray, float | None]],
    *,
    exclude_owner: int,
    scorer: PoolScorer,
) -> int:
    """``_rank_among`` under a re-ranking (fusion or CSLS): the rank ``exclude_owner``
    (whose faces are ``my_faces``) has among the people in the pools of ``person_faces``,
    each person by their face closest under ``scorer``'s distance."""
    best: dict[int, float] = {}
    mine = float("inf")
    for face_id, (embedding, _age) in person_faces.items():
        pool, distance = scorer(face_id, embedding)
        for neighbour in pool:
            if neighbour.owner_id != exclude_owner:
                value = distance(neighbour.face_id, neighbour.distance)
                best[neighbour.owner_id] = min(best.get(neighbour.owner_id, value), value)
        for my_id, (my_embedding, _my_age) in my_faces.items():
            mine = min(mine, distance(my_id, ranking.cosine_distance(embedding, my_embedding)))
    return 1 + sum(1 for value in best.values() if value < mine)


def _fusion_scorer(facts: PersonFacts, my_faces: dict[int, tuple[np.ndarray, float | None]],
                   *, model_version: str, centring_version: int) -> PoolScorer:
    """A face's fusion pool and fused distances, z-scored against that pool."""
    def score(face_id: int, embedding: np.ndarray) -> tuple[list[Neighbour], Distance]:
        pool = fusion_pool(embedding=embedding, facts=facts, model_version=model_version,
                           centring_version=centring_version)
        dlib = dlib_embeddings({face_id, *my_faces, *(n.face_id for n in pool)})
        stats = _pool_stats_of(face_id, pool, dlib)
        query_dlib = dlib.get(face_id)

        def fused(other_id: int, sface: float) -> float:
            dlib_distance = (
                ranking.cosine_distance(query_dlib, dlib[other_id])
                if query_dlib is not None and other_id in dlib else None
            )
            return ranking.fused_distance(sface, dlib_distance, stats)

        return pool, fused

    return score


def _csls_scorer(facts: PersonFacts, my_faces: dict[int, tuple[np.ndarray, float | None]],
                 *, params: ranking.RankingParameters, model_version: str,
                 centring_version: int) -> PoolScorer:
    """A face's search (its top ``MATCH_SEARCH_LIMIT`` within the loosest distance) and CSLS
    distances with every face's stored ``r``."""
    def score(face_id: int, embedding: np.ndarray) -> tuple[list[Neighbour], Distance]:
        found = faces_nearest(
            embedding=embedding, facts=facts, max_distance=params.distance_max,
            model_version=model_version, centring_version=centring_version,
        )
        ids = {face_id, *my_faces, *(n.face_id for n in found)}
        r = csls.r_filled(csls_r_of(ids, model_version=model_version,
                                    centring_version=centring_version), ids)
        return found, lambda other_id, sface: csls.csls_distance(sface, r[face_id], r[other_id])

    return score


def _csls_distances(
    my_faces: dict[int, tuple[np.ndarray, float | None]],
    their_faces: dict[int, dict[int, tuple[np.ndarray, float | None]]],
    model_version: str,
    centring_version: int,
) -> dict[int, float]:
    """Each other person's CSLS distance: their photo pair closest under CSLS
    (``matching.csls``), every face's stored ``r`` of these versions (a face without one
    gets the others' mean)."""
    ids = set(my_faces) | {face_id for faces in their_faces.values() for face_id in faces}
    r = csls.r_filled(csls_r_of(ids, model_version=model_version,
                                centring_version=centring_version), ids)
    result = {}
    for other, faces in their_faces.items():
        pair = csls.closest_pair_csls(my_faces, faces, r)
        if pair is not None:
            result[other] = pair.csls
    return result


def face_match(*, match_job_id: int, face_id: int) -> list[int]:
    """Matches one face against the other side and records the candidates.

    Searches the other side's faces that could be the same person (sex,
    birth years, consent), combines all photos of both people, and creates or
    updates one candidate per (case, seeker posting) that is within the loose
    distance for its age gap and in the top few of either person. Returns the
    ids of the candidates created or updated. Idempotent.
    """
    job = job_started(match_job_id)
    if job is None:
        return []
    try:
        return _face_match(job, face_id)
    except Exception as error:
        job_failed(job, error)
        raise


def _face_match(job: MatchJob, face_id: int) -> list[int]:
    face = Face.objects.select_related("photo").filter(pk=face_id).first()
    if face is None or face.embedding is None or not face.searchable:
        job_done(job)
        return []
    side = face.side
    owner_id = face.photo.case_id if side == Side.CASE else face.photo.seeker_posting_id
    version = current_model_version()
    centring = centring_current(version)
    centring_version = centring.pk if centring is not None else 0
    params = ranking.RankingParameters.from_settings(
        centred=centring is not None and centring.centres_any
    )
    if face.model_version != version or face.centring_version != centring_version:
        # Distances between versions mean nothing: reindexing (or re-centring) the faces
        # queues this again.
        logger.info("face %s: waits for reindex to %s, centring %s", face.pk, version,
                    centring_version)
        job_done(job)
        return []
    there = other_side(side)
    my_facts = _facts_of(face, there)

    # Who this face brings closer: everyone within the loosest distance.
    neighbours = faces_nearest(
        embedding=face.embedding, facts=my_facts, max_distance=params.distance_max,
        model_version=version, centring_version=centring_version,
    )
    # The face's hubness r (CSLS), from the search it has just run.
    face_csls_take(face, model_version=version, centring_version=centring_version,
                   neighbours=neighbours)
    if owners_waiting_for_reindex(
        side=side, owner_ids=[owner_id], model_version=version,
        centring_version=centring_version,
    ):
        logger.info("face %s: waits for reindex to %s, centring %s", face.pk, version,
                    centring_version)
        job_done(job)
        return []
    # People with a face still of another version wait too: their reindex matches them.
    near = {n.owner_id for n in neighbours}
    waiting = owners_waiting_for_reindex(
        side=there, owner_ids=near, model_version=version, centring_version=centring_version
    )
    touched = sorted(near - waiting)
    my_faces = faces_of_person(
        side=side, owner_id=owner_id, model_version=version, centring_version=centring_version
    )
    if face.pk not in my_faces or not touched:
        job_done(job)
        return []
    # My ranking over everyone any of my faces is near, with all photos combined.
    near_me: set[int] = set(touched)
    for other_face, (embedding, _age) in my_faces.items():
        if other_face != face.pk:
            near_me.update(
                n.owner_id for n in faces_nearest(
                    embedding=embedding, facts=my_facts, max_distance=params.distance_max,
                    model_version=version, centring_version=centring_version,
                )
            )
    near_me -= owners_waiting_for_reindex(
        side=there, owner_ids=near_me - near, model_version=version,
        centring_version=centring_version,
    ) | waiting
    their_faces = faces_of_people(
        side=there, owner_ids=near_me, model_version=version, centring_version=centring_version
    )
    pairs = {
        other: ranking.closest_pair(my_faces, faces_of_other)
        for other, faces_of_other in their_faces.items()
    }
    pairs = {other: pair for other, pair in pairs.items() if pair is not None}
    # With fusion on, people are ranked (and candidates recorded) by their photo pair
    # closest under fusion; the loose SFace distance still decides who may be one at all.
    fusion = settings.MATCH_FUSION
    fused = (
        _fused_pairs(my_faces, their_faces, my_facts, version, centring_version) if fusion
        else {}
    )
    # With hubness reduction on (and fusion off), people are ranked by their photo pair
    # closest under CSLS; the loose distance of their closest pair still decides who may be
    # one, and the candidate records that pair (CSLS changes the order, not the rule).
    use_csls = settings.MATCH_CSLS and not fusion
    if fusion:
        my_distances = {other: pair.fused for other, pair in fused.items()}
    elif use_csls:
        my_distances = _csls_distances(my_faces, their_faces, version, centring_version)
    else:
        my_distances = {other: pair.distance for other, pair in pairs.items()}

    decisions: list[tuple[int, ranking.PairDistance]] = []
    for other in touched:
        pair = pairs.get(other)
        if pair is None or (fusion and other not in fused):
            continue
        threshold = ranking.candidate_threshold(pair.age_gap_years, params)
        if pair.distance > threshold:
            continue
        mine = my_distances[other]
        rank_for_me = ranking.rank_of(mine, [d for o, d in my_distances.items() if o != other])
        rank_for_them = None
        if rank_for_me > params.top_k:
            other_face_any = Face.objects.get(pk=pair.face_b)
            if use_csls or fusion:
                other_facts = _facts_of(other_face_any, side)
                scorer = (
                    _fusion_scorer(other_facts, my_faces, model_version=version,
                                   centring_version=centring_version) if fusion
                    else _csls_scorer(other_facts, my_faces, params=params,
                                      model_version=version, centring_version=centring_version)
                )
                rank_for_them = _rank_in_pools(their_faces[other], my_faces,
                                               exclude_owner=owner_id, scorer=scorer)
            else:
                rank_for_them = _rank_among(
                    their_faces[other], _facts_of(other_face_any, side), pair.distance,
                    exclude_owner=owner_id, top_k=params.top_k, model_version=version,
                    centring_version=centring_version,
                )
        if ranking.is_candidate(
            pair=pair, rank_for_a=rank_for_me, rank_for_b=rank_for_them, params=params
        ):
            decisions.append((other, pair))

    # Existing candidates for the touched pairs are kept up to date even if they
    # fall out of the top few: a candidate a volunteer may be reviewing never vanishes.
    existing_others = set(_existing_candidates(side, owner_id, touched))
    chosen = {other for other, _pair in decisions}
    for other in sorted(existing_others - chosen):
        pair = pairs.get(other)
        if pair is not None:
            decisions.append((other, pair))

    ids = []
    with transaction.atomic():
        for other, pair in sorted(decisions):
            case_id, seeker_id = (owner_id, other) if side == Side.CASE else (other, owner_id)
            chosen_pair: ranking.PairDistance | ranking.FusedPair = fused.get(other, pair)
            case_face, seeker_face = (
                (chosen_pair.face_a, chosen_pair.face_b) if side == Side.CASE
                else (chosen_pair.face_b, chosen_pair.face_a)
            )
            score = (
                ranking.fused_score(chosen_pair.fused)
                if isinstance(chosen_pair, ranking.FusedPair)
                else ranking.score(pair.distance, pair.age_gap_years, params)
            )
            candidate = candidate_record(
                case_id=case_id, seeker_posting_id=seeker_id,
                distance=chosen_pair.distance, case_face_id=case_face,
                seeker_face_id=seeker_face, age_gap_years=chosen_pair.age_gap_years,
                model_version=face.model_version, centring_version=face.centring_version,
                score=score,
            )
            ids.append(candidate.pk)
        job_done(job)
    logger.info(
        "face %s: %d people near, %d candidate(s) recorded", face.pk, len(touched), len(ids)
    )
    return ids


def _existing_candidates(side: str, owner_id: int, others: list[int]) -> list[int]:
    if side == Side.CASE:
        return list(Candidate.objects.filter(
            case_id=owner_id, seeker_posting_id__in=others
        ).values_list("seeker_posting_id", flat=True))
    return list(Candidate.objects.filter(
        seeker_posting_id=owner_id, case_id__in=others
    ).values_list("case_id", flat=True))


def faces_rematch_all(*, actor: User | None = None, batch: int = 1000) -> int:
    """Queues a match job for every searchable face of the current pipeline version
    (``manage.py rematch``; faces of another version are matched by ``reindex``)."""
    count = 0
    last_id = 0
    version = current_model_version()
    while True:
        chunk = list(
            Face.objects.filter(
                pk__gt=last_id, searchable=True, embedding__isnull=False, model_version=version
            ).order_by("pk")[:batch]
        )
        if not chunk:
            return count
        with transaction.atomic():
            for face in chunk:
                face_schedule_matching(actor=actor, face=face)
        count += len(chunk)
        last_id = chunk[-1].pk


def case_rematch(*, actor: User, case: MissingChildCase) -> int:
    """Runs matching again for every face of a case (admin); photos without a face are redone.

    Returns how many jobs were queued.
    """
    with transaction.atomic():
        queued = 0
        for photo in case.photos.all():
            embedded = photo.faces.filter(embedding__isnull=False, searchable=True)
            if embedded.exists():
                for face in embedded:
                    queued += face_schedule_matching(actor=actor, face=face) is not None
            elif photo.face_state not in Photo.NEEDS_PICK:
                photo_schedule_processing(actor=actor, photo=photo)
                queued += 1
        audit_record(actor=actor, action="case.rematch_requested", obj=case,
                     detail={"jobs": queued})
    return queued
