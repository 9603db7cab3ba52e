"""The face pipeline of the workers, the calibration and the evaluation alike.

Detect faces on a small decoded copy of a stored photo; embed the face from its
full-resolution region. It reads file handles and returns boxes and vectors: no
database, so every caller measures the same code.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from matching.faces.base import EMBED_CROP_MARGIN, EMBED_CROP_SIDE, Box, DetectedFace, FaceEngine
from matching.faces.decoding import decode_region, decode_scaled

#: Long side of the copy decoded for the detector: 400 px was as accurate as 640 px and
#: faster on ../shared/faces/pairs.csv (docs/BENCHMARKS.md, bench/face_pipeline.py).
DETECT_DECODE_SIDE = 400


def detect_and_embed(
    engine: FaceEngine, handle: BinaryIO, *, detect_side: int = DETECT_DECODE_SIDE,
    pick_largest: bool = False,
) -> tuple[list[DetectedFace], np.ndarray | None]:
    """Detects faces on a small decoded copy; embeds the face from its full-size region if alone.

    Boxes are returned in stored-photo pixels. Shared by the workers, the
    calibration command and the benchmark so all three measure the same code.
    ``pick_largest`` embeds the largest of several faces, as a person picking
    the face would (calibration and benchmarks only; workers wait for the person).
    """
    small, scale = decode_scaled(handle, detect_side)
    height, width = round(small.shape[0] / scale), round(small.shape[1] / scale)
    detected = [
        DetectedFace(
            box=face.box.scaled(1 / scale).clipped(width, height),
            confidence=face.confidence,
            landmarks={
                name: (round(x / scale), round(y / scale))
                for name, (x, y) in face.landmarks.items()
            },
        )
        for face in engine.detect(small)
    ]
    if not detected or (len(detected) > 1 and not pick_largest):
        return detected, None
    face = max(detected, key=lambda found: found.box.w * found.box.h)
    handle.seek(0)
    region, inner = decode_region(
        handle, face.box, margin=EMBED_CROP_MARGIN, min_side=EMBED_CROP_SIDE
    )
    return detected, engine.embed(region, inner)


def embed_region(engine: FaceEngine, handle: BinaryIO, box: Box) -> np.ndarray:
    """The embedding of ``box`` (stored-photo pixels), decoded at the size the model needs."""
    region, inner = decode_region(handle, box, margin=EMBED_CROP_MARGIN, min_side=EMBED_CROP_SIDE)
    return engine.embed(region, inner)
