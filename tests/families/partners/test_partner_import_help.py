"""A partner starts from a template CSV that the importer reads as it is, and the results page
names each refused row by its reference and name, not only its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from families.models import PartnerImport, PartnerOrganisation
from families.partners import csv_reading
from tests import builders
from tests.families.partners.test_views_partner_imports import PEOPLE, start, zipped

pytestmark = pytest.mark.django_db

TEMPLATE = Path(settings.BASE_DIR) / "static" / "partners" / "found-people-template.csv"


@pytest.fixture
def member_client(make_user) -> Client:
    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", matching_basis="Intake records.")
    user = make_user()
    shelter.members.add(user)
    client = Client()
    client.force_login(user)
    return client


def test_the_template_is_read_as_it_is_with_every_column():
    table = csv_reading.read_table(TEMPLATE.read_bytes())
    assert len(table.rows) == 2
    assert set(table.rows[0]) >= set(csv_reading.REQUIRED)
    for cells in table.rows:
        row = csv_reading.read_row(cells)
        assert row.problems == [], row.problems
    assert table.rows[0]["display_name"] == "王小明"


def test_the_imports_page_offers_the_template(member_client):
    page = member_client.get(reverse("partners:partner_imports")).content.decode()
    assert "partners/found-people-template.csv" in page
    assert "Download a template CSV to start from" in page
    chinese = member_client.get("/zh-hans" + reverse("partners:partner_imports"))
    assert "下载 CSV 模板，从它开始填写" in chinese.content.decode()


@pytest.mark.django_db(transaction=True)  # a worker in this process commits as a real one
def test_a_refused_row_shows_its_reference_and_name(member_client, redis_queues, run_worker):
    start(member_client, PEOPLE.encode(), zipped(hs1_jpg=builders.jpeg()))
    started = PartnerImport.objects.get()
    run_worker(queues=("import",))
    page = member_client.get(reverse("partners:partner_import_detail", args=[started.pk]))
    row = page.content.decode().split('<th scope="row">3</th>', 1)[1].split("</tr>", 1)[0]
    assert "<td>HS-2</td>" in row and "<td>Li Ming</td>" in row
