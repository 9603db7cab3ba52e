"""Decoding stored photos at reduced size: what the detector and the embedding see."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from families.uploads import normalise_photo
from matching.faces import Box
from matching.faces.decoding import decode_region, decode_scaled


def stored(photo_bytes, name: str) -> bytes:
    return normalise_photo(photo_bytes(name)).content


def test_scaled_decode_keeps_the_shape_and_reports_its_scale(photo_bytes):
    data = stored(photo_bytes, "img4.jpg")  # a large photo
    full = Image.open(io.BytesIO(data))
    small, scale = decode_scaled(io.BytesIO(data), 400)
    assert max(small.shape[:2]) == 400
    assert scale == small.shape[1] / full.width
    assert abs(small.shape[0] / scale - full.height) < 1 / scale + 1


def test_a_small_photo_is_decoded_as_it_is(photo_bytes):
    data = stored(photo_bytes, "img1.jpg")
    full = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    decoded, scale = decode_scaled(io.BytesIO(data), 10_000)
    assert scale == 1.0 and decoded.shape == full.shape


def test_region_decode_matches_the_full_decode_at_the_size_the_model_needs(photo_bytes):
    data = stored(photo_bytes, "img4.jpg")
    full_image = Image.open(io.BytesIO(data)).convert("RGB")
    box = Box(full_image.width // 3, full_image.height // 4, full_image.width // 4,
              full_image.height // 4)
    region, inner = decode_region(io.BytesIO(data), box, margin=0.5, min_side=250)
    assert max(region.shape[:2]) >= 250
    # DCT-scaled, so smaller than the full-size region, and the box scaled with it.
    full_region_side = max(box.w, box.h) * 2
    assert max(region.shape[:2]) < full_region_side
    factor = region.shape[1] / (box.w * 2)
    assert abs(inner.w - box.w * factor) <= 2 and abs(inner.x - box.w * 0.5 * factor) <= 2
    # The same pixels as cutting the full decode and shrinking it.
    reference = full_image.crop(
        (box.x - box.w // 2, box.y - box.h // 2, box.x + box.w + box.w // 2,
         box.y + box.h + box.h // 2)
    ).resize((region.shape[1], region.shape[0]), Image.BILINEAR)
    difference = np.abs(np.asarray(reference, dtype=float) - region.astype(float)).mean()
    assert difference < 6
