"""A partner's results: the organisation's postings listed for every member (searched,
filtered by import) apart from the member's own seeker postings; a finished import with
refused rows says so in its words and its colour; refusals in the member's language; the
import page links to its people and to each photo needing a face picked."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation

from families.models import PartnerImport, PartnerOrganisation, Photo
from families.partners.services import partner_import_run, partner_import_start
from tests import builders

pytestmark = pytest.mark.django_db

PEOPLE = (
    "reference,name,sex,birth_year,photos\n"
    "HS-1,Xiao Hong,F,1986,hs1.jpg\n"
    "HS-2,Li Ming,X,1984,\n"
    "HS-3,Zhang Wei,M,1985,\n"
)


@pytest.fixture
def shelter(make_user):
    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", matching_basis="Intake records.")
    return organisation


def _member(shelter, make_user, **extra):
    user = make_user(**extra)
    shelter.members.add(user)
    return user


_client = builders.logged_in


def _import(member, shelter, csv_text: str = PEOPLE) -> PartnerImport:
    started = partner_import_start(
        actor=member, organisation=shelter, csv_data=csv_text.encode(), csv_name="people.csv",
        photos_zip=ContentFile(builders.zip_upload({"hs1.jpg": builders.jpeg()}).read(),
                               name="photos.zip"),
    )
    return partner_import_run(partner_import_id=started.pk)


def test_a_finished_import_with_refusals_says_so_in_words_and_colour(
    shelter, make_user, redis_queues,
):
    member = _member(shelter, make_user)
    done = _import(member, shelter)
    assert done.status == PartnerImport.Status.DONE and done.rows_refused == 1
    page = _client(member).get(
        reverse("partners:partner_import_detail", args=[done.pk])).content.decode()
    assert "finished with 1 row refused" in page
    assert 'class="bar-warning"' in page and "badge-warning" in page
    progress = _client(member).get(
        reverse("partners:partner_import_progress", args=[done.pk])).json()
    assert (progress["status_label"], progress["tone"]) == (
        "finished with 1 row refused", "warning")

    clean = _import(member, shelter, "reference,name,sex,birth_year\nHS-9,Wang Fang,F,1990\n")
    assert clean.tone == "ok" and clean.status_words == "done"


def test_refusals_are_written_in_the_members_language(shelter, make_user, redis_queues):
    member = _member(shelter, make_user, preferred_language="zh-hans")
    done = _import(member, shelter)
    refusal = done.refusals.get()
    english = "Write F, M or U (female, male, unknown)."
    with translation.override("zh-hans"):
        chinese = translation.gettext(english)
    assert chinese != english
    assert refusal.message == chinese
    page = _client(member).get(reverse("partners:partner_import_detail", args=[done.pk]),
                               HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert chinese in page


def test_the_import_page_links_its_people_and_the_photos_needing_a_face(
    shelter, make_user, redis_queues,
):
    member = _member(shelter, make_user)
    done = _import(member, shelter)
    photo = Photo.objects.get(partner_import=done)
    Photo.objects.filter(pk=photo.pk).update(face_state=Photo.FaceState.NO_FACE)
    page = _client(member).get(
        reverse("partners:partner_import_detail", args=[done.pk])).content.decode()
    assert f"{reverse('partners:partner_postings')}?import={done.pk}" in page
    assert reverse("matching:face_picker", args=[photo.pk]) in page
    assert "HS-1, Xiao Hong" in page


def test_every_member_lists_the_organisations_postings_apart_from_their_own(
    shelter, make_user, redis_queues,
):
    importer = _member(shelter, make_user)
    colleague = _member(shelter, make_user)
    first = _import(importer, shelter)
    second = _import(importer, shelter,
                     "reference,name,sex,birth_year\nHS-10,Chen Jing,F,1991\n")
    own = builders.seeker_posting(seeker=importer, display_name="My own search")
    url = reverse("partners:partner_postings")

    page = _client(colleague).get(url).content.decode()
    for name in ("Xiao Hong", "Zhang Wei", "Chen Jing"):
        assert name in page
    assert "My own search" not in page
    # Searched by name or reference, filtered by import.
    assert "Zhang Wei" not in _client(colleague).get(url, {"q": "HS-1"}).content.decode()
    by_import = _client(colleague).get(url, {"import": second.pk}).content.decode()
    assert "Chen Jing" in by_import and "Xiao Hong" not in by_import
    assert "Xiao Hong" in _client(colleague).get(url, {"import": first.pk}).content.decode()
    # The colleague opens an imported person's page; the importer's dashboard lists only
    # their own seeker postings.
    posting = first.postings.get(partner_reference="HS-1")
    assert _client(colleague).get(
        reverse("families:seeker_detail", args=[posting.pk])).status_code == 200
    dashboard = _client(importer).get(reverse("families:dashboard")).content.decode()
    assert "My own search" in dashboard and "Xiao Hong" not in dashboard
    assert own.pk


def test_nobody_else_lists_an_organisations_postings(shelter, make_user, redis_queues):
    importer = _member(shelter, make_user)
    _import(importer, shelter)
    other = PartnerOrganisation.objects.create(name="Elsewhere", kind="ngo",
                                               matching_basis="Records.")
    outsider = make_user()
    other.members.add(outsider)
    assert "Xiao Hong" not in _client(outsider).get(
        reverse("partners:partner_postings")).content.decode()
    assert _client(make_user()).get(reverse("partners:partner_postings")).status_code == 404
    posting = PartnerImport.objects.get().postings.first()
    assert _client(outsider).get(
        reverse("families:seeker_detail", args=[posting.pk])).status_code == 404
    shelter.is_active = False
    shelter.save()
    assert _client(importer).get(reverse("partners:partner_postings")).status_code == 404
