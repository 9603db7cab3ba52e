"""The portal's own 404, 403 and 500 pages: in the visitor's language, kind, with a way back,
and with DEBUG off (as in production)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from reunion.errors import permission_denied
from reunion.middleware import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production(settings) -> None:
    settings.DEBUG = False


def test_an_unknown_page_is_the_portals_own_404_in_english(client):
    response = client.get("/cases/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "find this page" in text
    assert 'href="/"' in text  # a way back
    assert "Not Found" not in text


def test_an_old_link_under_the_chinese_prefix_answers_in_chinese(client):
    response = client.get("/zh-hans/cases/999999/")
    assert response.status_code == 404
    text = response.content.decode()
    assert '<html lang="zh-hans"' in text
    assert "找不到这个页面" in text
    assert 'href="/zh-hans/"' in text


def test_an_unprefixed_link_follows_the_browser_or_the_cookie(client, settings):
    by_browser = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert by_browser.status_code == 404
    assert "找不到这个页面" in by_browser.content.decode()

    chosen = Client()
    chosen.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    by_cookie = chosen.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert "找不到这个页面" in by_cookie.content.decode()
    # The rest of the site is unchanged by it: the language is the error page's alone.
    assert "find this page" in client.get("/no-such-page/").content.decode()


def test_a_private_case_gets_the_same_kind_404(client, make_user):
    from tests import builders

    draft = builders.case(family=make_user(), publish=False)
    response = client.get(reverse("families:case_detail", args=[draft.pk]))
    assert response.status_code == 404
    assert "find this page" in response.content.decode()


def test_the_403_page_in_both_languages():
    english = permission_denied(RequestFactory().get("/admin/"), Exception())
    assert english.status_code == 403
    assert b"This is not open to your account" in english.content
    chinese = permission_denied(RequestFactory().get("/zh-hans/admin/"), Exception())
    assert "您的账户无权" in chinese.content.decode()


def test_the_500_page_in_both_languages_with_a_way_back():
    def fail(path: str, **headers: str):
        request = RequestFactory().get(path, **headers)
        try:
            raise ValueError("a bug")
        except ValueError:
            return server_error(request)

    english = fail("/cases/")
    assert english.status_code == 500
    assert b"Something went wrong on our side" in english.content
    assert b'href="/"' in english.content
    chinese = fail("/cases/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert chinese.status_code == 500
    assert "出了问题" in chinese.content.decode()
    assert 'href="/zh-hans/"' in chinese.content.decode()


def test_a_view_that_fails_answers_the_500_page(client, monkeypatch):
    from families.views import cases

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(cases.selectors, "public_cases", broken)
    failing = Client(raise_request_exception=False)
    response = failing.get("/zh-hans/cases/")
    assert response.status_code == 500
    assert "出了问题" in response.content.decode()
