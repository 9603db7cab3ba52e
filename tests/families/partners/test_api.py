"""The partners' REST API (families/partners/api/): every endpoint × no key, a revoked key, another
organisation's key and the right key; postings keyed by the partner's reference; photos
through the same checks and face pipeline as every upload; confirmed candidates only;
one error shape; every call audited; a budget per key; the schema and its page."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from drf_spectacular.validation import validate_schema

from families import services
from families.models import (
    AuditEntry,
    CaseStatus,
    PartnerAPIKey,
    PartnerOrganisation,
    Photo,
    SeekerPosting,
    Sex,
)
from families.partners import services as partner_services
from matching import services as matching_services
from matching.models import Candidate, Review
from tests import builders

pytestmark = pytest.mark.django_db

BASIS = "Intake records of the Hope shelter, 1985-1995, kept under the provincial licence."
PERSON = {"reference": "HS-1988-014", "display_name": "Xiao Hong", "sex": Sex.FEMALE,
          "birth_year_min": 1984, "birth_year_max": 1986, "grew_up_province": "Hebei",
          "memories": "A red door and a river."}


@dataclass
class Partners:
    shelter: PartnerOrganisation
    police: PartnerOrganisation
    key: str  # the shelter's key
    other_key: str  # the police unit's key
    revoked_key: str  # the shelter's, revoked
    member: object
    posting: SeekerPosting  # the shelter's posting HS-1


def _organisation(make_user, name: str, kind: str) -> tuple[PartnerOrganisation, object, str]:
    organisation = PartnerOrganisation.objects.create(
        name=name, kind=kind, region="Hebei", matching_basis=f"{BASIS} ({name})")
    member = make_user()
    organisation.members.add(member)
    _row, key = PartnerAPIKey.objects.create_key(
        name="intake", organisation=organisation, member=member)
    return organisation, member, key


@pytest.fixture
def partners(make_user) -> Partners:
    shelter, member, key = _organisation(make_user, "Hope shelter", "shelter")
    police, _officer, other_key = _organisation(make_user, "Beilin police", "police")
    revoked, revoked_key = PartnerAPIKey.objects.create_key(
        name="old", organisation=shelter, member=member)
    revoked.revoked = True
    revoked.save()
    posting, _created = partner_services.partner_posting_save(
        actor=member, organisation=shelter, reference="HS-1",
        fields={k: v for k, v in PERSON.items() if k != "reference"})
    return Partners(shelter, police, key, other_key, revoked_key, member, posting)


def call(method: str, url: str, key: str | None = None, client: Client | None = None,
         **data: object):
    client = client or Client()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    if method == "get":
        return client.get(url, data or None, **headers)
    if method == "multipart":
        return client.post(url, data, **headers)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def jpeg_upload(data: bytes | None = None, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or builders.jpeg(size=(240, 240)), "image/jpeg")


@dataclass
class Endpoint:
    route: str
    method: str
    url: Callable[[Partners], str]
    data: Callable[[], dict] = dict
    ok: int = 200


ENDPOINTS = [
    Endpoint("postings/", "get", lambda p: reverse("api:postings")),
    Endpoint("postings/", "post", lambda p: reverse("api:postings"),
             lambda: {**PERSON, "reference": "HS-2"}, ok=201),
    Endpoint("postings/<str:reference>/", "get",
             lambda p: reverse("api:posting", args=["HS-1"])),
    Endpoint("postings/<str:reference>/", "patch",
             lambda p: reverse("api:posting", args=["HS-1"]), lambda: {"dialect": "Hebei"}),
    Endpoint("postings/<str:reference>/photos/", "get",
             lambda p: reverse("api:posting_photos", args=["HS-1"])),
    Endpoint("postings/<str:reference>/photos/", "multipart",
             lambda p: reverse("api:posting_photos", args=["HS-1"]),
             lambda: {"image": jpeg_upload(), "age_in_photo": "4"}, ok=201),
    Endpoint("candidates/", "get", lambda p: reverse("api:candidates")),
]
#: Public: they describe the API and hold no data.
PUBLIC_ROUTES = {"schema/", "docs/", "<path:unknown>"}


def state() -> tuple:
    return (
        tuple(SeekerPosting.objects.order_by("pk").values_list(
            "pk", "display_name", "dialect", "status", "organisation_id", "partner_reference")),
        tuple(Photo.objects.order_by("pk").values_list("pk", "seeker_posting_id")),
    )


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_every_api_route_is_in_the_table():
    api = next(p for p in get_resolver().url_patterns
               if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    routes = {str(p.pattern) for p in api.url_patterns}
    assert routes == {e.route for e in ENDPOINTS} | PUBLIC_ROUTES


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_no_key_and_a_revoked_key_are_refused_and_change_nothing(endpoint, partners):
    before = state()
    for key, code in ((None, "not_authenticated"), (partners.revoked_key, "key_revoked"),
                      ("nokey.nosecret", "key_not_valid"),
                      (partners.key + "x", "key_not_valid")):
        response = call(endpoint.method, endpoint.url(partners), key, **endpoint.data())
        assert_error(response, 401, code)
        assert response["WWW-Authenticate"] == "Api-Key"
    assert state() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_a_browser_session_grants_nothing(endpoint, partners, admin_client):
    before = state()
    response = call(endpoint.method, endpoint.url(partners), client=admin_client,
                    **endpoint.data())
    assert_error(response, 401, "not_authenticated")
    assert state() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_another_organisations_key_sees_and_changes_nothing_of_the_shelter(endpoint, partners):
    before = state()
    response = call(endpoint.method, endpoint.url(partners), partners.other_key,
                    **endpoint.data())
    if "<str:reference>" in endpoint.route:
        assert_error(response, 404, "not_found")
        assert state() == before
    elif endpoint.method == "post":
        # The police unit's own posting with that reference: nothing of the shelter's.
        assert response.status_code == 201
        assert SeekerPosting.objects.get(partner_reference="HS-2").organisation == \
            partners.police
        assert SeekerPosting.objects.get(pk=partners.posting.pk).organisation == \
            partners.shelter
    else:
        assert response.status_code == 200
        assert response.json()["results"] == [] and response.json()["count"] == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_the_right_key_is_answered_and_the_call_audited(endpoint, partners):
    before = AuditEntry.objects.filter(action="api.called").count()
    response = call(endpoint.method, endpoint.url(partners), partners.key, **endpoint.data())
    assert response.status_code == endpoint.ok, response.content
    entry = AuditEntry.objects.filter(action="api.called").latest("pk")
    assert AuditEntry.objects.filter(action="api.called").count() == before + 1
    assert (entry.actor, entry.object_type, entry.object_id) == (
        partners.member, "families.partnerorganisation", str(partners.shelter.pk))
    assert entry.detail["status"] == endpoint.ok
    assert entry.detail["method"] == ("POST" if endpoint.method == "multipart"
                                      else endpoint.method.upper())
    assert entry.detail["key"] == partners.key.partition(".")[0]


def test_refused_calls_with_a_known_key_are_audited_too(partners):
    call("get", reverse("api:postings"), partners.revoked_key)
    call("get", reverse("api:posting", args=["HS-1"]), partners.other_key)
    statuses = list(AuditEntry.objects.filter(action="api.called").order_by("pk")
                    .values_list("object_id", "detail__status"))
    assert statuses == [(str(partners.shelter.pk), 401), (str(partners.police.pk), 404)]


def test_posting_a_reference_twice_updates_it(partners):
    url = reverse("api:postings")
    first = call("post", url, partners.key, **{**PERSON, "reference": "HS-7"})
    assert first.status_code == 201
    again = call("post", url, partners.key,
                 **{**PERSON, "reference": "HS-7", "display_name": "Hong Li"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    postings = SeekerPosting.objects.filter(partner_reference="HS-7")
    assert postings.count() == 1
    posting = postings.get()
    assert posting.display_name == "Hong Li"
    # A found person of the shelter, matched on the shelter's basis instead of consent.
    assert (posting.posted_for, posting.organisation, posting.owner) == (
        SeekerPosting.PostedFor.FOUND_PERSON, partners.shelter, partners.member)
    assert posting.consent_to_matching and posting.is_matchable
    assert posting.matching_basis == partners.shelter.matching_basis
    saved = AuditEntry.objects.filter(action="partner_posting.saved", object_id=str(posting.pk))
    assert [e.detail["created"] for e in saved.order_by("pk")] == [True, False]


def test_patch_changes_only_what_is_sent(partners):
    response = call("patch", reverse("api:posting", args=["HS-1"]), partners.key,
                    grew_up_city="Baoding", reference="CHANGED")
    assert response.status_code == 200
    posting = SeekerPosting.objects.get(pk=partners.posting.pk)
    assert (posting.grew_up_city, posting.display_name, posting.partner_reference) == (
        "Baoding", "Xiao Hong", "HS-1")


def test_refused_fields_come_in_the_one_shape(partners):
    url = reverse("api:postings")
    error = assert_error(call("post", url, partners.key, reference="bad ref!",
                              display_name=""), 400, "invalid")
    assert {"reference", "display_name", "sex", "birth_year_min"} <= set(error["fields"])
    # A rule of the model, checked by the service: the same shape.
    error = assert_error(call("post", url, partners.key,
                              **{**PERSON, "birth_year_min": 1990, "birth_year_max": 1980}),
                         400, "invalid")
    assert error["fields"]
    assert not SeekerPosting.objects.filter(partner_reference=PERSON["reference"]).exists()


def test_lists_are_filtered_and_paginated(partners):
    for n in range(3):
        call("post", reverse("api:postings"), partners.key, **{**PERSON, "reference": f"P{n}"})
    services.seeker_posting_withdraw(
        actor=partners.member, posting=SeekerPosting.objects.get(partner_reference="P0"))
    page = call("get", reverse("api:postings"), partners.key, page_size=2).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    withdrawn = call("get", reverse("api:postings"), partners.key, status="withdrawn").json()
    assert [p["reference"] for p in withdrawn["results"]] == ["P0"]
    one = call("get", reverse("api:postings"), partners.key, reference="P2").json()
    assert [p["reference"] for p in one["results"]] == ["P2"]
    assert_error(call("get", reverse("api:postings"), partners.key, page=9), 404, "not_found")


def test_a_refused_photo_says_why_and_stores_nothing(partners, media_root):
    files_before = sorted(media_root.rglob("*"))
    response = call("multipart", reverse("api:posting_photos", args=["HS-1"]), partners.key,
                    image=SimpleUploadedFile("notes.jpg", b"not a photo at all", "image/jpeg"))
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["image"] and error["message"] == error["fields"]["image"][0]
    assert not Photo.objects.exists()
    assert sorted(media_root.rglob("*")) == files_before


@pytest.mark.django_db(transaction=True)
def test_a_photo_goes_through_the_face_pipeline(partners, photo_bytes, identities,
                                                run_worker):
    name = next(iter(identities))
    url = reverse("api:posting_photos", args=["HS-1"])
    response = call("multipart", url, partners.key,
                    image=jpeg_upload(photo_bytes(name), name="person.jpg"), age_in_photo="30")
    assert response.status_code == 201, response.content
    assert response.json()["face_state"] == Photo.FaceState.WAITING
    photo = Photo.objects.get(pk=response.json()["id"])
    assert (photo.seeker_posting_id, photo.owner, photo.use_on_poster) == (
        partners.posting.pk, partners.member, False)
    run_worker()
    states = call("get", url, partners.key).json()
    assert [(p["id"], p["face_state"], p["needs_face_pick"]) for p in states] == [
        (photo.pk, Photo.FaceState.FACE_FOUND, False)]
    detail = call("get", reverse("api:posting", args=["HS-1"]), partners.key).json()
    assert detail["photos"][0]["face_state"] == Photo.FaceState.FACE_FOUND


def test_only_candidates_a_volunteer_confirmed_are_read(partners, make_user):
    volunteer = make_user(volunteer=True)
    case = builders.case(family=make_user(), given_name="Hong", family_name="Li",
                         sex=Sex.FEMALE, birth_year_min=1985, birth_year_max=1985)
    other_case = builders.case(family=make_user(), sex=Sex.FEMALE, birth_year_min=1985,
                               birth_year_max=1985)
    candidate = builders.candidate(case=case, posting=partners.posting)
    rejected = builders.candidate(case=other_case, posting=partners.posting)
    url = reverse("api:candidates")
    assert call("get", url, partners.key).json()["count"] == 0  # nothing before confirmation
    matching_services.candidate_review(actor=volunteer, candidate=rejected,
                                       decision=Review.Decision.REJECT, reason="different_person")
    builders.confirm(candidate=candidate, volunteer=volunteer)
    body = call("get", url, partners.key).json()
    assert [c["id"] for c in body["results"]] == [str(candidate.reference)]
    found = body["results"][0]
    assert (found["status"], found["reference"]) == (Candidate.Status.CONFIRMED, "HS-1")
    assert (found["case"]["name"], found["case"]["given_name"]) == ("Hong Li", "Hong")
    # Only what the confirmation grants: never contacts, police details, circumstances.
    assert set(found["case"]) == {
        "name", "given_name", "family_name", "nicknames", "sex", "birth_date", "birth_year_min",
        "birth_year_max", "missing_date", "missing_city", "missing_province",
        "missing_place_code"}
    text = str(body)
    for private in ("li.hua@example.org", "139 0000", "PR-1988-0042", "Beilin police station",
                    "Taken outside a hotel", "Li Hua"):
        assert private not in text
    assert found["volunteer"]["email"] == volunteer.email
    assert found["dna_test"]["status"] == "requested"
    assert AuditEntry.objects.filter(action="match.viewed", object_id=str(candidate.pk),
                                     detail__via="api").exists()
    assert call("get", url, partners.key, reference="HS-9").json()["count"] == 0
    assert call("get", url, partners.key, status="reunited").json()["count"] == 0
    assert call("get", url, partners.other_key).json()["count"] == 0
    # Withdrawn by the shelter: the candidate ends, and the grant with it.
    services.seeker_posting_withdraw(actor=partners.member, posting=partners.posting)
    assert call("get", url, partners.key).json()["count"] == 0


def test_each_key_has_its_own_budget(partners, abuse_limits, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key": "3/m"}
    url = reverse("api:postings")
    assert [call("get", url, partners.key).status_code for _ in range(3)] == [200] * 3
    response = call("get", url, partners.key)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert call("get", url, partners.other_key).status_code == 200


def test_calls_with_refused_keys_are_throttled_per_address(partners, abuse_limits, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key_refused": "3/h"}
    url = reverse("api:postings")
    guesser = Client(REMOTE_ADDR="198.51.100.40")
    keys = ["nope.nothing", partners.revoked_key, f"{partners.key[:-3]}xyz"]
    assert [call("get", url, key, client=guesser).status_code for key in keys] == [401] * 3
    audited = AuditEntry.objects.filter(action="api.called").count()
    for key in [*keys, "nope.again"]:
        assert_error(call("get", url, key, client=guesser), 429, "throttled")
    assert AuditEntry.objects.filter(action="api.called").count() == audited, \
        "refused past the budget: nothing recorded"
    # Another address is not throttled, and a usable key never is.
    assert call("get", url, "nope.nothing", client=Client(REMOTE_ADDR="203.0.113.40")
                ).status_code == 401
    assert call("get", url, partners.key, client=guesser).status_code == 200


def test_an_unknown_path_answers_in_the_one_shape(partners):
    assert_error(call("get", "/api/v1/nothing/here/", partners.key), 404, "not_found")
    assert_error(call("post", "/api/v1/postings/HS-1/nothing/"), 404, "not_found")


def test_the_schema_lists_every_endpoint_and_its_page_loads_nothing_from_outside(client):
    response = client.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # against the OpenAPI 3 specification
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/postings/", "/api/v1/postings/{reference}/",
        "/api/v1/postings/{reference}/photos/", "/api/v1/candidates/"}
    assert set(schema["paths"]["/api/v1/postings/{reference}/"]) >= {"get", "patch"}
    assert "partnerKey" in schema["components"]["securitySchemes"]
    page = client.get(reverse("api:docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # The page's own script comes from its URL (no inline script: docs/ARCHITECTURE.md,
    # "Content-Security-Policy"), and it reads the schema from here.
    script_url = reverse("api:docs") + "?script="
    assert script_url in assets
    script = client.get(script_url)
    assert script.status_code == 200 and script["Content-Type"].startswith(
        "application/javascript")
    assert reverse("api:schema") in script.content.decode()
    for outside in ("cdn.", "jsdelivr", "unpkg", "https://", "http://"):
        assert outside not in html and outside not in script.content.decode()
    assets.remove(script_url)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:  # each one the portal serves itself
        assert asset.startswith(settings.STATIC_URL) or asset.startswith("/" + settings.STATIC_URL)
        assert finders.find(asset.split(settings.STATIC_URL, 1)[1]), asset


def test_the_admin_shows_a_new_key_once_and_keeps_only_its_hash(partners, admin_client):
    response = admin_client.post(reverse("admin:families_partnerapikey_add"), {
        "name": "second", "organisation": partners.shelter.pk, "member": partners.member.pk})
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    raw = next(word for m in shown for word in m.split() if word.count(".") == 1
               and len(word) > 30)
    # Shown once, on the page after creation; never again, and never stored.
    assert raw in admin_client.get(response["Location"]).content.decode()
    row = PartnerAPIKey.objects.get(name="second")
    assert raw not in row.hashed_key and raw != row.pk
    for url in (response["Location"],
                reverse("admin:families_partnerapikey_change", args=[row.pk])):
        assert raw not in admin_client.get(url).content.decode()
    assert call("get", reverse("api:postings"), raw).status_code == 200
    assert AuditEntry.objects.filter(action="api_key.created",
                                     object_id=str(partners.shelter.pk)).exists()
    # A key acts only for a member of its organisation.
    outsider = admin_client.post(reverse("admin:families_partnerapikey_add"), {
        "name": "third", "organisation": partners.police.pk, "member": partners.member.pk})
    assert outsider.status_code == 200
    assert not PartnerAPIKey.objects.filter(name="third").exists()


def test_a_member_who_left_or_an_inactive_organisation_can_use_no_key(partners):
    url = reverse("api:postings")
    partners.shelter.members.remove(partners.member)
    assert_error(call("get", url, partners.key), 401, "key_revoked")
    partners.shelter.members.add(partners.member)
    assert call("get", url, partners.key).status_code == 200
    PartnerOrganisation.objects.filter(pk=partners.shelter.pk).update(is_active=False)
    assert_error(call("get", url, partners.key), 401, "key_revoked")


def test_the_service_refuses_someone_who_is_not_a_member(partners, make_user):
    with pytest.raises(PermissionDenied):
        partner_services.partner_posting_save(actor=make_user(), organisation=partners.shelter,
                                      reference="X", fields={})
    assert SeekerPosting.objects.filter(status=CaseStatus.PUBLISHED).count() == 1


def test_a_body_that_is_not_json_and_a_photo_not_in_multipart_are_refused(partners):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {partners.key}"}
    response = Client().post(reverse("api:postings"), "{not json",
                             content_type="application/json", **headers)
    assert_error(response, 400, "parse_error")
    response = call("post", reverse("api:posting_photos", args=["HS-1"]), partners.key,
                    caption="no file")
    assert_error(response, 415, "unsupported_media_type")
    assert not Photo.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_calls_with_one_reference_at_once_make_one_posting(partners):
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(call("post", reverse("api:postings"), partners.key,
                                **{**PERSON, "reference": "HS-AT-ONCE"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200, 201]
    assert SeekerPosting.objects.filter(partner_reference="HS-AT-ONCE").count() == 1
