"""Distances of true and false pairs: young × adult photos by age gap and the loose
distance they suggest; pairs of photos of one age and the threshold that separates them best.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings

from matching import csls, ranking
from matching.crossage.embedding import Embedded
from matching.crossage.labels import ADULT, YOUNG
from matching.crossage.pipelines import centred, pipeline_variants, unit_rows
from matching.crossage.ranks import AgeCodes

#: Distances reported as acceptance rates (SFace: the same-age threshold, the candidates'
#: base, and looser ones up to their cap).
REPORTED_THRESHOLDS = (0.55, 0.655, 0.70, 0.75, 0.82)
#: Age-gap buckets (years) for the calibration table.
GAP_BUCKETS = ((0, 5), (5, 10), (10, 20), (20, 200))


def _percentiles(values: list[float] | np.ndarray) -> dict[str, float | int | None]:
    if not len(values):
        return {"pairs": 0, "p10": None, "median": None, "p90": None}
    array = np.asarray(values)
    return {
        "pairs": len(values),
        "p10": round(float(np.percentile(array, 10)), 4),
        "median": round(float(np.median(array)), 4),
        "p90": round(float(np.percentile(array, 90)), 4),
    }


def _cosine_matrix(rows: list[np.ndarray], columns: list[np.ndarray]) -> np.ndarray:
    """``faces.cosine_distance`` of every row vector × column vector, as one matrix."""
    a = np.stack([np.asarray(v, dtype=np.float64) for v in rows])
    b = np.stack([np.asarray(v, dtype=np.float64) for v in columns])
    norms_a = np.array([np.linalg.norm(v) for v in a])
    norms_b = np.array([np.linalg.norm(v) for v in b])
    return 1.0 - (a @ b.T) / (norms_a[:, None] * norms_b[None, :])


def pair_distances(embedded: Embedded, params: ranking.RankingParameters) -> dict:
    """True- and false-pair distances of young × adult photos, overall and by age gap."""
    young = [i for i, p in enumerate(embedded.photos)
             if p.group == YOUNG and embedded.embeddings[i] is not None]
    adults = [j for j, p in enumerate(embedded.photos)
              if p.group == ADULT and embedded.embeddings[j] is not None]
    ages = AgeCodes(params)
    young_ages = np.array([ages.code(embedded.photos[i].age) for i in young], dtype=np.intp)
    adult_ages = np.array([ages.code(embedded.photos[j].age) for j in adults], dtype=np.intp)
    gap_table, threshold_table = ages.tables()
    adult_people = np.array([embedded.photos[j].identity for j in adults], dtype=object)
    if young and adults:
        matrix = _cosine_matrix([embedded.embeddings[i] for i in young],
                                [embedded.embeddings[j] for j in adults])
        same = np.array([embedded.photos[i].identity for i in young], dtype=object)[:, None] == (
            adult_people[None, :]
        )
        pair_gaps = gap_table[young_ages[:, None], adult_ages[None, :]]
        pair_limits = threshold_table[young_ages[:, None], adult_ages[None, :]]
    else:
        matrix = pair_gaps = pair_limits = np.zeros((0, 0))
        same = np.zeros((0, 0), dtype=bool)
    # Row-major order: young photo by young photo, as the pairs were always listed.
    true, false = matrix[same], matrix[~same]
    true_gaps, false_gaps = pair_gaps[same], pair_gaps[~same]
    true_limits, false_limits = pair_limits[same], pair_limits[~same]

    def accepted(distances: np.ndarray, limits: np.ndarray | float) -> float | None:
        if not len(distances):
            return None
        return round(int(np.count_nonzero(distances <= limits)) / len(distances), 4)

    report = {
        "true_pairs": _percentiles(true),
        "false_pairs": _percentiles(false),
        "accepted": [
            {"threshold": t, "true_pairs": accepted(true, t), "false_pairs": accepted(false, t)}
            for t in REPORTED_THRESHOLDS
        ] + [{
            "threshold": "ranking (by age gap)",
            "true_pairs": accepted(true, true_limits),
            "false_pairs": accepted(false, false_limits),
        }],
        "by_age_gap": [],
    }
    if embedded.progressed:
        made = [(i, e) for i, e in embedded.progressed.items() if e is not None]
        estimate_true = estimate_false = np.zeros(0)
        if made and adults:
            matrix = _cosine_matrix([e for _, e in made], [embedded.embeddings[j] for j in adults])
            same = np.array([embedded.photos[i].identity for i, _ in made], dtype=object)[
                :, None
            ] == adult_people[None, :]
            estimate_true, estimate_false = matrix[same], matrix[~same]
        report["estimate_true_pairs"] = _percentiles(estimate_true)
        report["estimate_false_pairs"] = _percentiles(estimate_false)
    for low, high in GAP_BUCKETS:
        in_bucket = true[(low <= true_gaps) & (true_gaps < high)]
        others = false[(low <= false_gaps) & (false_gaps < high)]
        if len(in_bucket):
            report["by_age_gap"].append({
                "gap_years": f"{low}-{high}" if high < 200 else f"{low}+",
                "true_pairs": _percentiles(in_bucket),
                "false_pairs": _percentiles(others),
            })
    report["suggested_parameters"] = suggest_parameters([
        (float(d), None if np.isnan(g) else float(g))
        for d, g in zip(true, true_gaps, strict=True)
    ])
    return report


#: The share of true pairs the suggested loose distance keeps at each age gap.
SUGGESTED_TRUE_PAIR_SHARE = 0.9
#: Fewest true pairs in an age-gap bucket for it to count in the suggestion.
SUGGESTION_MIN_PAIRS = 5


def suggest_parameters(true: list[tuple[float, float | None]]) -> dict | None:
    """A loose distance per age gap that keeps 90% of true pairs, fitted to the labelled gaps.

    The 90th percentile of true-pair distances in each age-gap bucket (of at
    least ``SUGGESTION_MIN_PAIRS`` pairs), against the bucket's median gap, fitted by
    a line weighted by the pairs in each: its intercept and slope are
    ``MATCH_DISTANCE_BASE`` and ``MATCH_DISTANCE_PER_YEAR``, the highest
    percentile ``MATCH_DISTANCE_MAX``. ``None`` without two such buckets.
    """
    points = []
    for low, high in GAP_BUCKETS:
        bucket = [(d, g) for d, g in true if g is not None and low <= g < high]
        if len(bucket) >= SUGGESTION_MIN_PAIRS:
            distances = [d for d, _ in bucket]
            points.append((
                float(np.median([g for _, g in bucket])),
                float(np.percentile(distances, 100 * SUGGESTED_TRUE_PAIR_SHARE)),
                len(bucket),
            ))
    if len({gap for gap, _, _ in points}) < 2:
        return None
    gaps, limits, weights = (np.array(column) for column in zip(*points, strict=True))
    slope, intercept = np.polyfit(gaps, limits, 1, w=np.sqrt(weights))
    return {
        "distance_base": round(float(intercept), 4),
        "distance_per_year": round(float(max(slope, 0.0)), 5),
        "distance_max": round(float(limits.max()), 4),
        "from_buckets": [
            {"median_gap": gap, "p90": round(limit, 4), "pairs": int(count)}
            for gap, limit, count in points
        ],
    }


# --- The same pipelines on pairs of photos (``calibrate_threshold``) --------------------


def _pairwise(vectors: list[np.ndarray | None]) -> np.ndarray:
    """Cosine distance of every photo × photo (NaN where a photo has no face)."""
    have = [i for i, v in enumerate(vectors) if v is not None]
    matrix = np.full((len(vectors), len(vectors)), np.nan)
    if have:
        units = unit_rows([vectors[i] for i in have])
        matrix[np.ix_(have, have)] = 1.0 - units @ units.T
    return matrix


def pipeline_pair_distances(
    names: list[str], models: dict[str, list[np.ndarray | None]], pairs: list[tuple[str, str]],
    pipeline: str, *, pool: int | None = None, csls_k: int | None = None,
) -> np.ndarray:
    """Each pair's distance by one model, or (``fusion``) the fused distance of the second
    photo to the first, z-scored against the first photo's ``pool`` closest other photos of
    the folder by SFace (NaN when a photo has no face). With ``csls_k``, each model's
    distances are CSLS distances first, each photo's ``r`` over its ``csls_k`` nearest other
    photos of the folder (one group: the pairs are of one age)."""
    index = {name: i for i, name in enumerate(names)}
    matrix = _pairwise(models["sface" if pipeline == "fusion" else pipeline])
    if csls_k:
        matrix = csls.csls_pairwise(matrix, csls_k)
    if pipeline == "fusion":
        dlib = _pairwise(models["dlib_chip"])
        if csls_k:
            dlib = csls.csls_pairwise(dlib, csls_k)
        size = pool or settings.MATCH_FUSION_POOL
        fused = np.full(matrix.shape, np.nan)
        for row in range(len(names)):
            if np.isnan(matrix[row, row]):
                continue
            others = np.array([j for j in range(len(names))
                               if j != row and not np.isnan(matrix[row, j])], dtype=np.intp)
            nearest = others[np.argsort(matrix[row, others], kind="stable")][:size]
            pooled = dlib[row, nearest]
            stats = ranking.pool_stats(matrix[row, nearest], pooled[~np.isnan(pooled)])
            fused[row] = ranking.fused_distances(matrix[row], dlib[row], stats)
            fused[row, np.isnan(matrix[row])] = np.nan
        matrix = fused
    return np.array([matrix[index[a], index[b]] for a, b in pairs])


def best_threshold(distances: np.ndarray, same: np.ndarray) -> tuple[float, float | None]:
    """The best accuracy over every threshold, and the lowest threshold reaching it
    (a pair with no face counts as rejected)."""
    known = distances[~np.isnan(distances)]
    if not len(known):
        return 0.0, None
    thresholds = np.unique(known)
    accepted = np.nan_to_num(distances, nan=np.inf)[None, :] <= thresholds[:, None]
    accuracy = np.mean(accepted == same[None, :], axis=1)
    best = int(np.argmax(accuracy))
    return float(accuracy[best]), float(thresholds[best])


def threshold_pipelines(
    names: list[str], models: dict[str, list[np.ndarray | None]],
    pairs: list[tuple[str, str]], same: np.ndarray,
) -> list[dict]:
    """One row per pipeline, plain, centred (the folder's photos are one group here: the
    pairs are of the same age) and centred with CSLS: best accuracy and the threshold it
    starts at."""
    centred_models = {
        name: centred(vectors, [ADULT] * len(vectors)) for name, vectors in models.items()
    }
    rows = []
    for head, source, csls_k in pipeline_variants(models, centred_models):
        row: dict = dict(head)
        if source is None:
            row.update(accuracy=None, threshold=None, note="not computable with this face engine")
        else:
            distances = pipeline_pair_distances(names, source, pairs, head["pipeline"],
                                                csls_k=csls_k)
            row["accuracy"], row["threshold"] = best_threshold(distances, same)
        rows.append(row)
    return rows
