"""Public seeker postings: only by the seeker's choice, only what they choose to show,
searchable and printable like cases, taken down at once when consent or the posting goes."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from families import services
from families.models import AuditEntry, Photo
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
