"""A seeker who went public reads copy that is true in every state: no page says "never
public" of a public posting, a private posting's status never reads "published", the publish
page shows a thumbnail of each photo that may become public, and the public page does not
offer the owner "this might be our child" about their own posting."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from families import services
from families.models import Photo
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def posting(make_user):
    return builders.seeker_posting(seeker=make_user(), display_name="Xiao Hong")


def _owner(posting) -> Client:
    client = Client()
    client.force_login(posting.owner)
    return client


def _pages(client: Client, posting) -> dict[str, str]:
    return {name: client.get(url).content.decode() for name, url in {
        "home": reverse("home"),
        "dashboard": reverse("families:dashboard"),
        "form": reverse("families:seeker_create"),
        "detail": reverse("families:seeker_detail", args=[posting.pk]),
        "photos": reverse("families:seeker_photos", args=[posting.pk]),
    }.items()}


def test_a_private_posting_reads_private_never_published(posting):
    pages = _pages(_owner(posting), posting)
    assert "Private, in matching" in pages["dashboard"]
    assert "Private, in matching" in pages["detail"]
    for name, text in pages.items():
        assert "Published" not in text, name
    assert "This posting is private" in pages["detail"]
    chinese = _owner(posting).get(
        "/zh-hans" + reverse("families:seeker_detail", args=[posting.pk])).content.decode()
    assert "已发布" not in chinese
    assert "不公开，参与比对" in chinese


def test_once_public_no_page_says_never_public(posting):
    photo = builders.photo_row(posting=posting)
    services.seeker_posting_publish(actor=posting.owner, posting=posting, photos=[photo],
                                    show_memories=False)
    posting.refresh_from_db()
    assert posting.is_public
    pages = _pages(_owner(posting), posting)
    for name, text in pages.items():
        assert "never public" not in text, name
    assert "This posting is public" in pages["detail"]
    assert posting.get_public_url() in pages["detail"]
    assert "Public, in matching" in pages["dashboard"]
    assert "only the photos you choose on its public page are shown" in pages["photos"]


def test_the_publish_page_shows_a_thumbnail_of_each_photo(posting):
    photos = [builders.photo_row(posting=posting) for _ in range(2)]
    Photo.objects.filter(pk=photos[1].pk).update(kind=Photo.Kind.CHILDHOOD, age_in_photo=4)
    page = _owner(posting).get(reverse("families:seeker_publish", args=[posting.pk]))
    text = page.content.decode()
    for photo in photos:
        assert f'src="{reverse("families:photo_image", args=[photo.pk])}"' in text
    assert "age 4" in text


def test_the_owner_is_not_offered_this_might_be_our_child_on_their_own_posting(
    posting, make_user
):
    services.seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                                    show_memories=False)
    url = reverse("families:public_seeker_detail", args=[posting.pk])
    proposal = reverse("matching:might_be_our_child", args=[posting.pk])
    own = _owner(posting).get(url).content.decode()
    assert proposal not in own
    assert "This is your own posting, as others see it" in own
    family = Client()
    family.force_login(make_user())
    assert proposal in family.get(url).content.decode()
