"""Photos embedded exactly as the workers embed them, and the cache keyed by photo and model
version that spares a rerun the face pipeline."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from django.core.management import call_command

from matching import faces
from matching.crossage.embedding import EmbeddingCache, embed_photo_bytes


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
    evaluated = embed_photo_bytes(faces.get_engine(), photo_bytes("img12.jpg"))
    assert faces.cosine_distance(stored, evaluated) < 1e-6


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
    version_folder = EmbeddingCache(cache_dir, faces.current_model_version()).folder
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
    other = EmbeddingCache(cache_dir, "another-model/1")
    assert other.get(other.key((folder / rows[0]["file"]).read_bytes())) == (False, None)


def test_the_cache_keeps_no_face_and_is_keyed_by_the_bytes(tmp_path):
    cache = EmbeddingCache(tmp_path, "model/1")
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
