"""The admin for families' models: useful lists, audited views, actions, a read-only audit log."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from families import services as family_services
from families.models import (
    AuditEntry,
    CaseStatus,
    MissingChildCase,
    Notification,
    PartnerImport,
    PartnerOrganisation,
    Photo,
    SeekerPosting,
    User,
)
from families.partners import services as partner_services
from matching.models import Face, MatchJob
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_families_model_has_an_admin_with_lists_filters_and_search(
    admin_client, make_user, redis_queues, photo_bytes
):
    family = make_user()
    case = builders.case(family=family)
    posting = builders.seeker_posting(seeker=family)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    family_services.notification_send(recipient=family, kind="test", subject="Hello",
                                      body="Body", dedupe_key="k1")
    for model in (User, MissingChildCase, SeekerPosting, Photo, Notification, AuditEntry,
                  PartnerOrganisation, PartnerImport):
        model_admin = admin.site._registry[model]
        assert model_admin.list_display != ("__str__",), model
        assert model_admin.list_filter and model_admin.search_fields, model
        url = reverse(f"admin:families_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, model
        assert admin_client.get(url, {"q": case.given_name}).status_code == 200, model
    page = admin_client.get(reverse("admin:families_missingchildcase_changelist"))
    assert case.missing_province in page.content.decode()
    assert admin_client.get(reverse("admin:families_seekerposting_change",
                                    args=[posting.pk])).status_code == 200


def test_an_admin_creates_a_volunteer_account_with_provinces(admin_client):
    response = admin_client.post(reverse("admin:families_user_add"), {
        "email": "new.volunteer@example.org", "usable_password": "true",
        "password1": "a long enough password 1", "password2": "a long enough password 1",
    })
    assert response.status_code == 302
    user = User.objects.get(email="new.volunteer@example.org")
    assert user.check_password("a long enough password 1")
    change = admin_client.get(reverse("admin:families_user_change", args=[user.pk]))
    assert 'name="review_provinces"' in change.content.decode()


def test_opening_private_data_in_the_admin_is_audited(admin_client, superuser, make_user):
    case = builders.case(family=make_user(), contact_phone="+86 138 0000 1111")
    page = admin_client.get(reverse("admin:families_missingchildcase_change", args=[case.pk]))
    assert page.status_code == 200 and "+86 138 0000 1111" in page.content.decode()
    entry = AuditEntry.objects.get(action="admin.viewed")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        superuser, "families.missingchildcase", str(case.pk))


def test_the_admin_never_links_a_photo_file(admin_client, make_user, photo_bytes, redis_queues):
    family = make_user()
    photo = family_services.photo_add(actor=family, case=builders.case(family=family),
                                      data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD)
    text = admin_client.get(reverse("admin:families_photo_change", args=[photo.pk])) \
        .content.decode()
    assert photo.image.name not in text
    assert "/media" not in text


def test_the_audit_log_is_readable_and_never_editable_even_by_a_superuser(
    admin_client, superuser, make_user
):
    case = builders.case(family=make_user())
    entry = AuditEntry.objects.get(action="case.created", object_id=str(case.pk))
    model_admin = admin.site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = superuser
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)

    change_url = reverse("admin:families_auditentry_change", args=[entry.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200 and "case.created" in page.content.decode()
    assert 'name="action"' not in page.content.decode()
    assert admin_client.get(reverse("admin:families_auditentry_add")).status_code == 403
    assert admin_client.post(change_url, {"action": "forged"}).status_code == 403
    delete_url = reverse("admin:families_auditentry_delete", args=[entry.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    listing = admin_client.get(reverse("admin:families_auditentry_changelist"))
    assert "delete_selected" not in listing.content.decode()
    bulk = admin_client.post(reverse("admin:families_auditentry_changelist"), {
        "action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert bulk.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert entry.action == "case.created"


def test_mark_reunited_action(admin_client, superuser, make_user):
    case = builders.case(family=make_user())
    response = admin_client.post(reverse("admin:families_missingchildcase_changelist"), {
        "action": "mark_cases_reunited", "_selected_action": [case.pk]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REUNITED
    assert AuditEntry.objects.filter(action="case.reunited", actor=superuser,
                                     object_id=str(case.pk)).exists()


def test_rematch_and_reindex_actions_queue_real_jobs(
    admin_client, make_user, photo_bytes, run_worker, redis_queues
):
    family = make_user()
    case = builders.case(family=family)
    photo = family_services.photo_add(actor=family, case=case, data=photo_bytes("img1.jpg"),
                                      kind=Photo.Kind.CHILDHOOD)
    run_worker()
    face = Face.objects.get(photo=photo)
    assert face.searchable
    matches_before = MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face).count()

    admin_client.post(reverse("admin:families_missingchildcase_changelist"), {
        "action": "rematch_cases", "_selected_action": [case.pk]})
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face).count() \
        == matches_before + 1
    assert redis_queues["match"].count == 1

    admin_client.post(reverse("admin:families_photo_changelist"), {
        "action": "reindex_photos", "_selected_action": [photo.pk]})
    assert MatchJob.objects.filter(kind=MatchJob.Kind.PROCESS_PHOTO, photo=photo).count() == 2
    assert redis_queues["face"].count == 1
    run_worker()
    photo.refresh_from_db()
    assert photo.face_state == Photo.FaceState.FACE_FOUND
    assert not MatchJob.objects.exclude(status=MatchJob.Status.DONE).exists()


def test_a_member_taken_off_an_organisation_hands_its_postings_to_one_who_stays(
    admin_client, make_user
):
    shelter = PartnerOrganisation.objects.create(name="Hope shelter", kind="shelter",
                                                 matching_basis="Intake records.")
    leaving, staying = make_user(), make_user()
    shelter.members.add(leaving)
    partner_services.partner_posting_save(actor=leaving, organisation=shelter, reference="HS-1",
                                         fields={"display_name": "Xiao Hong", "sex": "F",
                                                 "birth_year_min": 1986, "birth_year_max": 1986})
    url = reverse("admin:families_partnerorganisation_change", args=[shelter.pk])
    form = {"name": shelter.name, "kind": "shelter", "region": "", "is_active": "on",
            "matching_basis": shelter.matching_basis}

    alone = admin_client.post(url, {**form, "members": []})
    assert alone.status_code == 200
    assert "Keep at least one active member" in alone.content.decode()
    assert list(shelter.members.all()) == [leaving]

    handed = admin_client.post(url, {**form, "members": [staying.pk]})
    assert handed.status_code == 302
    posting = SeekerPosting.objects.get(partner_reference="HS-1")
    assert posting.owner == staying and posting.organisation == shelter
    assert AuditEntry.objects.filter(action="partner_postings.handed_over").exists()


def _change_form(model_admin, request, obj) -> dict[str, object]:
    """The admin's change form for ``obj`` as a browser would send it back, unchanged."""
    form = model_admin.get_form(request, obj)(instance=obj)
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(field.prepare_value(value))
    data.update({"photos-TOTAL_FORMS": "0", "photos-INITIAL_FORMS": "0",
                 "photos-MIN_NUM_FORMS": "0", "photos-MAX_NUM_FORMS": "1000"})
    return data


def test_the_admin_changes_consent_status_and_publication_only_through_the_services(
    admin_client, superuser, make_user
):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker)
    case = builders.case(family=make_user())
    candidate = builders.candidate(case=case, posting=posting)
    request = RequestFactory().get("/")
    request.user = superuser
    posting_admin = admin.site._registry[SeekerPosting]
    data = _change_form(posting_admin, request, posting)
    data.pop("consent_to_matching", None)
    data.update(status=CaseStatus.WITHDRAWN, display_name="Renamed")
    url = reverse("admin:families_seekerposting_change", args=[posting.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    posting.refresh_from_db()
    assert posting.display_name == "Renamed", "the other fields are saved"
    assert (posting.consent_to_matching, posting.status) == (True, CaseStatus.PUBLISHED), \
        "consent and status are not typed in the admin"
    page = admin_client.get(url).content.decode()
    assert 'name="consent_to_matching"' not in page and 'name="status"' not in page

    case_admin = admin.site._registry[MissingChildCase]
    data = _change_form(case_admin, request, case)
    data.update(status=CaseStatus.DRAFT, published_at="")
    response = admin_client.post(
        reverse("admin:families_missingchildcase_change", args=[case.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLISHED and case.published_at is not None

    # Withdrawing goes through the service: the candidates end, as in the portal.
    response = admin_client.post(reverse("admin:families_seekerposting_changelist"), {
        "action": "withdraw_seeker_postings", "_selected_action": [posting.pk]})
    assert response.status_code == 302
    posting.refresh_from_db()
    candidate.refresh_from_db()
    assert posting.status == CaseStatus.WITHDRAWN and posting.published_at is None
    assert candidate.status == candidate.Status.ENDED
    assert AuditEntry.objects.filter(action="seeker_posting.withdrawn", actor=superuser,
                                     object_id=str(posting.pk)).exists()
    response = admin_client.post(reverse("admin:families_missingchildcase_changelist"), {
        "action": "withdraw_cases", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
