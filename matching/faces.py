"""The face interface: detect faces, embed a face, name the model.

Everything outside this module and ``deepface_engine`` talks to faces through
``get_engine()``; searching embeddings is pgvector's job (``selectors``).
The engine is created once per process and kept: loading the model costs
seconds, and TensorFlow must not be loaded in a process that forks per job.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


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


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()
_load_count = 0


def get_engine() -> FaceEngine:
    """The process's engine, loading the model on first use."""
    global _engine, _load_count
    with _engine_lock:
        if _engine is None:
            from matching.deepface_engine import DeepFaceEngine

            _engine = DeepFaceEngine()
            _load_count += 1
        return _engine


def load_count() -> int:
    """How many times this process loaded the model (1 in a healthy worker)."""
    return _load_count


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
