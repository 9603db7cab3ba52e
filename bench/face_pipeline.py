"""Accuracy and speed of the face pipeline against plain DeepFace, in one run.

For every photo named in ``pairs.csv``:

* plain: ``DeepFace.represent(path, model_name="Dlib", detector_backend="dlib")``
  on the original file (the baseline; it decodes the file itself);
* pipeline: the workers' code (``matching.faces.detect_and_embed``: the mean of
  the aligned face's and its mirror's embeddings) on the photo as Reunion stores
  it (normalised by ``families.images``), JPEG decoding included, and, with
  ``--sources stored,original``, on the original file;
* face only: the same detection and alignment with the aligned face alone
  embedded (the pipeline before mirror averaging, ``EMBEDDING_REVISION`` 1).

Then accuracy on the labelled pairs at the same-age threshold (and at 0.07), the
best threshold for each, and how mirror averaging moves the pair distances
(needed to carry cross-age figures measured without it over to it). Writes the
embeddings to var/bench/embeddings.npz (used by bench/vector_search.py to fit
synthetic people).

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


FACE_ONLY = "face only (no mirror), stored file"


def face_only(engine, handle):
    """SFace without the mirror: same detection and canonical crop, the face alone embedded."""
    from matching.faces import detect_faces, upright_region

    detected = detect_faces(engine, handle)
    if not detected:
        return None
    face = max(detected, key=lambda found: found.box.w * found.box.h)
    handle.seek(0)
    region, inner = upright_region(handle, face.box, rotation=face.rotation)
    return engine.embed_sface([engine.canonical_crops(region, inner).sface])[0]


def pair_distances(pairs, vectors):
    return np.array([
        np.nan if vectors.get(a) is None or vectors.get(b) is None
        else 1.0 - float(np.dot(vectors[a], vectors[b]))
        for a, b, _same in pairs
    ])


def distance_shift(pairs, before, after):
    """How pair distances move from ``before`` to ``after``: quantiles of both, and the
    median ratio after/before in bands of the before-distance."""
    d0, d1 = pair_distances(pairs, before), pair_distances(pairs, after)
    same = np.array([s for _a, _b, s in pairs])
    ok = ~np.isnan(d0) & ~np.isnan(d1)
    out = {}
    for label, mask in (("true_pairs", same & ok), ("false_pairs", ~same & ok)):
        out[label] = {
            name: {q: float(np.percentile(d[mask], q)) for q in (0, 10, 50, 90, 100)}
            for name, d in (("before", d0), ("after", d1))
        }
    bands = []
    for low, high in ((0.0, 0.05), (0.05, 0.08), (0.08, 0.11), (0.11, 0.14), (0.14, 0.2),
                      (0.2, 1.0)):
        mask = ok & (d0 >= low) & (d0 < high)
        if mask.any():
            ratio = d1[mask] / d0[mask]
            bands.append({"from": low, "to": high, "pairs": int(mask.sum()),
                          "median_ratio": float(np.median(ratio)),
                          "p10_ratio": float(np.percentile(ratio, 10)),
                          "p90_ratio": float(np.percentile(ratio, 90))})
    out["ratio_by_band"] = bands
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per photo (median kept)")
    parser.add_argument("--detect-sides", default="400")
    parser.add_argument("--sources", default="stored", help="stored and/or original")
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
    sources = args.sources.split(",")
    for side in sides:
        for source in sources:
            label = f"pipeline detect {side}px, {source} file"
            variants[label], times[label] = {}, {}
    variants[FACE_ONLY], times[FACE_ONLY] = {}, {}
    for number, name in enumerate(names, 1):
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            vector = engine.represent_plain(str(FACES_DIR / name))
            runs.append(time.perf_counter() - start)
        variants["plain DeepFace.represent(path)"][name] = vector
        times["plain DeepFace.represent(path)"][name] = statistics.median(runs)
        for side in sides:
            for source in sources:
                data = stored[name] if source == "stored" else originals[name]
                label = f"pipeline detect {side}px, {source} file"
                runs = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    _detected, found = detect_and_embed(
                        engine, io.BytesIO(data), detect_side=side, pick_largest=True
                    )
                    runs.append(time.perf_counter() - start)
                    vector = None if found is None else found.sface
                variants[label][name] = vector
                times[label][name] = statistics.median(runs)
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            vector = face_only(engine, io.BytesIO(stored[name]))
            runs.append(time.perf_counter() - start)
        variants[FACE_ONLY][name] = vector
        times[FACE_ONLY][name] = statistics.median(runs)
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
    print(f"{'variant':42} {'acc@thr':>8} {'acc@.07':>8} {'best thr':>9} {'acc':>6} "
          f"{'median s':>9} {'speed-up':>8} {'no face':>7}")
    for label, vectors in variants.items():
        median = statistics.median(times[label].values())
        threshold, best = best_threshold(pairs, vectors)
        row = {
            "variant": label,
            "accuracy_at_threshold": accuracy(pairs, vectors, same_age),
            "accuracy_at_0.07": accuracy(pairs, vectors, 0.07),
            "best_threshold": float(threshold),
            "accuracy_at_best": best,
            "median_seconds": median,
            "mean_seconds": statistics.mean(times[label].values()),
            "speedup_vs_plain": plain_median / median,
            "no_face": sum(v is None for v in vectors.values()),
        }
        report["rows"].append(row)
        print(f"{label:42} {row['accuracy_at_threshold']:8.4f} {row['accuracy_at_0.07']:8.4f} "
              f"{threshold:9.4f} {best:6.4f} {median:9.4f} {row['speedup_vs_plain']:8.2f} "
              f"{row['no_face']:7d}")
    workers = f"pipeline detect {DETECT_DECODE_SIDE}px, stored file"
    shift = distance_shift(pairs, variants[FACE_ONLY], variants[workers])
    report["mirror_distance_shift"] = shift
    print("\nPair distances, face only -> mirror mean (p0/p10/p50/p90/p100):")
    for label in ("true_pairs", "false_pairs"):
        for name in ("before", "after"):
            q = shift[label][name]
            print(f"  {label:11} {name:6} " + " ".join(f"{q[k]:.4f}" for k in sorted(q)))
    print("  median ratio after/before by before-distance band:")
    for band in shift["ratio_by_band"]:
        print(f"    {band['from']:.2f}-{band['to']:.2f}: {band['pairs']:3d} pairs, "
              f"{band['median_ratio']:.3f} (p10 {band['p10_ratio']:.3f}, "
              f"p90 {band['p90_ratio']:.3f})")
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
