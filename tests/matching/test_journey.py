"""One candidate from the real pipeline to a reunion, with every notice and audit entry.

Two photos of the same person (../shared/faces) go in through
``families.services.photo_add``, as a case photo and a seeker photo; a real RQ
worker detects, embeds and matches them, and sends every email. A volunteer
confirms on the review page, records the DNA samples and a DNA match, and
the case and the seeker posting end "reunited".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from families.models import AuditEntry, CaseStatus, Notification, Sex
from matching.models import Candidate, DnaTest, Review
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def entries_since(mark: int) -> list[tuple[str | None, str, str]]:
    """(actor email, action, object type) of the audit entries written after ``mark``, in order."""
    return [
        (entry.actor.email if entry.actor else None, entry.action, entry.object_type)
        for entry in AuditEntry.objects.filter(pk__gt=mark).order_by("pk")
    ]


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def mails_to(address: str) -> list[str]:
    return [message.subject for message in mail.outbox if message.to == [address]]


def test_a_candidate_walks_from_the_face_match_to_a_reunion(
    make_user, photo_bytes, run_worker, client
):
    family = make_user(email="family@example.org", full_name="Chen Li")
    adult = make_user(email="adult@example.org", full_name="Anna Wu")
    volunteer = make_user(
        email="guangdong@example.org", full_name="Volunteer Zhou", volunteer=True,
        review_provinces="Guangdong, Fujian",
    )
    everywhere = make_user(email="all@example.org", volunteer=True)
    elsewhere = make_user(email="sichuan@example.org", volunteer=True,
                          review_provinces="Sichuan")
    case = builders.case(
        family=family, given_name="Mei", family_name="Chen", nicknames="", sex=Sex.FEMALE,
        birth_year_min=1974, birth_year_max=1976, missing_date="1979-06-01",
        missing_province="Guangdong", missing_city="Shenzhen", missing_district="",
        contact_name="Chen Li", contact_phone="+86 138 0000 1111",
        police_report_number="GD-1979-42",
    )
    posting = builders.seeker_posting(
        seeker=adult, display_name="Anna", sex=Sex.FEMALE, birth_year_min=1972,
        birth_year_max=1978, grew_up_province="Hunan", contact_phone="+86 139 2222 3333",
        memories="A red gate and a river.",
    )
    mark = last_audit_id()
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    builders.photo(data=photo_bytes("img2.jpg"), posting=posting, age_in_photo=40)

    # 1. The real worker embeds both faces, matches them and sends the first notices.
    run_worker()
    candidate = Candidate.objects.get()
    assert (candidate.case, candidate.seeker_posting) == (case, posting)
    assert candidate.status == Candidate.Status.PENDING
    assert entries_since(mark) == [
        (family.email, "photo.added", "families.photo"),
        (family.email, "photo.processing_scheduled", "families.photo"),
        (adult.email, "photo.added", "families.photo"),
        (adult.email, "photo.processing_scheduled", "families.photo"),
        (None, "face.matching_scheduled", "matching.face"),
        (None, "face.matching_scheduled", "matching.face"),
        (None, "candidate.created", "matching.candidate"),
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    # Only the volunteers hear of it: the two sides learn nothing before a confirmation.
    assert mails_to(family.email) == []
    assert mails_to(adult.email) == []
    assert mails_to(volunteer.email) == ["A new candidate is waiting for review in Guangdong"]
    assert mails_to(everywhere.email) == ["A new candidate is waiting for review in Guangdong"]
    assert mails_to(elsewhere.email) == []
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2
    case.refresh_from_db()
    posting.refresh_from_db()
    assert (case.status, posting.status) == (CaseStatus.PUBLISHED, CaseStatus.PUBLISHED)

    # 2. A volunteer claims the candidate, reviews it side by side and confirms.
    client.force_login(volunteer)
    mark = last_audit_id()
    assert client.post(reverse("matching:claim", args=[candidate.reference])).status_code == 302
    page = client.get(reverse("matching:review", args=[candidate.reference]))
    assert page.status_code == 200
    assert len(page.context["pairs"]) == 1
    response = client.post(reverse("matching:review", args=[candidate.reference]), {
        "decision": Review.Decision.CONFIRM, "note": "Same face shape, facts agree.",
    })
    assert response.status_code == 302
    assert entries_since(mark) == [
        (volunteer.email, "candidate.claimed", "matching.candidate"),
        (volunteer.email, "candidate.viewed", "matching.candidate"),
        (volunteer.email, "candidate.review.confirm", "matching.candidate"),
        (volunteer.email, "dna_test.requested", "matching.dnatest"),
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    case.refresh_from_db()
    posting.refresh_from_db()
    assert (case.status, posting.status) == (CaseStatus.DNA_PENDING, CaseStatus.DNA_PENDING)
    run_worker(("notify",))
    # Each side's subject names its own child and case, or its own posting; never the other's.
    case_words = f"{case}, case #{case.pk}"
    posting_words = f"Your seeker posting #{posting.pk}"
    confirmed = f"{case_words}: a volunteer found a possible match; a DNA test is next"
    assert mails_to(family.email)[-1] == confirmed
    assert mails_to(adult.email)[-1] == (
        f"{posting_words}: a volunteer found a family who may be yours; a DNA test is next")
    assert str(case) not in mails_to(adult.email)[-1]
    assert "Volunteer Zhou (guangdong@example.org)" in mail.outbox[-1].body
    assert len(mail.outbox) == 4
    # No details in the email: neither side's name, place or contacts.
    to_family = next(m for m in mail.outbox if m.to == [family.email])
    to_adult = next(m for m in mail.outbox if m.to == [adult.email])
    for secret in ("Anna", "Hunan", "2222", "red gate"):
        assert secret not in to_family.body
    for secret in ("Mei", "Chen", "Shenzhen", "Guangdong", "1111", "GD-1979-42"):
        assert secret not in to_adult.body

    # The confirmation opens the match page to the family: what it grants, nothing more.
    client.force_login(family)
    mark = last_audit_id()
    page = client.get(reverse("matching:match_detail", args=[candidate.reference]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Anna" in text and "Hunan" in text and "guangdong@example.org" in text
    assert "2222" not in text and "red gate" not in text
    assert entries_since(mark) == [(family.email, "match.viewed", "matching.candidate")]

    # 3. The DNA samples, then a match.
    client.force_login(volunteer)
    dna_page = reverse("matching:dna_test", args=[candidate.reference])
    mark = last_audit_id()
    collected_on = timezone.localdate() - timedelta(days=10)
    response = client.post(dna_page, {"step": "samples", "collected_on": collected_on,
                                      "lab_reference": "LAB-77"})
    assert response.status_code == 302
    assert entries_since(mark) == [
        (volunteer.email, "dna_test.samples_collected", "matching.dnatest"),
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    run_worker(("notify",))
    assert mails_to(family.email)[-1] == (
        f"{case_words}: the DNA samples are at the laboratory")
    assert mails_to(adult.email)[-1] == (
        f"{posting_words}: the DNA samples are at the laboratory")
    assert "LAB-77" in mail.outbox[-1].body
    # Who to contact, what is not known yet and what happens next, in plain words.
    body = mail.outbox[-1].body
    assert volunteer.email in body and "not known yet" in body and "What happens next" in body

    mark = last_audit_id()
    result = {"step": "result", "result": DnaTest.Result.MATCH,
              "result_on": collected_on + timedelta(days=5), "lab_reference": ""}
    # A match reunites them: it is recorded only once the volunteer confirms it.
    assert client.post(dna_page, result).status_code == 200
    assert entries_since(mark) == [(volunteer.email, "dna_test.viewed", "matching.candidate")]
    mark = last_audit_id()
    response = client.post(dna_page, {**result, "reunion_confirmed": "on"})
    assert response.status_code == 302
    assert entries_since(mark) == [
        (volunteer.email, "dna_test.result_recorded", "matching.dnatest"),
        (volunteer.email, "candidate.reunited", "matching.candidate"),
        (volunteer.email, "missingchildcase.reunited", "families.missingchildcase"),
        (volunteer.email, "seekerposting.reunited", "families.seekerposting"),
        (volunteer.email, "faces.facts_refreshed", "families.missingchildcase"),
        (volunteer.email, "faces.facts_refreshed", "families.seekerposting"),
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    run_worker(("notify",))
    assert mails_to(family.email) == [
        confirmed, f"{case_words}: the DNA samples are at the laboratory",
        f"{case_words}: the DNA test confirms it, your child is found",
    ]
    assert mails_to(adult.email)[-1] == (
        f"{posting_words}: the DNA test confirms it, you found your family")
    assert len(mail.outbox) == 8

    candidate.refresh_from_db()
    case.refresh_from_db()
    posting.refresh_from_db()
    test = DnaTest.objects.get(candidate=candidate)
    assert candidate.status == Candidate.Status.REUNITED
    assert (case.status, posting.status) == (CaseStatus.REUNITED, CaseStatus.REUNITED)
    assert (test.status, test.result, test.lab_reference) == ("result", "match", "LAB-77")
    assert test.samples_collected_at.date() == collected_on
    # A reunited case leaves matching.
    assert not case.photos.get().faces.filter(searchable=True).exists()

    # Every notice is in the inbox too, each emailed once.
    for user, count in ((family, 3), (adult, 3), (volunteer, 1), (everywhere, 1), (elsewhere, 0)):
        notices = Notification.objects.filter(recipient=user)
        assert notices.count() == count
        assert not notices.filter(emailed_at__isnull=True).exists()
    client.force_login(family)
    inbox = client.get(reverse("families:inbox"))
    assert inbox.context["unread"] == 3
    assert inbox.context["unread_notifications"] == 3
    assert "the DNA test confirms it, your child is found" in inbox.content.decode()
