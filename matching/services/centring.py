"""Centring: the age groups' means taken from the portal's own faces, and faces moved to them.

Each face keeps its raw embeddings (``embedding_raw``, ``embedding_dlib_raw``); the
searched ones are centred on its age group's mean (``matching.centring``) with the
current ``Centring``. ``centring_update`` (the workers' upkeep) writes a new centring
when a group first holds enough faces of enough people or has doubled since the current
one, then re-centres the faces left on an older one, in batches that each commit
(``faces_recentre``; also ``manage.py reindex --recentre``): no model is needed, and an
interrupted run continues where it stopped. Each re-centred searchable face is matched
again; until then matching compares it with nothing (``Face.centring_version``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from families.audit import audit_record
from families.models import User
from matching import centring as maths
from matching.faces import current_model_version
from matching.models import Centring, Face
from matching.selectors.search import centring_current, centring_version_current
from matching.services.match_jobs import face_schedule_matching

logger = logging.getLogger(__name__)

#: Two workers' upkeeps never write two centrings at once.
_LOCK = 0x43_45_4E_54  # "CENT"


@dataclass(frozen=True)
class GroupStats:
    """One age group's searchable faces of a model version: how many, of how many people,
    and their raw embeddings' mean per model."""

    faces: int
    people: int
    means: dict[str, list[float] | None]


_GROUP_SQL = """
SELECT
    CASE WHEN face.age_in_photo IS NULL
              THEN CASE WHEN face.side = 'case' THEN 'young' ELSE 'adult' END
         WHEN face.age_in_photo < %(adult_from)s THEN 'young'
         ELSE 'adult' END AS grp,
    COUNT(*),
    COUNT(DISTINCT (face.side, COALESCE(photo.case_id, photo.seeker_posting_id))),
    {means}
FROM matching_face AS face JOIN families_photo AS photo ON photo.id = face.photo_id
WHERE face.searchable AND face.model_version = %(model_version)s
  AND face.embedding_raw IS NOT NULL
GROUP BY grp
"""


def centring_group_stats(*, model_version: str, means: bool = True) -> dict[str, GroupStats]:
    """Each age group's counts and (``means``) mean raw embeddings (PostgreSQL averages the
    vectors; without ``means`` the upkeep's look is a count)."""
    columns = ("AVG(face.embedding_raw)::text, AVG(face.embedding_dlib_raw)::text" if means
               else "NULL, NULL")
    with connection.cursor() as cursor:
        cursor.execute(_GROUP_SQL.format(means=columns),
                       {"adult_from": maths.ADULT_FROM_AGE, "model_version": model_version})
        rows = cursor.fetchall()
    stats = {group: GroupStats(0, 0, {model: None for model in maths.MODELS})
             for group in maths.GROUPS}
    for group, faces, people, sface, dlib in rows:
        stats[group] = GroupStats(faces, people, {
            "sface": json.loads(sface) if sface else None,
            "dlib": json.loads(dlib) if dlib else None,
        })
    return stats


def _eligible(stats: GroupStats) -> bool:
    return maths.eligible(stats.faces, stats.people, min_faces=settings.CENTRING_MIN_FACES,
                          min_people=settings.CENTRING_MIN_PEOPLE)


def centring_due(current: Centring | None, stats: dict[str, GroupStats]) -> bool:
    """A new centring is due when a group is eligible and the current centring leaves it
    plain, or it holds twice the faces the current centring's mean was taken over."""
    for group, group_stats in stats.items():
        if not _eligible(group_stats):
            continue
        if current is None or not current.centres(group):
            return True
        taken_over = int((current.counts.get(group) or {}).get("faces") or 0)
        if group_stats.faces >= 2 * taken_over:
            return True
    return False


def centring_fields(
    *, sface: Any, dlib: Any, age_in_photo: float | None, side: str,
    centring: Centring | None,
) -> dict[str, Any]:
    """A face's stored vectors from its raw ones: raw kept, searched ones centred on the
    face's age group with ``centring`` (plain where it has no mean for that group)."""
    group = maths.age_group(age_in_photo, side)
    means = centring.means if centring is not None else {}
    return {
        "embedding_raw": sface,
        "embedding_dlib_raw": dlib,
        "embedding": maths.centre(sface, maths.group_mean(means, "sface", group)).astype(
            np.float32),
        "embedding_dlib": None if dlib is None else maths.centre(
            dlib, maths.group_mean(means, "dlib", group)).astype(np.float32),
        "centring_version": centring.pk if centring is not None else 0,
    }


def face_centre(face: Face, centring: Centring | None) -> bool:
    """Sets ``face``'s searched vectors from its raw ones with ``centring`` (not saved).

    ``False`` when the face has no raw embedding to centre."""
    if face.embedding_raw is None:
        return False
    for name, value in centring_fields(
        sface=face.embedding_raw, dlib=face.embedding_dlib_raw, age_in_photo=face.age_in_photo,
        side=face.side, centring=centring,
    ).items():
        setattr(face, name, value)
    return True


def centring_apply(*, actor: User | None = None, model_version: str | None = None
                   ) -> Centring | None:
    """Writes a new centring from the faces now searchable when one is due (audit
    ``centring.applied``); ``None`` when none is. The faces move to it through
    ``faces_recentre``."""
    model_version = model_version or current_model_version()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        current = centring_current(model_version)
        if not centring_due(current, centring_group_stats(model_version=model_version,
                                                          means=False)):
            return None
        stats = centring_group_stats(model_version=model_version)
        means: dict[str, dict[str, list[float] | None]] = {model: {} for model in maths.MODELS}
        for group, group_stats in stats.items():
            for model in maths.MODELS:
                means[model][group] = group_stats.means[model] if _eligible(group_stats) else None
        centring = Centring.objects.create(
            model_version=model_version, means=means,
            counts={group: {"faces": s.faces, "people": s.people} for group, s in stats.items()},
        )
        audit_record(actor=actor, action="centring.applied", obj=centring, detail={
            "model_version": model_version, "counts": centring.counts,
            "centred": [group for group in maths.GROUPS if centring.centres(group)],
            "previous": current.pk if current is not None else 0,
        })
    logger.info("centring %s applied: %s", centring.pk, centring.counts)
    return centring


def faces_recentre(
    *, actor: User | None = None, batch: int | None = None, limit: int | None = None,
    max_seconds: float | None = None,
) -> int:
    """Moves faces of the current model version left on another centring to the current
    one, from their raw embeddings, a batch per transaction; each searchable face's
    matching is queued. Stops after ``limit`` faces or ``max_seconds``; run again, it
    continues. Returns how many faces it moved."""
    batch = batch or settings.CENTRING_BATCH
    model_version = current_model_version()
    started = time.monotonic()
    moved = 0
    while limit is None or moved < limit:
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        with transaction.atomic():
            centring = centring_current(model_version)
            version = centring.pk if centring is not None else 0
            size = batch if limit is None else min(batch, limit - moved)
            faces = list(
                Face.objects.select_for_update(skip_locked=True)
                .filter(model_version=model_version, embedding_raw__isnull=False)
                .exclude(centring_version=version).order_by("pk")[:size]
            )
            if not faces:
                break
            for face in faces:
                face_centre(face, centring)
            Face.objects.bulk_update(
                faces, ["embedding", "embedding_dlib", "centring_version"]
            )
            for face in faces:
                face_schedule_matching(actor=actor, face=face)
        moved += len(faces)
    if moved:
        logger.info("%d face(s) re-centred", moved)
    return moved


def faces_waiting_for_recentre() -> int:
    """How many faces of the current model version are on another centring."""
    model_version = current_model_version()
    return Face.objects.filter(
        model_version=model_version, embedding_raw__isnull=False
    ).exclude(centring_version=centring_version_current(model_version)).count()


def centring_update(*, actor: User | None = None, max_seconds: float = 20.0) -> int:
    """The upkeep's step: a new centring when one is due, then up to ``max_seconds`` of
    re-centring (the next upkeep continues). Returns how many faces were re-centred."""
    centring_apply(actor=actor)
    return faces_recentre(actor=actor, max_seconds=max_seconds)
