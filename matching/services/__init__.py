"""Matching operations that change state, one module per stage.

Jobs call these with ids; each re-reads its rows, does its work inside
``transaction.atomic`` and enqueues follow-up work with ``on_commit``. Every
step is idempotent: running a job twice (an RQ retry after a worker died,
``rematch``, ``reconcile``) leaves the same rows as running it once.

The flow, module by module:

- ``match_jobs``: the rows that mirror each run; scheduling face processing and matching;
- ``faces``: detect and embed a photo's face, or embed the face a person picked;
- ``facts``: the facts faces carry for filtered search, kept in step;
- ``face_matching``: search the other side, rank, record candidates;
- ``candidates``: recording and ending candidates, and who may act on one;
- ``review``: claim, release, decide; ``dna``: DNA tests and reunions;
- ``estimates``: Reunion's age-progressed estimates; ``reconcile``: lost work queued again;
- ``calibration``: the outcome calibration refitted from decisions and DNA results;
- ``centring``: the age groups' mean embeddings, and faces re-centred on them;
- ``csls``: each face's hubness ``r`` (CSLS), taken by its match job and the upkeep.
"""

from matching.services.calibration import (
    outcome_calibrations_refit,
    outcome_calibrations_refit_if_due,
    outcome_calibrations_schedule_refit,
)
from matching.services.candidates import (
    END_REASONS,
    OPEN_CANDIDATE_STATUSES,
    ReviewRefused,
    candidate_record,
    candidates_end,
)
from matching.services.centring import (
    centring_apply,
    centring_update,
    faces_recentre,
    faces_waiting_for_recentre,
)
from matching.services.csls import (
    csls_update,
    face_csls_take,
    faces_csls_refresh,
    faces_waiting_for_csls,
)
from matching.services.dna import (
    case_mark_reunited,
    case_report_found,
    dna_guidance_save,
    dna_test_record_result,
    dna_test_record_samples,
    dna_test_request,
    seeker_posting_report_found,
)
from matching.services.estimates import photo_estimate_age_progression, photo_set_estimate_use
from matching.services.face_matching import case_rematch, face_match, faces_rematch_all
from matching.services.faces import face_embed, face_pick, face_reembed, photo_process
from matching.services.facts import faces_refresh_facts
from matching.services.match_jobs import face_schedule_matching, photo_schedule_processing
from matching.services.messages import match_message_post
from matching.services.proposals import candidate_announce_proposal
from matching.services.reconcile import RECONCILE_MAX_ATTEMPTS, reconcile_pending
from matching.services.retention import retention_apply
from matching.services.review import candidate_claim, candidate_release, candidate_review

__all__ = [
    "END_REASONS",
    "OPEN_CANDIDATE_STATUSES",
    "RECONCILE_MAX_ATTEMPTS",
    "ReviewRefused",
    "candidate_announce_proposal",
    "candidate_claim",
    "candidate_record",
    "candidate_release",
    "candidate_review",
    "candidates_end",
    "case_mark_reunited",
    "case_rematch",
    "case_report_found",
    "centring_apply",
    "centring_update",
    "csls_update",
    "dna_guidance_save",
    "dna_test_record_result",
    "dna_test_record_samples",
    "dna_test_request",
    "face_csls_take",
    "face_embed",
    "face_match",
    "face_pick",
    "face_reembed",
    "face_schedule_matching",
    "faces_csls_refresh",
    "faces_recentre",
    "faces_refresh_facts",
    "faces_rematch_all",
    "faces_waiting_for_csls",
    "faces_waiting_for_recentre",
    "match_message_post",
    "outcome_calibrations_refit",
    "outcome_calibrations_refit_if_due",
    "outcome_calibrations_schedule_refit",
    "photo_estimate_age_progression",
    "photo_process",
    "photo_schedule_processing",
    "photo_set_estimate_use",
    "reconcile_pending",
    "retention_apply",
    "seeker_posting_report_found",
]
