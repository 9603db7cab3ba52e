"""The cross-age evaluation: labels, ranking the true person, distances by age gap.

The ranking arithmetic is checked on made-up vectors (a unit test of ranking
logic); the embedding step runs real DeepFace on photos from ../shared/faces.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings

from matching import crossage, faces
from matching.ranking import RankingParameters

PARAMS = RankingParameters(distance_base=0.09, distance_per_year=0.002, distance_max=0.14, top_k=5)


def write_labels(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = sorted({key for row in rows for key in row}, key=["file", "identity", "age",
                                                                "age_group"].index)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- Labels -----------------------------------------------------------------------------


def test_labels_take_an_age_group_or_an_age(tmp_path):
    path = write_labels(tmp_path / "labels.csv", [
        {"file": "a.jpg", "identity": "p1", "age": "3", "age_group": ""},
        {"file": "b.jpg", "identity": "p1", "age": "31.5", "age_group": ""},
        {"file": "c.jpg", "identity": "p2", "age": "", "age_group": "Young"},
        {"file": "d.jpg", "identity": "p2", "age": "12", "age_group": "adult"},
    ])
    photos = crossage.read_labels(path)
    assert [(p.group, p.age) for p in photos] == [
        ("young", 3.0), ("adult", 31.5), ("young", None), ("adult", 12.0),
    ]


@pytest.mark.parametrize("rows, message", [
    ([{"file": "a.jpg", "identity": "p1"}], "columns"),
    ([{"file": "a.jpg", "identity": "p1", "age_group": "teen"}], "Line 2"),
    ([{"file": "a.jpg", "identity": "p1", "age": "three"}], "Line 2"),
    ([{"file": "", "identity": "p1", "age_group": "young"}], "Line 2"),
])
def test_bad_labels_are_refused_naming_the_line(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        crossage.read_labels(write_labels(tmp_path / "labels.csv", rows))


# --- Ranking the true person (made-up vectors) --------------------------------------------


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def test_the_true_person_is_ranked_among_everyone_with_ties_sharing_the_better_rank():
    gallery = {
        "ann": {1: (unit(1, 0, 0), 30.0)},
        "bob": {2: (unit(0, 1, 0), 30.0)},
        "cat": {3: (unit(1, 0.1, 0), 30.0), 4: (unit(0, 0, 1), 30.0)},
    }
    queries = [
        ("ann", {10: (unit(1, 0.01, 0), 3.0)}),  # closest to ann
        ("bob", {11: (unit(1, 0.12, 0), 3.0)}),  # cat and ann are closer than bob
        ("cat", {12: (unit(0, 0, 1), 3.0)}),  # cat's second photo is exact
        ("dan", {13: (unit(0, 1, 1), 3.0)}),  # not in the gallery: not counted
    ]
    ranks = crossage.true_ranks(queries, gallery, crossage.by_distance)
    assert ranks == [1, 3, 1]
    assert crossage.summarise(ranks) == {
        "queries": 3, "rank1": round(2 / 3, 4), "rank10": 1.0, "rank50": 1.0, "median_rank": 1.0,
    }
    assert crossage.summarise([])["rank1"] is None


def test_the_best_pair_score_can_prefer_a_photo_closer_in_age_to_the_closest_pair():
    """A pair 25 years apart at 0.10 is a better call than a same-age pair at 0.085."""
    child = {1: (unit(1, 0, 0), 5.0)}
    near_in_age = {2: (unit(1, np.tan(np.arccos(1 - 0.085)), 0), 6.0)}
    grown_up = {
        3: (unit(1, np.tan(np.arccos(1 - 0.10)), 0), 30.0),
        4: (unit(0, 1, 0), 6.0),
    }
    gallery = {"near": near_in_age, "grown": grown_up}
    by_distance = crossage.true_ranks([("grown", child)], gallery, crossage.by_distance)
    by_score = crossage.true_ranks(
        [("grown", child)], gallery, crossage.by_best_pair_score(PARAMS)
    )
    assert by_distance == [2] and by_score == [1]


def test_pair_distances_are_reported_by_age_gap():
    photos = [
        crossage.LabelledPhoto("y1.jpg", "p1", "young", 4.0),
        crossage.LabelledPhoto("a1.jpg", "p1", "adult", 30.0),
        crossage.LabelledPhoto("y2.jpg", "p2", "young", 10.0),
        crossage.LabelledPhoto("a2.jpg", "p2", "adult", 16.0),
    ]
    embedded = crossage.Embedded(
        photos=photos,
        embeddings=[unit(1, 0, 0), unit(1, 0.3, 0), unit(0, 1, 0), unit(0, 1, 0.2)],
    )
    report = crossage.pair_distances(embedded, PARAMS)
    assert report["true_pairs"]["pairs"] == 2 and report["false_pairs"]["pairs"] == 2
    gaps = {bucket["gap_years"]: bucket for bucket in report["by_age_gap"]}
    assert set(gaps) == {"5-10", "20+"}
    assert gaps["20+"]["true_pairs"]["median"] == pytest.approx(
        faces.cosine_distance(unit(1, 0, 0), unit(1, 0.3, 0)), abs=1e-4
    )
    ranking_row = report["accepted"][-1]
    assert ranking_row["threshold"] == "ranking (by age gap)"


# --- Real photos, real DeepFace -------------------------------------------------------------


def test_real_photos_are_embedded_with_the_workers_code_and_the_true_person_found(
    faces_dir, identities
):
    people: dict[str, list[str]] = {}
    for file, identity in identities.items():
        people.setdefault(identity, []).append(file)
    chosen = [files[:3] for _identity, files in sorted(people.items())[:5]]
    photos = [
        crossage.LabelledPhoto(file, identities[file], "young" if i == 0 else "adult", None)
        for files in chosen for i, file in enumerate(files)
    ]
    embedded = crossage.embed_all(faces_dir, photos, engine=faces.get_engine())
    assert all(e is not None and e.shape == (128,) for e in embedded.embeddings)
    assert embedded.progression_ages == (crossage.ASSUMED_YOUNG_AGE, crossage.ASSUMED_ADULT_AGE)
    assert len(embedded.progressed) == 5

    report = crossage.evaluate_embedded(embedded, PARAMS)
    rows = {row["method"]: row for row in report["table"]}
    assert rows["plain"]["queries"] == 5 and rows["plain"]["rank1"] == 1.0
    assert rows["photo_and_estimate"]["rank1"] == 1.0
    distances = report["distances"]
    # Same-age photos of one person are close; the estimate keeps much of the identity.
    threshold = django_settings.MATCH_SAME_AGE_THRESHOLD
    assert distances["true_pairs"]["median"] < threshold < distances["false_pairs"]["median"]
    assert (distances["estimate_true_pairs"]["median"]
            < distances["estimate_false_pairs"]["median"])
    text = crossage.format_report(report)
    assert "plain" in text and "age_progressed" in text and "true pairs" in text


@pytest.mark.django_db(transaction=True)
def test_the_evaluation_embeds_a_photo_exactly_as_the_workers_do(
    make_user, photo_bytes, run_worker
):
    from matching.models import Face
    from tests import builders

    case = builders.case(family=make_user())
    builders.photo(data=photo_bytes("img12.jpg"), case=case, age_in_photo=4)
    run_worker()
    stored = np.asarray(Face.objects.get(photo__case=case).embedding)
    evaluated = crossage.embed_photo_bytes(faces.get_engine(), photo_bytes("img12.jpg"))
    assert faces.cosine_distance(stored, evaluated) < 1e-6


def test_a_centred_embedding_is_raw_minus_its_groups_mean_normalised():
    raw = [np.array([3.0, 4.0]), np.array([0.0, 2.0]), None, np.array([1.0, 0.0])]
    groups = [crossage.YOUNG, crossage.YOUNG, crossage.YOUNG, crossage.ADULT]
    result = crossage.centred(raw, groups)
    young_mean = (np.array([0.6, 0.8]) + np.array([0.0, 1.0])) / 2
    expected = np.array([0.6, 0.8]) - young_mean
    assert result[0] == pytest.approx(expected / np.linalg.norm(expected))
    assert result[2] is None
    # A group of one: nothing in common to take out, the unit vector stays.
    assert result[3] == pytest.approx(np.array([1.0, 0.0]))
