"""What looking again costs: time per photo when the fast pass finds the face, and when it
needs the extra passes (a small face in a large photo, a photo turned sideways or upside
down), and for a photo with no face at all (every pass, then "no face").

Photos are made from ../shared/faces: each person's first photo as Reunion stores it
(upright), turned by 90, 180 and 270 degrees, and scaled so the face is about 100 px
wide, pasted into a 3000 × 2250 photo of a faceless texture. Each is run through the
workers' ``matching.faces.detect_and_embed`` (decoding included) ``--repeat`` times,
median kept; also whether the face was found, and the cosine distance of its embedding
to the upright photo's.

    .venv/bin/python bench/face_retry.py [--repeat 3]
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
from PIL import Image

LARGE = (3000, 2250)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def texture(size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(60, 200, (9, 12, 3), dtype=np.uint8))
    return coarse.resize(size, Image.BICUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup()
    from django.conf import settings

    from families.uploads import normalise_photo
    from matching import faces
    from matching.faces import detect_and_embed

    engine = faces.get_engine()
    with open(FACES_DIR / "identities.csv", newline="") as handle:
        first = {}
        for row in csv.DictReader(handle):
            first.setdefault(row["identity"], row["file"])
    groups: dict[str, list[tuple[str, bytes]]] = {
        "upright (fast pass finds it)": [], "turned 90": [], "turned 180": [], "turned 270": [],
        "face of 100 px in 3000 px": [], "no face (every pass)": [],
    }
    upright: dict[str, np.ndarray] = {}
    for number, (person, name) in enumerate(sorted(first.items())):
        stored = normalise_photo((FACES_DIR / name).read_bytes()).content
        image = Image.open(io.BytesIO(stored)).convert("RGB")
        _found, vectors = detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
        upright[person] = None if vectors is None else vectors.sface
        groups["upright (fast pass finds it)"].append((person, stored))
        for angle in (90, 180, 270):
            groups[f"turned {angle}"].append(
                (person, normalise_photo(jpeg(image.rotate(angle, expand=True))).content)
            )
        (face,) = engine.detect(np.asarray(image), max_side=max(image.size))
        scale = 100 / face.box.w
        small = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.LANCZOS)
        canvas = texture(LARGE, number)
        canvas.paste(small, (400 + 150 * number, 300 + 100 * number))
        groups["face of 100 px in 3000 px"].append((person, normalise_photo(jpeg(canvas)).content))
        if number < 5:
            groups["no face (every pass)"].append(
                (person, normalise_photo(jpeg(texture(LARGE, 100 + number))).content)
            )
    detect_and_embed(engine, io.BytesIO(groups["turned 90"][0][1]))  # warm up

    threshold = settings.MATCH_SAME_AGE_THRESHOLD
    report = {"repeat": args.repeat, "threshold": threshold, "groups": []}
    print(f"{'photos':32} {'n':>3} {'found':>5} {'median s':>9} {'max s':>7} "
          f"{'dist median':>11} {'dist max':>8}")
    for label, photos in groups.items():
        seconds, found, distances = [], 0, []
        for person, data in photos:
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                _detected, found = detect_and_embed(engine, io.BytesIO(data), pick_largest=True)
                vector = None if found is None else found.sface
                runs.append(time.perf_counter() - start)
            seconds.append(statistics.median(runs))
            if vector is not None:
                found += 1
                if not label.startswith("no face"):
                    distances.append(faces.cosine_distance(vector, upright[person]))
        row = {
            "photos": label, "count": len(photos), "found": found,
            "median_seconds": statistics.median(seconds), "max_seconds": max(seconds),
            "distance_median": statistics.median(distances) if distances else None,
            "distance_max": max(distances) if distances else None,
            "within_threshold": sum(d < threshold for d in distances),
        }
        report["groups"].append(row)
        print(f"{label:32} {row['count']:3d} {found:5d} {row['median_seconds']:9.3f} "
              f"{row['max_seconds']:7.3f} "
              + (f"{row['distance_median']:11.4f} {row['distance_max']:8.4f}" if distances
                 else f"{'-':>11} {'-':>8}"), flush=True)
    (OUT_DIR / "face_retry.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
