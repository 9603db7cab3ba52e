"""DNA test tracking: requested, samples collected, result, and what each result does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from families.models import AuditEntry, CaseStatus, Notification
from matching import services
from matching.models import Candidate, DnaTest, Review
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    return redis_queues


@pytest.fixture
def confirmed(make_user, make_candidate):
    """A candidate a volunteer confirmed, and the DNA test that opened."""
    volunteer = make_user(volunteer=True)
    candidate = make_candidate()
    builders.confirm(candidate=candidate, volunteer=volunteer)
    return volunteer, candidate, DnaTest.objects.get(candidate=candidate)


def kinds_to(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk")
                .values_list("kind", flat=True))


def test_no_genetic_data_is_stored():
    assert {field.name for field in DnaTest._meta.get_fields()} == {
        "id", "candidate", "status", "result", "lab_reference", "requested_by",
        "requested_at", "samples_collected_at", "result_at",
    }


def test_the_steps_come_in_order(confirmed):
    volunteer, candidate, test = confirmed
    with pytest.raises(services.ReviewRefused):
        services.dna_test_record_result(actor=volunteer, dna_test=test, result="match")
    with pytest.raises(services.ReviewRefused):
        services.dna_test_request(actor=volunteer, candidate=candidate)
    collected = timezone.now() - timedelta(days=2)
    services.dna_test_record_samples(actor=volunteer, dna_test=test, collected_at=collected,
                                     lab_reference="LAB-1")
    with pytest.raises(services.ReviewRefused):
        services.dna_test_record_samples(actor=volunteer, dna_test=test)
    with pytest.raises(services.ReviewRefused):
        services.dna_test_record_result(actor=volunteer, dna_test=test, result="maybe")
    test.refresh_from_db()
    assert (test.status, test.samples_collected_at, test.lab_reference) == (
        DnaTest.Status.SAMPLES_COLLECTED, collected, "LAB-1")
    with pytest.raises(PermissionDenied):
        services.dna_test_record_result(actor=candidate.case.family, dna_test=test,
                                        result="match")


def test_no_match_rejects_the_candidate_with_that_reason(confirmed, client):
    volunteer, candidate, test = confirmed
    case, posting = candidate.case, candidate.seeker_posting
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="no_match",
                                    note="Excluded as parent and child.")
    candidate.refresh_from_db()
    case.refresh_from_db()
    posting.refresh_from_db()
    assert candidate.status == Candidate.Status.REJECTED
    review = candidate.reviews.last()
    assert (review.decision, review.reason, review.reviewer) == (
        "reject", Review.Reason.DNA_NO_MATCH, volunteer)
    assert (case.status, posting.status) == (CaseStatus.PUBLISHED, CaseStatus.PUBLISHED)
    expected = ["candidate_confirmed", "dna_samples_collected", "dna_result_no_match"]
    assert kinds_to(case.family) == expected
    assert kinds_to(posting.owner) == expected
    assert AuditEntry.objects.filter(action="candidate.rejected_by_dna",
                                     object_id=str(candidate.pk)).exists()
    # The grant ends with the match: the family no longer sees the seeker.
    client.force_login(case.family)
    match_page = reverse("matching:match_detail", args=[candidate.reference])
    assert client.get(match_page).status_code == 404


def test_an_inconclusive_result_allows_a_new_test(confirmed):
    volunteer, candidate, test = confirmed
    family = candidate.case.family
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="inconclusive")
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    services.dna_test_request(actor=volunteer, candidate=candidate, lab_reference="LAB-2")
    test.refresh_from_db()
    assert (test.status, test.result, test.lab_reference) == ("requested", "", "LAB-2")
    assert test.samples_collected_at is None and test.result_at is None
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="match")
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.REUNITED
    assert kinds_to(family) == [
        "candidate_confirmed", "dna_samples_collected", "dna_result_inconclusive",
        "dna_requested", "dna_samples_collected", "dna_result_match",
    ]
    with pytest.raises(services.ReviewRefused):
        services.dna_test_request(actor=volunteer, candidate=candidate)


def test_the_dna_page_is_for_volunteers_and_records_each_step(confirmed, make_user, client):
    volunteer, candidate, test = confirmed
    url = reverse("matching:dna_test", args=[candidate.reference])
    today = timezone.localdate()
    collected_on, result_on = today - timedelta(days=15), today - timedelta(days=1)
    for outsider in (candidate.case.family, candidate.seeker_posting.owner, make_user()):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"step": "samples", "collected_on": collected_on}).status_code \
            == 404
    client.logout()
    assert client.get(url).status_code == 302

    client.force_login(volunteer)
    page = client.get(url)
    assert page.status_code == 200
    assert "Samples collected" in page.content.decode()
    # The volunteer arranging the test sees both sides' contacts, and that is recorded.
    assert candidate.case.contact_phone in page.content.decode()
    assert candidate.seeker_posting.contact_phone in page.content.decode()
    viewed = AuditEntry.objects.get(action="dna_test.viewed", actor=volunteer)
    assert viewed.detail == {"contacts_shown": True}
    tomorrow = (today + timedelta(days=1)).isoformat()
    refused = client.post(url, {"step": "samples", "collected_on": tomorrow})
    assert refused.status_code == 200
    assert refused.context["samples_form"].errors["collected_on"]
    test.refresh_from_db()
    assert test.status == DnaTest.Status.REQUESTED

    assert client.post(url, {"step": "samples", "collected_on": collected_on,
                             "lab_reference": "GX-9"}).status_code == 302
    assert client.post(url, {"step": "result", "result": "inconclusive",
                             "result_on": result_on}).status_code == 302
    test.refresh_from_db()
    assert (test.status, test.result, test.lab_reference) == ("result", "inconclusive", "GX-9")
    assert test.result_at.date() == result_on
    assert client.post(url, {"step": "request", "lab_reference": "GX-10"}).status_code == 302
    test.refresh_from_db()
    assert (test.status, test.lab_reference) == ("requested", "GX-10")
