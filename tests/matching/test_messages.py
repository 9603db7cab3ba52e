"""Messages on a confirmed candidate: the family and the seeker each write to their
volunteers on a thread of their own, and the volunteers answer. Nothing before a
confirmation (the same 404 as a candidate that does not exist), never the other side's
thread, no text in an email, a clear refusal with nothing stored for an empty message."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from families.models import Notification
from matching import services
from matching.models import MatchMessage
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    return redis_queues


_client = builders.logged_in


@pytest.fixture
def confirmed(make_user, make_candidate):
    volunteer = make_user(volunteer=True, full_name="Volunteer Zhou")
    candidate = builders.confirm(candidate=make_candidate(), volunteer=volunteer)
    return candidate, volunteer


def test_nothing_before_a_confirmation(make_user, make_candidate):
    candidate = make_candidate()
    url = reverse("matching:match_messages", args=[candidate.reference])
    missing = reverse("matching:match_messages", args=[uuid.uuid4()])
    for user in (candidate.case.family, candidate.seeker_posting.owner,
                 make_user(volunteer=True), make_user()):
        client = _client(user)
        for thread in ("", "family", "seeker"):
            answer = client.post(url, {"body": "Hello", "thread": thread})
            assert answer.status_code == 404
            assert client.post(missing, {"body": "Hello", "thread": thread}).status_code == 404
    assert not MatchMessage.objects.exists()
    with pytest.raises(PermissionError):
        services.match_message_post(actor=candidate.case.family, candidate=candidate,
                                    body="Hello")


def test_the_family_writes_and_the_volunteer_answers_on_the_familys_thread(confirmed):
    candidate, volunteer = confirmed
    family, seeker = candidate.case.family, candidate.seeker_posting.owner
    url = reverse("matching:match_messages", args=[candidate.reference])
    family_client = _client(family)
    answer = family_client.post(url, {"body": "We agree: call us on Sunday."})
    assert answer.status_code == 302
    assert answer["Location"].endswith("#messages-family")
    message = MatchMessage.objects.get()
    assert (message.thread, message.author, message.from_volunteer) == (
        "family", family, False)
    # The volunteer who confirmed hears of it, without its text.
    notice = Notification.objects.get(recipient=volunteer, kind="match_message_for_volunteer")
    assert "Sunday" not in notice.subject + notice.body
    assert f"#{candidate.short_reference}" in notice.subject

    # The volunteer reads both threads on the review page and answers the family's.
    review = _client(volunteer).get(reverse("matching:review", args=[candidate.reference]))
    page = review.content.decode()
    assert "We agree: call us on Sunday." in page
    assert "Messages with the family" in page and "Messages with the seeker" in page
    _client(volunteer).post(url, {"thread": "family", "body": "Thank you, I will call you."})
    notice = Notification.objects.get(recipient=family, kind="match_message")
    assert str(candidate.case) in notice.subject
    assert "I will call you" not in notice.subject + notice.body

    # The family sees the thread on the match page; the seeker never sees it.
    family_page = family_client.get(reverse("matching:match_detail", args=[candidate.reference]))
    assert "Thank you, I will call you." in family_page.content.decode()
    seeker_page = _client(seeker).get(
        reverse("matching:match_detail", args=[candidate.reference])).content.decode()
    assert "Sunday" not in seeker_page and "I will call you" not in seeker_page
    assert not Notification.objects.filter(recipient=seeker, kind="match_message").exists()


def test_a_side_never_writes_on_the_other_sides_thread(confirmed):
    candidate, _volunteer = confirmed
    url = reverse("matching:match_messages", args=[candidate.reference])
    answer = _client(candidate.seeker_posting.owner).post(
        url, {"thread": "family", "body": "Hello family"})
    assert answer.status_code == 404
    assert not MatchMessage.objects.exists()


def test_an_empty_message_is_refused_and_nothing_is_stored(confirmed):
    candidate, _volunteer = confirmed
    url = reverse("matching:match_messages", args=[candidate.reference])
    answer = _client(candidate.case.family).post(url, {"body": "   "}, follow=True)
    assert "Write a message first." in answer.content.decode()
    assert not MatchMessage.objects.exists()
    too_long = _client(candidate.case.family).post(url, {"body": "x" * 4001}, follow=True)
    assert "at most 4000 characters" in too_long.content.decode()
    assert not MatchMessage.objects.exists()


def test_a_volunteer_of_the_candidates_own_case_reads_no_thread(confirmed, make_user):
    candidate, _volunteer = confirmed
    family = candidate.case.family
    family.groups.add(*make_user(volunteer=True).groups.all())  # the family is a volunteer too
    url = reverse("matching:match_messages", args=[candidate.reference])
    assert _client(family).post(url, {"thread": "seeker", "body": "Hi"}).status_code == 404
    assert _client(family).post(url, {"body": "Hi"}).status_code == 302  # their own thread
    assert list(MatchMessage.objects.values_list("thread", flat=True)) == ["family"]


def test_an_ended_candidate_takes_its_threads_away(confirmed):
    from families import services as family_services

    candidate, _volunteer = confirmed
    services.match_message_post(actor=candidate.case.family, candidate=candidate,
                                body="Zebra-42 question")
    family_services.seeker_posting_withdraw(actor=candidate.seeker_posting.owner,
                                            posting=candidate.seeker_posting)
    url = reverse("matching:match_messages", args=[candidate.reference])
    assert _client(candidate.case.family).post(url, {"body": "Again"}).status_code == 404
    page = _client(candidate.case.family).get(
        reverse("matching:match_detail", args=[candidate.reference])).content.decode()
    assert "no longer being followed" in page and "Zebra-42" not in page


def test_the_export_holds_the_messages_one_wrote(confirmed):
    import io
    import json
    import zipfile

    from families.services import account_export

    candidate, _volunteer = confirmed
    services.match_message_post(actor=candidate.case.family, candidate=candidate,
                                body="Where is the sample taken?")
    archive = zipfile.ZipFile(io.BytesIO(account_export(actor=candidate.case.family)))
    (message,) = json.loads(archive.read("messages.json"))
    assert (message["body"], message["thread"]) == ("Where is the sample taken?", "family")
    seeker_archive = zipfile.ZipFile(io.BytesIO(account_export(
        actor=candidate.seeker_posting.owner)))
    assert json.loads(seeker_archive.read("messages.json")) == []
