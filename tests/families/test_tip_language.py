"""'Tell the family' says which language the family reads, so the volunteer writes in it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from families import services
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "shown", "shown_in_chinese"), [
    ("zh-hans", "The family reads Simplified Chinese", "家庭使用的语言是简体中文"),
    ("en", "The family reads English", "家庭使用的语言是英文"),
])
def test_tell_the_family_shows_the_familys_language(make_user, language, shown,
                                                   shown_in_chinese):
    family = make_user(preferred_language=language)
    case = builders.case(family=family)
    tip = services.tip_submit(actor=make_user(), case=case,
                              fields={"text": "A boy like him at the station."})
    volunteer = Client()
    volunteer.force_login(make_user(volunteer=True))
    url = reverse("families:tip_detail", args=[tip.reference])
    assert shown in volunteer.get(url).content.decode()
    assert shown_in_chinese in volunteer.get(f"/zh-hans{url}").content.decode()
