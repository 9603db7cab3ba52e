from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from families.models import AuditEntry, PartnerImport, PartnerOrganisation, Photo, SeekerPosting
from families.partners.services import partner_import_run, partner_import_start

pytestmark = pytest.mark.django_db


def test_make_volunteer_gives_and_takes_the_role(make_user):
    user = make_user(email="helper@example.org")
    assert not user.is_volunteer
    call_command("make_volunteer", "Helper@example.org")
    assert user.is_volunteer
    assert AuditEntry.objects.filter(action="user.volunteer_added", object_id=str(user.pk)).exists()
    call_command("make_volunteer", "helper@example.org", "--remove")
    assert not user.is_volunteer


def test_make_volunteer_names_an_unknown_account():
    with pytest.raises(CommandError, match=r"nobody@example\.org"):
        call_command("make_volunteer", "nobody@example.org")


# --- partner_import: a partner's folder of found people ---------------------------------

PEOPLE = (
    "reference,name,sex,birth_year,province,photos,photo_age\n"
    "PU-1,Zhang Wei,M,1983,Shaanxi,faces/pu1.jpg,35\n"
    "PU-2,Chen Jing,F,1985,Shaanxi,pu2.jpg,33\n"
    "PU-3,Liu Yang,F,1987,Shaanxi,pu3-not-here.jpg,\n"
)


@pytest.fixture
def police(make_user):
    unit = PartnerOrganisation.objects.create(
        name="Beilin police", kind="police", matching_basis="Unidentified persons' records.")
    unit.members.add(make_user(email="officer@beilin.example.org"))
    return unit


@pytest.fixture
def folder(tmp_path, photo_bytes):
    (tmp_path / "people" / "faces").mkdir(parents=True)
    (tmp_path / "people" / "people.csv").write_text(PEOPLE)
    (tmp_path / "people" / "faces" / "pu1.jpg").write_bytes(photo_bytes("img1.jpg"))
    (tmp_path / "people" / "pu2.jpg").write_bytes(photo_bytes("img2.jpg"))
    return tmp_path / "people"


def _import(folder, *options: str) -> str:
    out = io.StringIO()
    call_command("partner_import", str(folder), "--organisation", "Beilin police",
                 "--member", "officer@beilin.example.org", *options, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_partner_import_takes_a_folder_through_the_face_pipeline(
    police, folder, tmp_path, redis_queues, run_worker
):
    output = _import(folder, "--refused", str(tmp_path / "refused.csv"))

    assert "Done: 2 rows in, 1 refused" in output
    assert "line 4 (photos): pu3-not-here.jpg: pu3-not-here.jpg is not among the photos." in output
    refused = (tmp_path / "refused.csv").read_text(encoding="utf-8-sig").splitlines()
    assert refused[0] == (
        "line,column,message,reference,name,sex,birth_year,province,photos,photo_age")
    assert refused[1].startswith("4,photos,") and "PU-3" in refused[1]
    assert SeekerPosting.objects.filter(organisation=police).count() == 2

    run_worker(queues=(settings.FACE_BULK_QUEUE, settings.MATCH_QUEUE))
    photos = Photo.objects.filter(seeker_posting__organisation=police)
    assert [photo.face_state for photo in photos] == [Photo.FaceState.FACE_FOUND] * 2
    assert all(photo.faces.get().embedding is not None for photo in photos)

    again = _import(folder)
    assert "0 new, 0 updated, 2 unchanged, 1 refused; 0 photos added" in again
    assert Photo.objects.filter(seeker_posting__organisation=police).count() == 2


def test_partner_import_resumes_an_unfinished_import_of_the_same_file(police, folder):
    started = partner_import_start(
        actor=police.members.get(), organisation=police, csv_name="people.csv",
        csv_data=(folder / "people.csv").read_bytes(), photo_folder=folder, queue=False)
    partner_import_run(partner_import_id=started.pk, max_seconds=0)  # one row, then stopped

    output = _import(folder)

    assert f"Resuming import #{started.pk} at row 2 of 3." in output
    assert PartnerImport.objects.count() == 1
    done = PartnerImport.objects.get()
    assert (done.status, done.rows_created, done.rows_refused) == ("done", 2, 1)


@pytest.mark.parametrize(("options", "message"), [
    (("--organisation", "Nobody"), "No partner organisation is named 'Nobody'"),
    (("--member", "stranger@example.org"), "No account with the email address"),
])
def test_partner_import_names_what_it_cannot_find(police, folder, options, message):
    arguments = {"--organisation": "Beilin police", "--member": "officer@beilin.example.org"}
    arguments[options[0]] = options[1]
    with pytest.raises(CommandError, match=message):
        call_command("partner_import", str(folder), *[x for pair in arguments.items()
                                                      for x in pair])


def test_partner_import_refuses_a_member_of_no_organisation(police, folder, make_user):
    make_user(email="someone@example.org")
    with pytest.raises(CommandError, match="not an active member"):
        call_command("partner_import", str(folder), "--organisation", "Beilin police",
                     "--member", "someone@example.org")
