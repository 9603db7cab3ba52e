"""The evaluation's ranking with matrices gives the same report, to the last digit, as the
rules it implements applied one pair of people at a time; embeddings are cached by photo.

The reference below is the evaluation as it was written before it used matrices: every
query × gallery person through ``ranking.closest_pair`` and ``faces.cosine_distance``.
Both run on the same embeddings (real photos of ../shared/faces through the workers' code,
and made-up vectors with exact ties) and the reports must be equal, floats included.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from matching import crossage, faces, ranking
from matching.crossage import ADULT, YOUNG, Embedded, LabelledPhoto
from matching.management.commands import calibrate_threshold
from matching.ranking import RankingParameters

PARAMETER_SETS = [
    RankingParameters(distance_base=0.09, distance_per_year=0.002, distance_max=0.14, top_k=5),
    RankingParameters(distance_base=0.05, distance_per_year=0.004, distance_max=0.08, top_k=3),
    RankingParameters(distance_base=0.3, distance_per_year=0.0, distance_max=0.3, top_k=10),
]


# --- The reference: one pair of people at a time ----------------------------------------


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

    percentiles = crossage._percentiles
    report = {
        "true_pairs": percentiles([d for d, _ in true]),
        "false_pairs": percentiles([d for d, _ in false]),
        "accepted": [
            {"threshold": t, "true_pairs": accepted(true, t), "false_pairs": accepted(false, t)}
            for t in crossage.REPORTED_THRESHOLDS
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
    for low, high in crossage.GAP_BUCKETS:
        in_bucket = [d for d, g in true if g is not None and low <= g < high]
        others = [d for d, g in false if g is not None and low <= g < high]
        if in_bucket:
            report["by_age_gap"].append({
                "gap_years": f"{low}-{high}" if high < 200 else f"{low}+",
                "true_pairs": percentiles(in_bucket),
                "false_pairs": percentiles(others),
            })
    report["suggested_parameters"] = crossage.suggest_parameters(true)
    return report


def reference_table(embedded: Embedded, params: RankingParameters) -> list[dict]:
    sets, by_person = crossage._face_sets, crossage._by_person
    gallery = by_person(sets(embedded, ADULT))
    young_photos = sets(embedded, YOUNG)
    rows = [
        ("plain", young_photos, crossage.by_distance),
        ("all_photos", list(by_person(young_photos).items()), crossage.by_distance),
        ("age_gap_score", young_photos, crossage.by_closest_pair_score(params)),
        ("age_gap_best_pair", young_photos, crossage.by_best_pair_score(params)),
    ]
    if embedded.progressed:
        rows += [
            ("age_progressed", sets(embedded, YOUNG, progressed="only"), crossage.by_distance),
            ("photo_and_estimate", sets(embedded, YOUNG, progressed="both"),
             crossage.by_distance),
            ("all_photos_and_estimates",
             list(by_person(sets(embedded, YOUNG, progressed="both")).items()),
             crossage.by_distance),
        ]
    table = []
    for method, queries, key in rows:
        wrong = crossage.wrong_people_within_threshold(queries, gallery, params)
        table.append({
            "method": method,
            **crossage.summarise(crossage.true_ranks(queries, gallery, key)),
            "wrong_within_threshold": round(float(np.mean(wrong)), 2) if wrong else None,
        })
    return table


def assert_same_report(embedded: Embedded, params: RankingParameters) -> dict:
    report = crossage.evaluate_embedded(embedded, params)
    table = [{k: v for k, v in row.items() if k != "description"} for row in report["table"]]
    assert table == reference_table(embedded, params)
    assert report["distances"] == reference_pair_distances(embedded, params)
    return report


# --- Real photos ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_embeddings(faces_dir, identities) -> dict[str, Embedded]:
    """Every photo of ../shared/faces, each person's first "young": with ages and without."""
    people: dict[str, list[str]] = {}
    for file, identity in sorted(identities.items()):
        people.setdefault(identity, []).append(file)
    photos = [
        LabelledPhoto(file, identity, YOUNG if index == 0 else ADULT, None)
        for identity, files in sorted(people.items()) for index, file in enumerate(files)
    ]
    engine = faces.get_engine()
    without_ages = crossage.embed_all(faces_dir, photos, engine=engine)
    aged = [
        LabelledPhoto(p.file, p.identity, p.group, 6.0 + index % 5 if p.group == YOUNG else
                      28.0 + index % 7)
        for index, p in enumerate(photos)
    ]
    with_ages = Embedded(
        photos=aged, embeddings=without_ages.embeddings, progressed=without_ages.progressed,
        progression_ages=without_ages.progression_ages,
    )
    return {"without ages": without_ages, "with ages": with_ages}


@pytest.mark.parametrize("params", PARAMETER_SETS)
@pytest.mark.parametrize("which", ["without ages", "with ages"])
def test_the_report_on_real_photos_is_the_same_as_pair_by_pair(real_embeddings, which, params):
    embedded = real_embeddings[which]
    assert sum(e is not None for e in embedded.embeddings) >= 60
    report = assert_same_report(embedded, params)
    rows = {row["method"]: row for row in report["table"]}
    assert rows["plain"]["queries"] == len({p.identity for p in embedded.photos})
    if which == "with ages":
        assert report["distances"]["by_age_gap"]  # the gap buckets are exercised


# --- Made-up vectors: exact ties, unknown ages, people without faces ------------------------


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


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_ties_and_unknown_ages_are_ranked_as_pair_by_pair(seed, params):
    embedded = made_up(seed)
    report = assert_same_report(embedded, params)
    # Ties do happen here (the ranks' rule "ties share the better rank" is exercised).
    distances = [faces.cosine_distance(a, b) for a in embedded.embeddings[:30] if a is not None
                 for b in embedded.embeddings[:30] if b is not None]
    assert len(distances) > len(set(distances))
    assert report["table"][0]["queries"] > 20


def test_no_young_or_no_adult_photo_gives_an_empty_report():
    photos = [LabelledPhoto("a.jpg", "p1", YOUNG, 3.0), LabelledPhoto("b.jpg", "p2", YOUNG, 4.0)]
    embedded = Embedded(photos=photos, embeddings=[np.ones(4), np.arange(4.0) + 1])
    assert_same_report(embedded, PARAMETER_SETS[0])


# --- The cache ----------------------------------------------------------------------------


def test_a_rerun_reads_every_embedding_from_the_cache_and_gives_the_same_report(
    tmp_path, faces_dir, identities, capsys
):
    folder = tmp_path / "faces"
    folder.mkdir()
    chosen: dict[str, list[str]] = {}
    for file, identity in sorted(identities.items()):
        if len(chosen.setdefault(identity, [])) < 2:
            chosen[identity].append(file)
    rows = []
    for identity, files in sorted(chosen.items())[:6]:
        for index, file in enumerate(files):
            (folder / file).symlink_to(faces_dir / file)
            rows.append({"file": file, "identity": identity,
                         "age_group": "young" if index == 0 else "adult"})
    with open(folder / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "identity", "age_group"])
        writer.writeheader()
        writer.writerows(rows)
    cache_dir = tmp_path / "cache"
    arguments = {"faces": folder, "labels": folder / "labels.csv", "cache_dir": cache_dir,
                 "no_pipelines": True}

    call_command("evaluate_crossage", **arguments, json=tmp_path / "first.json")
    first = capsys.readouterr()
    young = sum(row["age_group"] == "young" for row in rows)
    assert f"0 embeddings read from the cache, {len(rows) + young} computed" in first.err
    version_folder = crossage.EmbeddingCache(cache_dir, faces.current_model_version()).folder
    # Each photo's SFace and Dlib-chip embeddings (one pass), and each young photo's estimate.
    assert len(list(version_folder.glob("*/*.npy"))) == 2 * len(rows) + young

    call_command("evaluate_crossage", **arguments, json=tmp_path / "second.json",
                 distance_max=0.2)
    second = capsys.readouterr()
    assert f"{len(rows) + young} embeddings read from the cache, 0 computed" in second.err
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("first", "second"))
    assert two["ranking_parameters"]["distance_max"] == 0.2
    assert one["distances"]["true_pairs"] == two["distances"]["true_pairs"]
    assert [r["rank1"] for r in one["table"]] == [r["rank1"] for r in two["table"]]

    # Another model version sees none of it.
    other = crossage.EmbeddingCache(cache_dir, "another-model/1")
    assert other.get(other.key((folder / rows[0]["file"]).read_bytes())) == (False, None)


def test_the_cache_keeps_no_face_and_is_keyed_by_the_bytes(tmp_path):
    cache = crossage.EmbeddingCache(tmp_path, "model/1")
    calls = []

    def compute(value):
        calls.append(value)
        return value

    assert cache.embedding(cache.key(b"photo one"), lambda: compute(None)) is None
    assert cache.embedding(cache.key(b"photo one"), lambda: compute(np.ones(3))) is None
    vector = cache.embedding(cache.key(b"photo two"), lambda: compute(np.arange(3.0)))
    again = cache.embedding(cache.key(b"photo two"), lambda: compute(np.zeros(3)))
    assert np.array_equal(vector, again) and np.array_equal(again, np.arange(3.0))
    assert cache.key(b"photo two", "age-progressed", 4) != cache.key(b"photo two")
    assert len(calls) == 2 and (cache.hits, cache.misses) == (2, 2)


# --- calibrate_threshold ------------------------------------------------------------------


def reference_calibration(faces_dir: Path, pairs: Path, start: float, stop: float,
                          step: float) -> str:
    """The command's output as it was computed before: threshold by threshold."""
    with open(pairs, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted({row["file_a"] for row in rows} | {row["file_b"] for row in rows})
    engine = faces.get_engine()
    vectors = {}
    from families.uploads import normalise_photo

    for name in names:
        stored = normalise_photo((faces_dir / name).read_bytes()).content
        _detected, found = faces.detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
        vectors[name] = None if found is None else found.sface
    distances = np.array([
        np.nan if vectors[r["file_a"]] is None or vectors[r["file_b"]] is None
        else faces.cosine_distance(vectors[r["file_a"]], vectors[r["file_b"]]) for r in rows
    ])
    same = np.array([r["same_person"].strip().lower() in ("yes", "true", "1") for r in rows])
    lines = []
    best = (-1.0, 0.0)
    for threshold in np.arange(start, stop + 1e-9, step):
        accuracy, false_match, false_non_match = calibrate_threshold.rates(
            distances, same, threshold
        )
        if accuracy > best[0]:
            best = (accuracy, threshold)
        lines.append(
            f"{threshold:9.3f} {accuracy:9.4f} {false_match:12.4f} {false_non_match:16.4f}"
        )
    lines.append(f"best accuracy {best[0]:.4f} at threshold {best[1]:.3f}")
    return "\n".join(lines)


def test_calibrate_threshold_prints_what_it_printed_threshold_by_threshold(
    faces_dir, tmp_path, capsys
):
    """All 520 labelled pairs of ../shared/faces, the default grid."""
    pairs = faces_dir / "pairs.csv"
    expected = reference_calibration(faces_dir, pairs, 0.03, 0.16, 0.005)
    for _run in range(2):  # computed, then read from the cache
        call_command("calibrate_threshold", faces=str(faces_dir), pairs=str(pairs),
                     cache_dir=tmp_path / "cache", no_pipelines=True)
        printed = capsys.readouterr().out
        table = printed[printed.index("\n", printed.index("false non-match")) + 1:].rstrip("\n")
        assert table == expected
