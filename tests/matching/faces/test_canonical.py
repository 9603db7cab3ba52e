"""Each model on its own canonical crop, through the installed files, as a real worker stores it.

A real worker embeds a real photo; the test rebuilds each crop on an independent
path (OpenCV's YuNet and ``FaceRecognizerSF``, dlib's own detector, 5-point shape
and chip, straight from the installed files) and checks the stored vectors against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import cv2
import dlib
import numpy as np
import pytest
from django.conf import settings

from matching.faces import (
    Box,
    cosine_distance,
    current_model_version,
    embedding_region,
    get_engine,
    upright_region,
)
from matching.faces.deepface_engine import (
    EMBEDDING_METHOD,
    EMBEDDING_REVISION,
    MIRROR_MEAN,
)
from matching.models import Face
from tests import builders
from tests.conftest import BASE_DIR

pytestmark = pytest.mark.django_db(transaction=True)


def _weights(name: str) -> str:
    return str(settings.DEEPFACE_HOME / ".deepface" / "weights" / name)


def _region_of(face: Face) -> tuple[np.ndarray, Box]:
    """The region the models look at: the face's upright region, cut as the engine cuts it."""
    with face.photo.image.open("rb") as handle:
        region, inner = upright_region(
            handle, Box(face.box_x, face.box_y, face.box_w, face.box_h), rotation=face.rotation
        )
    return embedding_region(region, inner)


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64).ravel()
    return vector / np.linalg.norm(vector)


def test_a_worker_stores_sface_on_its_template_crop_and_dlib_on_its_chip(
    make_user, photo_bytes, run_worker
):
    photo = builders.photo(data=photo_bytes("img20.jpg"), case=builders.case(family=make_user()))
    run_worker()
    face = Face.objects.get(photo=photo)
    assert face.model_name == "SFace"
    assert face.model_version == current_model_version() == get_engine().model_version
    assert face.model_version.startswith("deepface-0.0.103/SFace+Dlib/yunet+dlib/")
    assert face.model_version.endswith(f"/{EMBEDDING_REVISION}")
    assert EMBEDDING_METHOD in face.model_version
    sface = np.asarray(face.embedding, dtype=np.float64)
    dlib_vector = np.asarray(face.embedding_dlib, dtype=np.float64)
    assert np.linalg.norm(sface) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(dlib_vector) == pytest.approx(1.0, abs=1e-5)

    region, _inner = _region_of(face)
    bgr = np.ascontiguousarray(region[:, :, ::-1])

    # SFace: YuNet's five landmarks, OpenCV's warp onto the 112 × 112 template, OpenCV's net.
    yunet = cv2.FaceDetectorYN.create(_weights("face_detection_yunet_2023mar.onnx"), "",
                                      (bgr.shape[1], bgr.shape[0]), 0.3)
    _, rows = yunet.detect(bgr)
    best = max(rows, key=lambda row: row[2] * row[3])
    recogniser = cv2.FaceRecognizerSF.create(_weights("face_recognition_sface_2021dec.onnx"), "")
    crop = recogniser.alignCrop(bgr, best)
    assert crop.shape == (112, 112, 3)
    original = _unit(recogniser.feature(crop))
    mirrored = _unit(recogniser.feature(np.ascontiguousarray(crop[:, ::-1])))
    assert MIRROR_MEAN["SFace"]
    expected = _unit(original + mirrored)
    assert cosine_distance(sface, expected) < 1e-5
    # The mirror moves it (the mean is not either one alone).
    assert cosine_distance(sface, original) > 1e-3

    # Dlib: dlib's own detection, its 5-point shape, dlib's chip, the ResNet.
    rgb = np.ascontiguousarray(region)
    detections = dlib.get_frontal_face_detector()(rgb, 1)
    rect = max(detections, key=lambda d: d.width() * d.height())
    shape = dlib.shape_predictor(_weights("shape_predictor_5_face_landmarks.dat"))(rgb, rect)
    assert shape.num_parts == 5
    chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
    net = dlib.face_recognition_model_v1(_weights("dlib_face_recognition_resnet_model_v1.dat"))
    assert not MIRROR_MEAN["Dlib"]
    assert cosine_distance(dlib_vector, _unit(net.compute_face_descriptor(chip))) < 1e-5

    # The engine's own crops are those crops.
    with face.photo.image.open("rb") as handle:
        crops = get_engine().canonical_crops(*upright_region(
            handle, Box(face.box_x, face.box_y, face.box_w, face.box_h), rotation=face.rotation
        ))
    np.testing.assert_array_equal(crops.sface, crop[:, :, ::-1])
    np.testing.assert_array_equal(crops.dlib, chip)


def test_the_same_person_is_near_and_a_stranger_far_in_both_models(
    make_user, photo_bytes, identities, run_worker
):
    """Same-age photos: SFace below its threshold for the same person, above for a stranger."""
    family = make_user()
    names = ("img1.jpg", "img2.jpg", "img20.jpg")  # 1 and 2 are one person, 20 another
    assert identities["img1.jpg"] == identities["img2.jpg"] != identities["img20.jpg"]
    photos = [builders.photo(data=photo_bytes(n), case=builders.case(family=family))
              for n in names]
    run_worker()
    one, same, other = (Face.objects.get(photo=photo) for photo in photos)
    assert cosine_distance(one.embedding, same.embedding) < settings.MATCH_SAME_AGE_THRESHOLD
    assert cosine_distance(one.embedding, other.embedding) > settings.MATCH_SAME_AGE_THRESHOLD
    assert cosine_distance(one.embedding_dlib, same.embedding_dlib) < cosine_distance(
        one.embedding_dlib, other.embedding_dlib)


def test_the_model_loads_and_embeds_from_the_installed_files_without_network(faces_dir):
    """A fresh process with every network connection refused loads and embeds a photo."""
    script = textwrap.dedent("""
        import io, socket, sys
        def refuse(*args, **kwargs):
            raise OSError("network refused in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import django
        django.setup()
        from families.uploads import normalise_photo
        from matching.faces import detect_and_embed, get_engine
        stored = normalise_photo(open(sys.argv[1], "rb").read()).content
        found, vectors = detect_and_embed(get_engine(), io.BytesIO(stored))
        print(len(found), vectors.sface.shape, vectors.dlib.shape)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(faces_dir / "img20.jpg")], cwd=BASE_DIR,
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reunion.settings", "DEBUG": "true"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "1 (128,) (128,)"
