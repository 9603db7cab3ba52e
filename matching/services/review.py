"""Review: a volunteer claims a candidate, compares both people and decides.

A human and a DNA test stand between a face score and a reunion: volunteers
claim a candidate, review it, and confirm it (optionally with a second
volunteer, REVIEW_REQUIRES_SECOND_REVIEWER); a confirmed candidate opens a DNA
test (``matching.services.dna``). docs/REVIEW.md says who sees what at each step.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import User
from matching import notices
from matching.models import Candidate, Review
from matching.selectors.access import candidate_confirmable_by
from matching.services.candidates import (
    OPEN_CANDIDATE_STATUSES,
    ReviewRefused,
    locked_candidate,
    people_status_refresh,
    refuse_own,
    require_volunteer,
)
from matching.services.dna import dna_test_open


def _claim_is_live(candidate: Candidate) -> bool:
    if candidate.claimed_by_id is None or candidate.claimed_at is None:
        return False
    return candidate.claimed_at > timezone.now() - timedelta(hours=settings.REVIEW_CLAIM_HOURS)


def candidate_claim(*, actor: User, candidate: Candidate) -> Candidate:
    """Reserves an open candidate for one volunteer, so two never work on it at once.

    A claim older than ``REVIEW_CLAIM_HOURS`` may be taken over.
    """
    require_volunteer(actor)
    with transaction.atomic():
        candidate = locked_candidate(candidate)
        refuse_own(actor, candidate)
        if candidate.status not in OPEN_CANDIDATE_STATUSES:
            raise ReviewRefused(_("This candidate is no longer waiting for review."))
        if _claim_is_live(candidate) and candidate.claimed_by_id != actor.pk:
            raise ReviewRefused(_("Another volunteer is reviewing this candidate."))
        previous = candidate.claimed_by_id
        candidate.claimed_by = actor
        candidate.claimed_at = timezone.now()
        candidate.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        audit_record(actor=actor, action="candidate.claimed", obj=candidate,
                     detail={"previous_claim": previous})
    return candidate


def candidate_release(*, actor: User, candidate: Candidate) -> Candidate:
    """Gives a claimed candidate back to the queue (the claimer or an admin)."""
    require_volunteer(actor)
    with transaction.atomic():
        candidate = locked_candidate(candidate)
        refuse_own(actor, candidate)
        if candidate.claimed_by_id is None:
            return candidate
        if candidate.claimed_by_id != actor.pk and not actor.is_superuser:
            raise ReviewRefused(_("Only the volunteer who claimed this candidate can release it."))
        released = candidate.claimed_by_id
        candidate.claimed_by = None
        candidate.claimed_at = None
        candidate.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        audit_record(actor=actor, action="candidate.released", obj=candidate,
                     detail={"released_claim_of": released})
    return candidate


def _refuse_lone_confirmation(actor: User, candidate: Candidate, note: str) -> None:
    """A confirmation is a second pair of eyes on a claimed candidate, with its reason written."""
    if not candidate_confirmable_by(user=actor, candidate=candidate):
        raise ReviewRefused(_("You proposed this candidate: another volunteer must confirm it."))
    if not (_claim_is_live(candidate) and candidate.claimed_by_id == actor.pk):
        raise ReviewRefused(_("Claim this candidate before you confirm it."))
    if not note:
        raise ReviewRefused(_("Write why you confirm it in the note."))


def candidate_review(
    *, actor: User, candidate: Candidate, decision: str, reason: str = "", note: str = ""
) -> Review:
    """Records a volunteer's decision: reject (with a reason), needs information, or confirm.

    No volunteer confirms alone: a confirmation (first or second) needs the
    candidate claimed by the confirming volunteer and a written reason, and a
    candidate a volunteer proposed is confirmed by another volunteer. Confirming
    with ``REVIEW_REQUIRES_SECOND_REVIEWER`` waits for a second, different
    volunteer (``second_confirm``, or ``reject``); a confirmed candidate requests
    its DNA test and tells both sides what they may now see.
    """
    require_volunteer(actor)
    note = note.strip()
    with transaction.atomic():
        candidate = locked_candidate(candidate)
        refuse_own(actor, candidate)
        if candidate.status not in OPEN_CANDIDATE_STATUSES:
            raise ReviewRefused(_("This candidate is no longer waiting for review."))
        if _claim_is_live(candidate) and candidate.claimed_by_id != actor.pk:
            raise ReviewRefused(_("Another volunteer is reviewing this candidate."))
        awaiting_second = candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
        if decision in (Review.Decision.CONFIRM, Review.Decision.SECOND_CONFIRM):
            _refuse_lone_confirmation(actor, candidate, note)
        if decision == Review.Decision.REJECT:
            if reason not in Review.Reason.values or reason == Review.Reason.DNA_NO_MATCH:
                raise ReviewRefused(_("Choose the reason for rejecting."))
            if reason == Review.Reason.OTHER and not note:
                raise ReviewRefused(_("Say why in the note."))
            new_status = Candidate.Status.REJECTED
        elif decision == Review.Decision.NEEDS_INFO:
            if not note:
                raise ReviewRefused(_("Say which information is needed in the note."))
            reason, new_status = "", Candidate.Status.NEEDS_INFO
        elif decision == Review.Decision.CONFIRM and not awaiting_second:
            reason = ""
            new_status = (
                Candidate.Status.AWAITING_SECOND_REVIEW
                if settings.REVIEW_REQUIRES_SECOND_REVIEWER
                else Candidate.Status.CONFIRMED
            )
        elif awaiting_second and decision in (
            Review.Decision.SECOND_CONFIRM, Review.Decision.CONFIRM
        ):
            first = candidate.reviews.filter(decision=Review.Decision.CONFIRM).last()
            if first is not None and first.reviewer_id == actor.pk:
                raise ReviewRefused(_("A second, different volunteer must confirm."))
            decision, reason, new_status = (
                Review.Decision.SECOND_CONFIRM, "", Candidate.Status.CONFIRMED
            )
        else:
            raise ReviewRefused(_("This decision is not possible now."))

        review = Review.objects.create(
            candidate=candidate, reviewer=actor, decision=decision, reason=reason, note=note
        )
        previous = candidate.status
        candidate.status = new_status
        candidate.claimed_by = None
        candidate.claimed_at = None
        candidate.save(update_fields=["status", "claimed_by", "claimed_at", "updated_at"])
        audit_record(
            actor=actor, action=f"candidate.review.{decision}", obj=candidate,
            detail={"review": review.pk, "reason": reason, "from": previous, "to": new_status},
        )
        if new_status == Candidate.Status.CONFIRMED:
            dna_test_open(actor=actor, candidate=candidate)
            notices.candidate_confirmed(candidate, reviewer=actor)
        elif new_status == Candidate.Status.AWAITING_SECOND_REVIEW:
            notices.candidate_awaits_second_review(candidate, first_reviewer=actor)
        people_status_refresh(candidate)
    return review
