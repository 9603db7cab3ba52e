"""Form rules: every mistake gets a clear message beside the field it concerns."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from families.forms.accounts import AccountDeleteForm, SignUpForm
from families.forms.cases import CaseForm, CaseSearchForm
from families.forms.photos import PhotoUploadForm
from families.forms.seekers import SeekerPostingForm
from families.models import MissingChildCase, PartnerOrganisation, Photo, SeekerPosting, Sex
from families.partners.services import partner_posting_save
from matching.forms import FacePickForm

CASE = {
    "given_name": "Ming", "family_name": "Li", "sex": Sex.MALE,
    "birth_year_min": "1986", "birth_year_max": "1986", "missing_date": "1988-03-01",
    "missing_province": "Shaanxi", "contact_name": "Li Hua", "contact_phone": "123",
}


def case_errors(**changes) -> dict[str, list[str]]:
    data = {**CASE, **changes}
    form = CaseForm({k: v for k, v in data.items() if v is not None})
    form.is_valid()
    return form.errors


@pytest.mark.django_db
def test_a_complete_case_is_valid():
    assert case_errors() == {}


@pytest.mark.django_db
def test_years_are_taken_from_the_date_of_birth():
    form = CaseForm({**CASE, "birth_date": "1986-05-04", "birth_year_min": "",
                     "birth_year_max": ""})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["birth_year_min"], form.cleaned_data["birth_year_max"]) == (
        1986, 1986)


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"birth_year_min": "1990", "birth_year_max": "1985"}, "birth_year_max", "must not be before"),
    ({"birth_year_min": "1970", "birth_year_max": "1985"}, "birth_year_max", "too wide"),
    ({"birth_year_min": "1850", "birth_year_max": "1851"}, "birth_year_min", "from 1900"),
    ({"birth_year_min": "", "birth_year_max": ""}, "birth_year_min", "Give the date of birth"),
    ({"birth_date": "1987-01-01"}, "birth_year_min", "must include the year"),
    ({"missing_date": "1985-01-01"}, "missing_date", "before the earliest year"),
    ({"birth_date": "1986-06-01", "missing_date": "1986-05-01"}, "missing_date",
     "before the date of birth"),
    ({"missing_date": "2010-01-01"}, "missing_date", "before the age of 18"),
    ({"height_cm": "400"}, "height_cm", "between 30 and 200"),
    ({"contact_phone": ""}, "contact_phone", "so volunteers can reach you"),
    ({"given_name": ""}, "given_name", "required"),
])
def test_case_mistakes_are_reported_beside_their_field(changes, field, words):
    errors = case_errors(**changes)
    assert field in errors, errors
    assert words in " ".join(errors[field])


@pytest.mark.django_db
def test_dates_in_the_future_are_refused():
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "future" in case_errors(missing_date=tomorrow)["missing_date"][0]
    errors = case_errors(birth_date=tomorrow, birth_year_min="", birth_year_max="")
    assert "future" in errors["birth_date"][0]
    next_year = str(timezone.localdate().year + 1)
    assert "future" in case_errors(birth_year_max=next_year)["birth_year_max"][0]


@pytest.mark.django_db
def test_seeker_posting_rules():
    base = {"posted_for": "self", "display_name": "Wang Jun", "sex": Sex.MALE,
            "birth_year_min": "1985", "birth_year_max": "1987", "contact_email": "w@example.org"}
    assert SeekerPostingForm(base).is_valid()
    form = SeekerPostingForm({**base, "birth_year_max": "1980"})
    assert "must not be before" in form.errors["birth_year_max"][0]
    form = SeekerPostingForm({**base, "arrived_year": "1970"})
    assert "before your earliest year of birth" in form.errors["arrived_year"][0]
    form = SeekerPostingForm({**base, "contact_email": ""})
    assert "reach you" in form.errors["contact_phone"][0]
    # Consent is explained on the form itself.
    assert "never compared" in str(form["consent_to_matching"].help_text)


@pytest.mark.django_db
def test_sign_up_checks_passwords_and_never_says_an_address_has_an_account(make_user):
    make_user(email="taken@example.org")
    form = SignUpForm({"email": "TAKEN@example.org", "password1": "x", "password2": "y",
                       "preferred_language": "en"})
    assert not form.is_valid()
    assert "email" not in form.errors  # the same as for a new address (see user_sign_up)
    assert "differ" in form.errors["password2"][0]
    form = SignUpForm({"email": "TAKEN@example.org", "password1": "a long enough password 1",
                       "password2": "a long enough password 1", "preferred_language": "en"})
    assert form.is_valid() and form.cleaned_data["email"] == "taken@example.org"
    form = SignUpForm({"email": "new@example.org", "password1": "12345678",
                       "password2": "12345678", "preferred_language": "en"})
    assert not form.is_valid() and "password1" in form.errors


def _upload(**data):
    image = SimpleUploadedFile("a.jpg", b"\xff\xd8 not checked here", content_type="image/jpeg")
    return {"kind": Photo.Kind.CHILDHOOD, **data}, {"image": image}


def test_photo_age_is_checked_against_the_case():
    case = MissingChildCase(birth_year_min=1986, birth_year_max=1986,
                            missing_date=date(1988, 3, 1))
    data, files = _upload(age_in_photo="2")
    assert PhotoUploadForm(data, files, owner_obj=case).is_valid()
    data, files = _upload()
    form = PhotoUploadForm(data, files, owner_obj=case)
    assert "Give the age" in form.errors["age_in_photo"][0]
    data, files = _upload(age_in_photo="30")
    form = PhotoUploadForm(data, files, owner_obj=case)
    assert "age-progressed" in form.errors["age_in_photo"][0]
    data, files = _upload(year_taken="1980")
    form = PhotoUploadForm(data, files, owner_obj=case)
    assert "before the earliest year of birth" in form.errors["year_taken"][0]
    data, files = _upload(kind=Photo.Kind.AGE_PROGRESSED, year_taken="2020")
    form = PhotoUploadForm(data, files, owner_obj=case)
    assert "the age it shows" in form.errors["age_in_photo"][0]


def test_seekers_cannot_upload_age_progressed_images():
    posting = SeekerPosting(birth_year_min=1985, birth_year_max=1987)
    data, files = _upload(kind=Photo.Kind.AGE_PROGRESSED, age_in_photo="30")
    form = PhotoUploadForm(data, files, owner_obj=posting)
    assert "kind" in form.errors


def test_face_pick_needs_a_face_or_a_whole_box_inside_the_photo():
    photo = Photo(width=400, height=300)
    assert FacePickForm({}, photo=photo, detected=[]).errors["__all__"]
    form = FacePickForm({"box_x": "10", "box_y": "10"}, photo=photo, detected=[])
    assert "all four" in form.errors["__all__"][0]
    form = FacePickForm({"box_x": "350", "box_y": "10", "box_w": "100", "box_h": "100"},
                        photo=photo, detected=[])
    assert "outside the photo" in form.errors["__all__"][0]
    form = FacePickForm({"box_x": "10", "box_y": "10", "box_w": "5", "box_h": "100"},
                        photo=photo, detected=[])
    assert "too small" in form.errors["__all__"][0]
    assert FacePickForm({"box_x": "10", "box_y": "10", "box_w": "100", "box_h": "100"},
                        photo=photo, detected=[]).is_valid()


def test_search_ranges_are_ordered():
    form = CaseSearchForm({"year_missing_from": "1990", "year_missing_to": "1980"})
    assert not form.is_valid() and "year_missing_to" in form.errors
    assert "The last year (1980) is before the first (1990)" in form.errors["year_missing_to"][0]
    assert form.filters() == {}
    form = CaseSearchForm({"age_missing_from": "3", "age_missing_to": "1"})
    assert not form.is_valid() and "age_missing_to" in form.errors
    form = CaseSearchForm({"name": "Ming", "age_missing_from": "1", "age_missing_to": "3"})
    assert form.filters() == {"name": "Ming", "age_missing_from": 1, "age_missing_to": 3}


@pytest.mark.django_db
def test_the_last_member_of_an_organisation_with_postings_is_told_before_deleting(make_user):
    member = make_user(password="a long passphrase 42")
    shelter = PartnerOrganisation.objects.create(name="Hope shelter", kind="shelter",
                                                 matching_basis="Intake records.")
    shelter.members.add(member)
    data = {"confirm": True, "password": "a long passphrase 42"}
    assert AccountDeleteForm(data, user=member).is_valid(), "no posting yet: free to go"

    partner_posting_save(actor=member, organisation=shelter, reference="HS-1", fields={
        "display_name": "Xiao Hong", "sex": Sex.FEMALE, "birth_year_min": 1986,
        "birth_year_max": 1986})
    form = AccountDeleteForm(data, user=member)
    assert not form.is_valid()
    assert "Hope shelter would be left with no member" in form.non_field_errors()[0]

    shelter.members.add(make_user())
    assert AccountDeleteForm(data, user=member).is_valid()
