"""The face model's answers on identical inputs, computed once per test run.

Dozens of tests run the real face pipeline in this process on the same shared photos; each
would detect and embed them again, for the same answer. ``memoise_face_engine`` wraps the
engine's model calls (detection, canonical crops, both embeddings, the plain DeepFace
baseline) in a cache keyed by the model version, the call and a hash of its inputs' bytes:
the first call on given bytes runs the real model, a later one on identical bytes gets a
copy of that answer. Any other input (a photo turned, shrunk, re-encoded) misses and runs
the model. Worker processes started by the tests keep no such cache.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: The engine's methods that run a model; everything else the pipeline does is cheap.
MEMOISED_METHODS = ("detect", "canonical_crops", "embed_sface", "embed_dlib", "represent_plain")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


def _feed(digest: Any, value: object) -> None:
    """Hashes ``value``'s content: arrays by dtype, shape and bytes; the rest structurally."""
    if isinstance(value, np.ndarray):
        digest.update(f"array:{value.dtype.str}:{value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}:{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"dict:{len(value)}:".encode())
        for key in sorted(value):
            _feed(digest, key)
            _feed(digest, value[key])
    elif is_dataclass(value) and not isinstance(value, type):
        digest.update(f"{type(value).__name__}:".encode())
        for item in fields(value):
            _feed(digest, getattr(value, item.name))
    elif isinstance(value, (str, Path)) and str(value).startswith("/") and Path(value).is_file():
        # A photo handed by path (the plain baseline): its bytes, not its name.
        digest.update(b"file:" + Path(value).read_bytes())
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def cache_key(model_version: str, method: str, args: tuple, kwargs: dict) -> str:
    digest = hashlib.sha256(f"{model_version}\0{method}\0".encode())
    _feed(digest, args)
    _feed(digest, kwargs)
    return digest.hexdigest()


def _memoised(method: Callable[..., Any], name: str, store: dict[str, Any],
              stats: CacheStats) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = cache_key(self.model_version, name, args, kwargs)
        if key in store:
            stats.hits += 1
        else:
            stats.misses += 1
            store[key] = method(self, *args, **kwargs)
        return copy.deepcopy(store[key])

    call.__face_cache_original__ = method  # type: ignore[attr-defined]
    return call


@contextmanager
def memoise_face_engine(engine_class: type) -> Iterator[CacheStats]:
    """While inside, ``engine_class``'s model calls answer identical inputs from memory."""
    stats = CacheStats()
    store: dict[str, Any] = {}
    originals = {name: engine_class.__dict__[name] for name in MEMOISED_METHODS}
    try:
        for name, method in originals.items():
            setattr(engine_class, name, _memoised(method, name, store, stats))
        yield stats
    finally:
        for name, method in originals.items():
            setattr(engine_class, name, method)
