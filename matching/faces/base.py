"""What the face pipeline and its engine share: boxes, detected faces, the engine's shape.

No database here: the pipeline works on images and numbers, so evaluation and
calibration commands use it without the service layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

#: Long side of the crop handed to the model for alignment and embedding.
EMBED_CROP_SIDE = 250
#: Margin around the detected box kept in that crop, as a share of the box.
EMBED_CROP_MARGIN = 0.5


@dataclass(frozen=True)
class Box:
    """A face region in pixels of the image it was found in."""

    x: int
    y: int
    w: int
    h: int

    def scaled(self, factor: float) -> Box:
        return Box(
            round(self.x * factor), round(self.y * factor),
            round(self.w * factor), round(self.h * factor),
        )

    def clipped(self, width: int, height: int) -> Box:
        x = min(max(self.x, 0), width - 1)
        y = min(max(self.y, 0), height - 1)
        return Box(x, y, max(1, min(self.w, width - x)), max(1, min(self.h, height - y)))


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    confidence: float
    landmarks: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Degrees (0, 90, 180, 270) the image turns counter-clockwise to show this face upright;
    #: box and landmarks are in the image as it is (not turned).
    rotation: int = 0


@dataclass(frozen=True)
class CanonicalCrops:
    """A face as each model wants to see it (RGB, 8-bit): SFace's 112 × 112 five-point
    template crop and dlib's own 150 px chip."""

    sface: np.ndarray
    dlib: np.ndarray


@dataclass(frozen=True)
class Embeddings:
    """The stored vectors of one face, each L2-normalised: SFace (the searched column,
    ``Face.embedding``) and Dlib (``Face.embedding_dlib``)."""

    sface: np.ndarray
    dlib: np.ndarray


class FaceEngine(Protocol):
    model_name: str
    model_version: str

    def detect(self, image: np.ndarray, *, max_side: int = ...) -> list[DetectedFace]:
        """Faces in an RGB image, boxes in that image's pixels; detected on a copy whose
        long side is at most ``max_side``."""
        ...

    def canonical_crops(self, image: np.ndarray, box: Box) -> CanonicalCrops:
        """Each model's canonical crop of the face in ``box`` of an RGB image."""
        ...

    def embed_sface(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised SFace embeddings of canonical crops, one row each."""
        ...

    def embed_dlib(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised Dlib embeddings of dlib chips, one row each."""
        ...

    def embed(self, image: np.ndarray, box: Box) -> Embeddings:
        """The stored vectors of the face in ``box`` of an RGB image."""
        ...


def turn_box(box: Box, quarter_turns: int, width: int, height: int) -> Box:
    """``box`` of a ``width`` × ``height`` image, in that image turned counter-clockwise by
    ``quarter_turns`` × 90° (as ``numpy.rot90``). Turning back is ``4 - quarter_turns``
    with the turned image's size."""
    turns = quarter_turns % 4
    if turns == 1:
        return Box(box.y, width - (box.x + box.w), box.h, box.w)
    if turns == 2:
        return Box(width - (box.x + box.w), height - (box.y + box.h), box.w, box.h)
    if turns == 3:
        return Box(height - (box.y + box.h), box.x, box.h, box.w)
    return box


def turn_point(
    point: tuple[int, int], quarter_turns: int, width: int, height: int
) -> tuple[int, int]:
    """The pixel ``point`` of a ``width`` × ``height`` image, in that image turned as
    ``turn_box`` turns it."""
    x, y = point
    turns = quarter_turns % 4
    if turns == 1:
        return (y, width - 1 - x)
    if turns == 2:
        return (width - 1 - x, height - 1 - y)
    if turns == 3:
        return (height - 1 - y, x)
    return (x, y)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def embedding_region(image: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
    """What the models look at for ``box`` of an RGB image: the box with a margin of
    ``EMBED_CROP_MARGIN``, scaled to a long side of at most ``EMBED_CROP_SIDE`` px, and
    the box in it. Each model finds its landmarks again in this region."""
    height, width = image.shape[:2]
    margin_x = round(box.w * EMBED_CROP_MARGIN)
    margin_y = round(box.h * EMBED_CROP_MARGIN)
    left, top = max(0, box.x - margin_x), max(0, box.y - margin_y)
    right = min(width, box.x + box.w + margin_x)
    bottom = min(height, box.y + box.h + margin_y)
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    factor = min(1.0, EMBED_CROP_SIDE / max(crop.shape[:2]))
    if factor < 1.0:
        size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
        crop = np.asarray(Image.fromarray(crop).resize(size, Image.BILINEAR))
    inner = Box(box.x - left, box.y - top, box.w, box.h).scaled(factor)
    return np.ascontiguousarray(crop), inner.clipped(crop.shape[1], crop.shape[0])
