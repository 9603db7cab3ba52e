"""Ingest time per face of each part of today's face pipeline, against a baseline, one run.

For every photo of ../shared/faces (stored as an upload would be, ``families.uploads``),
side by side in one process, each photo's steps one after the other so that the machine's
load weighs on all of them alike:

* baseline: ``DeepFace.represent(path, model_name="Dlib", detector_backend="dlib")`` on
  the photo (the portal's path before SFace: detection, DeepFace's crop, Dlib);
* detect: the workers' detection (YuNet on the small copy, the retries when unsure);
* SFace: the face's region decoded, SFace's canonical crop and its passes (face and mirror);
* Dlib chip: the same region, dlib's chip and its pass;
* both: the region and both models, as the workers store a face (``FaceEngine.embed``);
* pipeline: detection and both models (``detect_and_embed``), what a worker spends per photo.

Prints the median milliseconds per face of each and its ratio to the baseline's median, with
the load average before and after; writes var/bench/ingest_models.json.

    .venv/bin/python bench/ingest_models.py [--photos 30] [--repeat 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _django import FACES_DIR, OUT_DIR, setup

PARTS = ("baseline", "detect", "sface", "dlib_chip", "both", "pipeline")


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return (time.perf_counter() - started) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=0, help="at most this many (0: all)")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the photos")
    options = parser.parse_args()
    setup()
    import numpy as np

    from families.uploads import normalise_photo
    from matching import faces

    engine = faces.get_engine()
    names = sorted(p.name for p in FACES_DIR.glob("*.jpg"))
    if options.photos:
        names = names[: options.photos]
    stored = {name: normalise_photo((FACES_DIR / name).read_bytes()).content for name in names}
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {part: [] for part in PARTS}
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, data in stored.items():
            paths[name] = Path(folder) / name
            paths[name].write_bytes(data)
        # Warm every path once (first calls build sessions and caches).
        warm = names[0]
        engine.represent_plain(str(paths[warm]))
        faces.detect_and_embed(engine, io.BytesIO(stored[warm]), pick_largest=True)
        for _ in range(options.repeat):
            for name in names:
                data = stored[name]
                detected = faces.detect_faces(engine, io.BytesIO(data))
                if not detected:
                    continue
                face = max(detected, key=lambda found: found.box.w * found.box.h)

                def region(face=face, data=data):
                    return faces.upright_region(io.BytesIO(data), face.box,
                                                rotation=face.rotation)

                def sface(region=region):
                    image, inner = region()
                    crop = engine._sface_crop(*faces.embedding_region(image, inner))
                    engine.embed_sface([crop, np.ascontiguousarray(crop[:, ::-1])])

                def dlib_chip(region=region):
                    image, inner = region()
                    chip = engine._dlib_chip(*faces.embedding_region(image, inner))
                    engine.embed_dlib([chip])

                def both(region=region):
                    engine.embed(*region())

                times["baseline"].append(timed(lambda name=name: engine.represent_plain(
                    str(paths[name]))))
                times["detect"].append(timed(lambda data=data: faces.detect_faces(
                    engine, io.BytesIO(data))))
                times["sface"].append(timed(sface))
                times["dlib_chip"].append(timed(dlib_chip))
                times["both"].append(timed(both))
                times["pipeline"].append(timed(lambda data=data: faces.detect_and_embed(
                    engine, io.BytesIO(data), pick_largest=True)))
    load_after = os.getloadavg()
    baseline = statistics.median(times["baseline"])
    result = {
        "photos": len(names), "repeat": options.repeat, "faces": len(times["baseline"]),
        "model_version": engine.model_version,
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in load_after],
        "cpus": os.cpu_count(),
        "median_ms": {part: round(statistics.median(v), 1) for part, v in times.items()},
        "ratio_to_baseline": {
            part: round(statistics.median(v) / baseline, 3) for part, v in times.items()
        },
    }
    print(f"{result['faces']} faces ({len(names)} photos × {options.repeat}); load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores")
    print(f"{'part':<10} {'median ms':>10} {'× baseline':>11}")
    for part in PARTS:
        print(f"{part:<10} {result['median_ms'][part]:>10.1f} "
              f"{result['ratio_to_baseline'][part]:>11.3f}")
    (OUT_DIR / "ingest_models.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
