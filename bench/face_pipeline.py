"""Accuracy and speed of the face pipeline against plain DeepFace, in one run.

For every photo named in ``pairs.csv``:

* plain: ``DeepFace.represent(path, model_name="Dlib", detector_backend="dlib")``
  on the original file (the baseline; it decodes the file itself);
* pipeline: the workers' code (``matching.faces.detect_and_embed``) on the
  photo as Reunion stores it (normalised by ``families.images``), JPEG decoding
  included, and, for reference, on the original file.

Then accuracy on the labelled pairs at the same-age threshold, and the best
threshold for each. Writes the embeddings to var/bench/embeddings.npz (used by
bench/vector_search.py to fit synthetic people).

    .venv/bin/python bench/face_pipeline.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import time

import numpy as np
from _django import FACES_DIR, OUT_DIR, setup


def accuracy(pairs, vectors, threshold):
    right = 0
    for a, b, same in pairs:
        if vectors.get(a) is None or vectors.get(b) is None:
            continue_same = False
            right += int(same == continue_same)
            continue
        distance = 1.0 - float(np.dot(vectors[a], vectors[b]))
        right += int((distance <= threshold) == same)
    return right / len(pairs)


def best_threshold(pairs, vectors):
    grid = np.round(np.arange(0.03, 0.15, 0.0025), 4)
    scores = [(accuracy(pairs, vectors, t), -abs(t - 0.07), t) for t in grid]
    best = max(scores)
    return best[2], best[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per photo (median kept)")
    parser.add_argument("--detect-sides", default="400,640")
    args = parser.parse_args()
    setup()
    from django.conf import settings

    from families.uploads import normalise_photo
    from matching import faces
    from matching.faces import DETECT_DECODE_SIDE, detect_and_embed

    with open(FACES_DIR / "pairs.csv", newline="") as handle:
        pairs = [
            (r["file_a"], r["file_b"], r["same_person"] == "yes") for r in csv.DictReader(handle)
        ]
    names = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    engine = faces.get_engine()
    stored = {name: normalise_photo((FACES_DIR / name).read_bytes()).content for name in names}
    originals = {name: (FACES_DIR / name).read_bytes() for name in names}
    # Warm up both paths (first TensorFlow call builds graphs).
    engine.represent_plain(str(FACES_DIR / names[0]))
    detect_and_embed(engine, io.BytesIO(stored[names[0]]))

    variants = {"plain DeepFace.represent(path)": {}}
    times = {"plain DeepFace.represent(path)": {}}
    sides = [int(s) for s in args.detect_sides.split(",")]
    for side in sides:
        for source in ("stored", "original"):
            label = f"pipeline detect {side}px, {source} file"
            variants[label], times[label] = {}, {}
    for number, name in enumerate(names, 1):
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            vector = engine.represent_plain(str(FACES_DIR / name))
            runs.append(time.perf_counter() - start)
        variants["plain DeepFace.represent(path)"][name] = vector
        times["plain DeepFace.represent(path)"][name] = statistics.median(runs)
        for side in sides:
            for source, data in (("stored", stored[name]), ("original", originals[name])):
                label = f"pipeline detect {side}px, {source} file"
                runs = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    _detected, vector = detect_and_embed(
                        engine, io.BytesIO(data), detect_side=side, pick_largest=True
                    )
                    runs.append(time.perf_counter() - start)
                variants[label][name] = vector
                times[label][name] = statistics.median(runs)
        print(f"{number}/{len(names)} {name}", flush=True)

    # JPEG decoding alone, of the stored files: in full, and DCT-scaled for the detector.
    from PIL import Image

    from matching.faces.decoding import decode_scaled

    def full_decode(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            np.asarray(image.convert("RGB"))

    decode = {"full": [], "scaled": []}
    for name in names:
        for label, work in (("full", full_decode),
                            ("scaled", lambda d: decode_scaled(io.BytesIO(d), DETECT_DECODE_SIDE))):
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                work(stored[name])
                runs.append(time.perf_counter() - start)
            decode[label].append(statistics.median(runs))

    same_age = settings.MATCH_SAME_AGE_THRESHOLD
    plain_median = statistics.median(times["plain DeepFace.represent(path)"].values())
    report = {"photos": len(names), "pairs": len(pairs), "threshold": same_age, "rows": []}
    print(f"\n{len(names)} photos, {len(pairs)} pairs, same-age threshold {same_age}")
    print(f"{'variant':42} {'acc@thr':>8} {'best thr':>9} {'acc':>6} {'median s':>9} "
          f"{'speed-up':>8} {'no face':>7}")
    for label, vectors in variants.items():
        median = statistics.median(times[label].values())
        threshold, best = best_threshold(pairs, vectors)
        row = {
            "variant": label,
            "accuracy_at_threshold": accuracy(pairs, vectors, same_age),
            "best_threshold": float(threshold),
            "accuracy_at_best": best,
            "median_seconds": median,
            "mean_seconds": statistics.mean(times[label].values()),
            "speedup_vs_plain": plain_median / median,
            "no_face": sum(v is None for v in vectors.values()),
        }
        report["rows"].append(row)
        print(f"{label:42} {row['accuracy_at_threshold']:8.4f} {threshold:9.4f} {best:6.4f} "
              f"{median:9.4f} {row['speedup_vs_plain']:8.2f} {row['no_face']:7d}")
    report["decode_stored_median_seconds"] = {k: statistics.median(v) for k, v in decode.items()}
    print("JPEG decode of the stored files, median s: full {full:.4f}, DCT-scaled to the "
          "detector's size {scaled:.4f}".format(**report["decode_stored_median_seconds"]))
    (OUT_DIR / "face_pipeline.json").write_text(json.dumps(report, indent=2))
    with open(FACES_DIR / "identities.csv", newline="") as handle:
        who = {r["file"]: r["identity"] for r in csv.DictReader(handle)}
    chosen = variants[f"pipeline detect {DETECT_DECODE_SIDE}px, stored file"]
    kept = [n for n in names if chosen.get(n) is not None and n in who]
    np.savez(
        OUT_DIR / "embeddings.npz",
        names=np.array(kept), people=np.array([who[n] for n in kept]),
        vectors=np.stack([chosen[n] for n in kept]),
    )


if __name__ == "__main__":
    main()
