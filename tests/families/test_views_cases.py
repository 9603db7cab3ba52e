"""Cases through the browser's eyes: public pages, the family's pages, search, access."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from families import services
from families.models import AuditEntry, CaseStatus, MissingChildCase
from tests import builders

pytestmark = pytest.mark.django_db

PRIVATE = ("PR-1988-0042", "Beilin police station", "Li Hua", "139 0000 0000",
           "li.hua@example.org")


def _form_data(**changes):
    data = {k: v for k, v in builders.CASE_FIELDS.items()}
    data.update(changes)
    return data


def test_a_family_posts_a_draft_then_publishes_it(client, make_user):
    family = make_user()
    services.user_confirm_email(user=family)
    client.force_login(family)
    response = client.post(reverse("families:case_create"), _form_data())
    case = MissingChildCase.objects.get()
    assert response["Location"] == reverse("families:case_photos", args=[case.pk])
    assert (case.family, case.status) == (family, CaseStatus.DRAFT)
    assert client.get(case.get_absolute_url()).status_code == 200
    client.logout()
    assert client.get(case.get_absolute_url()).status_code == 404
    client.force_login(family)
    client.post(reverse("families:case_publish", args=[case.pk]))
    client.logout()
    assert client.get(case.get_absolute_url()).status_code == 200


def test_a_failed_form_saves_nothing_and_says_why_beside_the_field(client, make_user):
    family = make_user()
    services.user_confirm_email(user=family)
    client.force_login(family)
    response = client.post(reverse("families:case_create"), _form_data(
        birth_year_min="1990", birth_year_max="1980", missing_date="2999-01-01"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_birth_year_max_error_1"' in page
    assert "must not be before the earliest" in page
    assert not MissingChildCase.objects.exists()


def test_anonymous_visitors_see_public_fields_and_photos_only(client, make_user, photo_bytes):
    family = make_user()
    case = builders.case(family=family)
    shown = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    hidden = builders.photo(data=photo_bytes("img2.jpg"), case=case)
    services.photo_update(actor=family, photo=hidden, fields={"use_on_poster": False})
    posting = builders.seeker_posting(seeker=make_user(), display_name="Secret Seeker")
    case.status = CaseStatus.DNA_PENDING
    case.save()

    page = client.get(case.get_absolute_url()).content.decode()
    assert "Ming Li" in page and "Shaanxi" in page and "Taken outside a hotel." in page
    for secret in (*PRIVATE, "Secret Seeker", "DNA test pending", "DNA test is under way"):
        assert secret not in page, secret
    assert reverse("families:photo_image", args=[shown.pk]) in page
    assert reverse("families:photo_image", args=[hidden.pk]) not in page
    assert "Private details" not in page
    listing = client.get(reverse("families:case_list")).content.decode()
    assert "Ming Li" in listing
    for secret in PRIVATE:
        assert secret not in listing
    assert client.get(posting.get_absolute_url()).status_code in (302, 404)


def test_the_family_sees_that_a_dna_test_is_under_way_without_details(client, make_user):
    family = make_user()
    case = builders.case(family=family)
    case.status = CaseStatus.DNA_PENDING
    case.save()
    client.force_login(family)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "A DNA test is under way" in page
    assert "PR-1988-0042" in page
    assert "DNA test pending" in client.get(reverse("families:dashboard")).content.decode()


def test_one_family_cannot_see_or_change_anothers_case(client, make_user):
    owner, other = make_user(), make_user()
    services.user_confirm_email(user=other)
    draft = builders.case(family=owner, publish=False)
    public = builders.case(family=owner)
    client.force_login(other)
    assert client.get(draft.get_absolute_url()).status_code == 404
    page = client.get(public.get_absolute_url()).content.decode()
    for secret in PRIVATE:
        assert secret not in page
    for case in (draft, public):
        for name in ("case_edit", "case_withdraw", "case_photos"):
            assert client.get(reverse(f"families:{name}", args=[case.pk])).status_code == 404
        response = client.post(reverse("families:case_edit", args=[case.pk]),
                               _form_data(given_name="Changed"))
        assert response.status_code == 404
        assert client.post(reverse("families:case_withdraw", args=[case.pk])).status_code == 404
        assert client.post(reverse("families:case_publish", args=[case.pk])).status_code == 404
    for case in (draft, public):
        case.refresh_from_db()
        assert case.given_name == "Ming"
    assert draft.status == CaseStatus.DRAFT and public.status == CaseStatus.PUBLISHED


def test_the_family_edits_and_withdraws(client, make_user):
    family = make_user()
    case = builders.case(family=family)
    client.force_login(family)
    response = client.post(reverse("families:case_edit", args=[case.pk]),
                           _form_data(given_name="Mingming"))
    assert response.status_code == 302
    response = client.post(reverse("families:case_withdraw", args=[case.pk]),
                           {"reason": "found"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.given_name, case.status) == ("Mingming", CaseStatus.WITHDRAWN)
    client.logout()
    assert client.get(case.get_absolute_url()).status_code == 404


def test_volunteer_views_of_private_fields_are_audited(client, make_user):
    case = builders.case(family=make_user())
    volunteer = make_user(volunteer=True)
    client.force_login(volunteer)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "PR-1988-0042" in page
    entry = AuditEntry.objects.get(action="case.private_viewed")
    assert (entry.actor, entry.object_id) == (volunteer, str(case.pk))


def test_search_filters_and_pagination(client, make_user):
    family = make_user()
    for number in range(30):
        builders.case(family=family, given_name=f"Child{number:02d}")
    builders.case(family=family, given_name="Hong", sex="F", birth_year_min=1990,
                  birth_year_max=1990, missing_date="1996-01-01", missing_province="Sichuan")
    url = reverse("families:case_list")
    first = client.get(url).content.decode()
    assert "31 cases" in first and "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    found = client.get(url, {"sex": "F", "place": "sichuan", "age_missing_from": "5",
                             "year_missing_from": "1995"}).content.decode()
    assert "1 case" in found and "Hong" in found and "Child01" not in found
    assert "No case matches" in client.get(url, {"name": "nobody"}).content.decode()
    bad = client.get(url, {"year_missing_from": "1999", "year_missing_to": "1990"})
    # Said, and nothing listed: not every case as if there were no search.
    assert "is before the first" in bad.content.decode()
    assert "Nothing was searched" in bad.content.decode()
    assert "Child01" not in bad.content.decode()


def test_public_pages_in_chinese(client, make_user):
    case = builders.case(family=make_user())
    with translation.override("zh-hans"):
        page = client.get(case.get_absolute_url()).content.decode()
    assert case.get_absolute_url() == f"/cases/{case.pk}/"
    assert 'lang="zh-hans"' in page
    assert "打印" in page
