"""What a search needs to act: a public case number, and a number to call that is the
family's own only when the family chooses it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from families.forms import CaseForm
from families.models import PUBLIC_NUMBER_ALPHABET, MissingChildCase, PublicContact
from tests import builders
from tests.families.test_forms import CASE

pytestmark = pytest.mark.django_db

NUMBER = re.compile(rf"^[{PUBLIC_NUMBER_ALPHABET}]{{4}}-[{PUBLIC_NUMBER_ALPHABET}]{{4}}$")


def test_case_numbers_are_random_stable_and_unique(make_user):
    family = make_user()
    cases = [builders.case(family=family) for _ in range(5)]
    numbers = [case.public_number for case in cases]
    assert all(NUMBER.match(number) for number in numbers), numbers
    assert len(set(numbers)) == len(numbers)
    # Drawn at random, not counted: consecutive cases share no prefix.
    assert len({number[:4] for number in numbers}) == len(numbers)
    # Editing a case keeps its number.
    from families import services
    case = cases[0]
    services.case_update(actor=family, case=case, fields={"build": "slim"})
    case.refresh_from_db()
    assert case.public_number == numbers[0]
    assert MissingChildCase._meta.get_field("public_number").editable is False


def test_the_case_page_gives_the_number_and_the_hotline_not_the_private_phone(
    client, make_user
):
    PublicContact.objects.create(name="Old hotline", phone="400-000-0000")
    PublicContact.objects.create(name="Volunteers' hotline", phone="400-800-1234",
                                 hours="9:00–21:00")
    case = builders.case(family=make_user())
    page = client.get(reverse("families:case_detail", args=[case.pk])).content.decode()
    assert case.public_number in page
    assert 'href="tel:400-800-1234"' in page and "Volunteers&#x27; hotline" in page
    assert "400-000-0000" not in page
    assert "139 0000" not in page and "li.hua@example.org" not in page


def test_the_family_chooses_its_own_phone(client, make_user):
    PublicContact.objects.create(name="Volunteers' hotline", phone="400-800-1234")
    case = builders.case(family=make_user(), public_contact="contact_phone")
    page = client.get(reverse("families:case_detail", args=[case.pk])).content.decode()
    assert 'href="tel:+8613900000000"' in page and "+86 139 0000 0000" in page
    assert "400-800-1234" not in page
    assert "li.hua@example.org" not in page  # the email stays private


def test_no_hotline_and_no_choice_shows_no_number(client, make_user):
    case = builders.case(family=make_user())
    page = client.get(reverse("families:case_detail", args=[case.pk])).content.decode()
    assert "tel:" not in page and "139 0000" not in page
    assert case.public_number in page


def test_choosing_the_own_phone_needs_a_phone():
    form = CaseForm({**CASE, "public_contact": "contact_phone", "contact_phone": "",
                     "contact_email": "li.hua@example.org"})
    assert not form.is_valid()
    assert "give it above" in form.errors["public_contact"][0]
