"""Review services and the review queue: claims, decisions, a second reviewer, statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from families import services as family_services
from families.models import AuditEntry, CaseStatus, MissingChildCase, Notification
from matching import services
from matching.models import Candidate, DnaTest, Review
from matching.selectors.review import review_queue
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    """Notices queue their emails on the tests' own Redis database."""
    return redis_queues


# --- claims -------------------------------------------------------------------


def test_two_volunteers_never_hold_the_same_candidate(make_user, make_candidate):
    first, second = make_user(volunteer=True), make_user(volunteer=True)
    candidate = make_candidate()
    services.candidate_claim(actor=first, candidate=candidate)
    with pytest.raises(services.ReviewRefused):
        services.candidate_claim(actor=second, candidate=candidate)
    with pytest.raises(services.ReviewRefused):
        services.candidate_release(actor=second, candidate=candidate)
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=second, candidate=candidate,
                                  decision=Review.Decision.CONFIRM)
    services.candidate_release(actor=first, candidate=candidate)
    claimed = services.candidate_claim(actor=second, candidate=candidate)
    assert claimed.claimed_by == second
    actions = list(AuditEntry.objects.filter(object_type="matching.candidate").exclude(
        action="candidate.created").order_by("pk").values_list("action", "actor"))
    assert actions == [("candidate.claimed", first.pk), ("candidate.released", first.pk),
                       ("candidate.claimed", second.pk)]


def test_a_forgotten_claim_can_be_taken_over(make_user, settings, make_candidate):
    settings.REVIEW_CLAIM_HOURS = 24
    first, second = make_user(volunteer=True), make_user(volunteer=True)
    candidate = make_candidate()
    services.candidate_claim(actor=first, candidate=candidate)
    Candidate.objects.filter(pk=candidate.pk).update(
        claimed_at=timezone.now() - timedelta(hours=25))
    assert services.candidate_claim(actor=second, candidate=candidate).claimed_by == second


def test_only_volunteers_review(make_user, make_people):
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    for outsider in (case.family, posting.owner, make_user()):
        with pytest.raises(PermissionDenied):
            services.candidate_claim(actor=outsider, candidate=candidate)
        with pytest.raises(PermissionDenied):
            services.candidate_review(actor=outsider, candidate=candidate,
                                      decision=Review.Decision.CONFIRM)
    assert not Review.objects.exists()


# --- decisions ----------------------------------------------------------------


def test_rejecting_needs_a_reason_and_puts_the_case_back(make_user, make_people):
    volunteer = make_user(volunteer=True)
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLISHED  # an unreviewed candidate shows nowhere
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.REJECT)
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.REJECT, reason=Review.Reason.OTHER)
    with pytest.raises(services.ReviewRefused):  # only a DNA result gives this reason
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.REJECT,
                                  reason=Review.Reason.DNA_NO_MATCH)
    assert not Review.objects.exists()

    review = services.candidate_review(
        actor=volunteer, candidate=candidate, decision=Review.Decision.REJECT,
        reason=Review.Reason.DIFFERENT_PERSON, note="Ears and chin differ in every pair.",
    )
    candidate.refresh_from_db()
    case.refresh_from_db()
    posting.refresh_from_db()
    assert (review.reviewer, review.reason) == (volunteer, "different_person")
    assert candidate.status == Candidate.Status.REJECTED and candidate.claimed_by is None
    assert (case.status, posting.status) == (CaseStatus.PUBLISHED, CaseStatus.PUBLISHED)
    entry = AuditEntry.objects.get(action="candidate.review.reject")
    assert entry.actor == volunteer
    assert entry.detail["reason"] == "different_person" and entry.detail["to"] == "rejected"
    # Nobody is told of a rejection they never heard details of; no DNA test.
    assert not Notification.objects.filter(kind="candidate_confirmed").exists()
    assert not DnaTest.objects.exists()
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.CONFIRM)


def test_needs_more_information_keeps_the_candidate_open(make_user, make_people):
    volunteer = make_user(volunteer=True)
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.NEEDS_INFO)
    services.candidate_review(actor=volunteer, candidate=candidate,
                              decision=Review.Decision.NEEDS_INFO,
                              note="Ask the family for a photo at age 5.")
    candidate.refresh_from_db()
    case.refresh_from_db()
    assert candidate.status == Candidate.Status.NEEDS_INFO
    assert case.status == CaseStatus.PUBLISHED
    assert candidate in review_queue()


def test_confirming_opens_the_dna_step_and_tells_both_sides(make_user, make_people):
    volunteer = make_user(volunteer=True, full_name="Zhou")
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    services.candidate_claim(actor=volunteer, candidate=candidate)
    services.candidate_review(actor=volunteer, candidate=candidate,
                              decision=Review.Decision.CONFIRM, note="Strong likeness.")
    candidate.refresh_from_db()
    case.refresh_from_db()
    posting.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED and candidate.claimed_by is None
    assert (case.status, posting.status) == (CaseStatus.DNA_PENDING, CaseStatus.DNA_PENDING)
    test = DnaTest.objects.get(candidate=candidate)
    assert (test.status, test.requested_by) == (DnaTest.Status.REQUESTED, volunteer)
    confirmed = Notification.objects.filter(kind="candidate_confirmed")
    assert sorted(n.recipient_id for n in confirmed) == sorted([case.family_id, posting.owner_id])
    assert all("Zhou" in n.body for n in confirmed)
    assert candidate not in review_queue()


def test_a_second_reviewer_must_confirm_when_the_setting_asks(make_user, settings, make_people):
    settings.REVIEW_REQUIRES_SECOND_REVIEWER = True
    first, second = make_user(volunteer=True), make_user(volunteer=True)
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    builders.confirm(candidate=candidate, volunteer=first)
    assert candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
    assert not DnaTest.objects.exists()
    asked = Notification.objects.filter(kind="candidate_for_second_review")
    assert [n.recipient for n in asked] == [second]
    assert not Notification.objects.filter(kind="candidate_confirmed").exists()
    services.candidate_claim(actor=first, candidate=candidate)
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=first, candidate=candidate,
                                  decision=Review.Decision.SECOND_CONFIRM, note="Sure.")
    services.candidate_release(actor=first, candidate=candidate)
    builders.confirm(candidate=candidate, volunteer=second,
                     decision=Review.Decision.SECOND_CONFIRM)
    assert candidate.status == Candidate.Status.CONFIRMED
    assert list(candidate.reviews.values_list("decision", "reviewer")) == [
        ("confirm", first.pk), ("second_confirm", second.pk)]
    assert DnaTest.objects.filter(candidate=candidate).exists()
    assert Notification.objects.filter(kind="candidate_confirmed").count() == 2


def test_a_second_reviewer_may_reject(make_user, settings, make_candidate):
    settings.REVIEW_REQUIRES_SECOND_REVIEWER = True
    first, second = make_user(volunteer=True), make_user(volunteer=True)
    candidate = make_candidate()
    builders.confirm(candidate=candidate, volunteer=first)
    services.candidate_review(actor=second, candidate=candidate,
                              decision=Review.Decision.REJECT,
                              reason=Review.Reason.FACTS_CONFLICT)
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.REJECTED
    assert not DnaTest.objects.exists()


# --- no lone volunteer ---------------------------------------------------------


def test_a_confirmation_needs_the_candidate_claimed_and_a_written_reason(
    make_user, make_candidate, settings
):
    settings.REVIEW_REQUIRES_SECOND_REVIEWER = True
    first, second = make_user(volunteer=True), make_user(volunteer=True)
    candidate = make_candidate()
    with pytest.raises(services.ReviewRefused, match="Claim"):
        services.candidate_review(actor=first, candidate=candidate,
                                  decision=Review.Decision.CONFIRM, note="Same scar.")
    services.candidate_claim(actor=first, candidate=candidate)
    with pytest.raises(services.ReviewRefused, match="note"):
        services.candidate_review(actor=first, candidate=candidate,
                                  decision=Review.Decision.CONFIRM, note="  ")
    services.candidate_review(actor=first, candidate=candidate,
                              decision=Review.Decision.CONFIRM, note="Same scar.")
    # The second confirmation too: claimed by the second volunteer, with the reason.
    with pytest.raises(services.ReviewRefused, match="Claim"):
        services.candidate_review(actor=second, candidate=candidate,
                                  decision=Review.Decision.SECOND_CONFIRM, note="Agreed.")
    services.candidate_claim(actor=second, candidate=candidate)
    with pytest.raises(services.ReviewRefused, match="note"):
        services.candidate_review(actor=second, candidate=candidate,
                                  decision=Review.Decision.SECOND_CONFIRM)
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
    assert list(candidate.reviews.values_list("decision", "note")) == [("confirm", "Same scar.")]
    services.candidate_review(actor=second, candidate=candidate,
                              decision=Review.Decision.SECOND_CONFIRM, note="Agreed.")
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED


def test_a_claim_taken_over_is_no_longer_enough_to_confirm(make_user, make_candidate, settings):
    settings.REVIEW_CLAIM_HOURS = 24
    volunteer = make_user(volunteer=True)
    candidate = make_candidate()
    services.candidate_claim(actor=volunteer, candidate=candidate)
    Candidate.objects.filter(pk=candidate.pk).update(
        claimed_at=timezone.now() - timedelta(hours=25))
    with pytest.raises(services.ReviewRefused, match="Claim"):
        services.candidate_review(actor=volunteer, candidate=candidate,
                                  decision=Review.Decision.CONFIRM, note="Same scar.")
    assert not Review.objects.exists()


def test_the_volunteer_who_proposed_a_candidate_never_confirms_it(
    make_user, make_people, settings, client
):
    from matching.services.proposals import candidate_propose

    proposer, other = make_user(volunteer=True), make_user(volunteer=True)
    case, posting = make_people()
    candidate = candidate_propose(actor=proposer, case=case, seeker_posting=posting,
                                  source=Candidate.Source.VOLUNTEER, note="The same mole.")
    services.candidate_claim(actor=proposer, candidate=candidate)
    with pytest.raises(services.ReviewRefused, match="another volunteer"):
        services.candidate_review(actor=proposer, candidate=candidate,
                                  decision=Review.Decision.CONFIRM, note="I am sure.")
    # The review page offers the proposer no confirmation, and a forged one changes nothing.
    client.force_login(proposer)
    url = reverse("matching:review", args=[candidate.reference])
    page = client.get(url)
    assert "another volunteer must confirm it" in page.content.decode()
    assert [value for value, _ in page.context["form"].fields["decision"].choices] == [
        Review.Decision.NEEDS_INFO, Review.Decision.REJECT]
    assert client.post(url, {"decision": "confirm", "note": "I am sure."}
                       ).context["form"].errors["decision"]
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.PENDING and not candidate.reviews.exists()
    # Another volunteer confirms it; with two confirmations asked, the proposer is neither.
    services.candidate_release(actor=proposer, candidate=candidate)
    settings.REVIEW_REQUIRES_SECOND_REVIEWER = True
    builders.confirm(candidate=candidate, volunteer=other)
    assert candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
    services.candidate_claim(actor=proposer, candidate=candidate)
    with pytest.raises(services.ReviewRefused, match="another volunteer"):
        services.candidate_review(actor=proposer, candidate=candidate,
                                  decision=Review.Decision.SECOND_CONFIRM, note="Agreed.")
    services.candidate_release(actor=proposer, candidate=candidate)
    builders.confirm(candidate=candidate, volunteer=make_user(volunteer=True),
                     decision=Review.Decision.SECOND_CONFIRM)
    assert candidate.status == Candidate.Status.CONFIRMED


# --- the queue ----------------------------------------------------------------


def test_the_queue_orders_by_score_then_by_how_long_the_case_waited(make_candidate):
    def published_days_ago(days: int, *, score: float) -> Candidate:
        candidate = make_candidate(score=score)
        MissingChildCase.objects.filter(pk=candidate.case_id).update(
            published_at=timezone.now() - timedelta(days=days))
        return candidate

    old = published_days_ago(900, score=0.4)
    new = published_days_ago(3, score=0.4)
    best = published_days_ago(1, score=0.8)
    assert list(review_queue()) == [best, old, new]


def test_the_queue_filters_by_region_date_and_score(make_candidate):
    hunan = {"grew_up_province": "Hunan"}
    guangdong = make_candidate(missing_province="Guangdong", missing_city="Shenzhen",
                               posting_fields=hunan, score=0.3)
    sichuan = make_candidate(missing_province="Sichuan", missing_city="Chengdu",
                             posting_fields=hunan, score=0.7)
    Candidate.objects.filter(pk=guangdong.pk).update(
        created_at=timezone.now() - timedelta(days=40))
    assert list(review_queue(region="sichuan")) == [sichuan]
    assert list(review_queue(region="Chengdu")) == [sichuan]
    assert list(review_queue(region="Hunan")) == [sichuan, guangdong]  # seeker's
    assert list(review_queue(min_score=0.5)) == [sichuan]
    today = timezone.localdate()
    assert list(review_queue(created_from=today - timedelta(days=7))) == [sichuan]
    assert list(review_queue(created_to=today - timedelta(days=7))) == [guangdong]


def test_the_queue_leaves_out_decided_candidates_and_withdrawn_cases(
    make_user, make_people, make_candidate
):
    volunteer = make_user(volunteer=True)
    rejected = make_candidate()
    services.candidate_review(actor=volunteer, candidate=rejected,
                              decision=Review.Decision.REJECT, reason=Review.Reason.POOR_PHOTO)
    case, posting = make_people()
    withdrawn = builders.candidate(case=case, posting=posting)
    family_services.case_withdraw(actor=case.family, case=case)
    waiting = make_candidate()
    assert list(review_queue()) == [waiting]
    assert withdrawn not in review_queue()


# --- notices at creation ------------------------------------------------------


def test_a_new_candidate_tells_only_the_volunteers_of_its_region(make_user, make_people):
    here = make_user(volunteer=True, review_provinces="guangdong ,Fujian")
    anywhere = make_user(volunteer=True)
    there = make_user(volunteer=True, review_provinces="Sichuan")
    case, posting = make_people(missing_province="Guangdong")
    candidate = builders.candidate(case=case, posting=posting)
    notices = Notification.objects.order_by("pk")
    # Neither the family nor the seeker hears of a candidate no volunteer has looked at.
    assert [(n.kind, n.recipient_id) for n in notices] == [
        ("candidate_for_volunteer", here.pk),
        ("candidate_for_volunteer", anywhere.pk),
    ]
    assert not Notification.objects.filter(recipient=there).exists()
    # Recording the candidate again (a rerun of the match job) tells no one again.
    builders.candidate(case=case, posting=posting, score=0.55)
    assert Notification.objects.count() == 2
    assert notices[0].link == f"/matching/review/{candidate.reference}/"
    assert {(n.about_type, n.about_id) for n in notices} == {
        ("matching.candidate", str(candidate.pk))}


def test_notices_speak_the_recipients_language(make_user, make_people):
    volunteer = make_user(volunteer=True, preferred_language="zh-hans")
    case, posting = make_people()
    builders.candidate(case=case, posting=posting)
    to_volunteer = Notification.objects.get(recipient=volunteer)
    assert to_volunteer.link.startswith("/zh-hans/")


def test_a_volunteer_never_reviews_their_own_case_or_posting(make_user, make_people):
    family_volunteer = make_user(volunteer=True)
    case, _ = make_people()
    case.family = family_volunteer
    case.save()
    own = builders.candidate(case=case, posting=make_people()[1])
    with pytest.raises(services.ReviewRefused):
        services.candidate_claim(actor=family_volunteer, candidate=own)
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=family_volunteer, candidate=own,
                                  decision=Review.Decision.CONFIRM)
    assert not Review.objects.exists()
