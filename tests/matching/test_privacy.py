"""The privacy promises around candidates, shown on the real pipeline.

Two photos of one person (../shared/faces) go in as a case photo and a seeker
photo; a real RQ worker embeds and matches them. Then: nothing reaches either
side before a volunteer confirms; withdrawn consent or a withdrawn posting or
case ends the candidate for everyone but admins, also after a confirmation and
during a DNA test; a volunteer never touches a candidate of their own case; only
the seeker gives consent and only the family publishes.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from families import services as family_services
from families.models import AuditEntry, CaseStatus, Notification, Photo, SeekerPosting, Sex
from matching import services
from matching.models import Candidate, DnaTest
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(make_user, photo_bytes, run_worker):
    """A published case and a consenting seeker whose photos the real worker matched."""
    family = make_user(email="family@example.org")
    seeker = make_user(email="seeker@example.org")
    volunteer = make_user(email="volunteer@example.org", volunteer=True)
    admin = make_user(email="admin@example.org", is_staff=True, is_superuser=True)
    case = family_services.case_create(actor=family, publish=True, fields={
        "given_name": "Mei", "sex": Sex.FEMALE, "birth_year_min": 1974,
        "birth_year_max": 1976, "missing_date": "1979-06-01", "missing_province": "Guangdong",
        "contact_name": "Chen Li",
    })
    posting = family_services.seeker_posting_create(actor=seeker, fields={
        "display_name": "Anna", "sex": Sex.FEMALE, "birth_year_min": 1972,
        "birth_year_max": 1978, "consent_to_matching": True, "contact_phone": "+86 139 2222",
    })
    case_photo = family_services.photo_add(actor=family, case=case, data=photo_bytes("img1.jpg"),
                                           kind=Photo.Kind.CHILDHOOD, age_in_photo=30)
    seeker_photo = family_services.photo_add(
        actor=seeker, seeker_posting=posting, data=photo_bytes("img2.jpg"),
        kind=Photo.Kind.RECENT, age_in_photo=40,
    )
    run_worker()
    candidate = Candidate.objects.get(case=case, seeker_posting=posting)
    return {"family": family, "seeker": seeker, "volunteer": volunteer, "admin": admin,
            "case": case, "posting": posting, "case_photo": case_photo,
            "seeker_photo": seeker_photo, "candidate": candidate, "run_worker": run_worker}


def _export(client, user) -> dict[str, object]:
    client.force_login(user)
    response = client.get(reverse("families:account_export"))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)
                                    if response.streaming else response.content)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()
                if name.endswith(".json")}


def _confirm(pair) -> Candidate:
    builders.confirm(candidate=pair["candidate"], volunteer=pair["volunteer"])
    assert pair["candidate"].status == Candidate.Status.CONFIRMED
    return pair["candidate"]


def _pages(candidate: Candidate, pair) -> list[str]:
    return [
        reverse("matching:review", args=[candidate.reference]),
        reverse("matching:dna_test", args=[candidate.reference]),
        reverse("matching:match_detail", args=[candidate.reference]),
        reverse("matching:candidate_photo", args=[candidate.reference, pair["seeker_photo"].pk]),
        reverse("matching:candidate_photo", args=[candidate.reference, pair["case_photo"].pk]),
        reverse("matching:candidate_face", args=[candidate.reference, candidate.seeker_face_id]),
    ]


def test_nothing_reaches_either_side_before_a_volunteer_confirms(pair, client):
    family, seeker, candidate = pair["family"], pair["seeker"], pair["candidate"]
    assert candidate.status == Candidate.Status.PENDING
    # No notice, no status, nothing in the export: only the volunteer heard of it.
    assert not Notification.objects.filter(recipient__in=[family, seeker]).exists()
    assert Notification.objects.filter(recipient=pair["volunteer"],
                                       kind="candidate_for_volunteer").exists()
    for obj in (pair["case"], pair["posting"]):
        obj.refresh_from_db()
        assert obj.status == CaseStatus.PUBLISHED
    for user, name in ((family, "cases.json"), (seeker, "seeker_postings.json")):
        assert _export(client, user)[name][0]["candidates"] == []
        client.force_login(user)
        for url in _pages(candidate, pair)[2:]:
            assert client.get(url).status_code == 404

    # Confirmed: both are told, both see the candidate in their export as confirmed.
    _confirm(pair)
    assert set(Notification.objects.filter(recipient__in=[family, seeker])
               .values_list("kind", flat=True)) == {"candidate_confirmed"}
    assert _export(client, family)["cases.json"][0]["candidates"][0]["status"] == "confirmed"
    client.force_login(family)
    assert client.get(reverse("matching:match_detail",
                              args=[candidate.reference])).status_code == 200


def test_withdrawn_consent_ends_the_candidate_for_everyone_but_admins(pair, client):
    seeker, candidate = pair["seeker"], pair["candidate"]
    client.force_login(seeker)
    form = client.get(reverse("families:seeker_edit", args=[pair["posting"].pk])).context["form"]
    data = {name: value for name, value in form.initial.items()
            if value is not None and name in form.fields}
    data["consent_to_matching"] = ""
    response = client.post(reverse("families:seeker_edit", args=[pair["posting"].pk]), data)
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (candidate.status, candidate.ended_reason) == (
        Candidate.Status.ENDED, "consent_withdrawn")
    assert AuditEntry.objects.filter(action="candidate.ended",
                                     object_id=str(candidate.pk)).exists()
    # Out of every queue, and the volunteers' notice about it is gone.
    client.force_login(pair["volunteer"])
    queue = client.get(reverse("matching:queue"))
    assert candidate not in list(queue.context["page"])
    assert not Notification.objects.filter(about_type="matching.candidate",
                                           about_id=str(candidate.pk)).exists()
    for url in _pages(candidate, pair):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("matching:claim", args=[candidate.reference])).status_code == 404
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=pair["volunteer"], candidate=candidate,
                                  decision="confirm")
    # Never told of it, its two sides still learn nothing of it, not even that it ended.
    for side in (pair["family"], seeker):
        client.force_login(side)
        assert client.get(reverse("matching:match_detail",
                                  args=[candidate.reference])).status_code == 404
    # Admins keep the record.
    client.force_login(pair["admin"])
    assert client.get(reverse("matching:review", args=[candidate.reference])).status_code == 200

    # Consent given again: the pair is matched again and waits for a new review.
    client.force_login(seeker)
    data["consent_to_matching"] = "on"
    assert client.post(reverse("families:seeker_edit", args=[pair["posting"].pk]),
                       data).status_code == 302
    pair["run_worker"]()
    candidate.refresh_from_db()
    assert (candidate.status, candidate.ended_reason) == (Candidate.Status.PENDING, "")


@pytest.mark.parametrize("withdraw", ["posting", "consent", "case"])
def test_withdrawing_during_a_dna_test_takes_back_what_the_other_side_was_shown(
    pair, client, withdraw
):
    candidate = _confirm(pair)
    test = DnaTest.objects.get(candidate=candidate)
    family, seeker = pair["family"], pair["seeker"]
    client.force_login(family)
    match_page = reverse("matching:match_detail", args=[candidate.reference])
    seeker_photo = reverse("matching:candidate_photo",
                           args=[candidate.reference, pair["seeker_photo"].pk])
    assert client.get(match_page).status_code == 200
    assert client.get(seeker_photo).status_code == 200

    if withdraw == "posting":
        family_services.seeker_posting_withdraw(actor=seeker, posting=pair["posting"])
    elif withdraw == "consent":
        family_services.seeker_posting_update(actor=seeker, posting=pair["posting"],
                                              fields={"consent_to_matching": False})
    else:
        family_services.case_withdraw(actor=family, case=pair["case"])
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.ENDED
    other, told = (family, seeker) if withdraw != "case" else (seeker, family)
    client.force_login(other)
    for url in _pages(candidate, pair):
        if url != match_page:
            assert client.get(url).status_code == 404, url
    # The match page, linked from the emails they had, says only that it is no longer
    # followed, to both sides (who had been told of it), and nothing of the other side.
    for user in (other, told):
        client.force_login(user)
        answer = client.get(match_page)
        assert answer.status_code == 200
        page = answer.content.decode()
        assert "no longer being followed" in page
        for secret in ("Anna", "Mei", "Chen Li", "+86", pair["seeker_photo"].image.name):
            assert secret not in page, secret
    client.force_login(other)
    # The other side hears only that it ended; both sides' earlier notices stay in their
    # inboxes as notes with nothing of the other side, linked to their own page (which opens).
    assert sorted(Notification.objects.filter(recipient=other).values_list(
        "kind", flat=True)) == ["candidate_ended", "candidate_note"]
    assert list(Notification.objects.filter(recipient=told).values_list(
        "kind", flat=True)) == ["candidate_note"]
    volunteer = pair["volunteer"]
    for user in (other, told):
        client.force_login(user)
        for notice in Notification.objects.filter(recipient=user):
            for secret in ("Anna", "Mei", "withdr", "consent", "+86", volunteer.email,
                           str(volunteer), "match_detail", f"/matches/{candidate.reference}/"):
                assert secret not in notice.subject + notice.body + notice.link, (
                    notice.kind, secret)
            assert client.get(notice.link).status_code == 200, notice.link
    # The volunteer who confirmed it and requested its DNA test is told, and why, so that
    # the test is stopped.
    (handled,) = Notification.objects.filter(recipient=volunteer,
                                             kind="candidate_ended_for_volunteer")
    assert f"#{candidate.short_reference}" in handled.body
    assert {"posting": "seeker posting was withdrawn", "consent": "withdrew consent",
            "case": "case was withdrawn"}[withdraw] in handled.body
    assert "DNA test stops" in handled.body
    # No DNA step can be taken on it, and nothing becomes public again.
    with pytest.raises(services.ReviewRefused):
        services.dna_test_record_samples(actor=pair["volunteer"], dna_test=test)
    for obj in (pair["case"], pair["posting"]):
        obj.refresh_from_db()
    assert pair["case"].status == (CaseStatus.WITHDRAWN if withdraw == "case"
                                   else CaseStatus.PUBLISHED)
    assert pair["posting"].status == (CaseStatus.WITHDRAWN if withdraw == "posting"
                                      else CaseStatus.PUBLISHED)
    assert _export(client, other)[
        "cases.json" if other == family else "seeker_postings.json"
    ][0]["candidates"][0]["status"] == "ended"


def test_a_volunteer_never_sees_or_touches_a_candidate_of_their_own_case(pair, client):
    family = pair["family"]
    family.groups.add(Group.objects.get_or_create(name="volunteer")[0])
    candidate = pair["candidate"]
    client.force_login(family)
    assert candidate not in list(client.get(reverse("matching:queue")).context["page"])
    for url in _pages(candidate, pair):
        assert client.get(url).status_code == 404, url
    # Nor the private posting on the other side of it.
    assert client.get(reverse("families:seeker_detail",
                              args=[pair["posting"].pk])).status_code == 404
    assert client.get(reverse("families:photo_image",
                              args=[pair["seeker_photo"].pk])).status_code == 404
    assert client.post(reverse("matching:claim", args=[candidate.reference])).status_code == 404
    with pytest.raises(services.ReviewRefused):
        services.candidate_review(actor=family, candidate=candidate, decision="confirm")
    candidate = _confirm(pair)
    test = DnaTest.objects.get(candidate=candidate)
    for step in (
        lambda: services.dna_test_record_samples(actor=family, dna_test=test),
        lambda: services.dna_test_record_result(actor=family, dna_test=test, result="match"),
    ):
        with pytest.raises(services.ReviewRefused):
            step()
    test.refresh_from_db()
    assert test.status == DnaTest.Status.REQUESTED
    # As the family, after the confirmation, the match page is theirs to see.
    assert client.get(reverse("matching:match_detail",
                              args=[candidate.reference])).status_code == 200
    assert client.get(reverse("matching:dna_test", args=[candidate.reference])).status_code == 404


def test_consent_is_the_seekers_alone(make_user, client):
    seeker = make_user()
    volunteer = make_user(volunteer=True)
    posting = family_services.seeker_posting_create(actor=seeker, fields={
        "display_name": "Anna", "sex": Sex.FEMALE, "birth_year_min": 1980,
        "birth_year_max": 1982, "contact_phone": "+86 139 2222",
    })
    with pytest.raises(PermissionDenied):
        family_services.seeker_posting_update(actor=volunteer, posting=posting,
                                              fields={"consent_to_matching": True})
    client.force_login(volunteer)
    url = reverse("families:seeker_edit", args=[posting.pk])
    # A volunteer reads a posting only through a candidate they review, never edits it.
    assert client.get(url).status_code == 404
    admin = make_user(is_staff=True, is_superuser=True)
    posting.refresh_from_db()
    with pytest.raises(PermissionDenied):
        family_services.seeker_posting_update(actor=admin, posting=posting,
                                              fields={"consent_to_matching": True})
    client.force_login(admin)
    form = client.get(url).context["form"]
    assert form.fields["consent_to_matching"].disabled
    data = {name: value for name, value in form.initial.items()
            if value is not None and name in form.fields}
    data.update(consent_to_matching="on", display_name="Anna W.")
    assert client.post(url, data).status_code == 302
    posting.refresh_from_db()
    assert (posting.display_name, posting.consent_to_matching, posting.consented_at) == (
        "Anna W.", False, None)


def test_a_found_person_is_matched_on_a_recorded_basis(make_user):
    volunteer = make_user(volunteer=True)
    fields = {"posted_for": SeekerPosting.PostedFor.FOUND_PERSON, "display_name": "Found boy",
              "sex": Sex.MALE, "birth_year_min": 1990, "birth_year_max": 1992,
              "contact_phone": "110", "consent_to_matching": True}
    with pytest.raises(ValidationError):
        family_services.seeker_posting_create(actor=volunteer, fields=fields)
    assert not SeekerPosting.objects.exists()
    posting = family_services.seeker_posting_create(
        actor=volunteer, fields={**fields, "matching_basis": "Police case 1994-17, Xi'an"}
    )
    assert posting.is_matchable


def test_only_the_family_publishes_its_case(make_user, client):
    family = make_user()
    volunteer = make_user(volunteer=True)
    case = family_services.case_create(actor=family, fields={
        "given_name": "Lan", "sex": Sex.FEMALE, "birth_year_min": 1986,
        "birth_year_max": 1986, "missing_date": "1989-03-01", "missing_province": "Shaanxi",
        "contact_name": "Wang",
    })
    client.force_login(volunteer)
    assert client.post(reverse("families:case_publish", args=[case.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        family_services.case_publish(actor=volunteer, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_every_look_at_private_data_by_a_volunteer_is_audited(make_user, photo_bytes, client):
    family = make_user()
    volunteer = make_user(volunteer=True)
    draft = family_services.case_create(actor=family, fields={
        "given_name": "Lan", "sex": Sex.FEMALE, "birth_year_min": 1986,
        "birth_year_max": 1986, "missing_date": "1989-03-01", "missing_province": "Shaanxi",
        "contact_name": "Wang",
    })
    photo = family_services.photo_add(actor=family, case=draft, data=photo_bytes("img1.jpg"),
                                      kind=Photo.Kind.CHILDHOOD, age_in_photo=3)
    client.force_login(volunteer)
    looks = {
        reverse("families:case_photos", args=[draft.pk]): "case.private_viewed",
        reverse("families:photo_image", args=[photo.pk]): "photo.private_viewed",
        reverse("families:photo_edit", args=[photo.pk]): "photo.private_viewed",
        reverse("matching:face_picker", args=[photo.pk]): "photo.private_viewed",
    }
    for url, action in looks.items():
        before = AuditEntry.objects.filter(actor=volunteer, action=action).count()
        assert client.get(url).status_code == 200, url
        assert AuditEntry.objects.filter(actor=volunteer, action=action).count() == before + 1
    # The family's own looks are not "private views" of someone else's data.
    client.force_login(family)
    client.get(reverse("families:photo_image", args=[photo.pk]))
    assert not AuditEntry.objects.filter(actor=family, action="photo.private_viewed").exists()


def test_withdrawing_consent_during_a_dna_test_is_told_before_saving(pair, client):
    """The seeker hears what will stop (the DNA test, the public page) before anything does."""
    candidate = _confirm(pair)
    seeker, posting = pair["seeker"], pair["posting"]
    family_services.seeker_posting_publish(actor=seeker, posting=posting, photos=[],
                                           show_memories=False)
    client.force_login(seeker)
    url = reverse("families:seeker_edit", args=[posting.pk])
    withdraw_page = client.get(reverse("families:seeker_withdraw", args=[posting.pk]))
    assert "The DNA test in progress" in withdraw_page.content.decode()
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items()
            if value is not None and name in form.fields}
    data["consent_to_matching"] = ""
    asked = client.post(url, data)
    assert asked.status_code == 200
    page = asked.content.decode()
    for told in ("Before you withdraw your consent", "The DNA test in progress",
                 "The public page", 'name="withdrawal_confirmed"'):
        assert told in page, told
    candidate.refresh_from_db()
    posting.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    assert posting.consent_to_matching and posting.is_public
    assert not Notification.objects.filter(kind="candidate_ended").exists()

    assert client.post(url, {**data, "withdrawal_confirmed": "yes"}).status_code == 302
    candidate.refresh_from_db()
    posting.refresh_from_db()
    assert candidate.status == Candidate.Status.ENDED
    assert not posting.consent_to_matching and not posting.is_public
    assert Notification.objects.filter(recipient=pair["family"],
                                       kind="candidate_ended").exists()
