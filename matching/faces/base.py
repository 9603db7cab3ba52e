"""What the face pipeline and its engine share: boxes, detected faces, the engine's shape.

No database here: the pipeline works on images and numbers, so evaluation and
calibration commands use it without the service layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

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


class FaceEngine(Protocol):
    model_name: str
    model_version: str

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB image, boxes in that image's pixels."""
        ...

    def embed(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The L2-normalised embedding of the face in ``box`` of an RGB image."""
        ...


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
