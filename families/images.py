"""Validating and normalising uploaded photos.

The type is sniffed from the content (never the name or the browser's word),
the size is bounded in bytes and pixels before decoding, EXIF orientation is
applied, and the result is re-encoded as a plain JPEG: no EXIF, no GPS, no
embedded profile or comment survives.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIF", "BMP", "TIFF"}
MIN_SIDE = 32


@dataclass(frozen=True)
class NormalisedImage:
    content: bytes
    width: int
    height: int
    sha256: str


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - optional decoder
        return
    register_heif_opener()


_register_heif()


def normalise_photo(data: bytes) -> NormalisedImage:
    """Checks an upload and returns it re-encoded; raises ``ValidationError`` with a clear message."""
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)d MB); the limit is %(limit)d MB.")
            % {"size": len(data) // 2**20, "limit": settings.PHOTO_MAX_BYTES // 2**20},
            code="too_large",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
            if image_format not in ACCEPTED_FORMATS:
                raise ValidationError(
                    _("This file is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC)."),
                    code="format",
                )
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise ValidationError(
                    _("The photo has too many pixels (%(w)d×%(h)d).") % {"w": width, "h": height},
                    code="too_many_pixels",
                )
            if min(width, height) < MIN_SIDE:
                raise ValidationError(
                    _("The photo is too small (%(w)d×%(h)d pixels) to show a face.")
                    % {"w": width, "h": height},
                    code="too_small",
                )
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("This file is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC)."),
            code="format",
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("The photo is damaged or incomplete; please upload it again."), code="damaged"
        ) from None

    max_side = settings.PHOTO_STORED_MAX_SIDE
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=90, optimize=True)
    content = out.getvalue()
    return NormalisedImage(
        content=content,
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB on white for transparent images; first frame of animations; 8 bits a channel."""
    if getattr(image, "is_animated", False):
        image.seek(0)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda value: value / 256).convert("L").convert("RGB")
    return image.convert("RGB")
