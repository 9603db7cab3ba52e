"""No face lost to size or rotation: the pipeline looks again before saying "no face".

Real photos are made from ../shared/faces: a face of about 100 px pasted into a
3000 px photo, and a face photo turned by 90, 180 and 270 degrees. A real worker
stores each with the box on the face in the stored photo and an embedding of the
face turned upright, close to the upright original's.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from families.models import Photo
from matching.faces import (
    Box,
    aligned_face_crop,
    cosine_distance,
    get_engine,
    turn_box,
    turn_point,
)
from matching.models import Face
from tests import builders

SOURCE = "img1.jpg"
FACE_SIDE = 100
LARGE = (3000, 2250)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def faceless_background(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """A smooth, faceless texture (a wall, a table cloth) of ``size``."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(60, 200, (9, 12, 3), dtype=np.uint8))
    return coarse.resize(size, Image.BICUBIC)


def iou(a: Box, b: Box) -> float:
    left, top = max(a.x, b.x), max(a.y, b.y)
    right, bottom = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, right - left) * max(0, bottom - top)
    return inter / (a.w * a.h + b.w * b.h - inter)


def mask_box(size: tuple[int, int], box: Box, angle: int) -> Box:
    """Where ``box`` of an upright photo of ``size`` lands when PIL turns the photo by
    ``angle`` degrees: found by turning a mask the same way, not by the code under test."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (box.x, box.y, box.x + box.w, box.y + box.h))
    left, top, right, bottom = mask.rotate(angle, expand=True).getbbox()
    return Box(left, top, right - left, bottom - top)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_turning_a_box_or_a_point_follows_numpy_rot90(turns):
    image = np.zeros((30, 50), dtype=np.uint8)  # height 30, width 50
    box = Box(7, 4, 12, 9)
    image[box.y:box.y + box.h, box.x:box.x + box.w] = 1
    image[20, 41] = 2  # a landmark at x=41, y=20
    turned = np.rot90(image, turns)
    rows, cols = np.nonzero(turned == 1)
    expected = Box(int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1,
                   int(np.ptp(rows)) + 1)
    assert turn_box(box, turns, 50, 30) == expected
    ys, xs = np.nonzero(turned == 2)
    assert turn_point((41, 20), turns, 50, 30) == (int(xs[0]), int(ys[0]))
    # And back again, with the turned image's size.
    height, width = turned.shape
    assert turn_box(expected, 4 - turns, width, height) == box


@pytest.mark.django_db(transaction=True)
def test_small_and_turned_faces_are_found_placed_and_embedded_upright(
    make_user, photo_bytes, run_worker, settings
):
    engine = get_engine()
    original = Image.open(io.BytesIO(photo_bytes(SOURCE))).convert("RGB")
    (upright_face,) = engine.detect(np.asarray(original), max_side=max(original.size))

    # A face of about 100 px in a 3000 px photo: too small for the fast 400 px pass.
    scale = FACE_SIDE / upright_face.box.w
    small = original.resize((round(original.width * scale), round(original.height * scale)),
                            Image.LANCZOS)
    large = faceless_background(LARGE)
    offset = (1900, 1100)
    large.paste(small, offset)
    placed = upright_face.box.scaled(scale)
    expected = {"small": Box(offset[0] + placed.x, offset[1] + placed.y, placed.w, placed.h)}
    uploads = {"upright": jpeg(original), "small": jpeg(large)}
    for angle in (90, 180, 270):
        uploads[f"turned {angle}"] = jpeg(original.rotate(angle, expand=True))
        expected[f"turned {angle}"] = mask_box(original.size, upright_face.box, angle)

    case = builders.case(family=make_user())
    photos = {name: builders.photo(data=data, case=case) for name, data in uploads.items()}
    run_worker()

    faces = {}
    for name, photo in photos.items():
        photo.refresh_from_db()
        assert photo.face_state == Photo.FaceState.FACE_FOUND, name
        faces[name] = Face.objects.get(photo=photo)
    assert (photos["small"].width, photos["small"].height) == LARGE
    reference = np.asarray(faces["upright"].embedding)
    assert faces["upright"].rotation == 0
    for name, box in expected.items():
        face = faces[name]
        found = Box(face.box_x, face.box_y, face.box_w, face.box_h)
        print(f"{name}: box {found}, expected {box}, rotation {face.rotation}, "
              f"distance {cosine_distance(reference, face.embedding):.4f}")
        assert iou(found, box) > 0.5, name
        assert cosine_distance(reference, face.embedding) < settings.MATCH_SAME_AGE_THRESHOLD, name
        assert face.embedding is not None and face.searchable
    # Each turned photo is turned back upright: PIL's angle is counter-clockwise.
    assert {name: faces[name].rotation for name in expected} == {
        "small": 0, "turned 90": 270, "turned 180": 180, "turned 270": 90,
    }
    # The eyes are stored in the stored photo's pixels too: inside the box, level for 180.
    eyes = faces["turned 180"].landmarks
    box = expected["turned 180"]
    for x, y in eyes.values():
        assert box.x <= x < box.x + box.w and box.y <= y < box.y + box.h
    # Upside down, the person's left eye is on the image's left.
    assert eyes["left_eye"][0] < eyes["right_eye"][0]

    # The crop a volunteer sees is turned upright by the eyes, whichever way the photo is.
    def crop(face: Face, *, by_eyes: bool = True) -> np.ndarray:
        with face.photo.image.open("rb") as handle:
            image = Image.open(handle).convert("RGB")
        box = Box(face.box_x, face.box_y, face.box_w, face.box_h)
        shown = aligned_face_crop(image, box, face.landmarks if by_eyes else {})
        return np.asarray(shown.convert("L"), dtype=np.float64)

    reference = crop(faces["upright"])
    for name in ("turned 90", "turned 180", "turned 270"):
        gap = np.abs(crop(faces[name]) - reference).mean()
        unturned = np.abs(crop(faces[name], by_eyes=False) - reference).mean()
        print(f"{name}: crop {gap:.1f} grey levels from the upright one, {unturned:.1f} unturned")
        assert gap < unturned * 0.4, name


@pytest.mark.django_db(transaction=True)
def test_a_faceless_photo_still_says_no_face_after_looking_again(make_user, run_worker):
    photo = builders.photo(data=jpeg(faceless_background((2400, 1800), seed=3)),
                           case=builders.case(family=make_user()))
    run_worker()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.NO_FACE
    assert not Face.objects.filter(photo=photo).exists()
