"""Matching's jobs on the queues. Called from ``transaction.on_commit`` by services.

How a job is queued, retried and found alive is ``reunion.queueing``'s; here each job's
queue, function, id and time limit. Job ids are derived from the database row they
serve, and each is queued once (``reunion.queueing.enqueue_once``).
"""

from __future__ import annotations

from django.conf import settings

from reunion.queueing import enqueue, enqueue_once

#: Seconds before a job is considered stuck; the heartbeat (and so abandonment) follows it.
PHOTO_JOB_TIMEOUT = 600
MATCH_JOB_TIMEOUT = 180


def enqueue_photo_processing(match_job_id: int, photo_id: int) -> str:
    return enqueue_once(
        settings.FACE_QUEUE, "matching.jobs.process_photo", match_job_id, photo_id,
        job_id=f"process-photo-{match_job_id}", timeout=PHOTO_JOB_TIMEOUT,
    )


def enqueue_bulk_photo_processing(match_job_id: int, photo_id: int) -> str:
    """A photo of a partner's bulk import: on its own queue, which workers take after the
    others, so a family's upload never waits behind thousands of imported photos."""
    return enqueue_once(
        settings.FACE_BULK_QUEUE, "matching.jobs.process_photo", match_job_id, photo_id,
        job_id=f"process-photo-{match_job_id}", timeout=PHOTO_JOB_TIMEOUT,
    )


def enqueue_face_embedding(match_job_id: int, face_id: int) -> str:
    """A picked (or reindexed) face's region, embedded on the face queue where the model lives."""
    return enqueue_once(
        settings.FACE_QUEUE, "matching.jobs.embed_face", match_job_id, face_id,
        job_id=f"embed-face-{match_job_id}", timeout=PHOTO_JOB_TIMEOUT,
    )


def enqueue_face_matching(match_job_id: int, face_id: int) -> str:
    return enqueue_once(
        settings.MATCH_QUEUE, "matching.jobs.match_face", match_job_id, face_id,
        job_id=f"match-face-{match_job_id}", timeout=MATCH_JOB_TIMEOUT,
    )


def enqueue_proposal_announcement(audit_entry_id: int, candidate_id: int, created: bool) -> str:
    """Queues what a proposal tells the volunteers, for a new pair and a known one alike, so
    that the proposal's reply does the same work either way (docs/PRIVACY.md)."""
    return enqueue_once(
        settings.MATCH_QUEUE, "matching.jobs.announce_proposal", candidate_id, int(created),
        job_id=f"proposal-{audit_entry_id}", timeout=MATCH_JOB_TIMEOUT,
    )


def enqueue_outcome_calibration() -> str:
    """The refit of every face model version's outcome calibration (one job at a time)."""
    return enqueue(
        settings.MATCH_QUEUE, "matching.jobs.refit_outcome_calibrations",
        job_id="refit-outcome-calibrations", timeout=MATCH_JOB_TIMEOUT,
    )
