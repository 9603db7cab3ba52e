"""One candidate from the real pipeline to a reunion, with every notice and audit entry.

Two photos of the same person (../shared/faces) go in through
``families.services.photo_add``, as a case photo and a seeker photo; a real RQ
worker detects, embeds and matches them, and sends every email. A volunteer
confirms on the review page, records the DNA samples and a DNA match, and
the case and the seeker posting end "reunited".
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from families import services as family_services
from families.models import AuditEntry, CaseStatus, Notification, Photo, Sex
from matching.models import Candidate, DnaTest, Review

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
    case = family_services.case_create(actor=family, publish=True, fields={
        "given_name": "Mei", "family_name": "Chen", "sex": Sex.FEMALE,
        "birth_year_min": 1974, "birth_year_max": 1976, "missing_date": "1979-06-01",
        "missing_province": "Guangdong", "missing_city": "Shenzhen", "contact_name": "Chen Li",
        "contact_phone": "+86 138 0000 1111", "police_report_number": "GD-1979-42",
    })
    posting = family_services.seeker_posting_create(actor=adult, fields={
        "display_name": "Anna", "sex": Sex.FEMALE, "birth_year_min": 1972,
        "birth_year_max": 1978, "consent_to_matching": True, "grew_up_province": "Hunan",
        "contact_phone": "+86 139 2222 3333", "memories": "A red gate and a river.",
    })
    mark = last_audit_id()
    family_services.photo_add(actor=family, case=case, data=photo_bytes("img1.jpg"),
                              kind=Photo.Kind.CHILDHOOD, age_in_photo=30)
    family_services.photo_add(actor=adult, seeker_posting=posting, data=photo_bytes("img2.jpg"),
                              kind=Photo.Kind.RECENT, age_in_photo=40)

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
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    assert mails_to(family.email) == ["A possible match is under review"]
    assert mails_to(adult.email) == ["A possible match is under review"]
    assert mails_to(volunteer.email) == ["A new candidate is waiting for review in Guangdong"]
    assert mails_to(everywhere.email) == ["A new candidate is waiting for review in Guangdong"]
    assert mails_to(elsewhere.email) == []
    assert len(mail.outbox) == 4
    # No details before a volunteer confirms: neither side's name, place or contacts.
    to_family = next(m for m in mail.outbox if m.to == [family.email])
    to_adult = next(m for m in mail.outbox if m.to == [adult.email])
    assert "Mei Chen" in to_family.body
    for secret in ("Anna", "Hunan", "2222", "red gate"):
        assert secret not in to_family.body
    for secret in ("Mei", "Chen", "Shenzhen", "Guangdong", "1111", "GD-1979-42"):
        assert secret not in to_adult.body
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 4
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW

    # 2. A volunteer claims the candidate, reviews it side by side and confirms.
    client.force_login(volunteer)
    mark = last_audit_id()
    assert client.post(reverse("matching:claim", args=[candidate.pk])).status_code == 302
    page = client.get(reverse("matching:review", args=[candidate.pk]))
    assert page.status_code == 200
    assert len(page.context["pairs"]) == 1
    response = client.post(reverse("matching:review", args=[candidate.pk]), {
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
    confirmed = "A volunteer confirmed a possible match: a DNA test is next"
    assert mails_to(family.email)[-1] == confirmed
    assert mails_to(adult.email)[-1] == confirmed
    assert "Volunteer Zhou (guangdong@example.org)" in mail.outbox[-1].body
    assert len(mail.outbox) == 6

    # The confirmation opens the match page to the family: what it grants, nothing more.
    client.force_login(family)
    mark = last_audit_id()
    page = client.get(reverse("matching:match_detail", args=[candidate.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Anna" in text and "Hunan" in text and "guangdong@example.org" in text
    assert "2222" not in text and "red gate" not in text
    assert entries_since(mark) == [(family.email, "match.viewed", "matching.candidate")]

    # 3. The DNA samples, then a match.
    client.force_login(volunteer)
    dna_page = reverse("matching:dna_test", args=[candidate.pk])
    mark = last_audit_id()
    response = client.post(dna_page, {"step": "samples", "collected_on": "2026-11-20",
                                      "lab_reference": "LAB-77"})
    assert response.status_code == 302
    assert entries_since(mark) == [
        (volunteer.email, "dna_test.samples_collected", "matching.dnatest"),
        (None, "notification.created", "families.notification"),
        (None, "notification.created", "families.notification"),
    ]
    run_worker(("notify",))
    assert mails_to(family.email)[-1] == "DNA samples have been collected"
    assert mails_to(adult.email)[-1] == "DNA samples have been collected"
    assert "LAB-77" in mail.outbox[-1].body

    mark = last_audit_id()
    response = client.post(dna_page, {"step": "result", "result": DnaTest.Result.MATCH,
                                      "result_on": "2026-11-25", "lab_reference": ""})
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
        "A possible match is under review", confirmed, "DNA samples have been collected",
        "The DNA test confirms the match",
    ]
    assert mails_to(adult.email) == mails_to(family.email)
    assert len(mail.outbox) == 10

    candidate.refresh_from_db()
    case.refresh_from_db()
    posting.refresh_from_db()
    test = DnaTest.objects.get(candidate=candidate)
    assert candidate.status == Candidate.Status.REUNITED
    assert (case.status, posting.status) == (CaseStatus.REUNITED, CaseStatus.REUNITED)
    assert (test.status, test.result, test.lab_reference) == ("result", "match", "LAB-77")
    assert str(test.samples_collected_at.date()) == "2026-11-20"
    # A reunited case leaves matching.
    assert not case.photos.get().faces.filter(searchable=True).exists()

    # Every notice is in the inbox too, each emailed once.
    for user, count in ((family, 4), (adult, 4), (volunteer, 1), (everywhere, 1), (elsewhere, 0)):
        notices = Notification.objects.filter(recipient=user)
        assert notices.count() == count
        assert not notices.filter(emailed_at__isnull=True).exists()
    client.force_login(family)
    inbox = client.get(reverse("families:inbox"))
    assert inbox.context["unread"] == 4
    assert inbox.context["unread_notifications"] == 4
    assert "The DNA test confirms the match" in inbox.content.decode()
