"""Face crops shown to people: the one place a face is cut out of a photo.

The review page compares aligned crops (eyes level, one scale); the photo pages
show a plain crop around the box.
"""

from __future__ import annotations

import math

from PIL import Image

from matching.faces.base import Box

#: Side of the aligned face crops shown on the review page, in pixels.
CROP_SIDE = 224


def aligned_face_crop(
    image: Image.Image, box: Box, landmarks: dict, side: int = CROP_SIDE
) -> Image.Image:
    """A square crop of the face, turned so the eyes are level and scaled by their distance.

    With the eyes known, every crop puts them at the same place and size, so
    faces photographed decades apart are compared at one scale; without them
    (a hand-drawn box) the crop is the box with a margin.
    """
    centre_x = box.x + box.w / 2
    centre_y = box.y + box.h / 2
    half = max(box.w, box.h) * 0.8
    angle = 0.0
    # From the person's right eye to their left: level and pointing right in an upright
    # face, so the turn also puts a face found sideways or upside down upright.
    eyes = [landmarks.get(name) for name in ("right_eye", "left_eye")]
    if all(eye and len(eye) == 2 for eye in eyes):
        (x1, y1), (x2, y2) = tuple(eyes[0]), tuple(eyes[1])
        distance = math.hypot(x2 - x1, y2 - y1)
        if distance > 2:
            turn = math.atan2(y2 - y1, x2 - x1)
            angle = math.degrees(turn)
            half = distance * 1.6
            # The face's centre lies below the middle of the eyes, across the eye line.
            centre_x = (x1 + x2) / 2 - math.sin(turn) * distance * 0.45
            centre_y = (y1 + y2) / 2 + math.cos(turn) * distance * 0.45
    # Cut a region large enough that turning it leaves no empty corners in the result.
    reach = half * 1.5
    region = image.crop((
        round(centre_x - reach), round(centre_y - reach),
        round(centre_x + reach), round(centre_y + reach),
    ))
    if angle:
        region = region.rotate(angle, resample=Image.BICUBIC)
    middle = region.width / 2
    square = region.crop((
        round(middle - half), round(middle - half), round(middle + half), round(middle + half)
    ))
    return square.resize((side, side), Image.LANCZOS)


def face_crop(image: Image.Image, box: Box, *, max_side: int = 256) -> Image.Image:
    """The box with a quarter of its size around it, no larger than ``max_side``."""
    margin = max(box.w, box.h) // 4
    crop = image.convert("RGB").crop((
        max(box.x - margin, 0), max(box.y - margin, 0),
        min(box.x + box.w + margin, image.width), min(box.y + box.h + margin, image.height),
    ))
    crop.thumbnail((max_side, max_side))
    return crop
