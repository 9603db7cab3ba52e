"""The one module that imports DeepFace (model ``Dlib``, detector ``dlib``).

Detection runs on a downscaled copy of the photo (the HOG detector's cost grows
with the pixel count, and faces in family photos are large); the embedding is
computed from the full-resolution region around the face, re-detected and
aligned by DeepFace in that small crop. The stored embedding is the normalised
mean of the aligned face's embedding and its mirror image's, both from that one
alignment: it ranks the true adult of a childhood photo first more often than
either alone (docs/MATCHING.md). See docs/MATCHING.md for the numbers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from importlib import metadata

import numpy as np
from django.conf import settings
from PIL import Image

from matching.faces.base import EMBED_CROP_MARGIN, EMBED_CROP_SIDE, Box, DetectedFace

logger = logging.getLogger(__name__)

#: Long side the detector sees at most unless told otherwise (the workers hand it a 400 px
#: copy, and a larger one only when that found no face).
DETECT_LONG_SIDE = 640

#: How the stored vector is made from the aligned face: the mean of its embedding and its
#: mirror image's. Part of every face's ``model_version``.
EMBEDDING_METHOD = "mirror-mean"
#: Raise it whenever anything that shapes the vectors changes (crop, alignment, averaging):
#: faces of another version are never compared with these, and ``manage.py reindex``
#: brings them to it.
EMBEDDING_REVISION = 2


def model_version() -> str:
    """The version every embedding this pipeline makes carries, e.g.
    ``deepface-0.0.103/Dlib/dlib/mirror-mean/2``; read without loading the model."""
    return (
        f"deepface-{metadata.version('deepface')}/{settings.FACE_MODEL_NAME}/"
        f"{settings.FACE_DETECTOR}/{EMBEDDING_METHOD}/{EMBEDDING_REVISION}"
    )


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
        from deepface import DeepFace

        self._deepface = DeepFace
        self._recognizer = DeepFace.build_model(settings.FACE_MODEL_NAME)
        self._detector = DeepFace.build_model(settings.FACE_DETECTOR, task="face_detector")
        self.model_version = model_version()
        logger.info("face model loaded: %s (pid %s)", self.model_version, os.getpid())

    def detect(self, image: np.ndarray, *, max_side: int = DETECT_LONG_SIDE) -> list[DetectedFace]:
        small, factor = _resize(image, max_side)
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

    def align(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The face in ``box`` of an RGB image, detected again and aligned by DeepFace in a crop.

        One detection and alignment per face: the crop around the box (with a
        margin, at most ``EMBED_CROP_SIDE`` px) is where DeepFace's detector finds
        the eyes and turns them level. In a crop around one face the largest
        detection is that face; with none (a hand-drawn box), the whole crop is
        the face, as DeepFace does. RGB, values in [0, 1].
        """
        height, width = image.shape[:2]
        margin_x = round(box.w * EMBED_CROP_MARGIN)
        margin_y = round(box.h * EMBED_CROP_MARGIN)
        left, top = max(0, box.x - margin_x), max(0, box.y - margin_y)
        right = min(width, box.x + box.w + margin_x)
        bottom = min(height, box.y + box.h + margin_y)
        crop, _ = _resize(image[top:bottom, left:right], EMBED_CROP_SIDE)
        found = self._deepface.extract_faces(
            np.ascontiguousarray(crop[:, :, ::-1]),
            detector_backend=settings.FACE_DETECTOR,
            enforce_detection=False,
            align=True,
        )
        best = max(found, key=lambda f: f["facial_area"]["w"] * f["facial_area"]["h"])
        return np.asarray(best["face"])

    def embed_aligned(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised embeddings (one row each) of aligned faces, in one pass of the model.

        Exactly what ``DeepFace.represent`` computes for a face it aligned itself
        (``detector_backend="skip"``: no second detection).
        """
        results = self._deepface.represent(
            np.stack([np.ascontiguousarray(face[:, :, ::-1]) for face in faces]),
            model_name=settings.FACE_MODEL_NAME,
            detector_backend="skip",
        )
        # One image gives a list of faces; several give a list per image.
        per_image = [results] if len(faces) == 1 else results
        vectors = np.asarray([found[0]["embedding"] for found in per_image], dtype=np.float64)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The stored embedding: the normalised mean of the aligned face's and its mirror's."""
        aligned = self.align(image, box)
        both = self.embed_aligned([aligned, aligned[:, ::-1]])
        mean = both.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

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
