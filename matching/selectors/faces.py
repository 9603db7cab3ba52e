"""The faces of one person or many, as matching compares them, and faces to embed again."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.db.models import Q

from matching.faces import current_model_version
from matching.models import Face, Side
from matching.selectors.search import centring_version_current


def faces_of_person(
    *, side: str, owner_id: int, searchable_only: bool = True, model_version: str | None = None,
    centring_version: int | None = None,
) -> dict[int, tuple[np.ndarray, float | None]]:
    """Face id → (embedding, age in photo) for every embedded face of one case or posting
    of ``model_version`` and ``centring_version`` (by default the current ones)."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    model_version = model_version or current_model_version()
    faces = Face.objects.filter(
        **{owner_field: owner_id}, embedding__isnull=False, model_version=model_version,
        centring_version=(centring_version_current(model_version) if centring_version is None
                          else centring_version),
    )
    if searchable_only:
        faces = faces.filter(searchable=True)
    return {
        face_id: (np.asarray(embedding, dtype=np.float64), age)
        for face_id, embedding, age in faces.values_list("id", "embedding", "age_in_photo")
    }


def faces_of_people(
    *, side: str, owner_ids: Iterable[int], model_version: str | None = None,
    centring_version: int | None = None,
) -> dict[int, dict[int, tuple[np.ndarray, float | None]]]:
    """``faces_of_person`` for many people in one query: owner id → faces."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    result: dict[int, dict[int, tuple[np.ndarray, float | None]]] = {}
    model_version = model_version or current_model_version()
    rows = Face.objects.filter(
        **{f"{owner_field}__in": list(owner_ids)}, embedding__isnull=False, searchable=True,
        model_version=model_version,
        centring_version=(centring_version_current(model_version) if centring_version is None
                          else centring_version),
    ).values_list(owner_field, "id", "embedding", "age_in_photo")
    for owner_id, face_id, embedding, age in rows:
        result.setdefault(owner_id, {})[face_id] = (np.asarray(embedding, dtype=np.float64), age)
    return result


def owners_waiting_for_reindex(
    *, side: str, owner_ids: Iterable[int], model_version: str,
    centring_version: int | None = None,
) -> set[int]:
    """The cases (or postings) among ``owner_ids`` with a searchable face of another version
    than ``model_version`` or of another centring (re-centring reaches it soon): a person is
    matched once all their faces are on one version."""
    owner_field = "photo__case_id" if side == Side.CASE else "photo__seeker_posting_id"
    if centring_version is None:
        centring_version = centring_version_current(model_version)
    return set(Face.objects.filter(
        **{f"{owner_field}__in": list(owner_ids)}, embedding__isnull=False, searchable=True
    ).exclude(model_version=model_version, centring_version=centring_version).values_list(
        owner_field, flat=True).distinct())


def faces_needing_embedding(*, model_version: str, after_id: int = 0, limit: int | None = 100):
    """Faces to embed again with ``model_version``, in id order (``reindex``).

    Those embedded by another version, and picked faces still waiting for an
    embedding; boxes waiting for a person to pick one are left alone.
    """
    faces = Face.objects.filter(id__gt=after_id).filter(
        Q(embedding__isnull=False) & ~Q(model_version=model_version)
        | Q(embedding__isnull=True, picked_by__isnull=False)
    ).select_related("photo").order_by("id")
    return faces if limit is None else faces[:limit]
