"""Candidates people propose: whatever the faces say, reviewed like any other, and the
person proposing learns nothing of what already exists."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from families.models import AuditEntry, Notification
from families.services import seeker_posting_publish, tip_submit
from matching.models import Candidate
from matching.services.proposals import candidate_propose
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def strangers(make_user, photo_bytes, run_worker):
    """A case and a consenting seeker of two different people, embedded by a real worker."""
    case = builders.case(family=make_user(), missing_province="Shaanxi")
    posting = builders.seeker_posting(seeker=make_user())
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    builders.photo(data=photo_bytes("img38.jpg"), posting=posting)  # far from img1
    volunteer = make_user(volunteer=True)
    run_worker()
    return case, posting, volunteer


def test_this_might_be_me_becomes_a_candidate_whatever_the_faces_say(client, strangers,
                                                                     run_worker):
    case, posting, volunteer = strangers
    assert not Candidate.objects.exists()  # the faces alone found nothing
    client.force_login(posting.owner)
    url = reverse("matching:might_be_me", args=[case.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"own": posting.pk, "note": "I remember the station."})
    assert response.status_code == 302
    candidate = Candidate.objects.get()
    assert (candidate.source, candidate.proposed_by, candidate.proposal_note) == (
        Candidate.Source.SEEKER, posting.owner, "I remember the station.")
    # The distant faces are measured and shown as they are, not hidden.
    assert candidate.best_distance is not None
    assert candidate.best_distance > settings.MATCH_DISTANCE_MAX
    client.force_login(volunteer)
    queue = client.get(reverse("matching:queue"))
    assert candidate in queue.context["page"].object_list
    assert candidate in client.get(reverse("matching:queue"), {"source": "seeker"}) \
        .context["page"].object_list
    assert candidate not in client.get(reverse("matching:queue"), {"source": "face_match"}) \
        .context["page"].object_list
    page = client.get(reverse("matching:review", args=[candidate.reference])).content.decode()
    assert "I remember the station." in page
    # Only the volunteers hear of it, from the proposal's job; the family learns nothing
    # before a confirmation.
    assert not Notification.objects.filter(recipient=volunteer).exists()
    run_worker()
    assert Notification.objects.filter(recipient=volunteer).exists()
    assert not Notification.objects.filter(recipient__in=[case.family, posting.owner]).exists()
    builders.confirm(candidate=candidate, volunteer=volunteer)
    assert Notification.objects.filter(recipient=case.family,
                                       kind="candidate_confirmed").exists()


def test_a_family_proposes_a_published_posting_and_learns_nothing_of_what_exists(
    client, strangers
):
    case, posting, _volunteer = strangers
    url = reverse("matching:might_be_our_child", args=[posting.pk])
    client.force_login(case.family)
    assert client.get(url).status_code == 404  # not public yet
    seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                           show_memories=False)
    first = client.post(url, {"own": case.pk, "note": "Same birthmark on the photo."})
    assert first.status_code == 302
    candidate = Candidate.objects.get()
    assert candidate.source == Candidate.Source.FAMILY
    # Proposing again answers the same and adds nothing but an audit entry.
    again = client.post(url, {"own": case.pk, "note": "Please look again."})
    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    assert Candidate.objects.count() == 1
    assert AuditEntry.objects.filter(action="candidate.proposed_again").exists()


def test_a_proposal_does_the_same_work_for_a_new_pair_and_a_known_one(
    strangers, redis_queues, run_worker
):
    """The reply's time must not tell a candidate exists: both proposals measure the pair,
    write one audit entry and queue one job; only the new pair's job tells the volunteers."""
    case, posting, volunteer = strangers
    seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                           show_memories=False)
    posting.refresh_from_db()
    match_queue = redis_queues[settings.MATCH_QUEUE]
    queued = []
    for note in ("Same birthmark on the photo.", "Please look again."):
        candidate_propose(actor=case.family, case=case, seeker_posting=posting,
                          source=Candidate.Source.FAMILY, note=note)
        queued.append(match_queue.get_job_ids())
    assert [len(ids) for ids in queued] == [1, 2]
    assert Notification.objects.count() == 0
    run_worker()
    notices = Notification.objects.filter(kind="candidate_for_volunteer")
    assert list(notices.values_list("recipient", flat=True)) == [volunteer.pk]


def test_a_volunteer_proposes_from_a_tip_never_about_their_own(client, strangers, make_user):
    case, posting, volunteer = strangers
    tip = tip_submit(actor=make_user(), case=case, fields={"text": "Seen in Henan."})
    client.force_login(volunteer)
    url = reverse("matching:volunteer_propose")
    assert client.get(url, {"case": case.pk, "tip": tip.reference}).status_code == 200
    response = client.post(url, {"case": case.pk, "seeker_posting": posting.pk,
                                 "tip": tip.reference, "note": "The tip names the same town."})
    assert response.status_code == 302
    assert Candidate.objects.get().source == Candidate.Source.TIP
    with pytest.raises(PermissionDenied):
        candidate_propose(actor=case.family, case=case, seeker_posting=posting,
                          source=Candidate.Source.VOLUNTEER, note="mine")


def test_a_proposal_from_a_tip_needs_the_right_to_handle_that_tip(client, make_people,
                                                                  make_user):
    case, posting = make_people(missing_province="Shaanxi")
    tip = tip_submit(actor=make_user(), case=case, fields={"text": "Seen in Henan."})
    elsewhere = make_user(volunteer=True, review_provinces="Sichuan")
    with pytest.raises(PermissionDenied):
        candidate_propose(actor=elsewhere, case=case, seeker_posting=posting,
                          source=Candidate.Source.TIP, tip=tip, note="The same town.")
    # The page answers as for a tip that does not exist, and records nothing.
    client.force_login(elsewhere)
    response = client.post(reverse("matching:volunteer_propose"), {
        "case": case.pk, "seeker_posting": posting.pk, "tip": tip.reference,
        "note": "The same town."})
    assert response.status_code == 400
    assert "No such case, posting or tip." in response.content.decode()
    assert not Candidate.objects.exists()
    assert not AuditEntry.objects.filter(actor=elsewhere).exists()
    # A volunteer of the case's province proposes from it.
    candidate = candidate_propose(
        actor=make_user(volunteer=True, review_provinces="Shaanxi"), case=case,
        seeker_posting=posting, source=Candidate.Source.TIP, tip=tip, note="The same town.")
    assert candidate.source == Candidate.Source.TIP


def test_only_consenting_people_in_matching_are_proposed(make_user, strangers):
    case, posting, _volunteer = strangers
    no_consent = builders.seeker_posting(seeker=make_user(), consent_to_matching=False)
    with pytest.raises(PermissionDenied):  # not the case's public page's seeker either way
        candidate_propose(actor=posting.owner, case=case, seeker_posting=no_consent,
                          source=Candidate.Source.SEEKER, note="x")
    with pytest.raises(ValidationError):
        candidate_propose(actor=no_consent.owner, case=case, seeker_posting=no_consent,
                          source=Candidate.Source.SEEKER, note="x")
    with pytest.raises(ValidationError):
        candidate_propose(actor=posting.owner, case=case, seeker_posting=posting,
                          source=Candidate.Source.SEEKER, note="  ")
    assert not Candidate.objects.exists()
