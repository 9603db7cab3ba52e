"""Candidates: recorded by matching, ended by a withdrawal, guarded for review.

One candidate per (case, seeker posting). Only volunteers hear of a new one;
the two sides learn nothing until a volunteer confirms it (docs/PRIVACY.md).
The rules every review and DNA step checks live here too: who may act (a
volunteer, never about their own case or posting) and on what status.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import CaseStatus, MissingChildCase, SeekerPosting, User
from families.selectors import is_volunteer
from matching import notices
from matching.models import Candidate


class ReviewRefused(Exception):
    """A review step that can't be taken now (claimed by another, wrong status, missing reason)."""


#: Candidates still waiting for a volunteer's decision.
OPEN_CANDIDATE_STATUSES = (
    Candidate.Status.PENDING,
    Candidate.Status.NEEDS_INFO,
    Candidate.Status.AWAITING_SECOND_REVIEW,
)


def candidate_record(
    *,
    case_id: int,
    seeker_posting_id: int,
    distance: float,
    case_face_id: int,
    seeker_face_id: int,
    age_gap_years: float | None,
    model_version: str,
    score: float,
    centring_version: int = 0,
) -> Candidate:
    """Creates the candidate for (case, seeker posting), or updates its scores.

    One row per pair (unique constraint); the row is locked while updated, so
    two workers matching the two sides of one pair at once end with one row
    holding the closest pair. A new candidate is audited and calls
    ``on_candidate_created`` (only volunteers hear of it). ``model_version`` and
    ``centring_version`` say what the distance was measured under (its calibration's key).
    """
    values = {
        "best_distance": distance, "score": score, "case_face_id": case_face_id,
        "seeker_face_id": seeker_face_id, "age_gap_years": age_gap_years,
        "model_version": model_version, "centring_version": centring_version,
    }
    with transaction.atomic():
        candidate, created = Candidate.objects.select_for_update().get_or_create(
            case_id=case_id, seeker_posting_id=seeker_posting_id, defaults=values
        )
        if created:
            audit_record(
                actor=None, action="candidate.created", obj=candidate,
                detail={"distance": round(distance, 5), "age_gap_years": age_gap_years,
                        "case": case_id, "seeker_posting": seeker_posting_id},
            )
            on_candidate_created(candidate)
            return candidate
        if candidate.status == Candidate.Status.ENDED:
            # Both people are matchable again (consent given anew, a case published
            # again): the pair is a new candidate for a volunteer to look at.
            values.update(status=Candidate.Status.PENDING, ended_at=None, ended_reason="",
                          claimed_by=None, claimed_at=None)
            audit_record(actor=None, action="candidate.reopened", obj=candidate,
                         detail={"ended_reason": candidate.ended_reason})
            transaction.on_commit(lambda: on_candidate_created(candidate))
        changed = [
            name for name, value in values.items()
            if getattr(candidate, name) != value
            and not (isinstance(value, float) and abs(getattr(candidate, name) - value) < 1e-9)
        ]
        if changed:
            for name in changed:
                setattr(candidate, name, values[name])
            candidate.save(update_fields=[*changed, "updated_at"])
    return candidate


def on_candidate_created(candidate: Candidate) -> None:
    """Hook run when a candidate appears (or reappears after it ended).

    Only volunteers hear of it: neither the family nor the seeker learns
    anything of a candidate, not even its existence, until a volunteer
    confirms it (docs/PRIVACY.md). Anything added must be idempotent.
    """
    notices.candidate_created(candidate)


#: Why a candidate ended: the person who withdrew decides, and nobody else sees it again;
#: or its case or posting was reunited with someone else (a DNA match), so it is over.
END_REASONS = ("consent_withdrawn", "seeker_posting_withdrawn", "case_withdrawn",
               "case_reunited", "seeker_posting_reunited")


def candidates_end(
    *,
    actor: User | None,
    reason: str,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
) -> list[int]:
    """Ends every candidate of a case or posting that is not reunited or already over.

    Called when a seeker withdraws consent, a case or posting is withdrawn, or
    it is reunited (its other candidates close, ``case_reunited`` or
    ``seeker_posting_reunited``): the candidate leaves every queue, its review,
    DNA, match, photo and face pages answer 404 to everyone but admins (the match
    page tells a side that had been told of it only that it ended), and the
    volunteers' notices about it go. A side that had been told of it (after a
    confirmation) keeps its earlier notices as notes and hears only that it ended;
    the volunteers who handled it hear that it ended and why
    (``notices.candidate_ended``).
    Returns the ids of the candidates ended.
    """
    if (case is None) == (seeker_posting is None) or reason not in END_REASONS:
        raise ValueError("Pass a case or a seeker posting, and a known reason.")
    owner_filter = {"case": case} if case is not None else {"seeker_posting": seeker_posting}
    ended = []
    with transaction.atomic():
        candidates = Candidate.objects.select_for_update().select_related(
            "case", "seeker_posting"
        ).filter(**owner_filter).exclude(
            status__in=(Candidate.Status.REUNITED, Candidate.Status.ENDED,
                        Candidate.Status.REJECTED)
        )
        for candidate in candidates.order_by("pk"):
            was_told = candidate.status == Candidate.Status.CONFIRMED
            previous = candidate.status
            claimed_by_id = candidate.claimed_by_id
            candidate.status = Candidate.Status.ENDED
            candidate.ended_at = timezone.now()
            candidate.ended_reason = reason
            candidate.claimed_by = None
            candidate.claimed_at = None
            candidate.save(update_fields=[
                "status", "ended_at", "ended_reason", "claimed_by", "claimed_at", "updated_at"
            ])
            audit_record(actor=actor, action="candidate.ended", obj=candidate,
                         detail={"reason": reason, "from": previous})
            notices.candidate_ended(candidate, was_told=was_told,
                                    ended_by="family" if case is not None else "seeker",
                                    actor=actor, claimed_by_id=claimed_by_id)
            people_status_refresh(candidate)
            ended.append(candidate.pk)
    return ended


def people_status_refresh(candidate: Candidate) -> None:
    """Keeps the case's and the posting's status in step with their candidates.

    DNA pending while a candidate is confirmed, published otherwise (an open
    candidate changes nothing anyone outside the volunteers can see); reunited,
    withdrawn and draft are never changed here.
    """
    for model, owner_field, obj in (
        (MissingChildCase, "case", candidate.case),
        (SeekerPosting, "seeker_posting", candidate.seeker_posting),
    ):
        current = model.objects.filter(pk=obj.pk).values_list("status", flat=True).first()
        if current not in (CaseStatus.PUBLISHED, CaseStatus.DNA_PENDING):
            continue
        confirmed = Candidate.objects.filter(
            **{owner_field: obj}, status=Candidate.Status.CONFIRMED
        ).exists()
        wanted = CaseStatus.DNA_PENDING if confirmed else CaseStatus.PUBLISHED
        if wanted != current:
            model.objects.filter(pk=obj.pk).update(status=wanted, updated_at=timezone.now())


def require_volunteer(actor: User) -> None:
    if not is_volunteer(actor):
        raise PermissionDenied("Only volunteers review candidates.")


def locked_candidate(candidate: Candidate) -> Candidate:
    return (
        Candidate.objects.select_for_update()
        .select_related("case", "seeker_posting")
        .get(pk=candidate.pk)
    )


def refuse_own(actor: User, candidate: Candidate) -> None:
    """Nobody reviews, or takes a DNA step of, a candidate about their own case or posting."""
    if actor.pk in (candidate.case.family_id, candidate.seeker_posting.owner_id):
        raise ReviewRefused(_("You can't review a possible match about your own posting."))


def require_confirmed(actor: User, candidate: Candidate) -> None:
    """DNA steps: only on a confirmed candidate, never by one of its two sides."""
    refuse_own(actor, candidate)
    if candidate.status != Candidate.Status.CONFIRMED:
        raise ReviewRefused(_("Only a confirmed candidate gets a DNA test."))
