"""A family that found their child, or a seeker their family, says so on the withdraw page:
the case or posting then reads reunited (the case's public page says the child was found, with
no tip form), its other candidates close with the reason, and nothing that was never in
matching (a draft, a withdrawn case, someone else's posting) is made public or changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from families.models import CaseStatus
from matching import services
from matching.models import Candidate
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    return redis_queues


_client = builders.logged_in


def test_we_found_our_child_marks_the_case_found_and_closes_its_candidates(
    make_user, make_candidate,
):
    candidate = make_candidate()
    case = candidate.case
    confirmed = builders.confirm(
        candidate=builders.candidate(case=case, posting=builders.seeker_posting(
            seeker=make_user(), display_name="Zhao Lei")),
        volunteer=make_user(volunteer=True))
    client = _client(case.family)
    page = client.get(reverse("families:case_withdraw", args=[case.pk]))
    assert "We found our child" in page.content.decode()

    response = client.post(reverse("families:case_withdraw", args=[case.pk]),
                           {"why": "found", "reason": "The police called us."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REUNITED
    for other in (candidate, confirmed):
        other.refresh_from_db()
        assert (other.status, other.ended_reason) == (Candidate.Status.ENDED, "case_reunited")
    public = Client().get(case.get_absolute_url()).content.decode()
    assert "This child has been found" in public
    assert reverse("families:tip_create", args=[case.pk]) not in public


def test_another_reason_still_withdraws(make_candidate):
    case = make_candidate().case
    _client(case.family).post(reverse("families:case_withdraw", args=[case.pk]),
                              {"why": "other", "reason": "We stop."})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN


def test_a_draft_case_is_never_made_public_as_found(make_user):
    case = builders.case(family=make_user(), publish=False)
    client = _client(case.family)
    assert "We found our child" not in client.get(
        reverse("families:case_withdraw", args=[case.pk])).content.decode()
    client.post(reverse("families:case_withdraw", args=[case.pk]), {"why": "found"})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN  # "found" was not offered: a plain withdrawal
    assert not case.is_public
    with pytest.raises(services.ReviewRefused):
        services.case_report_found(actor=case.family, case=case)


def test_only_the_family_reports_their_child_found(make_user, make_candidate):
    case = make_candidate().case
    with pytest.raises(PermissionDenied):
        services.case_report_found(actor=make_user(volunteer=True), case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLISHED


def test_i_found_my_family_marks_the_posting_reunited_and_takes_it_down(make_candidate):
    candidate = make_candidate()
    posting = candidate.seeker_posting
    client = _client(posting.owner)
    assert "I found my family" in client.get(
        reverse("families:seeker_withdraw", args=[posting.pk])).content.decode()
    client.post(reverse("families:seeker_withdraw", args=[posting.pk]), {"why": "found"})
    posting.refresh_from_db()
    candidate.refresh_from_db()
    assert posting.status == CaseStatus.REUNITED
    assert posting.published_at is None and not posting.is_public
    assert (candidate.status, candidate.ended_reason) == (
        Candidate.Status.ENDED, "seeker_posting_reunited")
    page = client.get(reverse("families:seeker_detail", args=[posting.pk])).content.decode()
    assert "Reunited." in page


def test_a_found_persons_posting_offers_no_found_reason(make_user):
    posting = builders.seeker_posting(seeker=make_user(), posted_for="found",
                                      matching_basis="Police record 12.")
    page = _client(posting.owner).get(
        reverse("families:seeker_withdraw", args=[posting.pk])).content.decode()
    assert "I found my family" not in page
