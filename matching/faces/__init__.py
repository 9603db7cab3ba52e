"""The face interface: detect faces, embed a face, crop it, compare two embeddings.

Everything outside this package talks to faces through these names; the model
itself lives in ``deepface_engine``, the one module that imports DeepFace, and is
loaded once per process by ``get_engine()``. Searching embeddings is pgvector's
job (``matching.selectors``). Nothing here touches the database.

- ``base``: boxes, detected faces, the engine's shape, cosine distance;
- ``engine``: the process's engine; ``deepface_engine``: DeepFace's Dlib model;
- ``decoding``: stored JPEGs decoded at the size each step needs;
- ``pipeline``: detect on a small copy, embed from the full-size region;
- ``crops``: the face crops people look at.
"""

from matching.faces.base import (
    EMBED_CROP_MARGIN,
    EMBED_CROP_SIDE,
    Box,
    DetectedFace,
    FaceEngine,
    cosine_distance,
)
from matching.faces.crops import CROP_SIDE, aligned_face_crop, face_crop
from matching.faces.engine import get_engine, load_count
from matching.faces.pipeline import DETECT_DECODE_SIDE, detect_and_embed, embed_region

__all__ = [
    "CROP_SIDE", "DETECT_DECODE_SIDE", "EMBED_CROP_MARGIN", "EMBED_CROP_SIDE", "Box",
    "DetectedFace", "FaceEngine", "aligned_face_crop", "cosine_distance", "detect_and_embed",
    "embed_region", "face_crop", "get_engine", "load_count",
]
