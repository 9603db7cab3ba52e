"""Decoding stored photos at the size each step needs.

Photos are stored as JPEGs up to 3000 px. Decoding one in full costs more than
detecting a face on a small copy, so JPEGs are decoded with DCT scaling
(Pillow's ``Image.draft``: 1/2, 1/4 or 1/8 of the size for a fraction of the
work): a small copy for the detector, and for the embedding the coarsest scale
at which the face region is still at least as large as the crop the model sees.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from matching.faces.base import Box


def _open_upright(handle: BinaryIO, at_least: tuple[int, int] | None) -> Image.Image:
    image = Image.open(handle)
    if at_least is not None and image.format == "JPEG":
        image.draft("RGB", at_least)
    return ImageOps.exif_transpose(image.convert("RGB"))


def decode_scaled(handle: BinaryIO, long_side: int) -> tuple[np.ndarray, float]:
    """The photo decoded with its long side at most ``long_side``, and the scale used.

    The scale is the decoded width over the stored width: multiply a box found
    in the decoded copy by ``1 / scale`` to get stored-photo pixels.
    """
    with Image.open(handle) as probe:
        full_width, full_height = probe.size
    handle.seek(0)
    factor = min(1.0, long_side / max(full_width, full_height))
    wanted = (max(1, round(full_width * factor)), max(1, round(full_height * factor)))
    with _open_upright(handle, wanted) as image:
        if max(image.size) > long_side:
            image.thumbnail((long_side, long_side), Image.BILINEAR)
        array = np.asarray(image)
    return array, array.shape[1] / full_width


def decode_region(
    handle: BinaryIO, box: Box, *, margin: float, min_side: int
) -> tuple[np.ndarray, Box]:
    """The face region around ``box`` (stored-photo pixels) plus ``margin``, and the box in it.

    Decoded at the coarsest JPEG scale that keeps the region's long side at
    least ``min_side`` pixels, so the embedding sees no fewer pixels than it would
    from the full-size photo.
    """
    with Image.open(handle) as probe:
        full_width, full_height = probe.size
    handle.seek(0)
    margin_x, margin_y = round(box.w * margin), round(box.h * margin)
    left, top = max(0, box.x - margin_x), max(0, box.y - margin_y)
    right = min(full_width, box.x + box.w + margin_x)
    bottom = min(full_height, box.y + box.h + margin_y)
    region_long = max(right - left, bottom - top, 1)
    factor = min(1.0, min_side / region_long)
    wanted = (max(1, round(full_width * factor)), max(1, round(full_height * factor)))
    with _open_upright(handle, wanted) as image:
        scale = image.size[0] / full_width
        crop = image.crop((
            round(left * scale), round(top * scale), round(right * scale), round(bottom * scale)
        ))
        array = np.asarray(crop)
    inner = Box(
        round((box.x - left) * scale), round((box.y - top) * scale),
        max(1, round(box.w * scale)), max(1, round(box.h * scale)),
    )
    return array, inner
