"""The one module that imports DeepFace: SFace with YuNet, and Dlib on dlib's own chip.

Detection: YuNet (five landmarks) on a downscaled copy of the photo; where it
finds no face it is sure of, dlib's HOG detector looks as before. Embedding, from
the full-resolution region around the face, each model on its own canonical crop
(the crop is the model's input, not a detail: docs/MATCHING.md):

- **SFace** (the searched ``Face.embedding``): YuNet finds the five landmarks again
  in the region, OpenCV's ``FaceRecognizerSF.alignCrop`` warps them onto SFace's
  112 × 112 five-point template, and DeepFace's SFace (onnxruntime) embeds the crop,
  fed RGB 0–255 as the network was trained.
- **Dlib** (``Face.embedding_dlib``): dlib's 5-point shape on dlib's detection in the
  region, ``get_face_chip`` (150 px, dlib's own alignment) and the ResNet's
  ``compute_face_descriptor``.

Each vector is L2-normalised; whether the mirror image is averaged in is measured
per model (``MIRROR_MEAN``). See docs/MATCHING.md for the numbers, docs/MODELS.md
for the files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from importlib import metadata

import numpy as np
from django.conf import settings
from PIL import Image

from matching.faces.base import (
    Box,
    CanonicalCrops,
    DetectedFace,
    Embeddings,
    embedding_region,
)

logger = logging.getLogger(__name__)

#: Long side the detector sees at most unless told otherwise (the workers hand it a 400 px
#: copy, and a larger one only when that found no face).
DETECT_LONG_SIDE = 640

#: YuNet's score from which a face counts as found. Measured on the shared photos at the
#: workers' 400 px: upright faces 0.936–0.955, the same faces upside down 0.865–0.885 and
#: sideways 0.44–0.83: below it, dlib looks too, and the pipeline tries the other turns.
YUNET_SURE = 0.9
#: YuNet's lowest score kept at all; such an unsure face is reported only when dlib finds
#: nothing, at half its score (under the pipeline's ``SURE_DETECTION``, so the other turns
#: are tried and an upright pass wins over an upside-down one).
YUNET_UNSURE = 0.6
#: YuNet's lowest score when it looks again in the region of a face already found (by
#: dlib, or drawn by a person) for SFace's landmarks.
YUNET_IN_REGION = 0.3
#: Side of SFace's canonical crop and of dlib's chip, in pixels.
SFACE_SIDE = 112
DLIB_CHIP_SIDE = 150
DLIB_CHIP_PADDING = 0.25

#: Whether each model's stored vector is the normalised mean of the face's and its mirror
#: image's embeddings: kept only where it pays on the shared pairs (docs/MATCHING.md).
MIRROR_MEAN = {"SFace": True, "Dlib": False}
#: How the stored vectors are made. Part of every face's ``model_version``.
EMBEDDING_METHOD = "canonical"
#: Raise it whenever anything that shapes the vectors changes (crop, alignment, averaging):
#: faces of another version are never compared with these, and ``manage.py reindex``
#: brings them to it.
EMBEDDING_REVISION = 3


def model_version() -> str:
    """The version every embedding this pipeline makes carries, e.g.
    ``deepface-0.0.103/SFace+Dlib/yunet+dlib/canonical-SFace-mirror/3``; read without
    loading the model."""
    method = EMBEDDING_METHOD + "".join(
        f"-{name}-mirror" for name in ("SFace", "Dlib") if MIRROR_MEAN[name]
    )
    return (
        f"deepface-{metadata.version('deepface')}/{settings.FACE_MODEL_NAME}+Dlib/"
        f"{settings.FACE_DETECTOR}+dlib/{method}/{EMBEDDING_REVISION}"
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


def _normalised(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


#: Names of YuNet's five landmarks, in the order of its output (the person's right eye
#: first: on the left of an upright photo).
YUNET_LANDMARKS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


class DeepFaceEngine:
    """Loads SFace, YuNet, Dlib and dlib's detector once, at construction."""

    model_name = "SFace"

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
        import cv2
        import dlib
        from deepface import DeepFace

        self._cv2 = cv2
        self._dlib = dlib
        self._deepface = DeepFace
        self._sface = DeepFace.build_model(settings.FACE_MODEL_NAME)
        self._dlib_model = DeepFace.build_model("Dlib").model.model
        dlib_detector = DeepFace.build_model("dlib", task="face_detector").model
        self._hog = dlib_detector["face_detector"]
        self._shape = dlib_detector["sp"]
        self._yunet = DeepFace.build_model(settings.FACE_DETECTOR, task="face_detector").model
        # Only for alignCrop: the warp onto SFace's five-point template, as OpenCV defines it.
        self._aligner = cv2.FaceRecognizerSF.create(
            str(settings.DEEPFACE_HOME / ".deepface" / "weights"
                / "face_recognition_sface_2021dec.onnx"), ""
        )
        self.model_version = model_version()
        logger.info("face model loaded: %s (pid %s)", self.model_version, os.getpid())

    # --- Detection --------------------------------------------------------------

    def _yunet_rows(self, image: np.ndarray, minimum: float) -> np.ndarray:
        """YuNet's rows (box, five landmarks, score) for an RGB image, at least ``minimum``."""
        height, width = image.shape[:2]
        self._yunet.setInputSize((width, height))
        self._yunet.setScoreThreshold(minimum)
        _, rows = self._yunet.detect(np.ascontiguousarray(image[:, :, ::-1]))
        return np.zeros((0, 15), dtype=np.float32) if rows is None else rows

    def _dlib_faces(self, image: np.ndarray) -> list[tuple[object, float]]:
        """dlib's HOG detections (one upsampling) of an RGB image with their scores."""
        detections, scores, _ = self._hog.run(np.ascontiguousarray(image), 1)
        return list(zip(detections, scores, strict=True))

    def detect(self, image: np.ndarray, *, max_side: int = DETECT_LONG_SIDE) -> list[DetectedFace]:
        """YuNet's sure faces; else dlib's; else YuNet's unsure ones at half their score.

        Confidences are each detector's own (dlib's capped to [0, 1]).
        """
        small, factor = _resize(image, max_side)
        height, width = image.shape[:2]
        sure, unsure = [], []
        for row in self._yunet_rows(small, YUNET_UNSURE):
            box = Box(*(round(float(value)) for value in row[:4])).scaled(1 / factor)
            landmarks = {
                name: (round(float(row[4 + 2 * i]) / factor), round(float(row[5 + 2 * i]) / factor))
                for i, name in enumerate(YUNET_LANDMARKS)
            }
            score = float(row[14])
            (sure if score >= YUNET_SURE else unsure).append(DetectedFace(
                box=box.clipped(width, height),
                confidence=score if score >= YUNET_SURE else score / 2,
                landmarks=landmarks,
            ))
        if sure:
            return sure
        found = []
        for detection, score in self._dlib_faces(small):
            box = Box(
                detection.left(), detection.top(), detection.width(), detection.height()
            ).scaled(1 / factor)
            shape = self._shape(np.ascontiguousarray(small), detection)
            # dlib's 5 points: the corners of the image-left eye (2, 3), of the other (0, 1).
            eyes = {"right_eye": (2, 3), "left_eye": (0, 1)}
            landmarks = {
                name: (
                    round((shape.part(a).x + shape.part(b).x) / 2 / factor),
                    round((shape.part(a).y + shape.part(b).y) / 2 / factor),
                )
                for name, (a, b) in eyes.items()
            }
            found.append(DetectedFace(
                box=box.clipped(width, height),
                confidence=min(max(0.0, float(score)), 1.0),
                landmarks=landmarks,
            ))
        return found or unsure

    # --- Canonical crops and embeddings ------------------------------------------

    @staticmethod
    def _overlap(a: Box, b: Box) -> float:
        width = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
        height = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
        return max(0, width) * max(0, height) / max(1, min(a.w * a.h, b.w * b.h))

    def _sface_crop(self, region: np.ndarray, inner: Box) -> np.ndarray:
        """SFace's 112 × 112 crop (RGB): YuNet's landmarks warped onto the template; without
        landmarks (YuNet sees no face here) the box, square, scaled to the crop."""
        rows = self._yunet_rows(region, YUNET_IN_REGION)
        if len(rows):
            best = max(rows, key=lambda row: self._overlap(
                Box(*(round(float(v)) for v in row[:4])), inner) + float(row[14]) * 1e-3)
            bgr = self._aligner.alignCrop(np.ascontiguousarray(region[:, :, ::-1]), best)
            return np.ascontiguousarray(bgr[:, :, ::-1])
        side = max(inner.w, inner.h)
        square = Box(inner.x + inner.w // 2 - side // 2, inner.y + inner.h // 2 - side // 2,
                     side, side).clipped(region.shape[1], region.shape[0])
        patch = region[square.y:square.y + square.h, square.x:square.x + square.w]
        return np.asarray(Image.fromarray(patch).resize((SFACE_SIDE, SFACE_SIDE), Image.BILINEAR))

    def _dlib_chip(self, region: np.ndarray, inner: Box) -> np.ndarray:
        """dlib's 150 px chip (RGB) from its 5-point shape on its own detection in the
        region (the one overlapping the box most), or on the box when it finds none."""
        detections = [detection for detection, _score in self._dlib_faces(region)]
        if detections:
            rect = max(detections, key=lambda d: self._overlap(
                Box(d.left(), d.top(), d.width(), d.height()), inner))
        else:
            rect = self._dlib.rectangle(inner.x, inner.y, inner.x + inner.w, inner.y + inner.h)
        shape = self._shape(region, rect)
        chip = self._dlib.get_face_chip(
            region, shape, size=DLIB_CHIP_SIDE, padding=DLIB_CHIP_PADDING
        )
        return np.ascontiguousarray(chip)

    def canonical_crops(self, image: np.ndarray, box: Box) -> CanonicalCrops:
        """Each model's canonical crop of the face in ``box`` of an RGB image."""
        region, inner = embedding_region(image, box)
        return CanonicalCrops(
            sface=self._sface_crop(region, inner), dlib=self._dlib_chip(region, inner)
        )

    def embed_sface(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised SFace embeddings (one row each) of 112 × 112 RGB crops.

        Through ``DeepFace.represent`` with no detection: DeepFace hands its SFace
        the crop as BGR in [0, 1] and feeds the network RGB 0–255 (its ``predict``).
        """
        # A quarter of a level above each value (and never above 1, which DeepFace would
        # take for 0–255 and divide again): its ``* 255`` then truncation gives back exactly
        # the crop's 8-bit values.
        batch = [
            np.minimum((crop[:, :, ::-1].astype(np.float32) + 0.25) / 255.0, 1.0)
            for crop in crops
        ]
        results = self._deepface.represent(
            np.stack(batch) if len(batch) > 1 else batch[0],
            model_name=settings.FACE_MODEL_NAME, detector_backend="skip",
        )
        per_image = [results] if len(batch) == 1 else results
        vectors = np.asarray([found[0]["embedding"] for found in per_image], dtype=np.float64)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_dlib(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalised Dlib embeddings (one row each) of dlib's 150 px RGB chips."""
        vectors = np.asarray(
            self._dlib_model.compute_face_descriptor([np.ascontiguousarray(c) for c in chips]),
            dtype=np.float64,
        )
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_crops(self, crops: CanonicalCrops) -> Embeddings:
        """Both stored vectors from the canonical crops (mirror-averaged where it pays)."""
        sface_inputs = [crops.sface]
        if MIRROR_MEAN["SFace"]:
            sface_inputs.append(np.ascontiguousarray(crops.sface[:, ::-1]))
        dlib_inputs = [crops.dlib]
        if MIRROR_MEAN["Dlib"]:
            dlib_inputs.append(np.ascontiguousarray(crops.dlib[:, ::-1]))
        sface = _normalised(self.embed_sface(sface_inputs).mean(axis=0))
        dlib = _normalised(self.embed_dlib(dlib_inputs).mean(axis=0))
        return Embeddings(sface=sface.astype(np.float32), dlib=dlib.astype(np.float32))

    def embed(self, image: np.ndarray, box: Box) -> Embeddings:
        """The stored vectors of the face in ``box`` of an RGB image."""
        return self.embed_crops(self.canonical_crops(image, box))

    def opencv_sface(self, crop: np.ndarray) -> np.ndarray:
        """OpenCV's own SFace feature of a canonical crop (RGB), normalised: what the
        portal's path through DeepFace must reproduce (tests, benchmarks)."""
        feature = self._aligner.feature(np.ascontiguousarray(crop[:, :, ::-1]))
        return _normalised(np.asarray(feature).ravel())

    def represent_plain(self, path: str) -> np.ndarray | None:
        """Plain ``DeepFace.represent`` (Dlib, dlib detector) on a whole photo file: the
        baseline the benchmarks and evaluation compare to ("Dlib as before").

        The largest face's L2-normalised embedding, or ``None`` if DeepFace finds no face.
        """
        try:
            results = self._deepface.represent(path, model_name="Dlib", detector_backend="dlib")
        except ValueError:
            return None
        best = max(results, key=lambda r: r["facial_area"]["w"] * r["facial_area"]["h"])
        vector = np.asarray(best["embedding"], dtype=np.float32)
        return vector / np.linalg.norm(vector)
