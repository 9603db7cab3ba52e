"""The cross-age evaluation's ranking: matrices against pair by pair, and a cached rerun.

Part 1, ranking alone: a labelled set the size of the public large-age-gap set (about
1,000 people, 3,800 photos: one young photo per person, the rest adult, each young one
with an estimate) made of synthetic embeddings fitted to the real ones
(``bench/vector_search.py``'s model, from var/bench/embeddings.npz), ranked by
``matching.crossage.evaluation.evaluate_embedded`` (matrices) and by the pair-by-pair
reference of tests/matching/crossage/reference.py (the evaluation as written before), on the
same embeddings; the reference only on the smaller sizes (it grows with the square).

Part 2, the command: ``manage.py evaluate_crossage`` on the labelled folder made from
../shared/faces (every photo; each person's first photo "young"), run three times in
new processes: with an empty cache, then twice reading the cache (the second with other
ranking parameters).

    .venv/bin/python bench/crossage_ranking.py --people 200,400,1006 --reference-up-to 400
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _django import FACES_DIR, OUT_DIR, ROOT, setup


def synthetic(people: int, photos_per_person: float, model: dict, rng) -> object:
    from matching.crossage.embedding import Embedded
    from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto

    photos, embeddings, progressed = [], [], {}
    for person in range(people):
        centre = model["centre_mean"] + model["between_sd"] * rng.standard_normal(128)
        count = max(2, int(rng.poisson(photos_per_person - 2)) + 2)
        young_age, adult_age = float(rng.integers(2, 12)), float(rng.integers(18, 50))
        for index in range(count):
            vector = centre + model["within_sd"] * rng.standard_normal(128)
            group = YOUNG if index == 0 else ADULT
            photos.append(LabelledPhoto(f"{person}-{index}.jpg", f"p{person}", group,
                                        young_age if group == YOUNG else adult_age))
            embeddings.append(vector / np.linalg.norm(vector))
            if group == YOUNG:
                estimate = vector + 0.5 * model["within_sd"] * rng.standard_normal(128)
                progressed[len(photos) - 1] = estimate / np.linalg.norm(estimate)
    return Embedded(photos=photos, embeddings=embeddings, progressed=progressed,
                    progression_ages=(None, 30.0))


def ranking_part(sizes: list[int], reference_up_to: int) -> list[dict]:
    from vector_search import fit

    from matching.crossage.evaluation import evaluate_embedded
    from matching.ranking import RankingParameters
    from tests.matching.crossage.reference import reference_pair_distances, reference_table

    params = RankingParameters.from_settings()
    model = fit(OUT_DIR / "embeddings.npz")
    rows = []
    for people in sizes:
        embedded = synthetic(people, 3.8, model, np.random.default_rng(people))
        start = time.perf_counter()
        report = evaluate_embedded(embedded, params)
        fast = time.perf_counter() - start
        row = {"people": people, "photos": len(embedded.photos), "matrices_s": fast}
        if people <= reference_up_to:
            start = time.perf_counter()
            table = reference_table(embedded, params)
            distances = reference_pair_distances(embedded, params)
            row["pair_by_pair_s"] = time.perf_counter() - start
            row["same_report"] = (
                [{k: v for k, v in r.items() if k != "description"} for r in report["table"]]
                == table and report["distances"] == distances
            )
            row["speedup"] = row["pair_by_pair_s"] / fast
        rows.append(row)
        print(row, flush=True)
    return rows


def command_part() -> list[dict]:
    with open(FACES_DIR / "identities.csv", newline="") as handle:
        identities = {r["file"]: r["identity"] for r in csv.DictReader(handle)}
    work = Path(tempfile.mkdtemp(prefix="crossage-"))
    try:
        folder, cache = work / "faces", work / "cache"
        folder.mkdir()
        seen: set[str] = set()
        with open(folder / "labels.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "identity", "age_group"])
            for file, identity in sorted(identities.items()):
                (folder / file).symlink_to(FACES_DIR / file)
                writer.writerow([file, identity, "adult" if identity in seen else "young"])
                seen.add(identity)
        runs = []
        for label, extra in (("empty cache", []), ("cached", []),
                             ("cached, other parameters", ["--distance-max", "0.2"])):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "evaluate_crossage",
                 "--faces", str(folder), "--labels", str(folder / "labels.csv"),
                 "--cache-dir", str(cache), *extra],
                cwd=ROOT, capture_output=True, text=True, check=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )
            seconds = time.perf_counter() - start
            note = [line for line in done.stderr.splitlines() if "from the cache" in line]
            runs.append({"run": label, "seconds": seconds, "cache": note[-1] if note else ""})
            print(runs[-1], flush=True)
        return runs
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", default="200,400,1006")
    parser.add_argument("--reference-up-to", type=int, default=400)
    parser.add_argument("--skip-command", action="store_true")
    args = parser.parse_args()
    setup()
    load = [os.getloadavg()]
    report = {"ranking": ranking_part([int(p) for p in args.people.split(",")],
                                      args.reference_up_to)}
    if not args.skip_command:
        report["command"] = command_part()
    load.append(os.getloadavg())
    report["load_average_1_5_15"] = load
    (OUT_DIR / "crossage_ranking.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
