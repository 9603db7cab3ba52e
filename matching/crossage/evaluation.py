"""The cross-age report: every method's ranks and the pair distances, from a labelled folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from matching import faces, ranking
from matching.crossage.distances import pair_distances
from matching.crossage.embedding import Embedded, EmbeddingCache, embed_all, embed_models
from matching.crossage.labels import ADULT, YOUNG, read_labels
from matching.crossage.pipelines import evaluate_pipelines
from matching.crossage.ranks import AgeCodes, FaceSet, ranks_and_wrong, summarise


def _face_sets(
    embedded: Embedded, group: str, *, progressed: str = "none"
) -> list[tuple[str, FaceSet]]:
    """One face set per photo of ``group``: the photo, its estimate, or both."""
    sets = []
    for index, photo in enumerate(embedded.photos):
        if photo.group != group or embedded.embeddings[index] is None:
            continue
        face_set: FaceSet = {}
        if progressed in ("none", "both"):
            face_set[index] = (embedded.embeddings[index], photo.age)
        if progressed in ("only", "both"):
            estimate = embedded.progressed.get(index)
            if estimate is not None:
                target_age = embedded.progression_ages[1] if embedded.progression_ages else None
                face_set[-1 - index] = (estimate, target_age)
            elif progressed == "only":
                # No estimate could be made: the family would have only the photo.
                face_set[index] = (embedded.embeddings[index], photo.age)
        sets.append((photo.identity, face_set))
    return sets


def _by_person(sets: list[tuple[str, FaceSet]]) -> dict[str, FaceSet]:
    people: dict[str, FaceSet] = {}
    for identity, face_set in sets:
        people.setdefault(identity, {}).update(face_set)
    return people


def evaluate_embedded(
    embedded: Embedded, params: ranking.RankingParameters | None = None
) -> dict:
    """The table: every method's rank-1/10/50 and median rank, and the pair distances."""
    params = params or ranking.RankingParameters.from_settings()
    gallery = _by_person(_face_sets(embedded, ADULT))
    young_photos = _face_sets(embedded, YOUNG)
    young_people = list(_by_person(young_photos).items())
    rows = [
        ("plain", "each young photo alone; a person's closest adult photo", young_photos,
         "distance"),
        ("all_photos", "every young photo of a person together (as a case with several photos)",
         young_people, "distance"),
        ("age_gap_score", "closest pair ranked by the age-gap-aware score (matching.ranking)",
         young_photos, "closest_pair_score"),
        ("age_gap_best_pair", "best age-gap-aware score over every photo pair", young_photos,
         "best_pair_score"),
    ]
    if embedded.progressed:
        rows += [
            ("age_progressed", "Reunion's age-progressed estimate instead of the young photo",
             _face_sets(embedded, YOUNG, progressed="only"), "distance"),
            ("photo_and_estimate", "the young photo and its estimate together",
             _face_sets(embedded, YOUNG, progressed="both"), "distance"),
            ("all_photos_and_estimates", "every young photo and estimate of a person together",
             list(_by_person(_face_sets(embedded, YOUNG, progressed="both")).items()),
             "distance"),
        ]
    table = []
    ages = AgeCodes(params)
    for method, description, queries, key in rows:
        ranks, wrong = ranks_and_wrong(queries, gallery, params, ages)[key]
        table.append({
            "method": method, "description": description,
            **summarise(ranks),
            "wrong_within_threshold": round(float(np.mean(wrong)), 2) if wrong else None,
        })
    missing = [
        photo.file
        for photo, embedding in zip(embedded.photos, embedded.embeddings, strict=True)
        if embedding is None
    ]
    return {
        "photos": len(embedded.photos),
        "young_photos": sum(p.group == YOUNG for p in embedded.photos),
        "adult_people": len(gallery),
        "no_face": missing,
        "age_progression": (
            {"from_age": embedded.progression_ages[0], "to_age": embedded.progression_ages[1],
             "estimates_made": sum(v is not None for v in embedded.progressed.values())}
            if embedded.progression_ages else None
        ),
        "ranking_parameters": {
            "distance_base": params.distance_base,
            "distance_per_year": params.distance_per_year,
            "distance_max": params.distance_max,
            "top_k": params.top_k,
        },
        "table": table,
        "distances": pair_distances(embedded, params),
    }


def evaluate(
    faces_dir: Path,
    labels: Path,
    *,
    with_progression: bool = True,
    young_age: float | None = None,
    adult_age: float | None = None,
    progress: Callable[[str], None] | None = None,
    cache: EmbeddingCache | None = None,
    params: ranking.RankingParameters | None = None,
    with_pipelines: bool = True,
) -> dict:
    """Reads the labels, embeds the photos with the workers' code and returns the report
    (with ``with_pipelines``, also one row per model and their fusion, plain and centred).

    With ``cache``, photos embedded before (same bytes, same model version) are not
    embedded again, and the model is loaded only if one is new.
    """
    photos = read_labels(labels)
    missing = [p.file for p in photos if not (faces_dir / p.file).is_file()]
    if missing:
        raise FileNotFoundError(f"Not in {faces_dir}: {', '.join(missing[:5])}")
    engine = None if cache is not None else faces.get_engine()
    embedded = embed_all(
        faces_dir, photos, engine=engine,
        with_progression=with_progression, young_age=young_age, adult_age=adult_age,
        progress=progress, cache=cache,
    )
    report = evaluate_embedded(embedded, params)
    if with_pipelines:
        report["pipelines"] = evaluate_pipelines(
            photos, embed_models(faces_dir, photos, cache=cache, engine=engine)
        )
    return report
