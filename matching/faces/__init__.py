"""The face interface: detect faces, embed a face, crop it, compare two embeddings.

Everything outside this package talks to faces through these names; the model
itself lives in ``deepface_engine``, the one module that imports DeepFace, and is
loaded once per process by ``get_engine()``. Searching embeddings is pgvector's
job (``matching.selectors.search``). Nothing here touches the database.

- ``base``: boxes, detected faces, the engine's shape, cosine distance;
- ``engine``: the process's engine; ``deepface_engine``: DeepFace's SFace and Dlib, YuNet and dlib;
- ``decoding``: stored JPEGs decoded at the size each step needs;
- ``pipeline``: detect on a small copy (looking again turned and larger when it finds
  nothing), embed from the full-size region;
- ``crops``: the face crops people look at.
"""

from matching.faces.base import (
    EMBED_CROP_MARGIN,
    EMBED_CROP_SIDE,
    Box,
    CanonicalCrops,
    DetectedFace,
    Embeddings,
    FaceEngine,
    cosine_distance,
    embedding_region,
    turn_box,
    turn_point,
)
from matching.faces.crops import CROP_SIDE, aligned_face_crop, face_crop
from matching.faces.engine import current_model_version, get_engine, load_count
from matching.faces.pipeline import (
    DETECT_DECODE_SIDE,
    RETRY_DECODE_SIDE,
    detect_and_embed,
    detect_faces,
    embed_region,
    upright_region,
)

__all__ = [
    "CROP_SIDE",
    "DETECT_DECODE_SIDE",
    "EMBED_CROP_MARGIN",
    "EMBED_CROP_SIDE",
    "RETRY_DECODE_SIDE",
    "Box",
    "CanonicalCrops",
    "DetectedFace",
    "Embeddings",
    "FaceEngine",
    "aligned_face_crop",
    "cosine_distance",
    "current_model_version",
    "detect_and_embed",
    "detect_faces",
    "embed_region",
    "embedding_region",
    "face_crop",
    "get_engine",
    "load_count",
    "turn_box",
    "turn_point",
    "upright_region",
]
