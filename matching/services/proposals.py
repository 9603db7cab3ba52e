"""Candidates people propose: "this might be me", "this might be our child", a volunteer's.

Most reunions start with a person, not a face score. A proposed candidate goes to
the same review as a face match (volunteers of the province hear of it; the two
sides learn nothing until a volunteer confirms it; nobody reviews their own),
whatever the face distance, which is recorded when both people have comparable
faces and shown as it is. Whether the pair was already a candidate is never said:
the answer to the person proposing is the same either way.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import MissingChildCase, SeekerPosting, Tip, User
from families.selectors import consent_changeable_by, is_volunteer, tip_handleable_by
from matching import queueing, ranking
from matching.faces import current_model_version
from matching.models import Candidate, Side
from matching.selectors.faces import faces_of_person
from matching.selectors.search import centring_version_current, ranking_parameters
from matching.services.candidates import on_candidate_created

Source = Candidate.Source


def _may_propose(actor: User, case: MissingChildCase, posting: SeekerPosting,
                 source: str) -> bool:
    if source == Source.SEEKER:
        return consent_changeable_by(user=actor, posting=posting) and case.is_public
    if source == Source.FAMILY:
        return case.family_id == actor.pk and posting.is_public
    if source in (Source.VOLUNTEER, Source.TIP):
        return is_volunteer(actor) and actor.pk not in (case.family_id, posting.owner_id)
    return False


def candidate_propose(
    *,
    actor: User,
    case: MissingChildCase,
    seeker_posting: SeekerPosting,
    source: str,
    note: str = "",
    tip: Tip | None = None,
) -> Candidate:
    """Records a candidate a person proposed, for volunteers to review like any other.

    The seeker proposes from a public case for their own consenting posting; a
    family from a public seeker posting for its own case; a volunteer (or from a
    tip the volunteer may handle) for any two that are in matching, never their own. Raises
    ``PermissionDenied`` for anyone else, ``ValidationError`` when either side is
    out of matching (no consent, withdrawn) or the note is missing.
    """
    note = note.strip()
    if not _may_propose(actor, case, seeker_posting, source):
        raise PermissionDenied("Not a proposal this person may make.")
    if not (case.is_matchable and seeker_posting.is_matchable):
        raise ValidationError(_("Both the case and the posting must be in matching, with "
                                "the seeker's consent."))
    if not note:
        raise ValidationError(_("Say in a few words why you think so."))
    if source == Source.TIP and (tip is None or tip.case_id != case.pk):
        raise ValidationError(_("Choose a tip about this case."))
    if tip is not None and not tip_handleable_by(user=actor, tip=tip):
        # A proposal from a tip is a way of handling it: only for who may read the tip.
        raise PermissionDenied("Not a tip this person handles.")
    # The same work for a pair that is already a candidate and a new one: the closest pair is
    # measured, one audit entry written, one job queued; the proposer can't tell them apart
    # by the reply nor by its time.
    pair = _closest_pair(case, seeker_posting)
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().filter(
            case=case, seeker_posting=seeker_posting
        ).first()
        created = candidate is None
        if created:
            params = ranking_parameters()
            candidate = Candidate.objects.create(
                case=case, seeker_posting=seeker_posting, source=source, proposed_by=actor,
                proposal_note=note,
                best_distance=pair.distance if pair else None,
                score=ranking.score(pair.distance, pair.age_gap_years, params) if pair else None,
                age_gap_years=pair.age_gap_years if pair else None,
                case_face_id=pair.face_a if pair else None,
                seeker_face_id=pair.face_b if pair else None,
                model_version=current_model_version() if pair else "",
                centring_version=centring_version_current() if pair else 0,
            )
        # Said to nobody but the volunteers: the person proposing must not learn what exists.
        entry = audit_record(
            actor=actor, action="candidate.proposed" if created else "candidate.proposed_again",
            obj=candidate,
            detail={"source": source, "note": note, "tip": tip.pk if tip else None,
                    "distance": pair.distance if pair else None, "case": case.pk,
                    "seeker_posting": seeker_posting.pk})
        transaction.on_commit(lambda: queueing.enqueue_proposal_announcement(
            entry.pk, candidate.pk, created))
    return candidate


def _closest_pair(case: MissingChildCase, posting: SeekerPosting) -> ranking.PairDistance | None:
    """The closest photo pair of the two people, when both have comparable faces."""
    return ranking.closest_pair(
        faces_of_person(side=Side.CASE, owner_id=case.pk),
        faces_of_person(side=Side.SEEKER, owner_id=posting.pk),
    )


def candidate_announce_proposal(*, candidate_id: int, created: bool) -> bool:
    """Tells the volunteers of a proposed pair that is new, once; a known pair was announced
    when it appeared. Runs as a job; returns whether anything was announced."""
    candidate = (Candidate.objects.select_related("case", "seeker_posting")
                 .filter(pk=candidate_id).first())
    if not created or candidate is None or candidate.status != Candidate.Status.PENDING:
        return False
    on_candidate_created(candidate)
    return True
