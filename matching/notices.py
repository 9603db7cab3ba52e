"""The notices of the review and DNA steps: who is told what, and when.

Each notice goes to the inbox and by email through
``families.services.notification_send``, in the recipient's language, with a
``dedupe_key`` naming the event and the recipient so it is sent once, and
``about`` the candidate, so the notices go when the candidate ends or is
deleted. What a notice may say follows docs/PRIVACY.md: before a volunteer
confirms, the family and the seeker hear nothing at all; emails never
carry the other side's name, photos or contacts (email leaves the portal's
access control): they point to the page that shows what the confirmation grants.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from families.models import VOLUNTEER_GROUP, Notification, User
from families.notifications import notification_send
from matching.models import Candidate, DnaGuidance, DnaTest

SUBJECTS = {
    "candidate_for_volunteer": _("A new candidate is waiting for review in %(province)s"),
    "candidate_for_second_review": _("A confirmed candidate needs a second reviewer"),
    "candidate_confirmed": _("A volunteer confirmed a possible match: a DNA test is next"),
    "dna_requested": _("A DNA test has been requested"),
    "dna_samples_collected": _("DNA samples have been collected"),
    "dna_result_match": _("The DNA test confirms the match"),
    "dna_result_no_match": _("The DNA test did not confirm the match"),
    "dna_result_inconclusive": _("The DNA test was inconclusive"),
    "candidate_ended": _("A possible match is no longer being followed"),
}


def _link(name: str, *args: object) -> str:
    """The page's path in the current language, or nothing if that page is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _send(
    *, recipient: User, kind: str, dedupe_key: str, link: tuple, context: dict,
    about: Candidate | None,
) -> None:
    with translation.override(recipient.preferred_language or "en"):
        path = _link(*link)
        context = {**context, "recipient": recipient}
        subject = SUBJECTS[kind]
        subject = str(subject) % context if "%(" in str(subject) else str(subject)
        body = render_to_string(f"emails/notifications/{kind}.txt", context).strip()
    notification_send(
        recipient=recipient, kind=kind, subject=subject, body=body, link=path,
        dedupe_key=dedupe_key, about=about,
    )


def _sides(candidate: Candidate) -> list[tuple[str, User]]:
    """The family and the seeker (or the volunteer who posted a found person)."""
    return [
        ("family", candidate.case.family),
        ("seeker", candidate.seeker_posting.owner),
    ]


def _own_names(candidate: Candidate, side: str) -> dict[str, object]:
    """What a notice may name for one side: its own case or posting, never the other's
    (an email leaves the portal's access control)."""
    if side == "family":
        return {"own_name": str(candidate.case), "own_number": candidate.case_id}
    return {"own_name": candidate.seeker_posting.display_name,
            "own_number": candidate.seeker_posting_id}


def candidate_created(candidate: Candidate) -> None:
    """Tells the volunteers of the case's province; the two sides hear nothing yet."""
    case, posting = candidate.case, candidate.seeker_posting
    for volunteer in volunteers_for_province(case.missing_province):
        if volunteer.pk in (case.family_id, posting.owner_id):
            continue
        _send(
            recipient=volunteer, kind="candidate_for_volunteer",
            dedupe_key=f"candidate:{candidate.pk}:created:volunteer:{volunteer.pk}:"
                       f"{int(candidate.updated_at.timestamp() * 1_000_000)}",
            link=("matching:review", candidate.pk),
            context={"province": case.missing_province, "candidate": candidate},
            about=candidate,
        )


def candidate_ended(candidate: Candidate, *, was_told: bool, ended_by: str) -> None:
    """The candidate ended: its notices go; the other side hears it ended if it had been told.

    A side learns of a candidate only at its confirmation, so before that the
    other side hears nothing now either. The notice says no more than that the
    possible match is no longer followed: not who withdrew, nor why.
    """
    Notification.objects.filter(
        about_type=candidate._meta.label_lower, about_id=str(candidate.pk)
    ).delete()
    if not was_told:
        return
    for side, recipient in _sides(candidate):
        if side == ended_by:
            continue
        own = (("families:case_detail", candidate.case_id) if side == "family"
               else ("families:seeker_detail", candidate.seeker_posting_id))
        _send(
            recipient=recipient, kind="candidate_ended",
            dedupe_key=f"candidate:{candidate.pk}:ended:{side}:"
                       f"{int(candidate.ended_at.timestamp() * 1_000_000)}",
            link=own, context={"side": side}, about=None,
        )


def volunteers_for_province(province: str) -> list[User]:
    """Active volunteers who review ``province`` (or every province)."""
    volunteers = User.objects.filter(is_active=True, groups__name=VOLUNTEER_GROUP).distinct()
    return [v for v in volunteers.order_by("pk") if v.reviews_province(province)]


def candidate_awaits_second_review(candidate: Candidate, *, first_reviewer: User) -> None:
    """Asks the other volunteers of the case's province for the second confirmation."""
    case = candidate.case
    for volunteer in volunteers_for_province(case.missing_province):
        if volunteer.pk in (first_reviewer.pk, case.family_id, candidate.seeker_posting.owner_id):
            continue
        _send(
            recipient=volunteer, kind="candidate_for_second_review",
            dedupe_key=f"candidate:{candidate.pk}:second_review:{first_reviewer.pk}:"
                       f"{int(candidate.updated_at.timestamp() * 1_000_000)}:{volunteer.pk}",
            link=("matching:review", candidate.pk),
            context={"candidate": candidate, "reviewer": first_reviewer},
            about=candidate,
        )


def candidate_confirmed(candidate: Candidate, *, reviewer: User) -> None:
    """Tells both sides what the confirmation lets them see, and who their volunteer is."""
    for side, recipient in _sides(candidate):
        _send(
            recipient=recipient, kind="candidate_confirmed",
            dedupe_key=f"candidate:{candidate.pk}:confirmed:{side}",
            link=("matching:match_detail", candidate.pk),
            context={"side": side, "reviewer": reviewer, **_own_names(candidate, side),
                     "guidance": DnaGuidance.objects.order_by("-updated_at").first()},
            about=candidate,
        )


def dna_step(dna_test: DnaTest, *, kind: str) -> None:
    """Tells both sides about one DNA step (request, samples, result)."""
    candidate = dna_test.candidate
    # One notice per step of this round of testing (a test can be requested again).
    round_key = int(dna_test.requested_at.timestamp() * 1_000_000)
    for side, recipient in _sides(candidate):
        _send(
            recipient=recipient, kind=kind,
            dedupe_key=f"dna:{dna_test.pk}:{round_key}:{kind}:{side}",
            link=("matching:match_detail", candidate.pk),
            context={"side": side, "dna_test": dna_test, **_own_names(candidate, side)},
            about=candidate,
        )
