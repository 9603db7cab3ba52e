"""Cross-age evaluation: how well a young photo finds its adult among many.

``evaluate`` reads a folder of labelled photos (``file``, ``identity``, and
``age`` and/or ``age_group`` young/adult), embeds every photo with the code the
workers run (upload normalisation, then ``matching.faces.detect_and_embed`` with the
process's face engine), lets every young photo search all adult people, and
reports where the true person ranks: rank-1, rank-10, rank-50 and the median
rank, for plain matching and for each improvement (every photo of a person
combined, age-gap-aware scoring, Reunion's age-progressed estimate). It also
reports the distances of true and false pairs by age gap, which is what the
age-gap parameters of ``matching.ranking`` are calibrated from
(docs/MATCHING.md, "Cross-age matching and age progression").
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from families.uploads import normalise_photo
from matching import age_progression, faces, ranking
from matching.faces import detect_and_embed

YOUNG, ADULT = "young", "adult"
#: Photos labelled only by age: younger than this is "young".
ADULT_FROM_AGE = 18.0
#: Ages assumed for age progression when the labels give only age groups.
ASSUMED_YOUNG_AGE = 4.0
ASSUMED_ADULT_AGE = 25.0
#: Distances reported as acceptance rates (SFace: the same-age threshold, the candidates'
#: base, and looser ones up to their cap).
REPORTED_THRESHOLDS = (0.55, 0.655, 0.70, 0.75, 0.82)
#: Age-gap buckets (years) for the calibration table.
GAP_BUCKETS = ((0, 5), (5, 10), (10, 20), (20, 200))

FaceSet = dict[int, tuple[np.ndarray, float | None]]


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    identity: str
    group: str
    age: float | None


def read_labels(path: Path) -> list[LabelledPhoto]:
    """Rows of the labels CSV; raises ``ValueError`` naming the first bad row."""
    photos = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if not {"file", "identity"} <= columns or not columns & {"age", "age_group"}:
            raise ValueError("The labels need the columns file, identity, and age or age_group.")
        for number, row in enumerate(reader, start=2):
            age_text = (row.get("age") or "").strip()
            group = (row.get("age_group") or "").strip().lower()
            try:
                age = float(age_text) if age_text else None
            except ValueError:
                raise ValueError(f"Line {number}: age {age_text!r} is not a number.") from None
            if not group and age is not None:
                group = YOUNG if age < ADULT_FROM_AGE else ADULT
            if group not in (YOUNG, ADULT):
                raise ValueError(f"Line {number}: give an age, or age_group young or adult.")
            if not row["file"].strip() or not row["identity"].strip():
                raise ValueError(f"Line {number}: file and identity are required.")
            photos.append(LabelledPhoto(row["file"].strip(), row["identity"].strip(), group, age))
    return photos


def embed_photo_bytes(engine: faces.FaceEngine, data: bytes) -> np.ndarray | None:
    """The searched embedding (SFace) a worker would store for this upload (largest face),
    or ``None``."""
    try:
        stored = normalise_photo(data).content
    except ValidationError:
        return None
    _detected, embedding = detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
    return None if embedding is None else embedding.sface


def embed_both(
    engine: faces.FaceEngine, data: bytes
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both stored embeddings of an upload's largest face: (SFace, Dlib chip), or Nones."""
    try:
        stored = normalise_photo(data).content
    except ValidationError:
        return None, None
    _detected, vectors = detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
    return (None, None) if vectors is None else (vectors.sface, vectors.dlib)


def progressed_photo_bytes(data: bytes, *, source_age: float, target_age: float) -> bytes | None:
    """Reunion's estimate of an uploaded photo at ``target_age``, stored as uploads are."""
    try:
        stored = normalise_photo(data).content
        rgb = age_progression.decode_rgb(stored)
        estimate = age_progression.age_progress(rgb, source_age=source_age, target_age=target_age)
    except (ValidationError, age_progression.NoFaceFound):
        return None
    return normalise_photo(age_progression.encode_jpeg(estimate.image)).content


@dataclass
class Embedded:
    """Every labelled photo's embedding (``None``: no face found), keyed by position."""

    photos: list[LabelledPhoto]
    embeddings: list[np.ndarray | None]
    progressed: dict[int, np.ndarray | None] = field(default_factory=dict)
    progression_ages: tuple[float, float] | None = None


class EmbeddingCache:
    """Embeddings already computed, one small file each, keyed by the photo bytes' sha256
    and the face engine's model version (a new version starts an empty folder).

    A rerun of the evaluation with other ranking parameters reads them back instead of
    running the face pipeline again. ``None`` (no face found) is kept too.
    """

    def __init__(self, folder: Path, model_version: str) -> None:
        self.model_version = model_version
        version = hashlib.sha256(model_version.encode()).hexdigest()[:16]
        self.folder = Path(folder) / version
        self.hits = self.misses = 0

    def key(self, data: bytes, *extra: object) -> str:
        digest = hashlib.sha256(data)
        for part in extra:
            digest.update(b"\0" + str(part).encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        """(found, embedding): an empty array on disk means no face was found."""
        try:
            vector = np.load(self._path(key), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            self.misses += 1
            return False, None
        self.hits += 1
        return True, (vector if vector.size else None)

    def put(self, key: str, embedding: np.ndarray | None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            np.save(handle, np.zeros(0) if embedding is None else np.asarray(embedding))
        os.replace(temporary, path)  # whole files only, even with two runs at once

    def embedding(self, key: str, compute: Callable[[], np.ndarray | None]) -> np.ndarray | None:
        found, vector = self.get(key)
        if not found:
            vector = compute()
            self.put(key, vector)
        return vector


def default_cache_folder() -> Path:
    """``<data folder>/cache/embeddings``: outside the repository, beside the database."""
    return Path(settings.DATA_DIR) / "cache" / "embeddings"


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-cache`` and ``--cache-dir``, for the commands that embed a folder of photos."""
    parser.add_argument(
        "--no-cache", action="store_true",
        help="Embed every photo again instead of reading the embeddings cached by "
             "photo (sha256 of its bytes) and model version.",
    )
    parser.add_argument(
        "--cache-dir", type=Path,
        help="Where the embeddings are cached (default: the data folder's "
             "cache/embeddings).",
    )


def cache_from_options(options: dict[str, object]) -> EmbeddingCache | None:
    """The cache ``add_cache_arguments``' options ask for (``None`` with ``--no-cache``)."""
    if options["no_cache"]:
        return None
    return EmbeddingCache(Path(options["cache_dir"] or default_cache_folder()),
                          faces.current_model_version())


def _age_progression_revision() -> str:
    """Estimates are cached under the age-progression code that made them."""
    return hashlib.sha256(Path(age_progression.__file__).read_bytes()).hexdigest()[:16]


def embed_all(
    faces_dir: Path,
    photos: list[LabelledPhoto],
    *,
    engine: faces.FaceEngine | None = None,
    with_progression: bool = True,
    young_age: float | None = None,
    adult_age: float | None = None,
    progress: Callable[[str], None] | None = None,
    cache: EmbeddingCache | None = None,
) -> Embedded:
    """Embeds every photo, and Reunion's age-progressed estimate of every young one.

    ``engine`` defaults to the process's engine, loaded only if something is not in
    ``cache`` (whose model version must be the engine's).
    """
    loaded: list[faces.FaceEngine] = [engine] if engine is not None else []

    def the_engine() -> faces.FaceEngine:
        if not loaded:
            loaded.append(faces.get_engine())
        return loaded[0]

    def embed(data: bytes) -> np.ndarray | None:
        if cache is None:
            return embed_photo_bytes(the_engine(), data)
        found, vector = cache.get(cache.key(data))
        if found:
            return vector
        # Both models come from one pass: the pipelines' table reads Dlib's from the cache.
        sface, dlib = embed_both(the_engine(), data)
        cache.put(cache.key(data), sface)
        cache.put(cache.key(data, "dlib-chip"), dlib)
        return sface

    embeddings = []
    for number, photo in enumerate(photos, start=1):
        data = (faces_dir / photo.file).read_bytes()
        embeddings.append(embed(data))
        if progress:
            progress(f"embedded {number}/{len(photos)} {photo.file}")
    result = Embedded(photos=photos, embeddings=embeddings)
    if not with_progression:
        return result
    adult_ages = [p.age for p in photos if p.group == ADULT and p.age is not None]
    target = adult_age or (statistics.median(adult_ages) if adult_ages else ASSUMED_ADULT_AGE)
    revision = _age_progression_revision()
    for index, photo in enumerate(photos):
        if photo.group != YOUNG or embeddings[index] is None:
            continue
        source = young_age if young_age is not None else photo.age
        source = ASSUMED_YOUNG_AGE if source is None else source
        data = (faces_dir / photo.file).read_bytes()
        key = ("age-progressed", source, max(target, source), revision)

        def estimate_embedding(data=data, source=source) -> np.ndarray | None:
            estimate = progressed_photo_bytes(
                data, source_age=source, target_age=max(target, source)
            )
            return embed_photo_bytes(the_engine(), estimate) if estimate is not None else None

        result.progressed[index] = (
            estimate_embedding() if cache is None
            else cache.embedding(cache.key(data, *key), estimate_embedding)
        )
        if progress:
            progress(f"age-progressed {photo.file} from {source:g} to {max(target, source):g}")
    labelled_young_ages = any(p.age is not None for p in photos if p.group == YOUNG)
    from_age = young_age if young_age is not None else (
        None if labelled_young_ages else ASSUMED_YOUNG_AGE
    )
    result.progression_ages = (from_age, target)
    return result


# --- Ranking the true person ------------------------------------------------------
PairKey = Callable[[FaceSet, FaceSet], float]


def by_distance(mine: FaceSet, theirs: FaceSet) -> float:
    """What the workers rank by today: the closest photo pair's distance."""
    pair = ranking.closest_pair(mine, theirs)
    return pair.distance if pair else float("inf")


def by_closest_pair_score(params: ranking.RankingParameters) -> PairKey:
    """The workers' age-gap-aware score of the closest pair (higher first, so negated)."""

    def key(mine: FaceSet, theirs: FaceSet) -> float:
        pair = ranking.closest_pair(mine, theirs)
        if pair is None:
            return float("inf")
        return -ranking.score(pair.distance, pair.age_gap_years, params)

    return key


def by_best_pair_score(params: ranking.RankingParameters) -> PairKey:
    """The best age-gap-aware score over every photo pair, not only the closest one."""

    def key(mine: FaceSet, theirs: FaceSet) -> float:
        best = float("inf")
        for embedding_a, age_a in mine.values():
            for embedding_b, age_b in theirs.values():
                distance = faces.cosine_distance(embedding_a, embedding_b)
                gap = ranking.age_gap(age_a, age_b)
                best = min(best, -ranking.score(distance, gap, params))
        return best

    return key


def true_ranks(
    queries: Iterable[tuple[str, FaceSet]], gallery: dict[str, FaceSet], key: PairKey
) -> list[int]:
    """The rank of the true person among all gallery people, for each query."""
    ranks = []
    for identity, mine in queries:
        if identity not in gallery or not mine:
            continue
        values = {other: key(mine, theirs) for other, theirs in gallery.items()}
        true_value = values.pop(identity)
        ranks.append(ranking.rank_of(true_value, values.values()))
    return ranks


def wrong_people_within_threshold(
    queries: Iterable[tuple[str, FaceSet]],
    gallery: dict[str, FaceSet],
    params: ranking.RankingParameters,
) -> list[int]:
    """For each query, how many wrong people are within the loose distance for their age gap.

    The workers' rule (closest photo pair, ``ranking.candidate_threshold``) before
    the top-few cut: what a method costs volunteers in false candidates.
    """
    counts = []
    for identity, mine in queries:
        if identity not in gallery or not mine:
            continue
        count = 0
        for other, theirs in gallery.items():
            pair = ranking.closest_pair(mine, theirs)
            if other != identity and pair is not None and pair.distance <= (
                ranking.candidate_threshold(pair.age_gap_years, params)
            ):
                count += 1
        counts.append(count)
    return counts


# --- The same rules for every query × person at once (numpy) ------------------------------
# ``true_ranks`` with the keys above and ``wrong_people_within_threshold`` say what is
# measured, one pair of people at a time; the evaluation computes the same numbers with
# matrices (tests/matching/test_crossage_vectorised.py checks they agree to the last digit).


class _Stack:
    """Face sets stacked for matrix work: each set's faces in a row block, ids ascending."""

    def __init__(self, sets: list[tuple[str, FaceSet]], ages: _AgeCodes) -> None:
        sets = [(identity, face_set) for identity, face_set in sets if face_set]
        self.identities = [identity for identity, _ in sets]
        rows = [face_set[i] for _, face_set in sets for i in sorted(face_set)]
        self.sizes = np.array([len(face_set) for _, face_set in sets], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.intp)
        self.raw = np.stack([np.asarray(e, dtype=np.float64) for e, _ in rows]) if rows else (
            np.zeros((0, 0))
        )
        # As ranking.closest_pair normalises (per row), and as faces.cosine_distance
        # takes norms (per vector).
        self.unit = self.raw / np.linalg.norm(self.raw, axis=1, keepdims=True) if rows else (
            self.raw
        )
        self.norms = np.array([np.linalg.norm(vector) for vector in self.raw])
        self.age_codes = np.array([ages.code(age) for _, age in rows], dtype=np.intp)


class _AgeCodes:
    """Ages as small integers, with the age-gap thresholds of every pair of distinct ages."""

    def __init__(self, params: ranking.RankingParameters) -> None:
        self.params = params
        self.ages: list[float | None] = []
        self.index: dict[float | None, int] = {}

    def code(self, age: float | None) -> int:
        if age not in self.index:
            self.index[age] = len(self.ages)
            self.ages.append(age)
        return self.index[age]

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Age gap (NaN: unknown) and loose distance of each pair of codes (ranking's rules)."""
        count = len(self.ages)
        gaps = np.full((count, count), np.nan)
        thresholds = np.empty((count, count))
        for i, age_a in enumerate(self.ages):
            for j, age_b in enumerate(self.ages):
                gap = ranking.age_gap(age_a, age_b)
                gaps[i, j] = np.nan if gap is None else gap
                thresholds[i, j] = ranking.candidate_threshold(gap, self.params)
        return gaps, thresholds


def _first_in_groups(values: np.ndarray, best: np.ndarray, starts: np.ndarray,
                     sizes: np.ndarray, axis: int) -> np.ndarray:
    """Per group along ``axis``: the position of the first value equal to the group's best."""
    positions = np.arange(values.shape[axis])
    expanded = np.repeat(best, sizes, axis=axis)
    shape = (-1, 1) if axis == 0 else (1, -1)
    marked = np.where(values == expanded, positions.reshape(shape), values.shape[axis])
    return np.minimum.reduceat(marked, starts, axis=axis)


@dataclass
class _PeopleScores:
    """Every query × gallery person: the closest pair's distance and loose distance, and the
    best age-gap-aware score over every pair (negated, lower first), as the keys above."""

    distance: np.ndarray
    threshold: np.ndarray
    best_pair: np.ndarray


def _people_scores(queries: _Stack, gallery: _Stack, ages: _AgeCodes) -> _PeopleScores:
    _gaps, thresholds = ages.tables()
    # ranking.closest_pair: the smallest distance of a block, the first in row-major order
    # (lowest face ids) when several are equal.
    distances = 1.0 - queries.unit @ gallery.unit.T
    by_person = np.minimum.reduceat(distances, gallery.starts, axis=1)
    column = _first_in_groups(distances, by_person, gallery.starts, gallery.sizes, axis=1)
    closest = np.minimum.reduceat(by_person, queries.starts, axis=0)
    row = _first_in_groups(by_person, closest, queries.starts, queries.sizes, axis=0)
    person = np.arange(len(gallery.sizes))[None, :]
    column = column[row, person]
    pair_threshold = thresholds[queries.age_codes[row], gallery.age_codes[column]]
    # by_best_pair_score: faces.cosine_distance of every pair, scored by its age gap.
    cosine = 1.0 - (queries.raw @ gallery.raw.T) / (queries.norms[:, None] * gallery.norms[None, :])
    pair_thresholds = thresholds[queries.age_codes[:, None], gallery.age_codes[None, :]]
    negated = -(1.0 - cosine / pair_thresholds)
    best_pair = np.minimum.reduceat(
        np.minimum.reduceat(negated, gallery.starts, axis=1), queries.starts, axis=0
    )
    return _PeopleScores(
        distance=np.maximum(0.0, closest), threshold=pair_threshold, best_pair=best_pair,
    )


def _ranks_and_wrong(
    queries: list[tuple[str, FaceSet]], gallery: dict[str, FaceSet],
    params: ranking.RankingParameters, ages: _AgeCodes,
) -> dict[str, tuple[list[int], list[int]]]:
    """For the keys by_distance, by_closest_pair_score and by_best_pair_score: the true
    person's rank per query (``true_ranks``), and the wrong people within the loose
    distance per query (``wrong_people_within_threshold``, the same for every key)."""
    queries = [(identity, mine) for identity, mine in queries if identity in gallery and mine]
    if not queries:
        return {key: ([], []) for key in ("distance", "closest_pair_score", "best_pair_score")}
    people = _Stack(list(gallery.items()), ages)
    asked = _Stack(queries, ages)
    scores = _people_scores(asked, people, ages)
    true_column = np.array([people.identities.index(identity) for identity in asked.identities])
    rows = np.arange(len(asked.identities))
    others = np.ones(scores.distance.shape, dtype=bool)
    others[rows, true_column] = False
    within = (scores.distance <= scores.threshold) & others
    wrong = within.sum(axis=1).tolist()
    result = {}
    keys = {
        "distance": scores.distance,
        "closest_pair_score": -(1.0 - scores.distance / scores.threshold),
        "best_pair_score": scores.best_pair,
    }
    for name, values in keys.items():
        true_values = values[rows, true_column]
        closer = (values < true_values[:, None]) & others
        result[name] = ((1 + closer.sum(axis=1)).tolist(), wrong)
    return result


def summarise(ranks: list[int]) -> dict[str, float | int | None]:
    if not ranks:
        return {"queries": 0, "rank1": None, "rank10": None, "rank50": None, "median_rank": None}
    count = len(ranks)
    return {
        "queries": count,
        "rank1": round(sum(r <= 1 for r in ranks) / count, 4),
        "rank10": round(sum(r <= 10 for r in ranks) / count, 4),
        "rank50": round(sum(r <= 50 for r in ranks) / count, 4),
        "median_rank": float(statistics.median(ranks)),
    }


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
    ages = _AgeCodes(params)
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
    ages = _AgeCodes(params)
    for method, description, queries, key in rows:
        ranks, wrong = _ranks_and_wrong(queries, gallery, params, ages)[key]
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


def format_report(report: dict) -> str:
    """The report as plain text: the rank table, then the distances."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:5.1f}%"

    lines = [
        f"{report['photos']} photos, {report['young_photos']} young; "
        f"{report['adult_people']} adult people to search; no face in: "
        f"{', '.join(report['no_face']) or 'none'}",
        "",
        f"{'method':<26} {'queries':>7} {'rank-1':>7} {'rank-10':>7} {'rank-50':>7} "
        f"{'median':>7} {'wrong':>6}",
    ]
    for row in report["table"]:
        median = "-" if row["median_rank"] is None else f"{row['median_rank']:g}"
        wrong = row["wrong_within_threshold"]
        lines.append(
            f"{row['method']:<26} {row['queries']:>7} {pct(row['rank1']):>7} "
            f"{pct(row['rank10']):>7} {pct(row['rank50']):>7} {median:>7} "
            f"{'-' if wrong is None else format(wrong, '.2f'):>6}"
        )
    lines.append(
        "(wrong: wrong people per query within the loose distance for the age gap, "
        "before the top-few cut)"
    )
    progression = report["age_progression"]
    if progression:
        from_age = progression["from_age"]
        lines.append(
            "(age progression from "
            + ("each photo's labelled age" if from_age is None else f"age {from_age:g}")
            + f" to {progression['to_age']:g}; {progression['estimates_made']} estimates made)"
        )
    distances = report["distances"]
    lines += ["", "cosine distance of young × adult pairs   pairs    p10  median    p90"]
    names = ("true_pairs", "false_pairs", "estimate_true_pairs", "estimate_false_pairs")
    for name in (n for n in names if n in distances):
        stats = distances[name]
        lines.append(
            f"  {name.replace('_', ' '):<37} {stats['pairs']:>6} "
            + " ".join(f"{'-' if stats[k] is None else format(stats[k], '.4f'):>6}"
                       for k in ("p10", "median", "p90"))
        )
    for bucket in distances["by_age_gap"]:
        for name in ("true_pairs", "false_pairs"):
            stats = bucket[name]
            lines.append(
                f"  gap {bucket['gap_years']:>5} y, {name.replace('_', ' '):<24} "
                f"{stats['pairs']:>6} "
                + " ".join(f"{'-' if stats[k] is None else format(stats[k], '.4f'):>6}"
                           for k in ("p10", "median", "p90"))
            )
    suggestion = distances.get("suggested_parameters")
    if suggestion:
        lines.append(
            "  suggested (keeps 90% of true pairs at each gap): "
            f"MATCH_DISTANCE_BASE={suggestion['distance_base']} "
            f"MATCH_DISTANCE_PER_YEAR={suggestion['distance_per_year']} "
            f"MATCH_DISTANCE_MAX={suggestion['distance_max']}"
        )
    lines += ["", "accepted at threshold          true pairs  false pairs"]
    for row in distances["accepted"]:
        lines.append(
            f"  {row['threshold']!s:<28} {pct(row['true_pairs']):>10} {pct(row['false_pairs']):>12}"
        )
    if report.get("pipelines"):
        lines += ["", format_pipelines(report["pipelines"])]
    return "\n".join(lines)


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


# --- One row per pipeline: each model, and their fusion, plain and centred ---------------
#: The pipelines compared, in the order printed.
PIPELINES = (
    ("dlib_deepface", "Dlib through DeepFace's own detection and crop (the previous path)"),
    ("dlib_chip", "Dlib on dlib's own chip (Face.embedding_dlib)"),
    ("sface", "SFace on its canonical crop (Face.embedding, searched)"),
    ("fusion", "SFace and Dlib chip, per-query z-scores averaged (MATCH_FUSION)"),
)


def embed_models(
    faces_dir: Path, photos: list[LabelledPhoto], *, cache: EmbeddingCache | None = None,
    engine: faces.FaceEngine | None = None,
) -> dict[str, list[np.ndarray | None]]:
    """Every photo's embedding by each model: ``sface`` and ``dlib_chip`` as a worker stores
    them (largest face), ``dlib_deepface`` through plain ``DeepFace.represent`` on the file
    where the engine still offers it (else absent from the result)."""
    loaded: list[faces.FaceEngine] = [engine] if engine is not None else []

    def the_engine() -> faces.FaceEngine:
        if not loaded:
            loaded.append(faces.get_engine())
        return loaded[0]

    def both(data: bytes) -> tuple[np.ndarray | None, np.ndarray | None]:
        return embed_both(the_engine(), data)

    def plain_vector(path: Path, data: bytes) -> tuple[bool, np.ndarray | None]:
        key = cache.key(data, "dlib-deepface") if cache is not None else ""
        if cache is not None:
            found, vector = cache.get(key)
            if found:
                return True, vector
        represent = getattr(the_engine(), "represent_plain", None)
        if represent is None:
            return False, None
        vector = represent(str(path))
        if cache is not None:
            cache.put(key, vector)
        return True, vector

    result: dict[str, list[np.ndarray | None]] = {"sface": [], "dlib_chip": []}
    plain: list[np.ndarray | None] | None = []
    for photo in photos:
        path = faces_dir / photo.file
        data = path.read_bytes()
        if cache is None:
            sface, dlib = both(data)
        else:
            computed: dict[str, np.ndarray | None] = {}

            def compute(name: str, data: bytes = data, computed=computed) -> np.ndarray | None:
                if not computed:
                    computed["sface"], computed["dlib_chip"] = both(data)
                return computed[name]

            sface = cache.embedding(cache.key(data), lambda: compute("sface"))
            dlib = cache.embedding(cache.key(data, "dlib-chip"), lambda: compute("dlib_chip"))
        result["sface"].append(sface)
        result["dlib_chip"].append(dlib)
        if plain is not None:
            computable, vector = plain_vector(path, data)
            if computable:
                plain.append(vector)
            else:
                plain = None
    if plain is not None:
        result["dlib_deepface"] = plain
    return result


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


def _unit_rows(vectors: list[np.ndarray]) -> np.ndarray:
    matrix = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def pipeline_ranks(
    photos: list[LabelledPhoto],
    models: dict[str, list[np.ndarray | None]],
    pipeline: str,
    *,
    pool: int | None = None,
) -> list[int]:
    """The true person's rank for each young photo (alone) among the adult people, each person
    at their closest adult photo: by one model's distance, or (``fusion``) by the fused
    distance, z-scored against the query's ``pool`` (``MATCH_FUSION_POOL``) closest adult
    photos by SFace, as matching does."""
    main = models["sface" if pipeline == "fusion" else pipeline]
    young = [i for i, p in enumerate(photos) if p.group == YOUNG and main[i] is not None]
    adults = [j for j, p in enumerate(photos) if p.group == ADULT and main[j] is not None]
    if not young or not adults:
        return []
    people = sorted({photos[j].identity for j in adults})
    adults.sort(key=lambda j: (people.index(photos[j].identity), j))
    person_of = np.array([people.index(photos[j].identity) for j in adults])
    starts = np.flatnonzero(np.r_[True, person_of[1:] != person_of[:-1]])
    values = 1.0 - _unit_rows([main[i] for i in young]) @ _unit_rows([main[j] for j in adults]).T
    if pipeline == "fusion":
        dlib = models["dlib_chip"]
        size = pool or settings.MATCH_FUSION_POOL
        dlib_matrix = np.full(values.shape, np.nan)
        have_a = [k for k, j in enumerate(adults) if dlib[j] is not None]
        have_y = [k for k, i in enumerate(young) if dlib[i] is not None]
        if have_a and have_y:
            block = 1.0 - _unit_rows([dlib[young[k]] for k in have_y]) @ _unit_rows(
                [dlib[adults[k]] for k in have_a]).T
            dlib_matrix[np.ix_(have_y, have_a)] = block
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


def evaluate_pipelines(
    photos: list[LabelledPhoto], models: dict[str, list[np.ndarray | None]]
) -> list[dict]:
    """One row per pipeline, plain and centred (each age group's own mean from these photos)."""
    groups = [p.group for p in photos]
    centred_models = {name: centred(vectors, groups) for name, vectors in models.items()}
    rows = []
    for pipeline, description in PIPELINES:
        needed = ("sface", "dlib_chip") if pipeline == "fusion" else (pipeline,)
        for is_centred, source in ((False, models), (True, centred_models)):
            row = {"pipeline": pipeline, "centred": is_centred, "description": description}
            if not all(name in source for name in needed):
                row.update(summarise([]), note="not computable with this face engine")
            else:
                row.update(summarise(pipeline_ranks(photos, source, pipeline)))
            rows.append(row)
    return rows


def format_pipelines(rows: list[dict]) -> str:
    """The pipelines' table as plain text."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:5.1f}%"

    lines = [f"{'pipeline':<24} {'queries':>7} {'rank-1':>7} {'rank-10':>7} {'rank-50':>7} "
             f"{'median':>7}"]
    for row in rows:
        name = row["pipeline"] + (" centred" if row["centred"] else "")
        if row.get("note"):
            lines.append(f"{name:<24} {row['note']}")
            continue
        median = "-" if row["median_rank"] is None else f"{row['median_rank']:g}"
        lines.append(f"{name:<24} {row['queries']:>7} {pct(row['rank1']):>7} "
                     f"{pct(row['rank10']):>7} {pct(row['rank50']):>7} {median:>7}")
    lines.append("(each young photo alone against every adult person; centred: each age "
                 "group's embeddings minus that group's mean in this folder, normalised)")
    return "\n".join(lines)


# --- The same pipelines on pairs of photos (``calibrate_threshold``) --------------------


def _pairwise(vectors: list[np.ndarray | None]) -> np.ndarray:
    """Cosine distance of every photo × photo (NaN where a photo has no face)."""
    have = [i for i, v in enumerate(vectors) if v is not None]
    matrix = np.full((len(vectors), len(vectors)), np.nan)
    if have:
        units = _unit_rows([vectors[i] for i in have])
        matrix[np.ix_(have, have)] = 1.0 - units @ units.T
    return matrix


def pipeline_pair_distances(
    names: list[str], models: dict[str, list[np.ndarray | None]], pairs: list[tuple[str, str]],
    pipeline: str, *, pool: int | None = None,
) -> np.ndarray:
    """Each pair's distance by one model, or (``fusion``) the fused distance of the second
    photo to the first, z-scored against the first photo's ``pool`` closest other photos of
    the folder by SFace (NaN when a photo has no face)."""
    index = {name: i for i, name in enumerate(names)}
    matrix = _pairwise(models["sface" if pipeline == "fusion" else pipeline])
    if pipeline == "fusion":
        dlib = _pairwise(models["dlib_chip"])
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
    """One row per pipeline, plain and centred (the folder's photos are one group here: the
    pairs are of the same age): best accuracy and the threshold it starts at."""
    centred_models = {
        name: centred(vectors, [ADULT] * len(vectors)) for name, vectors in models.items()
    }
    rows = []
    for pipeline, description in PIPELINES:
        needed = ("sface", "dlib_chip") if pipeline == "fusion" else (pipeline,)
        for is_centred, source in ((False, models), (True, centred_models)):
            row: dict = {"pipeline": pipeline, "centred": is_centred, "description": description}
            if not all(name in source for name in needed):
                row.update(accuracy=None, threshold=None,
                           note="not computable with this face engine")
            else:
                distances = pipeline_pair_distances(names, source, pairs, pipeline)
                row["accuracy"], row["threshold"] = best_threshold(distances, same)
            rows.append(row)
    return rows


def format_threshold_pipelines(rows: list[dict]) -> str:
    lines = [f"{'pipeline':<24} {'best accuracy':>13} {'from threshold':>15}"]
    for row in rows:
        name = row["pipeline"] + (" centred" if row["centred"] else "")
        if row.get("note"):
            lines.append(f"{name:<24} {row['note']}")
        else:
            threshold = "-" if row["threshold"] is None else f"{row['threshold']:.4f}"
            lines.append(f"{name:<24} {100 * row['accuracy']:12.2f}% {threshold:>15}")
    lines.append("(fusion: z-scores, not a cosine distance; centred: minus the mean of the "
                 "folder's photos, normalised)")
    return "\n".join(lines)
