"""Validating and normalising uploaded photos.

An upload is untrusted bytes. The type is sniffed from the content (never the
name or the browser's word) by the decoders of the accepted formats only, the
size is bounded in bytes before anything is parsed and in pixels before
anything is decoded, EXIF orientation is applied, colours are brought to sRGB,
and the result is re-encoded as a plain JPEG: no EXIF, no GPS, no embedded
profile, comment, script or second frame survives. Every refusal is a
``ValidationError`` with a message a family can act on; nothing here writes
to the database or to storage.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

#: Pillow decoders allowed to look at an upload. Every other decoder (PSD, EPS,
#: ICO, TGA, ...) is never run on untrusted bytes. TIFF and BMP are what
#: scanners save; HEIF is what phones save.
OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF", "BMP", "TIFF")
#: The JPEG decoder answers "MPO" for the multi-picture JPEGs many phones save.
ACCEPTED_FORMATS = frozenset((*OPEN_FORMATS, "MPO"))
#: Below this many pixels on the short side there is no face to compare.
MIN_SIDE = 32
JPEG_QUALITY = 90

_SRGB = ImageCms.createProfile("sRGB")


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


def _not_a_photo() -> ValidationError:
    return ValidationError(
        _(
            "This file is not a photo we can read. "
            "Please upload a JPEG, PNG, WebP, GIF or HEIC photo."
        ),
        code="format",
    )


def _damaged() -> ValidationError:
    return ValidationError(
        _("The photo is damaged or incomplete; please upload it again."), code="damaged"
    )


def _too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationError:
    limit = settings.PHOTO_MAX_PIXELS // 1_000_000
    if width and height:
        return ValidationError(
            _(
                "The photo is too big (%(w)d×%(h)d pixels); the limit is %(limit)d megapixels. "
                "Please upload a smaller copy."
            )
            % {"w": width, "h": height, "limit": limit},
            code="too_many_pixels",
        )
    return ValidationError(
        _("The photo is too big; the limit is %(limit)d megapixels. Please upload a smaller copy.")
        % {"limit": limit},
        code="too_many_pixels",
    )


def check_upload_size(size: int) -> None:
    """Refuses an upload by its size in bytes, before it is read or parsed."""
    if size <= 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size).1f MB); the limit is %(limit)d MB.")
            % {"size": size / 2**20, "limit": settings.PHOTO_MAX_BYTES // 2**20},
            code="too_large",
        )


def normalise_photo(data: bytes) -> NormalisedImage:
    """Checks an upload and returns it re-encoded, or raises ``ValidationError`` saying why."""
    check_upload_size(len(data))
    try:
        rgb = _decode(data)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise _not_a_photo() from None
    except MemoryError:
        raise _too_many_pixels() from None
    except Exception as error:
        # Decoders report broken files with many exception types (OSError,
        # SyntaxError, struct.error, ValueError, EOFError, ...): for an upload
        # they all mean the same thing, and none of them may become a 500.
        logger.info("refused a damaged upload: %s: %s", type(error).__name__, error)
        raise _damaged() from None

    max_side = settings.PHOTO_STORED_MAX_SIDE
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # Pillow would write some metadata back (a JPEG comment, for one): keep none.
    rgb.info.clear()
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    content = out.getvalue()
    return NormalisedImage(
        content=content,
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _decode(data: bytes) -> Image.Image:
    """The first picture of the file, upright, in 8-bit sRGB."""
    with Image.open(io.BytesIO(data), formats=OPEN_FORMATS) as image:
        if image.format not in ACCEPTED_FORMATS:
            raise _not_a_photo()
        width, height = image.size
        if width * height > settings.PHOTO_MAX_PIXELS:
            raise _too_many_pixels(width, height)
        if min(width, height) < MIN_SIDE:
            raise ValidationError(
                _(
                    "The photo is too small (%(w)d×%(h)d pixels) to show a face. "
                    "Please upload a larger copy."
                )
                % {"w": width, "h": height},
                code="too_small",
            )
        # A freshly opened file is at its first frame; later frames are never decoded.
        if image.format in ("JPEG", "MPO"):
            # Decode big JPEGs at a reduced scale: the stored copy is smaller anyway.
            side = settings.PHOTO_STORED_MAX_SIDE
            image.draft(image.mode, (side, side))
        image.load()
        icc_profile = image.info.get("icc_profile")
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # a broken EXIF block: keep the pixels as they are
            logger.info("ignored an unreadable EXIF orientation")
            upright = image.copy()
    return _to_srgb(upright, icc_profile)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """8-bit RGB: colour-managed when the file has a profile, transparency on white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _sixteen_bit_to_grey(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if icc_profile and image.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            logger.info("ignored an unreadable colour profile")
    return image.convert("RGB")


def _sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    """Scales 16-bit (or float) grey to 8 bits; Pillow's own conversion would clip it."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F" and values.size and values.max() <= 1.0:
        values = values * 255.0
    elif values.size and values.max() > 255:
        values = values / 257.0
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
