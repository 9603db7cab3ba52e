"""The match page and its messages, the volunteers' reunions, and the search's progress."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from families.models import Photo
from families.selectors import AnyUser, photo_manageable_by
from matching.models import Candidate, DnaGuidance, DnaTest, MatchJob, MatchMessage
from matching.selectors.access import (
    GRANTED_STATUSES,
    candidate_reviewable_by,
    match_shared_photos,
    match_side_of,
)

# --- Live progress --------------------------------------------------------------


def match_progress_of_photos(photo_ids: Iterable[int]) -> dict[int, str]:
    """Photo id → the state of its newest match job (queued, running, done, failed).

    Only the progress of the search is told, never its result: a family learns
    of a possible match through a notice, after the matching has decided.
    """
    progress: dict[int, str] = {}
    jobs = (
        MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face__photo_id__in=list(photo_ids))
        .order_by("face__photo_id", "-created_at", "-pk")
        .values_list("face__photo_id", "status")
    )
    for photo_id, status in jobs:
        progress.setdefault(photo_id, status)
    return progress


#: What the photo page says about the search for matches: its progress, never its result.
MATCH_PROGRESS_LABELS = {
    "queued": _("Waiting to search for possible matches"),
    "running": _("Searching for possible matches…"),
    "done": _("Search for possible matches done"),
    "failed": _("Search for possible matches will be retried"),
}


def photo_states(*, user: AnyUser, ids: list[int]) -> list[dict[str, object]]:
    """Face state of each photo in ``ids`` that ``user`` may manage (for live updates)."""
    photos = [
        photo
        for photo in Photo.objects.filter(pk__in=ids[:200]).select_related(
            "case", "seeker_posting"
        )
        if photo_manageable_by(user=user, photo=photo)
    ]
    progress = match_progress_of_photos(photo.pk for photo in photos)
    return [
        {
            "id": photo.pk,
            "state": photo.face_state,
            "label": str(photo.get_face_state_display()),
            "needs_pick": photo.face_state in Photo.NEEDS_PICK,
            "match_state": progress.get(photo.pk, ""),
            "match_label": str(MATCH_PROGRESS_LABELS.get(progress.get(photo.pk, ""), "")),
        }
        for photo in photos
    ]


def recent_reunions(*, limit: int = 10) -> list[Candidate]:
    """The latest reunions (a DNA match), newest first, for the volunteers' dashboard.

    Each is a reunited candidate with its case (whose page is public, saying the child was
    found) and its DNA test; the seeker's side is not shown here.
    """
    return list(
        Candidate.objects.filter(status=Candidate.Status.REUNITED)
        .select_related("case", "dna_test")
        .order_by(F("dna_test__result_at").desc(nulls_last=True), "-updated_at")[:limit]
    )


def reunions_count() -> int:
    """Every reunion recorded through a DNA match."""
    return Candidate.objects.filter(status=Candidate.Status.REUNITED).count()


def dna_guidance() -> DnaGuidance | None:
    """What the organisation tells both sides about a DNA test (set in the admin), if it has."""
    return DnaGuidance.objects.order_by("-updated_at").first()


def match_own_photos(*, candidate: Candidate, side: str) -> list[Photo]:
    """A side's own photos that the other side now sees: shown beside the other's, so the
    family compares their own child's photos with the person's, and the seeker theirs."""
    return match_shared_photos(candidate=candidate, side="seeker" if side == "family" else "family")


def match_status_word(*, candidate: Candidate, dna_test: DnaTest | None) -> str:
    """The one status word the match page shows: where the two sides stand, in the page's
    words (never "confirmed" beside "not yet certain")."""
    if candidate.status == Candidate.Status.REUNITED:
        return str(_("Reunited: the DNA test confirms it"))
    if dna_test is not None and dna_test.status == DnaTest.Status.SAMPLES_COLLECTED:
        return str(_("Waiting for the DNA result"))
    if dna_test is not None and dna_test.result == DnaTest.Result.INCONCLUSIVE:
        return str(_("A new DNA test is needed"))
    return str(_("Not yet certain: a DNA test is next"))


def message_threads_of(*, user, candidate: Candidate) -> list[str]:
    """The message threads ``user`` reads and writes on ``candidate``: a side its own, a
    volunteer who may review it both; none before a confirmation or after it ended."""
    if not getattr(user, "is_authenticated", False) or candidate.status not in GRANTED_STATUSES:
        return []
    side = match_side_of(user=user, candidate=candidate)
    if side is not None:
        return [side]
    if candidate_reviewable_by(user=user, candidate=candidate):
        return [MatchMessage.Thread.FAMILY, MatchMessage.Thread.SEEKER]
    return []


def match_messages(*, candidate: Candidate, thread: str) -> QuerySet[MatchMessage]:
    """One thread of a candidate, oldest first, with who wrote each message."""
    return MatchMessage.objects.filter(candidate=candidate, thread=thread).select_related(
        "author").order_by("created_at", "pk")
