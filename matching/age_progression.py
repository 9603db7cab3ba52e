"""Reunion's own age-progressed estimate of a childhood photo.

Three steps, each small and testable:

1. ``locate_landmarks``: the 68 facial landmarks of dlib's
   ``shape_predictor_68_face_landmarks.dat`` (installed with the face model
   weights). dlib is used directly here for the landmarks only; faces are
   still detected and embedded for matching by ``matching.faces``.
2. ``strain_points``: the cardioidal strain transformation of craniofacial
   growth (Todd, Mark, Shaw & Pittenger, "The perception of human growth",
   Scientific American 242(2), 1980; Pittenger & Shaw, J. Exp. Psychol.: HPP
   1(4), 1975). In polar coordinates about a centre near the ear canal, with
   θ measured from the upward vertical, a point moves to
   ``R' = R (1 + k (1 - cos θ))``, ``θ' = θ``: the vault above the centre keeps
   its size, the face below it grows by up to ``1 + 2k``.
3. ``warp_to_points``: a piecewise-affine warp of the photo onto the moved
   landmarks (Delaunay triangles, one affine map per triangle).

``growth_strain`` gives ``k`` for a pair of ages. No published table of ``k``
against age exists (the perception studies used ``k`` as an abstract growth
level), so it is derived from published proportions; docs/MATCHING.md gives
the derivation and its limits. In short: along the vertical through the
centre the model multiplies the ratio (face height below the ear-canal
level) / (head height above it) by exactly ``1 + 2k``, so
``1 + 2k = Q(target) / Q(source)`` where ``Q(age)`` is that ratio, estimated as
facial size over cranial size, each relative to the adult:

* cranial size follows the neural growth curve, measured by head
  circumference (WHO Child Growth Standards to 5 years, Nellhaus 1968 after);
* facial size follows the general growth curve (stature: WHO standards), from
  a birth value fixed by the face-to-cranium ratio of about 1:8 at birth and
  1:2.5 in the adult given in craniofacial-development textbooks (a volume
  ratio, so its cube root is the linear one).

Growth of the face ends with growth in stature; between adult ages the model
moves nothing (``k = 0``): it models growth, not adult ageing.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np
from django.conf import settings
from PIL import Image, ImageOps

LANDMARK_FILE = "shape_predictor_68_face_landmarks.dat"
#: Long side of the copy dlib's detector sees (its cost grows with the pixels).
DETECT_LONG_SIDE = 640

# --- Growth curves (boys' medians; girls' curves have the same shape) --------
#: Head circumference in cm: WHO Child Growth Standards (0-5 y), Nellhaus 1968 (6-18 y).
HEAD_CIRCUMFERENCE_CM = (
    (0, 34.5), (1, 46.1), (2, 48.3), (3, 49.5), (4, 50.2), (5, 50.7),
    (6, 51.2), (8, 52.0), (10, 52.6), (12, 53.2), (14, 54.0), (16, 55.0), (18, 55.5),
)
#: Length/height in cm: WHO Child Growth Standards (0-5 y) and WHO 2007 reference (5-19 y).
STATURE_CM = (
    (0, 49.9), (1, 75.7), (2, 87.1), (3, 96.1), (4, 103.3), (5, 110.0),
    (6, 116.0), (8, 127.3), (10, 137.8), (12, 149.1), (14, 163.2), (16, 173.4), (18, 176.1),
)
#: Face-to-cranium size (volume) ratio at birth and in the adult.
FACE_TO_CRANIUM_AT_BIRTH = 1 / 8
FACE_TO_CRANIUM_ADULT = 1 / 2.5
#: Age at which the curves above end and facial growth is taken as complete.
GROWTH_COMPLETE_AGE = 18.0


def _interpolate(table: tuple[tuple[float, float], ...], age: float) -> float:
    ages = [row[0] for row in table]
    values = [row[1] for row in table]
    return float(np.interp(min(max(age, 0.0), GROWTH_COMPLETE_AGE), ages, values))


def face_to_cranium_index(age: float) -> float:
    """``Q(age)``: facial over cranial linear size, relative to the adult (1.0 when grown).

    Cranial size follows head circumference; facial size starts at the value the
    birth face-to-cranium ratio implies and follows stature to the adult.
    """
    head_adult = HEAD_CIRCUMFERENCE_CM[-1][1]
    stature_birth, stature_adult = STATURE_CM[0][1], STATURE_CM[-1][1]
    cranial = _interpolate(HEAD_CIRCUMFERENCE_CM, age) / head_adult
    linear_ratio_at_birth = (FACE_TO_CRANIUM_AT_BIRTH / FACE_TO_CRANIUM_ADULT) ** (1 / 3)
    face_at_birth = linear_ratio_at_birth * HEAD_CIRCUMFERENCE_CM[0][1] / head_adult
    general = (_interpolate(STATURE_CM, age) - stature_birth) / (stature_adult - stature_birth)
    face = face_at_birth + (1 - face_at_birth) * general
    return face / cranial


def growth_strain(source_age: float, target_age: float) -> float:
    """The strain ``k`` that takes a face from ``source_age`` to ``target_age`` (years)."""
    if target_age < source_age:
        raise ValueError("Age progression goes forward in time: the target age is younger.")
    ratio = face_to_cranium_index(target_age) / face_to_cranium_index(source_age)
    return (ratio - 1) / 2


# --- Landmarks ----------------------------------------------------------------
_models: dict[str, object] = {}
_models_lock = threading.Lock()


class LandmarkModelMissing(RuntimeError):
    pass


def _landmark_models() -> tuple[object, object]:
    """dlib's face detector and 68-point shape predictor, loaded once per process."""
    with _models_lock:
        if not _models:
            path = Path(settings.DEEPFACE_HOME) / ".deepface" / "weights" / LANDMARK_FILE
            if not path.is_file():
                raise LandmarkModelMissing(
                    f"{LANDMARK_FILE} is missing from {path.parent}: "
                    "run `manage.py install_face_weights`."
                )
            _models["detector"] = dlib.get_frontal_face_detector()
            _models["predictor"] = dlib.shape_predictor(str(path))
        return _models["detector"], _models["predictor"]


@dataclass(frozen=True)
class FaceBox:
    """A face region in image pixels (left, top, right, bottom)."""

    left: int
    top: int
    right: int
    bottom: int


class NoFaceFound(ValueError):
    pass


def detect_face_box(image: np.ndarray) -> FaceBox:
    """The largest face dlib finds in an RGB image (on a downscaled copy)."""
    detector, _ = _landmark_models()
    height, width = image.shape[:2]
    factor = min(1.0, DETECT_LONG_SIDE / max(height, width))
    small = image
    if factor < 1.0:
        small = cv2.resize(image, (round(width * factor), round(height * factor)),
                           interpolation=cv2.INTER_AREA)
    rects = list(detector(np.ascontiguousarray(small), 1))
    if not rects:
        raise NoFaceFound("No face was found to age.")
    rect = max(rects, key=lambda r: r.width() * r.height())
    return FaceBox(
        round(rect.left() / factor), round(rect.top() / factor),
        round(rect.right() / factor), round(rect.bottom() / factor),
    )


def locate_landmarks(image: np.ndarray, box: FaceBox | None = None) -> np.ndarray:
    """The 68 landmarks (x, y) of the face in ``box`` (or the largest face) of an RGB image."""
    _, predictor = _landmark_models()
    box = box or detect_face_box(image)
    shape = predictor(
        np.ascontiguousarray(image), dlib.rectangle(box.left, box.top, box.right, box.bottom)
    )
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


# --- The growth model on points ---------------------------------------------------
def strain_centre(landmarks: np.ndarray) -> np.ndarray:
    """A centre near the ear canal: midway between the two ends of the jaw outline.

    Points 0 and 16 of the 68 lie beside the ears at about the tragus; their
    midpoint is on the face's midline at the level of the ear canal.
    """
    return (landmarks[0] + landmarks[16]) / 2


def strain_points(points: np.ndarray, centre: np.ndarray, k: float) -> np.ndarray:
    """Cardioidal strain of ``points`` (x, y image pixels, y down) about ``centre``.

    ``R' = R (1 + k (1 - cos θ))`` with θ from the upward vertical, so
    ``1 - cos θ = 1 + dy / R`` in image coordinates.
    """
    offset = np.asarray(points, dtype=np.float64) - centre
    radius = np.hypot(offset[:, 0], offset[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        one_minus_cos = np.where(radius > 0, 1 + offset[:, 1] / np.maximum(radius, 1e-9), 0.0)
    return centre + offset * (1 + k * one_minus_cos)[:, None]


# --- Piecewise-affine warp -------------------------------------------------------
def _triangulate(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Delaunay triangles (index triples) of ``points``, all inside a width×height canvas.

    OpenCV returns the triangles' corners as 32-bit coordinates, so each corner is
    matched back to the nearest point given; triangles touching OpenCV's outer
    helper vertices are left out.
    """
    subdiv = cv2.Subdiv2D((-1, -1, width + 2, height + 2))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    corners = subdiv.getTriangleList().reshape(-1, 3, 2).astype(np.float64)
    if not len(corners):
        return np.zeros((0, 3), dtype=np.int64)
    flat = corners.reshape(-1, 2)
    distances = np.linalg.norm(flat[:, None, :] - points[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    found = distances[np.arange(len(flat)), nearest] < 0.01
    triangles = nearest.reshape(-1, 3)
    inside = found.reshape(-1, 3).all(axis=1)
    distinct = (triangles[:, 0] != triangles[:, 1]) & (triangles[:, 1] != triangles[:, 2]) & (
        triangles[:, 0] != triangles[:, 2]
    )
    return triangles[inside & distinct]


#: The per-pixel source maps are computed on a grid of at most this many pixels a
#: side and interpolated up: the maps are piecewise affine, so little is lost.
WARP_MAP_SIDE = 900


def warp_to_points(
    image: np.ndarray, source: np.ndarray, target: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """Warps ``image`` so each ``source`` point lands on its ``target`` point.

    The target points are triangulated (Delaunay) and each output pixel takes
    its colour through the affine map of its triangle back into the source;
    ``size`` (width, height) is the output canvas, which the target points must
    cover (include its corners). Pixels no triangle covers keep their place.
    """
    width, height = size
    step = max(1, int(np.ceil(max(width, height) / WARP_MAP_SIDE)))
    grid_w, grid_h = int(np.ceil(width / step)), int(np.ceil(height / step))
    # Output coordinates of the grid's pixel centres, as cv2.resize will place them.
    grid_x = (np.arange(grid_w) + 0.5) * step - 0.5
    grid_y = (np.arange(grid_h) + 0.5) * step - 0.5
    map_x = np.tile(grid_x.astype(np.float32), (grid_h, 1))
    map_y = np.tile(grid_y.astype(np.float32)[:, None], (1, grid_w))
    for tri in _triangulate(target, width, height):
        dst = target[tri].astype(np.float32)
        src = source[tri].astype(np.float32)
        if abs(cv2.contourArea(dst)) < 1e-3:
            continue
        affine = cv2.getAffineTransform(dst, src)
        cells = (dst + 0.5) / step - 0.5
        left, top = np.maximum(np.floor(cells.min(axis=0)).astype(int), 0)
        right = min(int(np.ceil(cells[:, 0].max())), grid_w - 1)
        bottom = min(int(np.ceil(cells[:, 1].max())), grid_h - 1)
        if right < left or bottom < top:
            continue
        mask = np.zeros((bottom - top + 1, right - left + 1), dtype=np.uint8)
        cv2.fillConvexPoly(mask, np.round(cells - (left, top)).astype(np.int32), 1)
        ys, xs = np.nonzero(mask)
        ys, xs = ys + top, xs + left
        out_x, out_y = grid_x[xs], grid_y[ys]
        map_x[ys, xs] = affine[0, 0] * out_x + affine[0, 1] * out_y + affine[0, 2]
        map_y[ys, xs] = affine[1, 0] * out_x + affine[1, 1] * out_y + affine[1, 2]
    if step > 1:
        map_x = cv2.resize(map_x, (width, height), interpolation=cv2.INTER_LINEAR)
        map_y = cv2.resize(map_y, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.remap(
        image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


# --- Putting it together ------------------------------------------------------------
@dataclass(frozen=True)
class AgeProgression:
    """The estimate and what was done to make it (for the page and the tests)."""

    image: np.ndarray
    strain: float
    source_landmarks: np.ndarray
    target_landmarks: np.ndarray
    centre: np.ndarray


#: Inside this many face radii (centre to chin) the strain applies in full; it fades
#: to nothing at ``STRAIN_FADE_END`` so the background and the frame stay put.
STRAIN_FULL_WITHIN = 1.35
STRAIN_FADE_END = 2.6


def _inner_points(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks (first, in order), the forehead above the brows, and rings around the head."""
    centre = strain_centre(landmarks)
    face_radius = float(np.linalg.norm(landmarks[8] - centre))
    brows = landmarks[17:27]
    brow_to_eye = landmarks[36:48, 1].mean() - brows[:, 1].mean()
    forehead = brows - np.array([0.0, 2.2 * max(brow_to_eye, face_radius * 0.12)])
    # The field between the landmarks is smooth but curved: sample it densely.
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    rings = [
        centre + face_radius * scale * np.column_stack([np.sin(angles), -np.cos(angles)])
        for scale in (1.15, 1.3, 1.5, 1.75, 2.0, 2.3, STRAIN_FADE_END + 0.1)
    ]
    return np.vstack([landmarks, forehead, *rings])


def _frame(width: int, height: int, steps: int = 9) -> np.ndarray:
    points = []
    for t in np.linspace(0, 1, steps):
        points += [(t * (width - 1), 0), (t * (width - 1), height - 1),
                   (0, t * (height - 1)), (width - 1, t * (height - 1))]
    return np.unique(np.array(points), axis=0)


def _faded_strain(points: np.ndarray, centre: np.ndarray, k: float, radius: float) -> np.ndarray:
    """The strain, in full near the face and fading smoothly to none far from it."""
    moved = strain_points(points, centre, k)
    distance = np.linalg.norm(points - centre, axis=1) / radius
    t = np.clip((distance - STRAIN_FULL_WITHIN) / (STRAIN_FADE_END - STRAIN_FULL_WITHIN), 0, 1)
    weight = 1 - t * t * (3 - 2 * t)
    return points + (moved - points) * weight[:, None]


def age_progress(
    image: np.ndarray, *, source_age: float, target_age: float, box: FaceBox | None = None
) -> AgeProgression:
    """An estimate of how the face in ``image`` (RGB) may look at ``target_age``.

    The landmarks move exactly as the model says; the rest of the head follows
    and the background stays. The canvas grows at the bottom (repeating the
    edge) when the grown chin would leave the frame. The warp is done on a
    canvas with a border around the photo, so a face cut by the photo's edge
    (landmarks just outside it) is warped like any other.
    """
    k = growth_strain(source_age, target_age)
    landmarks = locate_landmarks(image, box)
    centre = strain_centre(landmarks)
    radius = float(np.linalg.norm(landmarks[8] - centre))
    moved = strain_points(landmarks, centre, k)

    height, width = image.shape[:2]
    border = int(np.ceil(0.35 * radius)) + 4
    extra = max(0, int(np.ceil(moved[:, 1].max() + 0.25 * radius)) - height)
    canvas = cv2.copyMakeBorder(
        image, border, border + extra, border, border, cv2.BORDER_REPLICATE
    )
    shift = np.array([border, border], dtype=np.float64)
    canvas_height, canvas_width = canvas.shape[:2]
    source = _inner_points(landmarks) + shift
    target = _faded_strain(source, centre + shift, k, radius)
    target[:68] = moved + shift
    # Nothing moves beyond the fade: warp only the region around the head.
    reach = (STRAIN_FADE_END + 0.2) * radius
    left, top = (np.floor(centre + shift - reach)).astype(int)
    right, bottom = (np.ceil(centre + shift + reach)).astype(int)
    left, top = max(0, left), max(0, top)
    right, bottom = min(canvas_width, right), min(canvas_height, bottom)
    region = canvas[top:bottom, left:right]
    offset = np.array([left, top], dtype=np.float64)
    source, target = source - offset, target - offset
    low, high = 2.0, (region.shape[1] - 3.0, region.shape[0] - 3.0)
    keep = np.all((source >= low) & (source <= high) & (target >= low) & (target <= high), axis=1)
    keep[:68] = True
    source = np.clip(source[keep], low, high)
    target = np.clip(target[keep], low, high)
    frame = _frame(region.shape[1], region.shape[0])
    warped = canvas.copy()
    warped[top:bottom, left:right] = warp_to_points(
        region, np.vstack([source, frame]), np.vstack([target, frame]),
        (region.shape[1], region.shape[0]),
    )
    return AgeProgression(
        image=warped[border : border + height + extra, border : border + width],
        strain=k, source_landmarks=landmarks, target_landmarks=moved, centre=centre,
    )


# --- Measuring faces (used by the tests and the evaluation) -------------------------
def face_proportions(landmarks: np.ndarray) -> dict[str, float]:
    """Vertical proportions the growth model changes, from 68 landmarks.

    ``lower_to_upper``: nose-base-to-chin height over brow-to-nose-base height
    (the lower face grows more than the upper); ``eye_height``: where the eyes
    sit between the brows (0) and the chin (1) (they rise as the face grows);
    ``height_to_width``: brow-to-chin height over the jaw outline's width.
    """
    brow = landmarks[17:27, 1].mean()
    eyes = landmarks[36:48, 1].mean()
    nose_base = landmarks[33, 1]
    chin = landmarks[8, 1]
    width = float(np.linalg.norm(landmarks[16] - landmarks[0]))
    return {
        "lower_to_upper": float((chin - nose_base) / (nose_base - brow)),
        "eye_height": float((eyes - brow) / (chin - brow)),
        "height_to_width": float((chin - brow) / width),
    }


# --- Reading and writing images ---------------------------------------------------
def decode_rgb(data: bytes) -> np.ndarray:
    """A stored (normalised) photo's bytes as an upright RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def encode_jpeg(image: np.ndarray) -> bytes:
    """An RGB array as JPEG bytes, ready for the upload normalisation."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(out, format="JPEG", quality=92)
    return out.getvalue()
