"""The printable poster: the child's name, public facts, the photo and a QR code to the case."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.urls import reverse
from django.utils import translation

from families.poster import case_poster_pdf
from tests.families.test_services import new_case, new_photo

pytestmark = pytest.mark.django_db


def _pdf_text_and_image(pdf: bytes, *, scale: float = 3.0) -> tuple[str, np.ndarray, int]:
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        text = page.get_textpage().get_text_range()
        image = np.asarray(page.render(scale=scale).to_pil().convert("RGB"))
        return text, image, len(document)
    finally:
        document.close()


def _decoded(image: np.ndarray) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)
            if result.format == zxingcpp.BarcodeFormat.QRCode]


def test_poster_holds_the_name_and_a_qr_code_to_the_case_page(
    make_user, photo_bytes, settings
):
    settings.SITE_URL = "https://reunion.example.org"
    family = make_user()
    case = new_case(family)
    new_photo(family, photo_bytes("img1.jpg"), case=case)
    text, image, pages = _pdf_text_and_image(case_poster_pdf(case))
    assert pages == 1
    assert "Ming Li" in text
    assert "Shaanxi" in text
    # Private fields never reach the poster.
    for secret in ("PR-1988-0042", "Li Hua", "139 0000", "li.hua@example.org"):
        assert secret not in text
    assert _decoded(image) == [f"https://reunion.example.org/cases/{case.pk}/"]


def test_poster_through_the_view_in_chinese(client, make_user, photo_bytes, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    family = make_user()
    case = new_case(family, given_name="明", family_name="李", missing_province="陕西")
    new_photo(family, photo_bytes("img2.jpg"), case=case)
    with translation.override("zh-hans"):
        response = client.get(reverse("families:case_poster", args=[case.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text, image, _pages = _pdf_text_and_image(response.content)
    assert "李明" in text
    assert "陕西" in text
    with translation.override("zh-hans"):
        case_url = reverse("families:case_detail", args=[case.pk])
    assert _decoded(image) == [f"http://127.0.0.1:8000{case_url}"]


def test_no_poster_for_a_draft(client, make_user):
    case = new_case(make_user(), publish=False)
    assert client.get(reverse("families:case_poster", args=[case.pk])).status_code == 404
