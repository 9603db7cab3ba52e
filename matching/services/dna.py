"""DNA tests: requested at a confirmation, samples, the result, and the reunion it decides.

No genetic data is stored: a DNA test holds its steps, dates, result and the
laboratory's reference. Only a DNA match reunites anyone.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import (
    MATCHABLE_STATUSES,
    CaseStatus,
    MissingChildCase,
    SeekerPosting,
    User,
)
from matching import notices
from matching.models import Candidate, DnaGuidance, DnaTest, Review
from matching.services.calibration import outcome_calibrations_schedule_refit
from matching.services.candidates import (
    ReviewRefused,
    candidates_end,
    locked_candidate,
    people_status_refresh,
    require_confirmed,
    require_volunteer,
)
from matching.services.facts import faces_refresh_facts


def dna_test_open(*, actor: User, candidate: Candidate, lab_reference: str = "") -> DnaTest:
    """Creates the candidate's DNA test, or starts a new round of an inconclusive one."""
    test, created = DnaTest.objects.get_or_create(
        candidate=candidate,
        defaults={"requested_by": actor, "lab_reference": lab_reference},
    )
    if not created:
        test.status = DnaTest.Status.REQUESTED
        test.result = ""
        test.lab_reference = lab_reference or test.lab_reference
        test.requested_by = actor
        test.requested_at = timezone.now()
        test.samples_collected_at = None
        test.result_at = None
        test.save()
    audit_record(actor=actor, action="dna_test.requested", obj=test,
                 detail={"candidate": candidate.pk, "lab_reference": test.lab_reference})
    return test


def dna_test_request(*, actor: User, candidate: Candidate, lab_reference: str = "") -> DnaTest:
    """Requests a new DNA test for a confirmed candidate (after an inconclusive result)."""
    require_volunteer(actor)
    with transaction.atomic():
        candidate = locked_candidate(candidate)
        require_confirmed(actor, candidate)
        existing = DnaTest.objects.filter(candidate=candidate).first()
        if existing is not None and existing.status != DnaTest.Status.RESULT:
            raise ReviewRefused(_("A DNA test is already under way for this candidate."))
        if existing is not None and existing.result != DnaTest.Result.INCONCLUSIVE:
            raise ReviewRefused(_("This DNA test already has a result."))
        test = dna_test_open(actor=actor, candidate=candidate, lab_reference=lab_reference)
        notices.dna_step(test, kind="dna_requested")
    return test


def dna_test_record_samples(
    *, actor: User, dna_test: DnaTest, collected_at: datetime | None = None,
    lab_reference: str = "",
) -> DnaTest:
    """Records that both samples reached the laboratory (no genetic data is stored)."""
    require_volunteer(actor)
    with transaction.atomic():
        test = DnaTest.objects.select_for_update().select_related(
            "candidate__case", "candidate__seeker_posting"
        ).get(pk=dna_test.pk)
        require_confirmed(actor, locked_candidate(test.candidate))
        if test.status != DnaTest.Status.REQUESTED:
            raise ReviewRefused(_("The samples of this DNA test were already recorded."))
        test.status = DnaTest.Status.SAMPLES_COLLECTED
        test.samples_collected_at = collected_at or timezone.now()
        test.lab_reference = lab_reference.strip() or test.lab_reference
        test.save(update_fields=["status", "samples_collected_at", "lab_reference"])
        audit_record(actor=actor, action="dna_test.samples_collected", obj=test,
                     detail={"candidate": test.candidate_id, "lab_reference": test.lab_reference})
        notices.dna_step(test, kind="dna_samples_collected")
    return test


def dna_test_record_result(
    *, actor: User, dna_test: DnaTest, result: str, result_at: datetime | None = None,
    lab_reference: str = "", note: str = "",
) -> DnaTest:
    """Records the laboratory's answer and what follows from it.

    Match: the candidate, the case and the posting are reunited. No match:
    the candidate is rejected with the reason ``dna_no_match``. Inconclusive:
    the candidate stays confirmed and a new test may be requested.
    """
    require_volunteer(actor)
    if result not in DnaTest.Result.values:
        raise ReviewRefused(_("Choose the result."))
    with transaction.atomic():
        test = DnaTest.objects.select_for_update().get(pk=dna_test.pk)
        candidate = locked_candidate(test.candidate)
        require_confirmed(actor, candidate)
        if test.status != DnaTest.Status.SAMPLES_COLLECTED:
            raise ReviewRefused(_("Record the samples before the result."))
        test.status = DnaTest.Status.RESULT
        test.result = result
        test.result_at = result_at or timezone.now()
        test.lab_reference = lab_reference.strip() or test.lab_reference
        test.save(update_fields=["status", "result", "result_at", "lab_reference"])
        audit_record(actor=actor, action="dna_test.result_recorded", obj=test,
                     detail={"candidate": candidate.pk, "result": result,
                             "lab_reference": test.lab_reference, "note": note})
        if result == DnaTest.Result.MATCH:
            _reunion_record(actor=actor, candidate=candidate, note=note)
        elif result == DnaTest.Result.NO_MATCH:
            Review.objects.create(
                candidate=candidate, reviewer=actor, decision=Review.Decision.REJECT,
                reason=Review.Reason.DNA_NO_MATCH, note=note,
            )
            candidate.status = Candidate.Status.REJECTED
            candidate.save(update_fields=["status", "updated_at"])
            audit_record(actor=actor, action="candidate.rejected_by_dna", obj=candidate,
                         detail={"dna_test": test.pk})
            people_status_refresh(candidate)
        notices.dna_step(test, kind=f"dna_result_{result}")
        if result != DnaTest.Result.INCONCLUSIVE:
            outcome_calibrations_schedule_refit()  # a new label, the surest kind
    return test


def _reunion_record(*, actor: User, candidate: Candidate, note: str = "") -> None:
    """Marks the candidate, its case and its posting reunited; they leave matching.

    Every other candidate of the case and of the posting closes with the reason
    (``case_reunited``, ``seeker_posting_reunited``): the child is found, so no
    volunteer waits on them, and a side told of one hears only that it ended.
    """
    candidate.status = Candidate.Status.REUNITED
    candidate.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="candidate.reunited", obj=candidate, detail={"note": note})
    for obj in (candidate.case, candidate.seeker_posting):
        # Only a case or posting still in matching: a withdrawn one stays withdrawn.
        type(obj).objects.filter(pk=obj.pk, status__in=MATCHABLE_STATUSES).update(
            status=CaseStatus.REUNITED, updated_at=timezone.now()
        )
        obj.refresh_from_db(fields=["status"])
        audit_record(actor=actor, action=f"{obj._meta.model_name}.reunited", obj=obj,
                     detail={"candidate": candidate.pk})
    candidates_end(actor=actor, case=candidate.case, reason="case_reunited")
    candidates_end(actor=actor, seeker_posting=candidate.seeker_posting,
                   reason="seeker_posting_reunited")
    faces_refresh_facts(case=candidate.case, actor=actor)
    faces_refresh_facts(seeker_posting=candidate.seeker_posting, actor=actor)


def case_mark_reunited(*, actor: User, case: MissingChildCase, note: str = "") -> MissingChildCase:
    """Marks a case reunited by hand (admin), e.g. a family found outside Reunion."""
    with transaction.atomic():
        case = MissingChildCase.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.REUNITED:
            return case
        previous = case.status
        case.status = CaseStatus.REUNITED
        case.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="case.reunited", obj=case,
                     detail={"previous_status": previous, "note": note})
        candidates_end(actor=actor, case=case, reason="case_reunited")
        faces_refresh_facts(case=case, actor=actor)
    return case


def case_report_found(*, actor: User, case: MissingChildCase, note: str = "") -> MissingChildCase:
    """The family says they found their child (outside Reunion, or after a DNA test here).

    Only a case in matching: its public page then says the child was found (no tip
    form, no poster) and every other candidate closes with ``case_reunited``. A draft
    or withdrawn case is never made public this way.
    """
    if case.family_id != actor.pk:
        raise PermissionDenied("Only the family reports their child found.")
    with transaction.atomic():
        case = MissingChildCase.objects.select_for_update().get(pk=case.pk)
        if case.status not in MATCHABLE_STATUSES:
            raise ReviewRefused(_("Only a case in matching can be marked found."))
        previous = case.status
        case.status = CaseStatus.REUNITED
        case.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="case.reunited", obj=case,
                     detail={"previous_status": previous, "note": note, "by": "family"})
        candidates_end(actor=actor, case=case, reason="case_reunited")
        faces_refresh_facts(case=case, actor=actor)
    return case


def seeker_posting_report_found(
    *, actor: User, posting: SeekerPosting, note: str = ""
) -> SeekerPosting:
    """The seeker says they found their family: the posting reads reunited, leaves
    matching and the public pages, and every other candidate closes with
    ``seeker_posting_reunited``. Only the owner, and only while it is in matching."""
    if posting.owner_id != actor.pk:
        raise PermissionDenied("Only the seeker reports their family found.")
    with transaction.atomic():
        posting = SeekerPosting.objects.select_for_update().get(pk=posting.pk)
        if posting.status not in MATCHABLE_STATUSES:
            raise ReviewRefused(_("Only a posting in matching can be marked found."))
        previous = posting.status
        posting.status = CaseStatus.REUNITED
        posting.published_at = None
        posting.save(update_fields=["status", "published_at", "updated_at"])
        audit_record(actor=actor, action="seekerposting.reunited", obj=posting,
                     detail={"previous_status": previous, "note": note, "by": "seeker"})
        candidates_end(actor=actor, seeker_posting=posting, reason="seeker_posting_reunited")
        faces_refresh_facts(seeker_posting=posting, actor=actor)
    return posting


def dna_guidance_save(*, actor: User, guidance: DnaGuidance) -> DnaGuidance:
    """Saves what the organisation tells both sides about a DNA test (from the admin), audited:
    families act on this text (where to go, what to pay), so who changed it is recorded."""
    with transaction.atomic():
        guidance.save()
        audit_record(actor=actor, action="dna_guidance.saved", obj=guidance, detail={
            "where_en": guidance.where_en[:200], "cost_en": guidance.cost_en[:200],
            "time_en": guidance.time_en[:200],
        })
    return guidance
