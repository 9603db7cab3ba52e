"""One row per pipeline: each model, and their fusion, plain, centred and centred with CSLS."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from django.conf import settings

from matching import csls, ranking
from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto
from matching.crossage.ranks import summarise

#: The pipelines compared, in the order printed.
PIPELINES = (
    ("dlib_deepface", "Dlib through DeepFace's own detection and crop (the previous path)"),
    ("dlib_chip", "Dlib on dlib's own chip (Face.embedding_dlib)"),
    ("sface", "SFace on its canonical crop (Face.embedding, searched)"),
    ("fusion", "SFace and Dlib chip, per-query z-scores averaged (MATCH_FUSION)"),
)


def centred(embeddings: list[np.ndarray | None], groups: list[str]) -> list[np.ndarray | None]:
    """Each group's embeddings minus the mean of that group's (unit) embeddings, normalised:
    what all young photos, and all adult photos, have in common taken out."""
    units = [None if e is None else np.asarray(e, dtype=np.float64) / np.linalg.norm(e)
             for e in embeddings]
    means = {}
    for group in set(groups):
        members = [u for u, g in zip(units, groups, strict=True) if u is not None and g == group]
        means[group] = np.mean(members, axis=0) if members else None
    result: list[np.ndarray | None] = []
    for unit, group in zip(units, groups, strict=True):
        if unit is None or means[group] is None:
            result.append(unit)
            continue
        moved = unit - means[group]
        norm = np.linalg.norm(moved)
        result.append(moved / norm if norm > 1e-12 else unit)
    return result


def unit_rows(vectors: list[np.ndarray]) -> np.ndarray:
    matrix = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def pipeline_ranks(
    photos: list[LabelledPhoto],
    models: dict[str, list[np.ndarray | None]],
    pipeline: str,
    *,
    pool: int | None = None,
    csls_k: int | None = None,
) -> list[int]:
    """The true person's rank for each young photo (alone) among the adult people, each person
    at their closest adult photo: by one model's distance, or (``fusion``) by the fused
    distance, z-scored against the query's ``pool`` (``MATCH_FUSION_POOL``) closest adult
    photos by SFace, as matching does. With ``csls_k``, each model's distances are CSLS
    distances first (``matching.csls``): a young photo's ``r`` over its ``csls_k`` nearest
    adult photos here, an adult photo's over its nearest young photos, as the portal takes
    each face's ``r`` from its own faces of the other side."""
    main = models["sface" if pipeline == "fusion" else pipeline]
    young = [i for i, p in enumerate(photos) if p.group == YOUNG and main[i] is not None]
    adults = [j for j, p in enumerate(photos) if p.group == ADULT and main[j] is not None]
    if not young or not adults:
        return []
    people = sorted({photos[j].identity for j in adults})
    adults.sort(key=lambda j: (people.index(photos[j].identity), j))
    person_of = np.array([people.index(photos[j].identity) for j in adults])
    starts = np.flatnonzero(np.r_[True, person_of[1:] != person_of[:-1]])
    values = 1.0 - unit_rows([main[i] for i in young]) @ unit_rows([main[j] for j in adults]).T
    if csls_k:
        values = csls.csls_distance_matrix(values, csls_k)
    if pipeline == "fusion":
        dlib = models["dlib_chip"]
        size = pool or settings.MATCH_FUSION_POOL
        dlib_matrix = np.full(values.shape, np.nan)
        have_a = [k for k, j in enumerate(adults) if dlib[j] is not None]
        have_y = [k for k, i in enumerate(young) if dlib[i] is not None]
        if have_a and have_y:
            block = 1.0 - unit_rows([dlib[young[k]] for k in have_y]) @ unit_rows(
                [dlib[adults[k]] for k in have_a]).T
            dlib_matrix[np.ix_(have_y, have_a)] = block
        if csls_k:
            dlib_matrix = csls.csls_distance_matrix(dlib_matrix, csls_k)
        fused = np.empty(values.shape)
        for row in range(values.shape[0]):
            nearest = np.argsort(values[row], kind="stable")[:size]
            pooled_dlib = dlib_matrix[row, nearest]
            stats = ranking.pool_stats(values[row, nearest], pooled_dlib[~np.isnan(pooled_dlib)])
            fused[row] = ranking.fused_distances(values[row], dlib_matrix[row], stats)
        values = fused
    by_person = np.minimum.reduceat(values, starts, axis=1)
    ranks = []
    for row, i in enumerate(young):
        identity = photos[i].identity
        if identity not in people:
            continue
        column = people.index(identity)
        others = np.delete(by_person[row], column)
        ranks.append(ranking.rank_of(float(by_person[row, column]), others.tolist()))
    return ranks


def pipeline_variants(
    models: dict[str, list[np.ndarray | None]], centred_models: dict[str, list[np.ndarray | None]]
) -> Iterator[tuple[dict, dict[str, list[np.ndarray | None]], int | None]]:
    """Each pipeline plain, centred and centred with CSLS: the row's head, the embeddings it
    uses (``None`` when this face engine has not the models it needs) and CSLS's k."""
    for pipeline, description in PIPELINES:
        needed = ("sface", "dlib_chip") if pipeline == "fusion" else (pipeline,)
        for is_centred, with_csls, source in ((False, False, models),
                                              (True, False, centred_models),
                                              (True, True, centred_models)):
            head = {"pipeline": pipeline, "centred": is_centred, "csls": with_csls,
                    "description": description}
            usable = source if all(name in source for name in needed) else None
            yield head, usable, settings.MATCH_CSLS_K if with_csls else None


def evaluate_pipelines(
    photos: list[LabelledPhoto], models: dict[str, list[np.ndarray | None]]
) -> list[dict]:
    """One row per pipeline, plain, centred (each age group's own mean from these photos) and
    centred with CSLS (``MATCH_CSLS_K``; each photo's ``r`` from these photos too)."""
    groups = [p.group for p in photos]
    centred_models = {name: centred(vectors, groups) for name, vectors in models.items()}
    rows = []
    for head, source, csls_k in pipeline_variants(models, centred_models):
        row = dict(head)
        if source is None:
            row.update(summarise([]), note="not computable with this face engine")
        else:
            row.update(summarise(pipeline_ranks(photos, source, head["pipeline"], csls_k=csls_k)))
        rows.append(row)
    return rows
