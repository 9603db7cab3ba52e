"""Who may act on a candidate, which side of a match a person is, and what each side sees.

A volunteer reviews, never about their own case or posting; the family and the seeker learn
of each other only once a volunteer has confirmed the match (docs/REVIEW.md).
"""

from __future__ import annotations

from django.db.models import Q

from families.models import Photo, User
from families.selectors import is_volunteer
from matching.models import Candidate, DnaTest


def is_party_to(*, user: User, candidate: Candidate) -> bool:
    """Whether ``user`` posted the candidate's case or seeker posting."""
    return user.pk in (candidate.case.family_id, candidate.seeker_posting.owner_id)


def candidate_reviewable_by(*, user: User, candidate: Candidate) -> bool:
    """Who may open a candidate's review, DNA, photo and face pages as a reviewer.

    Volunteers and admins, never about their own case or posting; an ended
    candidate (consent or a posting withdrawn) only admins, who keep the record.
    """
    if not is_volunteer(user) or is_party_to(
        user=user, candidate=candidate
    ):
        return False
    return candidate.status != Candidate.Status.ENDED or user.is_superuser


def candidate_confirmable_by(*, user: User, candidate: Candidate) -> bool:
    """Whether ``user`` may ever confirm ``candidate``: never the volunteer who proposed it.

    No volunteer acts alone where it matters: a pair a volunteer put forward is
    confirmed by another (the claim and the written reason are checked by the
    review service).
    """
    return candidate.proposed_by_id is None or candidate.proposed_by_id != user.pk


# What the family and the seeker see of each other (docs/REVIEW.md).
#: Candidate statuses after a volunteer's confirmation: the grant is open.
GRANTED_STATUSES = (Candidate.Status.CONFIRMED, Candidate.Status.REUNITED)


def match_side_of(*, user, candidate: Candidate) -> str | None:
    """``family`` or ``seeker`` when ``user`` may open the match page of ``candidate``.

    Only after a volunteer's confirmation; before it (and after a rejection,
    DNA "no match" included) neither side learns anything of the other.
    """
    if not user.is_authenticated or candidate.status not in GRANTED_STATUSES:
        return None
    return _side_of(user, candidate)


def ended_match_side_of(*, user, candidate: Candidate) -> str | None:
    """``family`` or ``seeker`` when ``user`` was told of ``candidate`` (its confirmation
    opened a DNA test) and it has since ended: the match page then says only that it is
    no longer followed, so a link in an earlier email leads somewhere kind, not to a 404.
    """
    if not user.is_authenticated or candidate.status != Candidate.Status.ENDED:
        return None
    if not DnaTest.objects.filter(candidate=candidate).exists():
        return None
    return _side_of(user, candidate)


def _side_of(user, candidate: Candidate) -> str | None:
    """Which side of ``candidate`` the user is: the case's family or the posting's owner."""
    if candidate.case.family_id == user.pk:
        return "family"
    if candidate.seeker_posting.owner_id == user.pk:
        return "seeker"
    return None


def match_shared_photos(*, candidate: Candidate, side: str) -> list[Photo]:
    """The other side's photos the confirmation shows: those they gave for matching."""
    if side == "family":
        photos = candidate.seeker_posting.photos.filter(use_in_matching=True)
    else:
        photos = candidate.case.photos.filter(Q(use_in_matching=True) | Q(use_on_poster=True))
    # A photo a volunteer hid is shown to nobody outside its own side and the volunteers.
    return list(photos.filter(hidden_at__isnull=True).order_by("uploaded_at", "pk"))


def candidate_photo_viewable_by(*, user, candidate: Candidate, photo: Photo) -> bool:
    """Volunteers see every photo of both people; each side its own, the other's once granted."""
    in_case = photo.case_id is not None and photo.case_id == candidate.case_id
    in_posting = (
        photo.seeker_posting_id is not None
        and photo.seeker_posting_id == candidate.seeker_posting_id
    )
    if not (in_case or in_posting):
        return False
    if not user.is_authenticated:
        return False
    if candidate_reviewable_by(user=user, candidate=candidate):
        return True
    side = match_side_of(user=user, candidate=candidate)
    if side is None:
        return False
    if (side == "family" and in_case) or (side == "seeker" and in_posting):
        return True
    shared = match_shared_photos(candidate=candidate, side=side)
    return photo.pk in {p.pk for p in shared}
