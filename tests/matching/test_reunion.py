"""A reunion that shows as one: the case's public page says the child was found (no tip
form, no poster, no "if you recognise this child"), a tip to it is refused kindly and
stored nowhere, the other candidates of both sides close with the reason, a DNA "match"
is recorded only when the volunteer confirms it and says who will be told, and the
volunteers see the reunion on their dashboard."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from families.models import CaseStatus, Notification, Tip
from matching import services
from matching.models import Candidate, DnaTest
from matching.selectors.review import review_queue
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    return redis_queues


@pytest.fixture
def volunteer(make_user):
    return make_user(volunteer=True)


def _samples_in(volunteer, candidate) -> DnaTest:
    builders.confirm(candidate=candidate, volunteer=volunteer)
    test = DnaTest.objects.get(candidate=candidate)
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    return test


def _reunite(volunteer, candidate) -> Candidate:
    test = _samples_in(volunteer, candidate)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="match")
    candidate.refresh_from_db()
    return candidate


def test_a_reunion_closes_the_other_candidates_of_both_sides(volunteer, make_user, make_people):
    case, posting = make_people()
    found = builders.candidate(case=case, posting=posting)
    # Another adult the faces put beside the same child, still waiting for review.
    other_adult = builders.seeker_posting(seeker=make_user(), display_name="Zhao Lei")
    same_child = builders.candidate(case=case, posting=other_adult)
    # Another family whose case was confirmed with the same adult: its DNA test is under way.
    other_case = builders.case(family=make_user(), given_name="Fang")
    same_adult = builders.confirm(candidate=builders.candidate(case=other_case, posting=posting),
                                  volunteer=make_user(volunteer=True))
    assert same_adult.status == Candidate.Status.CONFIRMED
    # A pair of two other people is not touched.
    elsewhere_case, elsewhere_posting = make_people()
    elsewhere = builders.candidate(case=elsewhere_case, posting=elsewhere_posting)

    _reunite(volunteer, found)

    for candidate, reason in ((same_child, "case_reunited"),
                              (same_adult, "seeker_posting_reunited")):
        candidate.refresh_from_db()
        assert (candidate.status, candidate.ended_reason) == (Candidate.Status.ENDED, reason)
        assert candidate.ended_at is not None
    elsewhere.refresh_from_db()
    assert elsewhere.status == Candidate.Status.PENDING
    assert found.status == Candidate.Status.REUNITED
    # The queue holds none of them; the other family's case is no longer waiting on a DNA test.
    assert list(review_queue().values_list("pk", flat=True)) == [elsewhere.pk]
    other_case.refresh_from_db()
    assert other_case.status == CaseStatus.PUBLISHED
    # The other family had been told of theirs: they hear it ended; the adult who was never
    # told of a candidate hears nothing.
    assert Notification.objects.filter(recipient=other_case.family,
                                       kind="candidate_ended").count() == 1
    assert not Notification.objects.filter(recipient=other_adult.owner).exists()


def test_a_case_reunited_by_hand_closes_its_candidates_too(make_user, make_candidate, superuser):
    waiting = make_candidate()
    services.case_mark_reunited(actor=superuser, case=waiting.case, note="found by the police")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.ended_reason) == (Candidate.Status.ENDED, "case_reunited")


def test_a_reunited_case_has_no_tip_form_no_poster_and_says_the_child_was_found(
    volunteer, make_candidate
):
    candidate = _reunite(volunteer, make_candidate())
    case = candidate.case
    page = Client().get(case.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "This child has been found" in text
    assert reverse("families:tip_create", args=[case.pk]) not in text
    assert reverse("families:case_poster", args=[case.pk]) not in text
    assert "If you recognise this child" not in text
    assert "Missing child" not in text
    chinese = Client().get(f"/zh-hans{case.get_absolute_url()}").content.decode()
    assert "这个孩子已经找到了" in chinese

    assert Client().get(reverse("families:case_poster", args=[case.pk])).status_code == 404
    signed_in = Client()
    signed_in.force_login(candidate.seeker_posting.owner)
    assert signed_in.get(reverse("matching:might_be_me", args=[case.pk])).status_code == 404


def test_a_tip_to_a_reunited_case_is_refused_kindly_and_stored_nowhere(
    volunteer, make_candidate
):
    case = _reunite(volunteer, make_candidate()).case
    url = reverse("families:tip_create", args=[case.pk])
    page = Client().get(url)
    assert page.status_code == 200
    assert "This child has been found" in page.content.decode()
    assert "<form" not in page.content.decode().split("<main", 1)[1]
    sent = Client().post(url, {"text": "I saw him at the station.", "place": "Xi'an"})
    assert sent.status_code == 409
    assert "Nothing you wrote was stored" in sent.content.decode()
    assert not Tip.objects.exists()
    from django.core.exceptions import ValidationError

    from families import services as family_services
    with pytest.raises(ValidationError):
        family_services.tip_submit(actor=case.family, case=case,
                                   fields={"text": "Still looking?"})
    assert not Tip.objects.exists()


def test_the_family_may_take_the_reunited_page_down(volunteer, make_candidate):
    case = _reunite(volunteer, make_candidate()).case
    family = Client()
    family.force_login(case.family)
    own = family.get(case.get_absolute_url()).content.decode()
    assert "Take the page down" in own
    withdraw = reverse("families:case_withdraw", args=[case.pk])
    assert "Take the page down" in family.get(withdraw).content.decode()
    assert family.post(withdraw, {"reason": "We found our child."}).status_code == 302
    assert Client().get(case.get_absolute_url()).status_code == 404
    assert Candidate.objects.get(case=case).status == Candidate.Status.REUNITED


def test_a_dna_match_asks_to_confirm_and_says_who_will_be_told(volunteer, make_candidate):
    candidate = make_candidate()
    _samples_in(volunteer, candidate)
    client = Client()
    client.force_login(volunteer)
    url = reverse("matching:dna_test", args=[candidate.reference])
    page = client.get(url).content.decode()
    assert "Who will be told" in page
    assert candidate.case.contact_name in page and candidate.seeker_posting.display_name in page

    result = {"step": "result", "result": "match", "result_on": "2026-01-05",
              "lab_reference": ""}
    unconfirmed = client.post(url, result)
    assert unconfirmed.status_code == 200
    assert "tick this box to confirm it" in unconfirmed.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    assert DnaTest.objects.get(candidate=candidate).result == ""

    done = client.post(url, {**result, "reunion_confirmed": "on"}, follow=True)
    assert "The reunion is recorded" in done.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.REUNITED


def test_the_volunteers_see_the_reunion_on_the_dashboard(volunteer, make_candidate):
    dashboard = Client()
    dashboard.force_login(volunteer)
    before = dashboard.get(reverse("matching:dashboard")).content.decode()
    assert "No reunion yet." in before
    candidate = _reunite(volunteer, make_candidate(missing_province="Sichuan"))
    after = dashboard.get(reverse("matching:dashboard")).content.decode()
    assert f"Case #{candidate.case_id}" in after
    assert "missing from Sichuan" in after
    assert "1 reunion confirmed by a DNA test so far" in after
