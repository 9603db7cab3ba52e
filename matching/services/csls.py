"""Each face's ``r`` for hubness reduction (CSLS, ``matching.csls``): taken and kept fresh.

A face's ``r`` is its mean cosine similarity to its ``MATCH_CSLS_K`` nearest searchable
faces of the other side that could be the same person (the facts its match job's search
filters on), of its model version and centring. Its match job takes it from the search it
runs anyway (``face_csls_take``); the workers' upkeep (``csls_update``) takes it for the
faces whose ``r`` is missing or was taken under another model version or centring, in
batches that each commit: an interrupted run continues where it stopped. Stored whatever
``MATCH_CSLS`` says, so switching it on finds every ``r`` ready.

An ``r`` changes as faces arrive on the other side: each face keeps the distance of its
``k``-th nearest (``csls_kth``), and a new face's match job clears the ``r`` of the faces
its search finds that it comes nearer to than that, and of those that could be the same
person which had fewer than ``k``; the upkeep takes those again. Faces leaving matching
are not followed: every ``r`` is taken afresh at each new centring (a group doubled),
when every face is re-centred and matched again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from families.models import User
from matching import csls
from matching.faces import current_model_version
from matching.models import Face
from matching.selectors.search import (
    Neighbour,
    PersonFacts,
    centring_version_current,
    compatible_sexes,
    faces_nearest,
    other_side,
)

logger = logging.getLogger(__name__)


def _facts_across(face: Face) -> PersonFacts:
    """What the face's own search filters on: the other side, the face's facts."""
    return PersonFacts(
        side=other_side(face.side), sex=face.sex,
        birth_year_min=face.birth_year_min, birth_year_max=face.birth_year_max,
    )


def csls_r_of_face(face: Face, *, model_version: str, centring_version: int,
                   nearest: Sequence[float] | None = None) -> tuple[float, float | None]:
    """``face``'s ``r`` and its ``k``-th nearest distance (``None``: fewer than ``k``): from
    ``nearest`` (its search's distances, closest first) when they hold at least
    ``MATCH_CSLS_K``, else from a search for its ``MATCH_CSLS_K`` nearest at any distance
    (the match job's search stops at the loosest candidate distance)."""
    k = settings.MATCH_CSLS_K
    if nearest is None or len(nearest) < k:
        nearest = [n.distance for n in faces_nearest(
            embedding=face.embedding, facts=_facts_across(face), max_distance=2.0, limit=k,
            model_version=model_version, centring_version=centring_version,
        )]
    return csls.r_from_distances(nearest, k), csls.kth_distance(nearest, k)


def face_csls_take(face: Face, *, model_version: str, centring_version: int,
                   neighbours: Sequence[Neighbour] | None = None) -> float:
    """Takes and stores ``face``'s ``r`` with the versions it was taken under (no audit:
    derived from the embeddings, as the centred vectors are), from ``neighbours`` (its
    search, closest first) where they suffice. The faces among them whose ``r`` the face
    changes (it is nearer than their ``k``-th) lose theirs: the upkeep takes it again.
    Returns the face's ``r``."""
    r, kth = csls_r_of_face(
        face, model_version=model_version, centring_version=centring_version,
        nearest=None if neighbours is None else [n.distance for n in neighbours])
    Face.objects.filter(pk=face.pk).update(
        csls_r=r, csls_kth=kth, csls_model_version=model_version,
        csls_centring_version=centring_version)
    face.csls_r, face.csls_kth, face.csls_model_version = r, kth, model_version
    face.csls_centring_version = centring_version
    if neighbours is not None:
        _csls_clear_changed(face, neighbours, model_version=model_version,
                            centring_version=centring_version)
    return r


def _csls_clear_changed(face: Face, neighbours: Sequence[Neighbour], *,
                        model_version: str, centring_version: int) -> None:
    """Clears the ``r`` of the faces of the other side that ``face`` changes: those of its
    ``neighbours`` it is nearer to than their ``k``-th, and every face that could be the
    same person which had fewer than ``k`` (the search stops at the loosest distance;
    whether a face could be the person is symmetric, so it would have found this one)."""
    facts = _facts_across(face)
    Face.objects.filter(
        side=facts.side, sex__in=compatible_sexes(face.sex),
        birth_year_min__lte=face.birth_year_max, birth_year_max__gte=face.birth_year_min,
        searchable=True, model_version=model_version, centring_version=centring_version,
        csls_r__isnull=False, csls_kth__isnull=True,
    ).update(csls_r=None)
    distance = {n.face_id: n.distance for n in neighbours}
    changed = [
        face_id for face_id, their_kth in Face.objects.filter(
            pk__in=list(distance), csls_r__isnull=False, csls_kth__isnull=False,
        ).values_list("pk", "csls_kth")
        if csls.r_changed_by(distance[face_id], their_kth)
    ]
    if changed:
        Face.objects.filter(pk__in=changed).update(csls_r=None, csls_kth=None)


def _stale(model_version: str, centring_version: int):
    """Searchable faces of these versions whose ``r`` is missing or of other versions."""
    return Face.objects.filter(
        searchable=True, embedding__isnull=False, model_version=model_version,
        centring_version=centring_version,
    ).filter(
        Q(csls_r__isnull=True) | Q(csls_centring_version__isnull=True)
        | ~Q(csls_model_version=model_version) | ~Q(csls_centring_version=centring_version)
    )


def faces_waiting_for_csls() -> int:
    """How many searchable faces of the current versions have no current ``r``."""
    model_version = current_model_version()
    return _stale(model_version, centring_version_current(model_version)).count()


def faces_csls_refresh(
    *, actor: User | None = None, batch: int | None = None, limit: int | None = None,
    max_seconds: float | None = None,
) -> int:
    """Takes ``r`` for the faces of the current versions whose ``r`` is missing or stale,
    in id order, a batch per transaction. Stops after ``limit`` faces or ``max_seconds``;
    run again, it continues. Returns how many faces it took ``r`` for."""
    batch = batch or settings.MATCH_CSLS_BATCH
    model_version = current_model_version()
    started = time.monotonic()
    done = 0
    last_id = 0
    while limit is None or done < limit:
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        centring_version = centring_version_current(model_version)
        size = batch if limit is None else min(batch, limit - done)
        faces = list(_stale(model_version, centring_version).filter(pk__gt=last_id)
                     .order_by("pk")[:size])
        if not faces:
            break
        with transaction.atomic():
            for face in faces:
                r, kth = csls_r_of_face(face, model_version=model_version,
                                        centring_version=centring_version)
                # Only where the face is still of these versions: one re-centred meanwhile
                # keeps its stale r until its own match job (or the next run) takes it.
                Face.objects.filter(
                    pk=face.pk, model_version=model_version, centring_version=centring_version,
                ).update(csls_r=r, csls_kth=kth, csls_model_version=model_version,
                         csls_centring_version=centring_version)
        done += len(faces)
        last_id = faces[-1].pk
    if done:
        logger.info("%d face(s) took their hubness r", done)
    return done


def csls_update(*, actor: User | None = None, max_seconds: float = 10.0) -> int:
    """The upkeep's step: up to ``max_seconds`` of ``faces_csls_refresh`` (the next upkeep
    continues). Returns how many faces took their ``r``."""
    return faces_csls_refresh(actor=actor, max_seconds=max_seconds)
