"""Forms a mother can fill on a phone: the right keypads, what is required said before she
sends, her contact filled from her account, mistakes listed with links to their fields, a
failed upload keeping her answers, and the page she started from after signing up."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from families.forms.cases import CaseForm
from families.forms.photos import PhotoUploadForm
from families.models import User
from tests import builders
from tests.families.test_forms import CASE

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough password 1"


def _link(body: str) -> str:
    return "/" + re.search(r"https?://\S+", body).group(0).split("://", 1)[1].split("/", 1)[1]


def test_case_form_keypads_and_no_map_coordinates():
    form = CaseForm()
    html = str(form["contact_phone"])
    assert 'type="tel"' in html and 'inputmode="tel"' in html and 'autocomplete="tel"' in html
    assert 'type="email"' in str(form["contact_email"])
    for name in ("birth_year_min", "birth_year_max", "height_cm"):
        assert 'inputmode="numeric"' in str(form[name])
    assert "missing_latitude" not in form.fields and "missing_longitude" not in form.fields
    upload = PhotoUploadForm(owner_obj=builders_case_stub())
    assert 'inputmode="decimal"' in str(upload["age_in_photo"])
    assert 'inputmode="numeric"' in str(upload["year_taken"])


def builders_case_stub():
    from families.models import MissingChildCase
    return MissingChildCase(birth_year_min=1986, birth_year_max=1986,
                            missing_date=timezone.localdate().replace(year=1988))


def test_the_new_case_form_says_what_is_required_and_fills_the_contact(client, make_user):
    family = make_user(full_name="李华", phone="+86 139 1234 5678",
                       email_confirmed_at=timezone.now())
    client.force_login(family)
    with translation.override("zh-hans"):
        page = client.get(reverse("families:case_create")).content.decode()
    assert "必须填写" in page  # the note on required fields, before anything is sent
    assert page.count('aria-hidden="true">*</abbr>') >= 5
    assert "请至少填写电话或电子邮箱中的一项" in page  # one of phone or email, up front
    assert 'value="李华"' in page and 'value="+86 139 1234 5678"' in page
    assert f'value="{family.email}"' in page
    assert "latitude" not in page and "纬度" not in page
    # Editing a case keeps the case's own contact, not the account's.
    case = builders.case(family=family)
    page = client.get(reverse("families:case_edit", args=[case.pk])).content.decode()
    assert 'value="Li Hua"' in page and "+86 139 1234 5678" not in page


def test_the_error_summary_links_to_each_field(client, make_user):
    client.force_login(make_user(email_confirmed_at=timezone.now()))
    response = client.post(reverse("families:case_create"), {
        **CASE, "given_name": "", "contact_phone": "", "public_contact": "hotline"})
    page = response.content.decode()
    summary = re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', page, re.S)
    assert summary and 'tabindex="-1"' in summary.group(0)
    assert 'data-error-summary' in summary.group(0)
    assert 'href="#id_given_name"' in summary.group(1)
    assert 'href="#id_contact_phone"' in summary.group(1)
    assert 'id="id_given_name"' in page and 'id="id_contact_phone"' in page
    # The focus moves by the site's own script (no inline code under the CSP).
    assert "/static/js/form-errors.js" in page and "onload" not in page


def test_a_failed_upload_keeps_the_answers_and_asks_for_the_file_again(
    client, make_user, photo_bytes
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    family = make_user(email_confirmed_at=timezone.now())
    case = builders.case(family=family, publish=False)
    client.force_login(family)
    response = client.post(reverse("families:case_photos", args=[case.pk]), {
        "image": SimpleUploadedFile("a.jpg", photo_bytes("img1.jpg"), "image/jpeg"),
        "kind": "childhood", "age_in_photo": "", "year_taken": "1850",
        "caption": "At grandmother's house"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="At grandmother&#x27;s house"' in page
    assert "please choose the photo again" in page
    assert case.photos.count() == 0


def test_publishing_without_a_photo_warns_that_it_cant_be_matched(client, make_user,
                                                                  photo_bytes):
    family = make_user(email_confirmed_at=timezone.now())
    case = builders.case(family=family, publish=False)
    client.force_login(family)
    for name in ("families:case_photos", "families:case_detail"):
        page = client.get(reverse(name, args=[case.pk])).content.decode()
        assert "can't be matched with anyone" in page, name
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    for name in ("families:case_photos", "families:case_detail"):
        page = client.get(reverse(name, args=[case.pk])).content.decode()
        assert "can't be matched with anyone" not in page, name


@pytest.mark.django_db(transaction=True)
def test_after_sign_up_and_confirmation_she_comes_back_to_the_case_form(client, settings):
    settings.SITE_URL = "http://testserver"
    start = reverse("families:case_create")
    login = client.get(start)
    assert login.status_code == 302 and "next=" in login["Location"]
    page = client.get(login["Location"]).content.decode()
    signup_link = re.search(r'href="([^"]*/signup/\?next=[^"]+)"', page).group(1)
    page = client.get(signup_link).content.decode()
    assert f'name="next" value="{start}"' in page
    client.post(signup_link, {
        "email": "mother@example.org", "full_name": "李华", "password1": PASSWORD,
        "password2": PASSWORD, "preferred_language": "zh-hans", "next": start,
    })
    response = client.get(_link(mail.outbox[0].body))
    assert User.objects.get(email="mother@example.org").email_confirmed_at is not None
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" + start.replace("/", "%2F") in response["Location"]
    response = client.post(response["Location"], {
        "username": "mother@example.org", "password": PASSWORD, "next": start})
    assert response["Location"] == start


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("elsewhere", [
    "https://evil.example.org/", "//evil.example.org/", "/\\evil.example.org/",
    "javascript:alert(1)",
])
def test_only_the_sites_own_pages_are_gone_back_to(client, settings, elsewhere):
    settings.SITE_URL = "http://testserver"
    page = client.get(reverse("families:signup"), {"next": elsewhere}).content.decode()
    assert '<input type="hidden" name="next"' not in page
    client.post(reverse("families:signup"), {
        "email": "mother@example.org", "password1": PASSWORD, "password2": PASSWORD,
        "preferred_language": "en", "next": elsewhere,
    })
    response = client.get(_link(mail.outbox[0].body))
    assert response["Location"] == reverse("login")
