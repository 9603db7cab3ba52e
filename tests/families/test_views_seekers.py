"""Seeker postings: private to the seeker, volunteers and admins; consent decides matching."""

from __future__ import annotations

import pytest
from django.urls import reverse

from families import services
from families.models import AuditEntry, CaseStatus, SeekerPosting
from tests import builders

pytestmark = pytest.mark.django_db

FORM = {
    "posted_for": "self", "display_name": "Wang Jun", "sex": "M", "birth_year_min": "1985",
    "birth_year_max": "1987", "grew_up_province": "Hebei", "memories": "A river, a red gate.",
    "contact_phone": "+86 138 0000 0000",
}


def test_a_seeker_posts_and_the_form_explains_consent(client, make_user):
    seeker = make_user()
    services.user_confirm_email(user=seeker)
    client.force_login(seeker)
    page = client.get(reverse("families:seeker_create")).content.decode()
    assert "Without this consent your photos are never compared" in page
    assert 'for="id_consent_to_matching"' in page
    response = client.post(reverse("families:seeker_create"), FORM)
    posting = SeekerPosting.objects.get()
    assert response["Location"] == reverse("families:seeker_photos", args=[posting.pk])
    assert not posting.consent_to_matching and not posting.is_matchable
    assert "not compared with anyone" in client.get(posting.get_absolute_url()).content.decode()
    client.post(reverse("families:seeker_edit", args=[posting.pk]),
                {**FORM, "consent_to_matching": "on"})
    posting.refresh_from_db()
    assert posting.is_matchable and posting.consented_at is not None


def test_a_failed_seeker_form_saves_nothing(client, make_user):
    seeker = make_user()
    services.user_confirm_email(user=seeker)
    client.force_login(seeker)
    response = client.post(reverse("families:seeker_create"),
                           {**FORM, "birth_year_min": "1990", "birth_year_max": "1980"})
    assert response.status_code == 200
    assert 'id="id_birth_year_max_error_1"' in response.content.decode()
    assert not SeekerPosting.objects.exists()


def test_only_the_seeker_and_admins_see_a_posting_and_admin_views_are_audited(
    client, make_user, django_user_model
):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker, contact_email="wang@example.org")
    url = posting.get_absolute_url()
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(make_user())
    for name in ("seeker_detail", "seeker_edit", "seeker_photos", "seeker_withdraw"):
        assert client.get(reverse(f"families:{name}", args=[posting.pk])).status_code == 404
    assert client.post(reverse("families:seeker_withdraw", args=[posting.pk])).status_code == 404
    client.force_login(seeker)
    page = client.get(url).content.decode()
    assert "wang@example.org" in page
    assert not AuditEntry.objects.filter(action="seeker_posting.viewed").exists()
    # A volunteer reads a posting only through a candidate they review (docs/PRIVACY.md).
    client.force_login(make_user(volunteer=True))
    for name in ("seeker_detail", "seeker_edit", "seeker_photos", "seeker_withdraw"):
        assert client.get(reverse(f"families:{name}", args=[posting.pk])).status_code == 404
    admin = django_user_model.objects.create_superuser(email="admin@example.org", password="x")
    for staff in (admin,):
        client.force_login(staff)
        response = client.get(url)
        assert response.status_code == 200 and "wang@example.org" in response.content.decode()
        assert response["Cache-Control"].startswith("private, no-store") or (
            "no-store" in response["Cache-Control"])
    viewers = list(AuditEntry.objects.filter(action="seeker_posting.viewed",
                                             object_id=str(posting.pk))
                   .values_list("actor", flat=True))
    assert viewers == [admin.pk]


def test_the_seeker_sees_that_a_dna_test_is_under_way_and_withdraws(client, make_user):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker)
    posting.status = CaseStatus.DNA_PENDING
    posting.save()
    client.force_login(seeker)
    assert "A DNA test is under way" in client.get(
        posting.get_absolute_url()).content.decode()
    assert client.post(reverse("families:seeker_withdraw", args=[posting.pk]),
                       {"reason": ""}).status_code == 302
    posting.refresh_from_db()
    assert posting.status == CaseStatus.WITHDRAWN and not posting.is_matchable


def test_seeker_postings_never_appear_on_public_pages(client, make_user):
    builders.seeker_posting(seeker=make_user(), display_name="Hidden Seeker")
    for url in (reverse("home"), reverse("families:case_list"),
                reverse("families:case_list") + "?name=Hidden"):
        assert "Hidden Seeker" not in client.get(url).content.decode()
