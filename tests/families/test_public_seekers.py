"""Public seeker postings: only by the seeker's choice, only what they choose to show,
searchable and printable like cases, taken down at once when consent or the posting goes."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from families import services
from families.models import AuditEntry, PartnerOrganisation, Photo, SeekerPosting, User
from families.partners import services as partner_services
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = ("+86 139 7777 8888", "Beilin", "1992")


@pytest.fixture
def posting(make_user):
    return builders.seeker_posting(
        seeker=make_user(), display_name="Xiao Hong", birth_year_min=1985, birth_year_max=1987,
        grew_up_province="Henan", grew_up_city="Zhengzhou", grew_up_district="Beilin",
        arrived_year=1992, contact_phone="+86 139 7777 8888",
        memories="A red gate and a river with boats.",
    )


@pytest.fixture
def photos(posting, photo_bytes):
    return [builders.photo(data=photo_bytes(name), posting=posting, kind=kind)
            for name, kind in (("img1.jpg", Photo.Kind.RECENT),
                               ("img2.jpg", Photo.Kind.CHILDHOOD))]


def _publish(client, posting, *, photos, memories):
    client.force_login(posting.owner)
    data = {"step": "publish", "photos": [p.pk for p in photos], "understood": "on"}
    if memories:
        data["show_memories"] = "on"
    return client.post(reverse("families:seeker_publish", args=[posting.pk]), data)


def test_a_seeker_shows_only_what_they_choose(client, posting, photos):
    recent, childhood = photos
    # Nothing is public before the seeker chooses.
    assert client.get(reverse("families:public_seeker_detail", args=[posting.pk])) \
        .status_code == 404
    response = _publish(client, posting, photos=[recent], memories=True)
    assert response.status_code == 302
    assert response["Location"] == reverse("families:public_seeker_detail", args=[posting.pk])
    assert AuditEntry.objects.filter(action="seeker_posting.published").exists()

    client.logout()
    page = client.get(reverse("families:public_seeker_detail", args=[posting.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Xiao Hong" in text and "Zhengzhou" in text and "red gate" in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert reverse("families:photo_image", args=[recent.pk]) in text
    assert reverse("families:photo_image", args=[childhood.pk]) not in text
    assert client.get(reverse("families:photo_image", args=[recent.pk])).status_code == 200
    assert client.get(reverse("families:photo_image", args=[childhood.pk])).status_code == 404

    # Searchable like cases.
    listing = reverse("families:public_seeker_list")
    assert posting in client.get(listing, {"place": "henan"}).context["page"].object_list
    assert posting in client.get(listing, {"born_from": 1987}).context["page"].object_list
    assert not client.get(listing, {"born_to": 1980}).context["page"].object_list
    assert not client.get(listing, {"name": "Wei"}).context["page"].object_list

    # Printable: the poster names the seeker and keeps the secrets out.
    pdf = client.get(reverse("families:public_seeker_poster", args=[posting.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    poster = document[0].get_textpage().get_text_range()
    assert "Xiao Hong" in poster and "LOOKING FOR MY FAMILY" in poster
    for secret in SECRETS:
        assert secret not in poster, secret

    # Memories hidden again when the seeker says so.
    _publish(client, posting, photos=[recent], memories=False)
    client.logout()
    assert "red gate" not in client.get(
        reverse("families:public_seeker_detail", args=[posting.pk])).content.decode()


@pytest.mark.parametrize("how", ["consent", "withdraw", "unpublish"])
def test_taking_consent_or_the_posting_back_takes_it_down_at_once(client, posting, photos, how):
    recent, _childhood = photos
    _publish(client, posting, photos=[recent], memories=False)
    if how == "consent":
        services.seeker_posting_update(actor=posting.owner, posting=posting,
                                       fields={"consent_to_matching": False})
    elif how == "withdraw":
        services.seeker_posting_withdraw(actor=posting.owner, posting=posting)
    else:
        assert client.post(reverse("families:seeker_publish", args=[posting.pk]),
                           {"step": "unpublish"}).status_code == 302
    client.logout()
    assert client.get(reverse("families:public_seeker_detail", args=[posting.pk])) \
        .status_code == 404
    assert client.get(reverse("families:public_seeker_poster", args=[posting.pk])) \
        .status_code == 404
    assert client.get(reverse("families:photo_image", args=[recent.pk])).status_code == 404
    assert not client.get(reverse("families:public_seeker_list")).context["page"].object_list


def test_publishing_is_the_seekers_choice_alone(client, posting, make_user):
    volunteer = make_user(volunteer=True)
    with pytest.raises(PermissionDenied):
        services.seeker_posting_publish(actor=volunteer, posting=posting, photos=[],
                                        show_memories=True)
    client.force_login(volunteer)
    assert client.get(reverse("families:seeker_publish", args=[posting.pk])).status_code == 404
    posting.refresh_from_db()
    assert posting.published_at is None


def test_only_a_consenting_posting_can_be_public(make_user):
    posting = builders.seeker_posting(seeker=make_user(), consent_to_matching=False)
    with pytest.raises(ValidationError):
        services.seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                                        show_memories=False)
    posting.refresh_from_db()
    assert posting.published_at is None


def test_a_seekers_new_photo_is_never_public_until_chosen(client, posting, photos, photo_bytes):
    _publish(client, posting, photos=photos[:1], memories=False)
    later = builders.photo(data=photo_bytes("img3.jpg"), posting=posting)
    client.logout()
    assert client.get(reverse("families:photo_image", args=[later.pk])).status_code == 404


# --- a found person is never made public by whoever posted them -----------------------


FOUND = {"posted_for": SeekerPosting.PostedFor.FOUND_PERSON, "consent_to_matching": True,
         "matching_basis": "Police case 1991-17, Beilin unit."}


def _shelter_posting(make_user) -> SeekerPosting:
    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind=PartnerOrganisation.Kind.SHELTER,
        matching_basis="The shelter's intake records, 1985-1995.")
    member = make_user()
    shelter.members.add(member)
    posting, _created = partner_services.partner_posting_save(
        actor=member, organisation=shelter, reference="HS-1",
        fields={"display_name": "Xiao Hong", "sex": "F", "birth_year_min": 1986,
                "birth_year_max": 1986})
    return posting


def test_a_found_person_is_never_made_public_by_whoever_posted_them(client, make_user):
    """Nobody can consent for a found person: a volunteer's or a partner's posting of one
    can't be published, by the service, the page, the admin's form or the database."""
    volunteer = make_user(volunteer=True)
    by_volunteer = builders.seeker_posting(seeker=volunteer, **FOUND)
    by_partner = _shelter_posting(make_user)
    for posting in (by_volunteer, by_partner):
        with pytest.raises(PermissionDenied):
            services.seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                                            show_memories=True)
        client.force_login(posting.owner)
        url = reverse("families:seeker_publish", args=[posting.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"step": "publish", "understood": "on"}).status_code == 404
        detail = client.get(reverse("families:seeker_detail", args=[posting.pk]))
        assert url not in detail.content.decode()
        assert "never public" in detail.content.decode()
        # The admin's form (and any other model form) refuses it, and so does the database.
        posting.published_at = timezone.now()
        with pytest.raises(ValidationError, match="never public"):
            posting.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            SeekerPosting.objects.filter(pk=posting.pk).update(published_at=timezone.now())
        assert SeekerPosting.objects.get(pk=posting.pk).published_at is None
    assert list(client.get(reverse("families:public_seeker_list")).context["page"]) == []


def test_the_admin_form_never_publishes_a_found_person(admin_client, make_user):
    posting = builders.seeker_posting(seeker=make_user(volunteer=True), **FOUND)
    model_admin = admin.site._registry[SeekerPosting]
    request = RequestFactory().get("/")
    request.user = User.objects.get(email="admin@example.org")
    form_class = model_admin.get_form(request, posting, change=True)
    data = {name: value for name, value in model_to_dict(posting).items() if value is not None}
    data.update({"published_at_0": "2026-01-05", "published_at_1": "10:00:00"})
    # Publication is shown in the admin, never typed: it goes through the services, which
    # refuse a found person; a value sent anyway is not taken.
    assert "published_at" not in form_class.base_fields
    form = form_class(data, instance=posting)
    if form.is_valid():
        form.save()
    assert SeekerPosting.objects.get(pk=posting.pk).published_at is None


def test_a_found_person_stays_one_and_a_public_posting_cant_become_one(make_user):
    found = builders.seeker_posting(seeker=make_user(volunteer=True), **FOUND)
    with pytest.raises(ValidationError, match="stays one"):
        services.seeker_posting_update(actor=found.owner, posting=found,
                                       fields={"posted_for": SeekerPosting.PostedFor.SELF})
    assert SeekerPosting.objects.get(pk=found.pk).posted_for == SeekerPosting.PostedFor.FOUND_PERSON
    own = builders.seeker_posting(seeker=make_user())
    services.seeker_posting_publish(actor=own.owner, posting=own, photos=[],
                                    show_memories=False)
    own.refresh_from_db()
    with pytest.raises(ValidationError, match="never public"):
        services.seeker_posting_update(actor=own.owner, posting=own, fields={
            "posted_for": SeekerPosting.PostedFor.FOUND_PERSON,
            "matching_basis": "A shelter's records."})
    own.refresh_from_db()
    assert own.posted_for == SeekerPosting.PostedFor.SELF and own.published_at is not None


def test_found_people_published_before_are_taken_down_by_the_migration(make_user):
    """The data migration: every published found person goes down, with its photos and an
    audit entry; a person who published themself stays public."""
    executor = MigrationExecutor(connection)
    before = [("families", "0012_photo_hidden")]
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        Posting = apps.get_model("families", "SeekerPosting")
        Photo_ = apps.get_model("families", "Photo")
        Organisation = apps.get_model("families", "PartnerOrganisation")
        owner_id = make_user().pk
        shelter = Organisation.objects.create(name="Hope", kind="shelter", matching_basis="x")
        common = {"owner_id": owner_id, "display_name": "A", "sex": "F", "birth_year_min": 1986,
                  "birth_year_max": 1986, "consent_to_matching": True,
                  "published_at": timezone.now(), "show_memories": True}
        found = Posting.objects.create(posted_for="found", matching_basis="x", **common)
        partner = Posting.objects.create(posted_for="found", organisation=shelter,
                                         partner_reference="HS-1", **common)
        own = Posting.objects.create(posted_for="self", **common)
        photos = [Photo_.objects.create(seeker_posting=posting, kind="recent",
                                        image="photos/none.jpg", sha256="0" * 64,
                                        use_on_poster=True)
                  for posting in (found, partner, own)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        # To the latest of every app: the database stays whole for the tests after this one.
        executor.migrate(executor.loader.graph.leaf_nodes())
    for posting in (found, partner):
        taken_down = SeekerPosting.objects.get(pk=posting.pk)
        assert (taken_down.published_at, taken_down.show_memories) == (None, False)
        assert AuditEntry.objects.filter(action="seeker_posting.unpublished",
                                         object_id=str(posting.pk)).exists()
    assert SeekerPosting.objects.get(pk=own.pk).is_public
    assert [p.use_on_poster for p in Photo.objects.filter(pk__in=[p.pk for p in photos])
            .order_by("pk")] == [False, False, True]
