"""The family and the seeker after a volunteer confirms: notices that name their own child or
posting (never the other side's, in an email), say what is known and what is not, what
happens next and who to contact; the DNA steps as the organisation wrote them in the admin;
a standing warning against anyone asking for money; each side's own photos beside the
other's; one status word that never contradicts the text; and after a DNA match, a page
that no longer says "the person who may be"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from families.models import AuditEntry, Notification, Photo
from matching import services
from matching.models import DnaGuidance, DnaTest
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

MONEY = "Never pay anyone for news of a match."


@pytest.fixture(autouse=True)
def _queues(redis_queues):
    return redis_queues


@pytest.fixture
def confirmed(make_user, make_people):
    volunteer = make_user(volunteer=True, full_name="Chen Jing")
    case, posting = make_people(given_name="Ming", family_name="Li",
                                posting_fields={"display_name": "Wang Jun"})
    candidate = builders.candidate(case=case, posting=posting)
    return volunteer, builders.confirm(candidate=candidate, volunteer=volunteer)


def _page(user, candidate, language: str = "") -> str:
    client = Client()
    client.force_login(user)
    url = reverse("matching:match_detail", args=[candidate.reference])
    return client.get(f"/{language}{url}" if language else url).content.decode()


def test_the_family_sees_their_own_childs_photo_beside_the_persons(confirmed):
    _volunteer, candidate = confirmed
    case, posting = candidate.case, candidate.seeker_posting
    own = Photo.objects.get(case=case)
    theirs = Photo.objects.get(seeker_posting=posting)
    page = _page(case.family, candidate)
    assert "Your photos of Ming Li" in page and "Photos of Wang Jun" in page
    for photo in (own, theirs):
        assert reverse("matching:candidate_photo", args=[candidate.reference, photo.pk]) in page
    seeker_page = _page(posting.owner, candidate)
    assert "Your photos" in seeker_page and "Photos of Ming Li" in seeker_page


def test_one_status_word_that_agrees_with_the_text(confirmed):
    volunteer, candidate = confirmed
    page = _page(candidate.case.family, candidate)
    assert "Not yet certain: a DNA test is next" in page
    assert "confirmed: DNA test" not in page
    assert "What is known" in page and "What is not known" in page
    assert f"your case #{candidate.case_id}" in page
    assert "Your volunteer is Chen Jing" in page
    assert MONEY in page
    test = DnaTest.objects.get(candidate=candidate)
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    assert "Waiting for the DNA result" in _page(candidate.case.family, candidate)
    chinese = _page(candidate.case.family, candidate, "zh-hans")
    assert "等待 DNA 检测结果" in chinese
    assert "已确认" not in chinese


def test_the_dna_steps_are_the_organisations_text_in_the_readers_language(
    confirmed, superuser
):
    _volunteer, candidate = confirmed
    family = candidate.case.family
    assert "Your volunteer will tell you where the sample is given" in _page(family, candidate)

    admin = Client()
    admin.force_login(superuser)
    response = admin.post(reverse("admin:matching_dnaguidance_add"), {
        "where_en": "The Beilin police station, Monday to Friday.",
        "where_zh": "碑林派出所，周一至周五。",
        "cost_en": "Free: the police pay.", "cost_zh": "免费：由警方承担。",
        "time_en": "About four weeks.", "time_zh": "大约四周。",
    })
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="dna_guidance.saved").count() == 1
    # One text for the organisation: a second cannot be added, only this one changed.
    assert admin.get(reverse("admin:matching_dnaguidance_add")).status_code == 403

    english = _page(family, candidate)
    assert "The Beilin police station, Monday to Friday." in english
    assert "Free: the police pay." in english and "About four weeks." in english
    chinese = _page(family, candidate, "zh-hans")
    assert "碑林派出所，周一至周五。" in chinese and "大约四周。" in chinese
    assert "The Beilin police station" not in chinese


def test_the_confirmation_notice_names_ones_own_child_or_posting_never_the_other_side(
    make_user, make_people
):
    DnaGuidance.objects.create(where_en="The city hospital.", cost_en="Free.",
                               time_en="Four weeks.")
    volunteer = make_user(volunteer=True)
    case, posting = make_people(given_name="Ming", family_name="Li",
                                posting_fields={"display_name": "Wang Jun"})
    candidate = builders.confirm(candidate=builders.candidate(case=case, posting=posting),
                                 volunteer=volunteer)
    to_family = Notification.objects.get(recipient=case.family, kind="candidate_confirmed")
    to_seeker = Notification.objects.get(recipient=posting.owner, kind="candidate_confirmed")
    assert f"a possible match for Ming Li, your case #{case.pk}" in to_family.body
    assert "Wang Jun" not in to_family.body
    assert f'your seeker posting "Wang Jun" (#{posting.pk})' in to_seeker.body
    assert "Ming" not in to_seeker.body
    for notice in (to_family, to_seeker):
        assert "What is not known" in notice.body
        assert "The city hospital." in notice.body and "Four weeks." in notice.body
        assert volunteer.email in notice.body
        assert MONEY in notice.body

    test = DnaTest.objects.get(candidate=candidate)
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="match")
    matched = Notification.objects.get(recipient=case.family, kind="dna_result_match")
    assert f"is Ming Li, the child of your case #{case.pk}" in matched.body
    assert "What happens next" in matched.body and MONEY in matched.body
    assert "Wang Jun" not in matched.body


def test_after_a_dna_match_the_page_no_longer_says_may_be(confirmed):
    volunteer, candidate = confirmed
    test = DnaTest.objects.get(candidate=candidate)
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="match")
    page = _page(candidate.case.family, candidate)
    assert "Reunited: the DNA test confirms it" in page
    assert "The DNA test confirms that Wang Jun is Ming Li" in page
    assert "may be" not in page
    assert "Ming Li today" in page
    seeker = _page(candidate.seeker_posting.owner, candidate)
    assert "The DNA test confirms that you are Ming Li" in seeker
    assert "may be" not in seeker
