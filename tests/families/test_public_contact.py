"""What a search needs to act: a public case number, and a number to call that is the
family's own only when the family chooses it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from families.forms.cases import CaseForm
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


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_cases_and_keeps_their_phones_private(make_user):
    """Cases posted before case numbers get one each (random, unique); their number to call
    is the hotline, whatever contact phone they have."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("families")
    before = [("families", "0013_found_people_never_public")]
    executor.migrate(before)
    try:
        Case = executor.loader.project_state(before).apps.get_model(
            "families", "MissingChildCase")
        family_id = make_user().pk
        old = [Case.objects.create(
            family_id=family_id, given_name=f"Child {n}", sex="F", birth_year_min=1986,
            birth_year_max=1986, missing_date="1988-03-01", missing_province="Shaanxi",
            contact_name="Li Hua", contact_phone="+86 139 0000 0000").pk for n in range(3)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    cases = MissingChildCase.objects.filter(pk__in=old)
    numbers = [case.public_number for case in cases]
    assert len(numbers) == 3 and len(set(numbers)) == 3
    assert all(NUMBER.match(number) for number in numbers), numbers
    assert {case.public_contact for case in cases} == {"hotline"}
    assert {case.public_phone(None) for case in cases} == {""}


def test_searching_a_case_number_opens_the_case_and_only_a_public_one(client, make_user):
    family = make_user()
    case = builders.case(family=family)
    draft = builders.case(family=family, publish=False)
    url = reverse("families:case_list")
    typed = case.public_number.lower().replace("-", " ")
    response = client.get(url, {"name": typed})
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    response = client.get(url, {"name": draft.public_number})
    assert response.status_code == 200  # an ordinary search: a draft is never found
    assert f'href="{draft.get_absolute_url()}"' not in response.content.decode()
    assert client.get(url, {"name": "Ming"}).status_code == 200
