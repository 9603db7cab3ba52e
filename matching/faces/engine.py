"""The process's face engine: loaded once, kept warm.

Loading the model costs seconds, and TensorFlow must not be loaded in a
process that forks per job: the worker (``reunion.worker``) never forks.
"""

from __future__ import annotations

import threading

from matching.faces.base import FaceEngine

_engine: FaceEngine | None = None


_engine_lock = threading.Lock()


_load_count = 0


def get_engine() -> FaceEngine:
    """The process's engine, loading the model on first use."""
    global _engine, _load_count
    with _engine_lock:
        if _engine is None:
            from matching.faces.deepface_engine import DeepFaceEngine

            _engine = DeepFaceEngine()
            _load_count += 1
        return _engine


def load_count() -> int:
    """How many times this process loaded the model (1 in a healthy worker)."""
    return _load_count


def current_model_version() -> str:
    """The version the process's pipeline gives its embeddings, without loading the model:
    matching compares only faces of this version."""
    if _engine is not None:
        return _engine.model_version
    from matching.faces.deepface_engine import model_version

    return model_version()
