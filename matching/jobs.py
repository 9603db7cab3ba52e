"""RQ entry points. Each takes ids, and calls one service that re-reads the rows."""

from __future__ import annotations

import os

from matching import faces, services


def process_photo(match_job_id: int, photo_id: int) -> dict:
    face_ids = services.photo_process(match_job_id=match_job_id, photo_id=photo_id)
    # The process id and load count let operators (and tests) see the model stays warm.
    return {"face_ids": face_ids, "pid": os.getpid(), "model_loads": faces.load_count()}


def embed_face(match_job_id: int, face_id: int) -> dict:
    embedded = services.face_embed(match_job_id=match_job_id, face_id=face_id)
    return {"face_id": embedded, "pid": os.getpid(), "model_loads": faces.load_count()}


def match_face(match_job_id: int, face_id: int) -> dict:
    candidate_ids = services.face_match(match_job_id=match_job_id, face_id=face_id)
    return {"candidate_ids": candidate_ids, "pid": os.getpid()}


def refit_outcome_calibrations() -> dict:
    written = services.outcome_calibrations_refit(actor=None)
    return {"calibrations": [row.pk for row in written]}


def announce_proposal(candidate_id: int, created: int) -> dict:
    announced = services.candidate_announce_proposal(candidate_id=candidate_id,
                                                     created=bool(created))
    return {"announced": announced}
