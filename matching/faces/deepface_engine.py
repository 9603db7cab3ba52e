"""The one module that imports DeepFace (model ``Dlib``, detector ``dlib``).

Detection runs on a downscaled copy of the photo (the HOG detector's cost grows
with the pixel count, and faces in family photos are large); the embedding is
computed from the full-resolution region around the face, re-detected and
aligned by DeepFace in that small crop. See docs/MATCHING.md for the numbers.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from django.conf import settings
from PIL import Image

from matching.faces.base import EMBED_CROP_MARGIN, EMBED_CROP_SIDE, Box, DetectedFace

logger = logging.getLogger(__name__)

#: Long side the detector sees at most (the workers already hand it a 400 px copy).
DETECT_LONG_SIDE = 640


class ModelFilesMissing(RuntimeError):
    pass


def missing_weight_files() -> list[str]:
    """Names of the model files absent from ``$DEEPFACE_HOME/.deepface/weights``."""
    weights = settings.DEEPFACE_HOME / ".deepface" / "weights"
    return [name for name in settings.FACE_WEIGHT_FILES if not (weights / name).is_file()]


def _resize(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """``image`` scaled so its long side is at most ``long_side``, and the factor used."""
    height, width = image.shape[:2]
    factor = min(1.0, long_side / max(height, width))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR)), factor


class DeepFaceEngine:
    """Loads DeepFace's Dlib model and dlib detector once, at construction."""

    model_name = "Dlib"

    def __init__(self) -> None:
        missing = missing_weight_files()
        if missing:
            raise ModelFilesMissing(
                "Face model files missing from "
                f"{settings.DEEPFACE_HOME / '.deepface' / 'weights'}: {', '.join(missing)}. "
                "Run `make install` (or `manage.py install_face_weights`)."
            )
        os.environ["DEEPFACE_HOME"] = str(settings.DEEPFACE_HOME)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import deepface
        from deepface import DeepFace

        self._deepface = DeepFace
        self._recognizer = DeepFace.build_model(settings.FACE_MODEL_NAME)
        self._detector = DeepFace.build_model(settings.FACE_DETECTOR, task="face_detector")
        self.model_version = (
            f"deepface-{deepface.__version__}/{settings.FACE_MODEL_NAME}/{settings.FACE_DETECTOR}"
        )
        logger.info("face model loaded: %s (pid %s)", self.model_version, os.getpid())

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        small, factor = _resize(image, DETECT_LONG_SIDE)
        regions = self._detector.detect_faces(np.ascontiguousarray(small[:, :, ::-1]))
        height, width = image.shape[:2]
        found = []
        for region in regions:
            box = Box(region.x, region.y, region.w, region.h).scaled(1 / factor)
            landmarks = {}
            for name in ("left_eye", "right_eye"):
                point = getattr(region, name, None)
                if point is not None:
                    landmarks[name] = (round(point[0] / factor), round(point[1] / factor))
            found.append(
                DetectedFace(
                    box=box.clipped(width, height),
                    confidence=float(region.confidence or 0.0),
                    landmarks=landmarks,
                )
            )
        return found

    def embed(self, image: np.ndarray, box: Box) -> np.ndarray:
        height, width = image.shape[:2]
        margin_x = round(box.w * EMBED_CROP_MARGIN)
        margin_y = round(box.h * EMBED_CROP_MARGIN)
        left, top = max(0, box.x - margin_x), max(0, box.y - margin_y)
        right = min(width, box.x + box.w + margin_x)
        bottom = min(height, box.y + box.h + margin_y)
        crop, _ = _resize(image[top:bottom, left:right], EMBED_CROP_SIDE)
        results = self._deepface.represent(
            np.ascontiguousarray(crop[:, :, ::-1]),
            model_name=settings.FACE_MODEL_NAME,
            detector_backend=settings.FACE_DETECTOR,
            enforce_detection=False,
            align=True,
        )
        # In a crop around one face the largest detection is that face; with
        # none re-detected (a hand-drawn box), DeepFace embeds the whole crop.
        best = max(results, key=lambda r: r["facial_area"]["w"] * r["facial_area"]["h"])
        vector = np.asarray(best["embedding"], dtype=np.float32)
        return vector / np.linalg.norm(vector)

    def represent_plain(self, path: str) -> np.ndarray | None:
        """Plain ``DeepFace.represent`` on a whole photo file: the baseline benchmarks compare to.

        The largest face's L2-normalised embedding, or ``None`` if DeepFace finds no face.
        """
        try:
            results = self._deepface.represent(
                path, model_name=settings.FACE_MODEL_NAME, detector_backend=settings.FACE_DETECTOR
            )
        except ValueError:
            return None
        best = max(results, key=lambda r: r["facial_area"]["w"] * r["facial_area"]["h"])
        vector = np.asarray(best["embedding"], dtype=np.float32)
        return vector / np.linalg.norm(vector)
