"""Messages on a confirmed candidate: each side writes to its volunteers, and they answer.

A side's thread is its own (``MatchMessage.Thread``): the family never reads the
seeker's, nor the seeker the family's, so the promises hold (docs/PRIVACY.md). Nothing
can be written before a volunteer confirms, nor after the candidate ended or was
rejected. The notices carry no text of the message (an email leaves the portal).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import User
from matching import notices
from matching.models import Candidate, MatchMessage
from matching.selectors.access import match_side_of
from matching.selectors.matches import message_threads_of
from matching.services.candidates import ReviewRefused

#: The longest message, in characters.
MESSAGE_MAX_LENGTH = 4000


def match_message_post(
    *, actor: User, candidate: Candidate, body: str, thread: str | None = None
) -> MatchMessage:
    """Posts ``body`` on a thread of a confirmed candidate.

    The family and the seeker write on their own thread (``thread`` is theirs, or
    omitted); a volunteer who may review the candidate writes on the thread named.
    ``ReviewRefused`` with a clear message, and nothing stored, on empty or long text;
    ``PermissionError`` for anyone else (the view answers 404).
    """
    text = body.strip()
    if not text:
        raise ReviewRefused(_("Write a message first."))
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ReviewRefused(_("A message holds at most %(n)d characters.") % {
            "n": MESSAGE_MAX_LENGTH})
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().select_related(
            "case", "seeker_posting").get(pk=candidate.pk)
        writable = message_threads_of(user=actor, candidate=candidate)
        if thread is None and len(writable) == 1:
            thread = writable[0]
        if thread not in writable:
            raise PermissionError("Not a thread this person may write on.")
        from_volunteer = match_side_of(user=actor, candidate=candidate) is None
        message = MatchMessage.objects.create(
            candidate=candidate, thread=thread, author=actor, from_volunteer=from_volunteer,
            body=text,
        )
        audit_record(actor=actor, action="match_message.posted", obj=candidate,
                     detail={"thread": thread, "message": message.pk,
                             "from_volunteer": from_volunteer, "length": len(text)})
        notices.match_message(message)
    return message
