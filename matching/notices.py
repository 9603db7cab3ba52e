"""The notices of the review and DNA steps: who is told what, and when.

Each notice goes to the inbox and by email through
``families.services.notification_send``, in the recipient's language, with a
``dedupe_key`` naming the event and the recipient so it is sent once, and
``about`` the candidate, so the notices go when the candidate is deleted, or
ends (the two sides', after a confirmation, stay as notes about their own case
or posting). What a notice may say follows docs/PRIVACY.md: before a volunteer
confirms, the family and the seeker hear nothing at all; emails never
carry the other side's name, photos or contacts (email leaves the portal's
access control): they point to the page that shows what the confirmation grants.
"""

from __future__ import annotations

from django.db import models
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from families.models import VOLUNTEER_GROUP, Notification, User
from families.notifications import notification_send
from matching.models import Candidate, DnaGuidance, DnaTest, MatchMessage

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
    "candidate_ended_for_volunteer": _("A possible match you handled is no longer followed"),
    "match_message_for_volunteer": _("Candidate #%(number)s: a new message from %(who)s"),
}

#: The two sides' subjects name their own child and case, or their own posting, never the
#: other side's (an email leaves the portal's access control), and say the step in plain words.
SIDE_SUBJECTS = {
    "candidate_confirmed": {
        "family": _("%(own_name)s, case #%(own_number)s: a volunteer found a possible match; "
                    "a DNA test is next"),
        "seeker": _("Your seeker posting #%(own_number)s: a volunteer found a family who may "
                    "be yours; a DNA test is next"),
    },
    "dna_requested": {
        "family": _("%(own_name)s, case #%(own_number)s: a DNA test has been requested"),
        "seeker": _("Your seeker posting #%(own_number)s: a DNA test has been requested"),
    },
    "dna_samples_collected": {
        "family": _("%(own_name)s, case #%(own_number)s: the DNA samples are at the laboratory"),
        "seeker": _("Your seeker posting #%(own_number)s: the DNA samples are at the "
                    "laboratory"),
    },
    "dna_result_match": {
        "family": _("%(own_name)s, case #%(own_number)s: the DNA test confirms it, your child "
                    "is found"),
        "seeker": _("Your seeker posting #%(own_number)s: the DNA test confirms it, you found "
                    "your family"),
    },
    "dna_result_no_match": {
        "family": _("%(own_name)s, case #%(own_number)s: the DNA test shows the possible match "
                    "is someone else"),
        "seeker": _("Your seeker posting #%(own_number)s: the DNA test shows the possible "
                    "match is someone else"),
    },
    "dna_result_inconclusive": {
        "family": _("%(own_name)s, case #%(own_number)s: the DNA test gave no clear answer"),
        "seeker": _("Your seeker posting #%(own_number)s: the DNA test gave no clear answer"),
    },
    "match_message": {
        "family": _("%(own_name)s, case #%(own_number)s: a message from your volunteer"),
        "seeker": _("Your seeker posting #%(own_number)s: a message from your volunteer"),
    },
    # Ended: by number only, and no volunteer named: the notice keeps nothing of the
    # candidate, not even who handled it (docs/PRIVACY.md).
    "candidate_ended": {
        "family": _("Your case #%(own_number)s: a possible match is no longer followed"),
        "seeker": _("Your seeker posting #%(own_number)s: a possible match is no longer "
                    "followed"),
    },
}

#: What an earlier notice about a confirmed candidate becomes when the candidate ends: a
#: note that stays in the inbox, with nothing of the other side and a link that works.
NOTE_SUBJECT = _("Earlier notice: a possible match that is no longer followed")
NOTE_BODY = _(
    "This notice was about a possible match that a volunteer had confirmed. It is no "
    "longer being followed, so what it showed is no longer available. This is not a DNA "
    "result: it says nothing about whether it was the person."
)

#: Why a candidate ended, as its volunteers are told (the two sides are never told why).
END_REASON_TEXTS = {
    "consent_withdrawn": _("the seeker withdrew consent to matching"),
    "seeker_posting_withdrawn": _("the seeker posting was withdrawn"),
    "case_withdrawn": _("the case was withdrawn"),
    "case_reunited": _("the case's child was found: a DNA test matched another person, or "
                       "the family found them"),
    "seeker_posting_reunited": _("the seeker found their family: a DNA test matched another "
                                 "case, or the seeker found them"),
}


def _link(name: str, *args: object) -> str:
    """The page's path in the current language, or nothing if that page is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _send(
    *, recipient: User, kind: str, dedupe_key: str, link: tuple, context: dict,
    about: models.Model | None,
) -> None:
    with translation.override(recipient.preferred_language or "en"):
        path = _link(*link)
        context = {**context, "recipient": recipient}
        subject = (SIDE_SUBJECTS[kind][context["side"]] if kind in SIDE_SUBJECTS
                   and context.get("side") in ("family", "seeker") else SUBJECTS[kind])
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


def volunteer_of(candidate: Candidate) -> User | None:
    """The volunteer the two sides contact: who requested the DNA test, else who confirmed."""
    test = DnaTest.objects.filter(candidate=candidate).select_related("requested_by").first()
    if test is not None and test.requested_by_id:
        return test.requested_by
    review = candidate.reviews.filter(decision__in=("confirm", "second_confirm")).select_related(
        "reviewer").order_by("-created_at").first()
    return review.reviewer if review is not None else None


def candidate_created(candidate: Candidate) -> None:
    """Tells the volunteers of the case's province; the two sides hear nothing yet."""
    case, posting = candidate.case, candidate.seeker_posting
    for volunteer in volunteers_for_province(case.missing_province, case.missing_place_code):
        if volunteer.pk in (case.family_id, posting.owner_id):
            continue
        _send(
            recipient=volunteer, kind="candidate_for_volunteer",
            dedupe_key=f"candidate:{candidate.pk}:created:volunteer:{volunteer.pk}:"
                       f"{int(candidate.updated_at.timestamp() * 1_000_000)}",
            link=("matching:review", candidate.reference),
            context={"province": case.missing_province, "candidate": candidate},
            about=candidate,
        )


def candidate_ended(
    candidate: Candidate, *, was_told: bool, ended_by: str, actor: User | None = None,
    claimed_by_id: int | None = None,
) -> None:
    """The candidate ended: who had been told of it hears that it is no longer followed.

    A side learns of a candidate only at its confirmation, so before that neither
    side hears anything now either, and the volunteers' notices about it go. After a
    confirmation the two sides' earlier notices stay in their inboxes as notes with
    nothing of the other side (``NOTE_BODY``), linked to their own case or posting;
    the side that did not end it is told it is no longer followed (not who, not why),
    and so are the volunteers who handled it (claimed it, decided on it, requested its
    DNA test), with why, so that they stop arranging its DNA test.
    """
    notices = Notification.objects.filter(
        about_type=candidate._meta.label_lower, about_id=str(candidate.pk)
    )
    own = {
        candidate.case.family_id: candidate.case,
        candidate.seeker_posting.owner_id: candidate.seeker_posting,
    }
    if was_told:
        for notice in notices.filter(recipient_id__in=list(own)).select_related("recipient"):
            _make_note(notice, own[notice.recipient_id])
    notices.delete()  # the rest: the volunteers' notices, and all of them if nobody was told
    _tell_handlers(candidate, was_told=was_told, actor=actor, claimed_by_id=claimed_by_id)
    if not was_told:
        return
    for side, recipient in _sides(candidate):
        if side == ended_by:
            continue
        own_page = (("families:case_detail", candidate.case_id) if side == "family"
                    else ("families:seeker_detail", candidate.seeker_posting_id))
        _send(
            recipient=recipient, kind="candidate_ended",
            dedupe_key=f"candidate:{candidate.pk}:ended:{side}:"
                       f"{int(candidate.ended_at.timestamp() * 1_000_000)}",
            link=own_page, context={"side": side, "own_number": _own_names(
                candidate, side)["own_number"]},
            about=candidate.case if side == "family" else candidate.seeker_posting,
        )


def _make_note(notice: Notification, own: models.Model) -> None:
    """Turns an earlier notice about a candidate into a note about the recipient's own case or
    posting: its date stays, its details and its link to the match page go."""
    recipient = notice.recipient
    with translation.override(recipient.preferred_language or "en"):
        subject, body = str(NOTE_SUBJECT), str(NOTE_BODY)
        link = own.get_absolute_url()
    Notification.objects.filter(pk=notice.pk).update(
        kind="candidate_note", subject=subject, body=body, link=link,
        about_type=own._meta.label_lower, about_id=str(own.pk),
    )


def _tell_handlers(
    candidate: Candidate, *, was_told: bool, actor: User | None, claimed_by_id: int | None
) -> None:
    """Tells the volunteers who handled the candidate that it ended, and why."""
    handler_ids = set(candidate.reviews.values_list("reviewer_id", flat=True))
    dna_test = DnaTest.objects.filter(candidate=candidate).first()
    if dna_test is not None and was_told:
        handler_ids.add(dna_test.requested_by_id)
    if claimed_by_id is not None:
        handler_ids.add(claimed_by_id)
    handler_ids -= {None, getattr(actor, "pk", None), candidate.case.family_id,
                    candidate.seeker_posting.owner_id}
    for volunteer in User.objects.filter(pk__in=handler_ids, is_active=True).order_by("pk"):
        if not volunteer.is_volunteer:
            continue
        _send(
            recipient=volunteer, kind="candidate_ended_for_volunteer",
            dedupe_key=f"candidate:{candidate.pk}:ended:volunteer:{volunteer.pk}:"
                       f"{int(candidate.ended_at.timestamp() * 1_000_000)}",
            link=("matching:queue",),
            context={"candidate": candidate, "was_told": was_told,
                     "reason": END_REASON_TEXTS.get(candidate.ended_reason, ""),
                     "dna_test": dna_test if was_told else None},
            about=None,
        )


def volunteers_for_province(province: str, code: str = "") -> list[User]:
    """Active volunteers who review ``province`` (or every province); ``code`` is the place's
    division, by which a province is known whatever name the volunteer wrote it by."""
    volunteers = User.objects.filter(is_active=True, groups__name=VOLUNTEER_GROUP).distinct()
    return [v for v in volunteers.order_by("pk") if v.reviews_province(province, code)]


def candidate_awaits_second_review(candidate: Candidate, *, first_reviewer: User) -> None:
    """Asks the other volunteers of the case's province for the second confirmation."""
    case = candidate.case
    for volunteer in volunteers_for_province(case.missing_province, case.missing_place_code):
        if volunteer.pk in (first_reviewer.pk, case.family_id, candidate.seeker_posting.owner_id):
            continue
        _send(
            recipient=volunteer, kind="candidate_for_second_review",
            dedupe_key=f"candidate:{candidate.pk}:second_review:{first_reviewer.pk}:"
                       f"{int(candidate.updated_at.timestamp() * 1_000_000)}:{volunteer.pk}",
            link=("matching:review", candidate.reference),
            context={"candidate": candidate, "reviewer": first_reviewer},
            about=candidate,
        )


def candidate_confirmed(candidate: Candidate, *, reviewer: User) -> None:
    """Tells both sides what the confirmation lets them see, and who their volunteer is."""
    for side, recipient in _sides(candidate):
        _send(
            recipient=recipient, kind="candidate_confirmed",
            dedupe_key=f"candidate:{candidate.pk}:confirmed:{side}",
            link=("matching:match_detail", candidate.reference),
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
            link=("matching:match_detail", candidate.reference),
            context={"side": side, "dna_test": dna_test, **_own_names(candidate, side),
                     "volunteer": dna_test.requested_by or volunteer_of(candidate)},
            about=candidate,
        )


def match_message(message: MatchMessage) -> None:
    """A new message: a volunteer's goes to the side of its thread; a side's to the volunteers
    who handle the candidate (who requested its DNA test or confirmed it, and who answered on
    that thread). The text stays in the portal: the notice points to it."""
    candidate = message.candidate
    if message.from_volunteer:
        recipient = (candidate.case.family if message.thread == "family"
                     else candidate.seeker_posting.owner)
        _send(
            recipient=recipient, kind="match_message",
            dedupe_key=f"message:{message.pk}:{message.thread}",
            link=("matching:match_detail", candidate.reference),
            context={"side": message.thread, **_own_names(candidate, message.thread),
                     "author": message.author},
            about=candidate,
        )
        return
    volunteer_ids = set(candidate.messages.filter(
        thread=message.thread, from_volunteer=True).values_list("author_id", flat=True))
    handler = volunteer_of(candidate)
    if handler is not None:
        volunteer_ids.add(handler.pk)
    volunteer_ids -= {None, message.author_id, candidate.case.family_id,
                      candidate.seeker_posting.owner_id}
    who = _("the family") if message.thread == "family" else _("the seeker")
    for volunteer in User.objects.filter(pk__in=volunteer_ids, is_active=True).order_by("pk"):
        if not volunteer.is_volunteer:
            continue
        _send(
            recipient=volunteer, kind="match_message_for_volunteer",
            dedupe_key=f"message:{message.pk}:volunteer:{volunteer.pk}",
            link=("matching:review", candidate.reference),
            context={"number": candidate.short_reference, "who": who, "thread": message.thread},
            about=candidate,
        )
