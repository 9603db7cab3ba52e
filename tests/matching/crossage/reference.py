"""The cross-age evaluation pair of people by pair of people, as it was written before it used
matrices, and made-up vectors to check the matrices against it.

The reference runs every query × gallery person through ``ranking.closest_pair`` and
``faces.cosine_distance`` (``ranks``' rules); the evaluation must give the same report to the
last digit, floats included (and bench/crossage_ranking.py times both).
"""

from __future__ import annotations

import numpy as np

from matching import faces, ranking
from matching.crossage import distances, evaluation
from matching.crossage.distances import GAP_BUCKETS, REPORTED_THRESHOLDS, suggest_parameters
from matching.crossage.embedding import Embedded
from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto
from matching.crossage.ranks import (
    by_best_pair_score,
    by_closest_pair_score,
    by_distance,
    summarise,
    true_ranks,
    wrong_people_within_threshold,
)
from matching.ranking import RankingParameters

PARAMETER_SETS = [
    RankingParameters(distance_base=0.09, distance_per_year=0.002, distance_max=0.14, top_k=5),
    RankingParameters(distance_base=0.05, distance_per_year=0.004, distance_max=0.08, top_k=3),
    RankingParameters(distance_base=0.3, distance_per_year=0.0, distance_max=0.3, top_k=10),
]


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def reference_pair_distances(embedded: Embedded, params: RankingParameters) -> dict:
    true, false = [], []
    for i, young in enumerate(embedded.photos):
        if young.group != YOUNG or embedded.embeddings[i] is None:
            continue
        for j, adult in enumerate(embedded.photos):
            if adult.group != ADULT or embedded.embeddings[j] is None:
                continue
            distance = faces.cosine_distance(embedded.embeddings[i], embedded.embeddings[j])
            gap = ranking.age_gap(young.age, adult.age)
            (true if young.identity == adult.identity else false).append((distance, gap))

    def accepted(pairs, threshold):
        if not pairs:
            return None
        limit = (lambda gap: threshold) if threshold is not None else (
            lambda gap: ranking.candidate_threshold(gap, params)
        )
        return round(sum(d <= limit(g) for d, g in pairs) / len(pairs), 4)

    percentiles = distances._percentiles
    report = {
        "true_pairs": percentiles([d for d, _ in true]),
        "false_pairs": percentiles([d for d, _ in false]),
        "accepted": [
            {"threshold": t, "true_pairs": accepted(true, t), "false_pairs": accepted(false, t)}
            for t in REPORTED_THRESHOLDS
        ] + [{
            "threshold": "ranking (by age gap)",
            "true_pairs": accepted(true, None), "false_pairs": accepted(false, None),
        }],
        "by_age_gap": [],
    }
    if embedded.progressed:
        estimate_true, estimate_false = [], []
        for i, estimate in embedded.progressed.items():
            if estimate is None:
                continue
            for j, adult in enumerate(embedded.photos):
                if adult.group != ADULT or embedded.embeddings[j] is None:
                    continue
                distance = faces.cosine_distance(estimate, embedded.embeddings[j])
                same = embedded.photos[i].identity == adult.identity
                (estimate_true if same else estimate_false).append(distance)
        report["estimate_true_pairs"] = percentiles(estimate_true)
        report["estimate_false_pairs"] = percentiles(estimate_false)
    for low, high in GAP_BUCKETS:
        in_bucket = [d for d, g in true if g is not None and low <= g < high]
        others = [d for d, g in false if g is not None and low <= g < high]
        if in_bucket:
            report["by_age_gap"].append({
                "gap_years": f"{low}-{high}" if high < 200 else f"{low}+",
                "true_pairs": percentiles(in_bucket),
                "false_pairs": percentiles(others),
            })
    report["suggested_parameters"] = suggest_parameters(true)
    return report


def reference_table(embedded: Embedded, params: RankingParameters) -> list[dict]:
    sets, by_person = evaluation._face_sets, evaluation._by_person
    gallery = by_person(sets(embedded, ADULT))
    young_photos = sets(embedded, YOUNG)
    rows = [
        ("plain", young_photos, by_distance),
        ("all_photos", list(by_person(young_photos).items()), by_distance),
        ("age_gap_score", young_photos, by_closest_pair_score(params)),
        ("age_gap_best_pair", young_photos, by_best_pair_score(params)),
    ]
    if embedded.progressed:
        rows += [
            ("age_progressed", sets(embedded, YOUNG, progressed="only"), by_distance),
            ("photo_and_estimate", sets(embedded, YOUNG, progressed="both"),
             by_distance),
            ("all_photos_and_estimates",
             list(by_person(sets(embedded, YOUNG, progressed="both")).items()),
             by_distance),
        ]
    table = []
    for method, queries, key in rows:
        wrong = wrong_people_within_threshold(queries, gallery, params)
        table.append({
            "method": method,
            **summarise(true_ranks(queries, gallery, key)),
            "wrong_within_threshold": round(float(np.mean(wrong)), 2) if wrong else None,
        })
    return table


def made_up(seed: int, people: int = 40) -> Embedded:
    """Vectors of four ±1 among 16 numbers: every norm is 2, and every normalised product and
    distance is exact whatever the order of the sums, so many distances tie exactly."""
    rng = np.random.default_rng(seed)

    def vector(near: np.ndarray | None = None) -> np.ndarray:
        if near is not None and rng.random() < 0.7:
            changed = near.copy()
            on = np.flatnonzero(changed)
            changed[rng.choice(on)] *= -1  # one sign flipped: close to ``near``
            return changed
        result = np.zeros(16)
        result[rng.choice(16, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
        return result

    photos, embeddings = [], []
    for person in range(people):
        centre = vector()
        for index in range(int(rng.integers(1, 5))):
            group = YOUNG if index == 0 else ADULT
            age = [None, 3.0, 5.5, 30.0, 41.0][int(rng.integers(0, 5))]
            photos.append(LabelledPhoto(f"{person}-{index}.jpg", f"p{person}", group, age))
            embeddings.append(None if rng.random() < 0.05 else vector(centre))
    progressed = {
        i: (None if rng.random() < 0.2 else vector(embeddings[i]))
        for i, p in enumerate(photos) if p.group == YOUNG and embeddings[i] is not None
    }
    return Embedded(photos=photos, embeddings=embeddings, progressed=progressed,
                    progression_ages=(4.0, 30.0))
