"""Copies the Dlib model files shipped by face-recognition-models into DeepFace's folder.

DeepFace would download them on first use; the portal never downloads anything
at run time, so the install step puts them where DeepFace looks.
"""

from __future__ import annotations

import shutil
from importlib import resources

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Install the face model weights under $DEEPFACE_HOME/.deepface/weights/."
    requires_system_checks: list[str] = []

    def handle(self, *args: object, **options: object) -> None:
        try:
            source = resources.files("face_recognition_models") / "models"
        except ModuleNotFoundError as error:
            raise CommandError(
                "The package face-recognition-models is not installed: run `make install`."
            ) from error
        target = settings.DEEPFACE_HOME / ".deepface" / "weights"
        target.mkdir(parents=True, exist_ok=True)
        for name in (*settings.FACE_WEIGHT_FILES, "shape_predictor_68_face_landmarks.dat"):
            origin = source / name
            if not origin.is_file():
                raise CommandError(f"face-recognition-models does not contain {name}.")
            destination = target / name
            if destination.is_file() and destination.stat().st_size == origin.stat().st_size:
                continue
            with resources.as_file(origin) as path:
                shutil.copyfile(path, destination)
            self.stdout.write(f"installed {name}")
        self.stdout.write(self.style.SUCCESS(f"face model weights in {target}"))
