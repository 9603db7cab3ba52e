"""Photos embedded with the workers' code, Reunion's estimates of the young ones, and the
cache that spares a rerun the face pipeline."""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from families.uploads import normalise_photo
from matching import age_progression, faces
from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto
from matching.faces import detect_and_embed

#: Ages assumed for age progression when the labels give only age groups.
ASSUMED_YOUNG_AGE = 4.0
ASSUMED_ADULT_AGE = 25.0


def embed_photo_bytes(engine: faces.FaceEngine, data: bytes) -> np.ndarray | None:
    """The searched embedding (SFace) a worker would store for this upload (largest face),
    or ``None``."""
    try:
        stored = normalise_photo(data).content
    except ValidationError:
        return None
    _detected, embedding = detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
    return None if embedding is None else embedding.sface


def embed_both(
    engine: faces.FaceEngine, data: bytes
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both stored embeddings of an upload's largest face: (SFace, Dlib chip), or Nones."""
    try:
        stored = normalise_photo(data).content
    except ValidationError:
        return None, None
    _detected, vectors = detect_and_embed(engine, io.BytesIO(stored), pick_largest=True)
    return (None, None) if vectors is None else (vectors.sface, vectors.dlib)


def progressed_photo_bytes(data: bytes, *, source_age: float, target_age: float) -> bytes | None:
    """Reunion's estimate of an uploaded photo at ``target_age``, stored as uploads are."""
    try:
        stored = normalise_photo(data).content
        rgb = age_progression.decode_rgb(stored)
        estimate = age_progression.age_progress(rgb, source_age=source_age, target_age=target_age)
    except (ValidationError, age_progression.NoFaceFound):
        return None
    return normalise_photo(age_progression.encode_jpeg(estimate.image)).content


@dataclass
class Embedded:
    """Every labelled photo's embedding (``None``: no face found), keyed by position."""

    photos: list[LabelledPhoto]
    embeddings: list[np.ndarray | None]
    progressed: dict[int, np.ndarray | None] = field(default_factory=dict)
    progression_ages: tuple[float, float] | None = None


class EmbeddingCache:
    """Embeddings already computed, one small file each, keyed by the photo bytes' sha256
    and the face engine's model version (a new version starts an empty folder).

    A rerun of the evaluation with other ranking parameters reads them back instead of
    running the face pipeline again. ``None`` (no face found) is kept too.
    """

    def __init__(self, folder: Path, model_version: str) -> None:
        self.model_version = model_version
        version = hashlib.sha256(model_version.encode()).hexdigest()[:16]
        self.folder = Path(folder) / version
        self.hits = self.misses = 0

    def key(self, data: bytes, *extra: object) -> str:
        digest = hashlib.sha256(data)
        for part in extra:
            digest.update(b"\0" + str(part).encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        """(found, embedding): an empty array on disk means no face was found."""
        try:
            vector = np.load(self._path(key), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            self.misses += 1
            return False, None
        self.hits += 1
        return True, (vector if vector.size else None)

    def put(self, key: str, embedding: np.ndarray | None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            np.save(handle, np.zeros(0) if embedding is None else np.asarray(embedding))
        os.replace(temporary, path)  # whole files only, even with two runs at once

    def embedding(self, key: str, compute: Callable[[], np.ndarray | None]) -> np.ndarray | None:
        found, vector = self.get(key)
        if not found:
            vector = compute()
            self.put(key, vector)
        return vector


def default_cache_folder() -> Path:
    """``<data folder>/cache/embeddings``: outside the repository, beside the database."""
    return Path(settings.DATA_DIR) / "cache" / "embeddings"


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-cache`` and ``--cache-dir``, for the commands that embed a folder of photos."""
    parser.add_argument(
        "--no-cache", action="store_true",
        help="Embed every photo again instead of reading the embeddings cached by "
             "photo (sha256 of its bytes) and model version.",
    )
    parser.add_argument(
        "--cache-dir", type=Path,
        help="Where the embeddings are cached (default: the data folder's "
             "cache/embeddings).",
    )


def cache_from_options(options: dict[str, object]) -> EmbeddingCache | None:
    """The cache ``add_cache_arguments``' options ask for (``None`` with ``--no-cache``)."""
    if options["no_cache"]:
        return None
    return EmbeddingCache(Path(options["cache_dir"] or default_cache_folder()),
                          faces.current_model_version())


def _age_progression_revision() -> str:
    """Estimates are cached under the age-progression code that made them."""
    return hashlib.sha256(Path(age_progression.__file__).read_bytes()).hexdigest()[:16]


def embed_all(
    faces_dir: Path,
    photos: list[LabelledPhoto],
    *,
    engine: faces.FaceEngine | None = None,
    with_progression: bool = True,
    young_age: float | None = None,
    adult_age: float | None = None,
    progress: Callable[[str], None] | None = None,
    cache: EmbeddingCache | None = None,
) -> Embedded:
    """Embeds every photo, and Reunion's age-progressed estimate of every young one.

    ``engine`` defaults to the process's engine, loaded only if something is not in
    ``cache`` (whose model version must be the engine's).
    """
    loaded: list[faces.FaceEngine] = [engine] if engine is not None else []

    def the_engine() -> faces.FaceEngine:
        if not loaded:
            loaded.append(faces.get_engine())
        return loaded[0]

    def embed(data: bytes) -> np.ndarray | None:
        if cache is None:
            return embed_photo_bytes(the_engine(), data)
        found, vector = cache.get(cache.key(data))
        if found:
            return vector
        # Both models come from one pass: the pipelines' table reads Dlib's from the cache.
        sface, dlib = embed_both(the_engine(), data)
        cache.put(cache.key(data), sface)
        cache.put(cache.key(data, "dlib-chip"), dlib)
        return sface

    embeddings = []
    for number, photo in enumerate(photos, start=1):
        data = (faces_dir / photo.file).read_bytes()
        embeddings.append(embed(data))
        if progress:
            progress(f"embedded {number}/{len(photos)} {photo.file}")
    result = Embedded(photos=photos, embeddings=embeddings)
    if not with_progression:
        return result
    adult_ages = [p.age for p in photos if p.group == ADULT and p.age is not None]
    target = adult_age or (statistics.median(adult_ages) if adult_ages else ASSUMED_ADULT_AGE)
    revision = _age_progression_revision()
    for index, photo in enumerate(photos):
        if photo.group != YOUNG or embeddings[index] is None:
            continue
        source = young_age if young_age is not None else photo.age
        source = ASSUMED_YOUNG_AGE if source is None else source
        data = (faces_dir / photo.file).read_bytes()
        key = ("age-progressed", source, max(target, source), revision)

        def estimate_embedding(data=data, source=source) -> np.ndarray | None:
            estimate = progressed_photo_bytes(
                data, source_age=source, target_age=max(target, source)
            )
            return embed_photo_bytes(the_engine(), estimate) if estimate is not None else None

        result.progressed[index] = (
            estimate_embedding() if cache is None
            else cache.embedding(cache.key(data, *key), estimate_embedding)
        )
        if progress:
            progress(f"age-progressed {photo.file} from {source:g} to {max(target, source):g}")
    labelled_young_ages = any(p.age is not None for p in photos if p.group == YOUNG)
    from_age = young_age if young_age is not None else (
        None if labelled_young_ages else ASSUMED_YOUNG_AGE
    )
    result.progression_ages = (from_age, target)
    return result


def embed_models(
    faces_dir: Path, photos: list[LabelledPhoto], *, cache: EmbeddingCache | None = None,
    engine: faces.FaceEngine | None = None,
) -> dict[str, list[np.ndarray | None]]:
    """Every photo's embedding by each model: ``sface`` and ``dlib_chip`` as a worker stores
    them (largest face), ``dlib_deepface`` through plain ``DeepFace.represent`` on the file
    where the engine still offers it (else absent from the result)."""
    loaded: list[faces.FaceEngine] = [engine] if engine is not None else []

    def the_engine() -> faces.FaceEngine:
        if not loaded:
            loaded.append(faces.get_engine())
        return loaded[0]

    def both(data: bytes) -> tuple[np.ndarray | None, np.ndarray | None]:
        return embed_both(the_engine(), data)

    def plain_vector(path: Path, data: bytes) -> tuple[bool, np.ndarray | None]:
        key = cache.key(data, "dlib-deepface") if cache is not None else ""
        if cache is not None:
            found, vector = cache.get(key)
            if found:
                return True, vector
        represent = getattr(the_engine(), "represent_plain", None)
        if represent is None:
            return False, None
        vector = represent(str(path))
        if cache is not None:
            cache.put(key, vector)
        return True, vector

    result: dict[str, list[np.ndarray | None]] = {"sface": [], "dlib_chip": []}
    plain: list[np.ndarray | None] | None = []
    for photo in photos:
        path = faces_dir / photo.file
        data = path.read_bytes()
        if cache is None:
            sface, dlib = both(data)
        else:
            computed: dict[str, np.ndarray | None] = {}

            def compute(name: str, data: bytes = data, computed=computed) -> np.ndarray | None:
                if not computed:
                    computed["sface"], computed["dlib_chip"] = both(data)
                return computed[name]

            sface = cache.embedding(cache.key(data), lambda: compute("sface"))
            dlib = cache.embedding(cache.key(data, "dlib-chip"), lambda: compute("dlib_chip"))
        result["sface"].append(sface)
        result["dlib_chip"].append(dlib)
        if plain is not None:
            computable, vector = plain_vector(path, data)
            if computable:
                plain.append(vector)
            else:
                plain = None
    if plain is not None:
        result["dlib_deepface"] = plain
    return result
