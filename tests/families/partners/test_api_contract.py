"""The partners' API keeps its contract (families/partners/api/): every error in the one JSON shape
and in the audit log (NUL bytes, a body too large, a route that is not one, a fault of
Reunion's), the import's own checks, postings as JSON only, a photo sent again not stored
twice, the language asked for, a bucket of calls with a burst and a sustained rate."""

# ruff: noqa: F811 (the fixture "partners" is shared with test_api)
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from families.models import AuditEntry, Photo
from tests import builders
from tests.families.partners.test_api import PERSON, assert_error, call, jpeg_upload, partners  # noqa: F401

pytestmark = pytest.mark.django_db

NUL_URLS = [
    ("/api/v1/postings/", {"reference": "HS\x00"}),
    ("/api/v1/postings/", {"status": "a\x00"}),
    ("/api/v1/candidates/", {"reference": "HS\x00"}),
    ("/api/v1/candidates/", {"status": "\x00"}),
]


@pytest.mark.parametrize(("url", "query"), NUL_URLS)
def test_a_nul_byte_in_a_filter_is_a_400_in_the_one_shape_and_audited(partners, url, query):
    error = assert_error(call("get", url, partners.key, **query), 400, "invalid")
    assert set(error["fields"]) == set(query)
    assert AuditEntry.objects.filter(action="api.called", detail__status=400).exists()


@pytest.mark.parametrize("url", ["/api/v1/postings/HS%00/", "/api/v1/postings/HS%00/photos/"])
def test_a_nul_byte_in_a_reference_is_a_404_in_the_one_shape_and_audited(partners, url):
    assert_error(call("get", url, partners.key), 404, "not_found")
    assert AuditEntry.objects.filter(action="api.called", detail__status=404,
                                     detail__path__startswith="/api/v1/postings/HS").exists()


@pytest.mark.parametrize("url", ["/api/v1/nothing/", "/api/v2/postings/", "/api/"])
def test_a_route_that_is_not_one_is_a_404_in_the_one_shape(partners, url):
    response = call("get", url, partners.key)
    assert_error(response, 404, "not_found")
    assert response["Content-Type"] == "application/json"
    assert AuditEntry.objects.filter(action="api.called", detail__path=url).exists()


def test_a_body_too_large_is_a_413_in_the_one_shape_and_audited(partners, settings):
    settings.REQUEST_MAX_BYTES = 1000
    url = reverse("api:posting_photos", args=["HS-1"])
    response = call("multipart", url, partners.key, image=jpeg_upload(b"x" * 5000))
    assert_error(response, 413, "too_large")
    assert AuditEntry.objects.filter(action="api.called", detail__status=413).exists()
    assert not Photo.objects.exists()


def test_a_fault_of_reunion_s_is_a_500_in_the_one_shape_and_audited(partners, monkeypatch):
    from families.partners.api import views

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "partner_postings", broken)
    client = Client(raise_request_exception=False)
    response = call("get", reverse("api:postings"), partners.key, client=client)
    assert_error(response, 500, "server_error")
    assert "a bug" not in response.content.decode()
    assert AuditEntry.objects.filter(action="api.called", detail__status=500).exists()


@pytest.mark.parametrize(("field", "value"), [
    ("birth_year_min", 0), ("birth_year_max", 5000), ("arrived_year", 1899),
    ("birth_year_max", timezone.now().year + 1),
    ("display_name", "Xiao\x00Hong"), ("display_name", "Xiao\nHong"),
    ("memories", "A red door\x1b[31m"), ("memories", "x" * 10_001),
])
def test_the_api_refuses_what_the_import_refuses(partners, field, value):
    body = {**PERSON, "reference": "HS-2", field: value}
    if field == "birth_year_min":
        body["birth_year_max"] = 1986
    error = assert_error(call("post", reverse("api:postings"), partners.key, **body),
                         400, "invalid")
    assert field in error["fields"]
    from families.partners import csv_reading

    row = csv_reading.read_row({"reference": "HS-2", "display_name": "A", "sex": "F",
                                "birth_year": "1986", **{field: str(value)}})
    assert row.problems, "the import refuses it too"


def test_the_api_refuses_a_field_longer_than_it_keeps(partners):
    body = {**PERSON, "reference": "HS-2", "grew_up_city": "x" * 101}
    error = assert_error(call("post", reverse("api:postings"), partners.key, **body),
                         400, "invalid")
    assert "grew_up_city" in error["fields"]


def test_memories_may_run_over_several_lines(partners):
    body = {**PERSON, "reference": "HS-2", "memories": "A red door.\r\n\tA river."}
    response = call("post", reverse("api:postings"), partners.key, **body)
    assert response.status_code == 201 and response.json()["memories"] == body["memories"]


def test_postings_take_json_only(partners):
    response = call("multipart", reverse("api:postings"), partners.key,
                    **{**PERSON, "reference": "HS-2"})
    assert_error(response, 415, "unsupported_media_type")
    response = Client().patch(reverse("api:posting", args=["HS-1"]), "memories=x",
                              content_type="application/x-www-form-urlencoded",
                              HTTP_AUTHORIZATION=f"Api-Key {partners.key}")
    assert_error(response, 415, "unsupported_media_type")


def test_a_photo_sent_again_answers_200_with_the_photo_it_already_is(partners, redis_queues):
    url = reverse("api:posting_photos", args=["HS-1"])
    data = builders.jpeg(size=(240, 240), colour=(30, 90, 200))
    first = call("multipart", url, partners.key, image=jpeg_upload(data))
    assert first.status_code == 201
    again = call("multipart", url, partners.key, image=jpeg_upload(data, name="again.jpg"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Photo.objects.filter(seeker_posting=partners.posting).count() == 1


def test_messages_come_in_the_language_asked_for(partners):
    response = Client().get(reverse("api:postings"), HTTP_ACCEPT_LANGUAGE="zh-Hans")
    error = assert_error(response, 401, "not_authenticated")
    assert "Api-Key" in error["message"] and "您" in error["message"]
    body = {**PERSON, "reference": "HS-2", "sex": "X"}
    response = Client().post(reverse("api:postings"), body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Api-Key {partners.key}",
                             HTTP_ACCEPT_LANGUAGE="zh-Hans")
    error = assert_error(response, 400, "invalid")
    assert any("\u4e00" <= char <= "\u9fff" for char in error["fields"]["sex"][0])


def test_a_bearer_token_is_told_which_header_is_expected(partners):
    response = Client().get(reverse("api:postings"),
                            HTTP_AUTHORIZATION=f"Bearer {partners.key}")
    error = assert_error(response, 401, "wrong_scheme")
    assert "Authorization: Api-Key <key>" in error["message"]
    assert response["WWW-Authenticate"] == "Api-Key"
    error = assert_error(Client().get(reverse("api:postings")), 401, "not_authenticated")
    assert "Authorization: Api-Key <key>" in error["message"]


def test_a_burst_then_the_sustained_rate_and_retry_after_the_next_free_slot(
    partners, abuse_limits, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key": "1200/h", "api_key_burst": "5"}
    url = reverse("api:postings")
    assert [call("get", url, partners.key).status_code for _ in range(5)] == [200] * 5
    response = call("get", url, partners.key)
    assert_error(response, 429, "throttled")
    # One call earned every 3 seconds: the next is seconds away, not the rest of the hour.
    assert 1 <= int(response["Retry-After"]) <= 3
    assert call("get", url, partners.other_key).status_code == 200
