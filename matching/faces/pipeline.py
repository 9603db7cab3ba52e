"""The face pipeline of the workers, the calibration and the evaluation alike.

Detect faces on a small decoded copy of a stored photo; embed the face from its
full-resolution region. When that fast pass finds no face (or only one it is
unsure of), look again at the three other quarter turns (old prints are scanned
sideways or upside down) and on a larger copy (a small face in a large photo)
before saying "no face": only those photos pay for it. Boxes and landmarks are
always in the stored (upright) photo's pixels, and a face found turned is
embedded turned upright. It reads file handles and returns boxes and vectors:
no database, so every caller measures the same code.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from matching.faces.base import (
    EMBED_CROP_MARGIN,
    EMBED_CROP_SIDE,
    Box,
    DetectedFace,
    Embeddings,
    FaceEngine,
    turn_box,
    turn_point,
)
from matching.faces.decoding import decode_region, decode_scaled

#: Long side of the copy decoded for the detector: 400 px was as accurate as 640 px and
#: faster on ../shared/faces/pairs.csv (docs/BENCHMARKS.md, bench/face_pipeline.py).
DETECT_DECODE_SIDE = 400
#: Long side of the copy searched when no turn of the fast copy found a face. The detector
#: finds faces down to about 40 px (dlib HOG, one upsampling), so at 1600 px a face of
#: 75 px in a 3000 px photo is still found; it costs about a second (docs/BENCHMARKS.md).
RETRY_DECODE_SIDE = 1600
#: Quarter turns (counter-clockwise) tried after the upright one, at each size.
RETRY_TURNS = (1, 2, 3)
#: A face the fast pass finds at least this surely is taken without looking further. On the
#: shared photos turned every way, a face seen the right way up scored 1.0 in 180 of 183
#: cases, and a face seen turned (often found, upside down in 18 of 61) at most 0.62.
SURE_DETECTION = 0.7
#: A face found only by looking again must score at least this (a faceless texture gave
#: 0.04; the weakest true face of the shared photos 0.21).
RETRY_MIN_CONFIDENCE = 0.1


def _surest(faces: list[DetectedFace]) -> float:
    return max((face.confidence for face in faces), default=-1.0)


def _detect_turned(
    engine: FaceEngine, image: np.ndarray, scale: float, turns: int, stored: tuple[int, int]
) -> list[DetectedFace]:
    """Faces of ``image`` (a decoded copy at ``scale``) turned by ``turns`` quarter turns,
    mapped back to the stored photo (``stored`` = width, height)."""
    height, width = image.shape[:2]
    turned = np.ascontiguousarray(np.rot90(image, turns)) if turns else image
    found = []
    for face in engine.detect(turned, max_side=max(turned.shape[:2])):
        # Back from the turned copy to the upright one, then to stored-photo pixels.
        back = (4 - turns) % 4
        box = turn_box(face.box, back, turned.shape[1], turned.shape[0])
        landmarks = {
            name: turn_point(point, back, turned.shape[1], turned.shape[0])
            for name, point in face.landmarks.items()
        }
        found.append(DetectedFace(
            box=box.clipped(width, height).scaled(1 / scale).clipped(*stored),
            confidence=face.confidence,
            landmarks={
                name: (round(x / scale), round(y / scale)) for name, (x, y) in landmarks.items()
            },
            rotation=90 * turns,
        ))
    return found


def detect_faces(
    engine: FaceEngine, handle: BinaryIO, *, detect_side: int = DETECT_DECODE_SIDE,
    look_again: bool = True,
) -> list[DetectedFace]:
    """Faces of a stored photo, boxes in its pixels.

    The fast pass looks at a small upright copy. Only when it finds no face, or
    none it is sure of (an upside-down face is often found, unsurely), and
    ``look_again``: the other three turns of that copy, the surest of the four
    passes winning; and if none of them finds anything, a larger copy, upright
    first, then turned.
    """
    small, scale = decode_scaled(handle, detect_side)
    stored = (round(small.shape[1] / scale), round(small.shape[0] / scale))
    upright = _detect_turned(engine, small, scale, 0, stored)
    if not look_again or _surest(upright) >= SURE_DETECTION:
        return upright
    turned = [_detect_turned(engine, small, scale, turns, stored) for turns in RETRY_TURNS]
    best = max([upright, *turned], key=_surest)  # the upright pass wins a tie
    if best is not upright and _surest(best) >= RETRY_MIN_CONFIDENCE:
        return best
    if upright:
        return upright
    if max(stored) <= max(small.shape[:2]):
        return []  # the fast pass already saw the photo at full size
    handle.seek(0)
    large, large_scale = decode_scaled(handle, RETRY_DECODE_SIDE)
    passes = []
    for turns in (0, *RETRY_TURNS):
        passes.append(_detect_turned(engine, large, large_scale, turns, stored))
        if _surest(passes[-1]) >= SURE_DETECTION:
            return passes[-1]
    best = max(passes, key=_surest)
    return best if _surest(best) >= RETRY_MIN_CONFIDENCE else []


def detect_and_embed(
    engine: FaceEngine, handle: BinaryIO, *, detect_side: int = DETECT_DECODE_SIDE,
    pick_largest: bool = False, look_again: bool = True,
) -> tuple[list[DetectedFace], Embeddings | None]:
    """Detects faces (``detect_faces``); embeds the face from its full-size region if alone.

    Boxes are returned in stored-photo pixels. Shared by the workers, the
    calibration command and the benchmark so all three measure the same code.
    ``pick_largest`` embeds the largest of several faces, as a person picking
    the face would (calibration and benchmarks only; workers wait for the person).
    """
    detected = detect_faces(engine, handle, detect_side=detect_side, look_again=look_again)
    if not detected or (len(detected) > 1 and not pick_largest):
        return detected, None
    face = max(detected, key=lambda found: found.box.w * found.box.h)
    handle.seek(0)
    return detected, embed_region(engine, handle, face.box, rotation=face.rotation)


def upright_region(
    handle: BinaryIO, box: Box, *, rotation: int = 0
) -> tuple[np.ndarray, Box]:
    """The region the model sees for ``box`` (stored-photo pixels), turned ``rotation``
    degrees counter-clockwise so the face is upright, and the box in it."""
    region, inner = decode_region(handle, box, margin=EMBED_CROP_MARGIN, min_side=EMBED_CROP_SIDE)
    turns = (rotation // 90) % 4
    if turns:
        inner = turn_box(inner, turns, region.shape[1], region.shape[0])
        region = np.ascontiguousarray(np.rot90(region, turns))
    return region, inner


def embed_region(
    engine: FaceEngine, handle: BinaryIO, box: Box, *, rotation: int = 0
) -> Embeddings:
    """The embeddings of ``box`` (stored-photo pixels), decoded at the size the model needs
    and turned upright by ``rotation`` (the face's ``rotation``)."""
    region, inner = upright_region(handle, box, rotation=rotation)
    return engine.embed(region, inner)
