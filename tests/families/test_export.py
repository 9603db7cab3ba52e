"""A family or a seeker downloads everything the portal holds about them: JSON plus their photos,
as a zip, and nothing about anyone else."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from families.models import AuditEntry, Notification, PartnerOrganisation
from families.partners.services import partner_posting_save
from matching.models import Candidate
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _confirmed(user):
    user.email_confirmed_at = timezone.now()
    user.save(update_fields=["email_confirmed_at"])
    return user


@pytest.fixture
def people(make_user, photo_bytes, run_worker):
    family = _confirmed(make_user(full_name="Zhang Wei", phone="+86 139 1111 2222"))
    seeker = _confirmed(make_user(full_name="Anna Meyer", phone="+49 170 3333 4444"))
    case = builders.case(family=family, given_name="Xiaoming", contact_name="Zhang Wei",
                         police_report_number="XA-1989-0042")
    posting = builders.seeker_posting(seeker=seeker, display_name="Anna Meyer",
                                      memories="a red gate and a river",
                                      contact_phone="+49 170 3333 4444")
    case_photo = builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)
    seeker_photo = builders.photo(data=photo_bytes("img2.jpg"), posting=posting,
                                  age_in_photo=30)
    Notification.objects.create(recipient=family, kind="candidate", dedupe_key="export-test",
                                subject="A possible match is under review", body="No details.")
    run_worker()
    return {"family": family, "seeker": seeker, "case": case, "posting": posting,
            "case_photo": case_photo, "seeker_photo": seeker_photo}


def _download(client, user) -> zipfile.ZipFile:
    client.force_login(user)
    response = client.get(reverse("families:account_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_family_downloads_its_data_and_photos(people, client):
    family, case, photo = people["family"], people["case"], people["case_photo"]
    archive = _download(client, family)
    names = set(archive.namelist())
    assert {"README.txt", "account.json", "cases.json", "seeker_postings.json",
            "notifications.json", "messages.json", "audit.json",
            f"photos/{photo.pk}.jpg"} == names

    account = json.loads(archive.read("account.json"))
    assert account["email"] == family.email and account["phone"] == "+86 139 1111 2222"
    (exported_case,) = json.loads(archive.read("cases.json"))
    assert exported_case["id"] == case.pk
    assert exported_case["police_report_number"] == "XA-1989-0042"
    (exported_photo,) = exported_case["photos"]
    (face,) = exported_photo["faces"]
    assert len(face["embedding"]) == 128 and len(face["embedding_dlib"]) == 128
    assert exported_photo["file"] == f"photos/{photo.pk}.jpg"
    with photo.image.open("rb") as handle:
        assert archive.read(f"photos/{photo.pk}.jpg") == handle.read()
    assert json.loads(archive.read("seeker_postings.json")) == []
    notifications = json.loads(archive.read("notifications.json"))
    assert "No details." in [n["body"] for n in notifications]
    audit = json.loads(archive.read("audit.json"))
    assert {"who": "you", "action": "case.created"}.items() <= audit[0].items()
    assert AuditEntry.objects.filter(action="account.exported", actor=family).exists()


def test_the_export_holds_nothing_about_anyone_else(people, client, make_user):
    # The two photos are of the same person: a candidate waits for review, and the
    # family learns nothing of it, not even in its export, until a volunteer confirms it.
    (exported_case,) = json.loads(_download(client, people["family"]).read("cases.json"))
    assert exported_case["candidates"] == []
    candidate = Candidate.objects.get()
    builders.confirm(candidate=candidate, volunteer=make_user(volunteer=True))
    archive = _download(client, people["family"])
    everything = b"".join(archive.read(name) for name in archive.namelist())
    (exported_case,) = json.loads(archive.read("cases.json"))
    (exported,) = exported_case["candidates"]
    assert exported == {"id": str(candidate.reference), "status": "confirmed",
                        "updated_at": exported["updated_at"]}
    for secret in ("Anna Meyer", "+49 170 3333 4444", "a red gate", people["seeker"].email):
        assert secret.encode() not in everything, secret
    assert f"photos/{people['seeker_photo'].pk}.jpg" not in archive.namelist()
    for entry in json.loads(archive.read("audit.json")):
        assert entry["who"] in ("you", "system", "volunteer or admin")


def test_a_seeker_downloads_its_posting(people, client):
    seeker, posting, photo = people["seeker"], people["posting"], people["seeker_photo"]
    archive = _download(client, seeker)
    (exported,) = json.loads(archive.read("seeker_postings.json"))
    assert exported["id"] == posting.pk and exported["memories"] == "a red gate and a river"
    assert exported["photos"][0]["faces"][0]["embedding"] is not None
    assert f"photos/{photo.pk}.jpg" in archive.namelist()
    assert json.loads(archive.read("cases.json")) == []
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"XA-1989-0042" not in everything and b"Xiaoming" not in everything


def test_export_needs_a_log_in(client):
    response = client.get(reverse("families:account_export"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_missing_photo_file_is_named_and_the_rest_delivered(people, client, photo_bytes):
    family, case = people["family"], people["case"]
    kept = builders.photo(data=photo_bytes("img3.jpg"), case=case, age_in_photo=31)
    lost = people["case_photo"]
    lost.image.storage.delete(lost.image.name)
    archive = _download(client, family)
    names = set(archive.namelist())
    assert f"photos/{kept.pk}.jpg" in names and f"photos/{lost.pk}.jpg" not in names
    assert f"photo {lost.pk}" in archive.read("README.txt").decode()
    (exported_case,) = json.loads(archive.read("cases.json"))
    files = {photo["id"]: photo["file"] for photo in exported_case["photos"]}
    assert files == {lost.pk: None, kept.pk: f"photos/{kept.pk}.jpg"}
    assert json.loads(archive.read("account.json"))["email"] == family.email


def test_what_volunteers_did_about_a_person_is_not_in_their_export(people, client,
                                                                   make_user):
    """Volunteers' looks follow candidates: listing them would tell of one."""
    before = json.loads(_download(client, people["seeker"]).read("audit.json"))
    volunteer = make_user(volunteer=True)
    candidate = Candidate.objects.get()
    client.force_login(volunteer)
    for url in (reverse("matching:review", args=[candidate.reference]),
                reverse("matching:candidate_photo",
                        args=[candidate.reference, people["seeker_photo"].pk]),
                reverse("matching:candidate_face",
                        args=[candidate.reference, candidate.seeker_face_id])):
        assert client.get(url).status_code == 200, url
    after = json.loads(_download(client, people["seeker"]).read("audit.json"))
    ignore = ("account.exported",)
    assert [e for e in after if e["action"] not in ignore] == [
        e for e in before if e["action"] not in ignore]
    assert all(entry["who"] == "you" for entry in after)


def test_a_partner_members_export_carries_no_found_persons_data(client, make_user):
    member = _confirmed(make_user(full_name="Shelter Worker"))
    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind=PartnerOrganisation.Kind.SHELTER, region="Hebei",
        matching_basis="Intake records of the shelter, 1985-1995.")
    shelter.members.add(member)
    partner_posting_save(actor=member, organisation=shelter, reference="HS-1988-014", fields={
        "display_name": "Xiao Hong", "sex": "F", "birth_year_min": 1984,
        "birth_year_max": 1986, "grew_up_province": "Hebei",
        "memories": "A red door and a river."})
    found = builders.seeker_posting(seeker=member, display_name="Found boy Liu",
                                    posted_for="found", matching_basis="Police case 1994-17",
                                    memories="A blue bicycle.")
    archive = _download(client, member)
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for secret in ("Xiao Hong", "A red door", "HS-1988-014", "Found boy Liu", "A blue bicycle",
                   "Police case 1994-17"):
        assert secret.encode() not in everything, secret
    assert json.loads(archive.read("seeker_postings.json")) == []
    assert json.loads(archive.read("account.json"))["full_name"] == "Shelter Worker"
    assert found.pk  # the posting is the found person's, kept where it belongs
