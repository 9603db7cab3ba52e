"""The import pages (families/partners/views.py): the upload form and its messages, the
progress numbers, the refused rows' download, the navigation link, the larger upload bound."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from families.models import AuditEntry, PartnerImport, PartnerOrganisation
from tests import builders

pytestmark = pytest.mark.django_db

PEOPLE = (
    "reference,name,sex,birth_year,photos\n"
    "HS-1,Xiao Hong,F,1986,hs1.jpg\n"
    "HS-2,Li Ming,X,1984,\n"
)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def zipped(**photos: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in photos.items():
            archive.writestr(name.replace("_", "."), data)
    return out.getvalue()


@pytest.fixture
def member(make_user):
    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", matching_basis="Intake records.")
    user = make_user()
    shelter.members.add(user)
    return user


@pytest.fixture
def client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def start(client: Client, csv_data: bytes, zip_data: bytes | None = None):
    files = {"csv_file": upload("people.csv", csv_data)}
    if zip_data is not None:
        files["photos_zip"] = upload("photos.zip", zip_data)
    organisation = PartnerOrganisation.objects.get()
    return client.post(reverse("partners:partner_imports"),
                       {"organisation": organisation.pk, **files})


def test_an_upload_starts_an_import_and_shows_its_page(
    client, redis_queues, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, PEOPLE.encode(), zipped(hs1_jpg=builders.jpeg()))

    started = PartnerImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:partner_import_detail", args=[started.pk])
    assert started.csv_name == "people.csv" and started.rows_total == 2
    assert redis_queues["import"].get_job_ids() == [f"partner-import-{started.pk}-0"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "waiting to start" in page.content.decode()


@pytest.mark.parametrize(("csv_data", "zip_data", "message"), [
    (builders.jpeg(), None, "it holds binary data"),
    (PEOPLE.encode(), None, "upload the zip of those photos"),
    (PEOPLE.encode(), b"PK not really", "not a zip archive"),
    (b"reference,name,sex,birth_year,colour\n1,A,F,1986,red\n", None, "Unknown columns: colour"),
])
def test_a_file_refused_says_why_on_the_form_and_starts_nothing(
    client, redis_queues, csv_data, zip_data, message
):
    response = start(client, csv_data, zip_data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PartnerImport.objects.exists()
    assert not redis_queues["import"].get_job_ids()


@pytest.mark.django_db(transaction=True)  # a worker in this process commits as a real one
def test_progress_and_refused_rows_once_done(client, member, redis_queues, run_worker):
    start(client, PEOPLE.encode(), zipped(hs1_jpg=builders.jpeg()))
    started = PartnerImport.objects.get()
    run_worker(queues=("import",))

    progress = client.get(reverse("partners:partner_import_progress", args=[started.pk])).json()
    assert progress["status"] == "done" and progress["finished"] is True
    assert (progress["rows_done"], progress["rows_refused"], progress["photos_added"]) == (1, 1, 1)
    assert progress["photos"] == {"embedded": 0, "waiting": 1, "needs_pick": 0, "failed": 0}

    page = client.get(reverse("partners:partner_import_detail", args=[started.pk]))
    assert "Write F, M or U" in page.content.decode()
    download = client.get(reverse("partners:partner_import_refused", args=[started.pk]))
    assert download["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content)
                                       .decode("utf-8-sig"))))
    assert rows == [["line", "column", "message", "reference", "name", "sex", "birth_year",
                     "photos"],
                    ["3", "sex", "Write F, M or U (female, male, unknown).", "HS-2", "Li Ming",
                     "X", "1984", ""]]
    assert AuditEntry.objects.filter(action="partner_import.refused_downloaded",
                                     actor=member).exists()


def test_the_navigation_shows_imports_to_members_only(client, make_user):
    link = reverse("partners:partner_imports")
    assert link in client.get(reverse("families:dashboard")).content.decode()
    other = Client()
    other.force_login(make_user())
    assert link not in other.get(reverse("families:dashboard")).content.decode()


def test_an_import_may_be_larger_than_a_photo_but_only_for_a_logged_in_member(
    client, settings, redis_queues
):
    settings.REQUEST_MAX_BYTES = 10_000  # a photo page's bound, made small
    photos = zipped(hs1_jpg=builders.jpeg(size=(600, 600)) + b"\0" * 20_000)
    assert start(client, PEOPLE.encode(), photos).status_code == 302

    settings.PARTNER_IMPORT_ZIP_MAX_BYTES = 5_000
    too_large = start(client, PEOPLE.encode(), photos)
    assert too_large.status_code == 400
    assert "The zip archive is larger than" in too_large.content.decode()
    settings.PARTNER_IMPORT_ZIP_MAX_BYTES = 2**30
    anonymous = Client().post(reverse("partners:partner_imports"),
                              {"csv_file": upload("p.csv", PEOPLE.encode()),
                               "photos_zip": upload("p.zip", photos)})
    assert anonymous.status_code == 413


def test_a_large_body_is_refused_unread_unless_from_an_active_member_within_the_rate(
    member, make_user, settings, redis_queues, abuse_limits
):
    """Any other account (even unconfirmed) is refused with 413 before the view runs."""
    settings.REQUEST_MAX_BYTES = 10_000
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "partner_import": "1/h"}
    photos = zipped(hs1_jpg=builders.jpeg(size=(600, 600)) + b"\0" * 20_000)
    organisation = PartnerOrganisation.objects.get()

    def send(user) -> int:
        client = Client()
        client.force_login(user)
        return client.post(reverse("partners:partner_imports"), {
            "organisation": organisation.pk, "csv_file": upload("p.csv", PEOPLE.encode()),
            "photos_zip": upload("p.zip", photos)}).status_code

    assert send(make_user()) == 413  # not yet confirmed
    assert send(make_user(email_confirmed_at=timezone.now())) == 413
    assert send(member) == 302
    # Past the member's import rate the body is refused before it is read.
    assert send(member) == 429
    assert PartnerImport.objects.count() == 1
    # A member whose organisation stopped, or an account no longer active: as anyone.
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "partner_import": "100/h"}
    organisation.is_active = False
    organisation.save()
    assert send(member) == 413
    organisation.is_active = True
    organisation.save()
    member.is_active = False
    member.save()
    other_member = make_user()
    organisation.members.add(other_member)
    assert send(member) == 413
    assert send(other_member) == 302
