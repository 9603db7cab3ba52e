"""The printable poster: the child's name, public facts, the photo and a QR code to the case."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.urls import reverse
from django.utils import translation

from families.poster import case_poster_pdf
from tests import builders

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
    case = builders.case(family=family)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
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
    case = builders.case(family=family, given_name="明", family_name="李", missing_province="陕西")
    builders.photo(data=photo_bytes("img2.jpg"), case=case)
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
    case = builders.case(family=make_user(), publish=False)
    assert client.get(reverse("families:case_poster", args=[case.pk])).status_code == 404


def test_a_missing_photo_file_leaves_the_photo_off_the_poster(
    client, make_user, photo_bytes, caplog, settings
):
    """A photo whose file is gone (a disk restored from an older backup) costs the
    poster that photo, not the whole poster: the next readable photo takes its place."""
    settings.SITE_URL = "http://127.0.0.1:8000"
    family = make_user()
    case = builders.case(family=family)
    lost = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    url = reverse("families:case_poster", args=[case.pk])
    text, with_photo, _pages = _pdf_text_and_image(client.get(url).content)
    assert "Photo at age 2" in text
    lost.image.storage.delete(lost.image.name)

    with caplog.at_level("WARNING", logger="families.poster"):
        response = client.get(url)
    assert response.status_code == 200
    text, without_photo, pages = _pdf_text_and_image(response.content)
    assert pages == 1 and "Ming Li" in text
    assert "Photo at age" not in text
    assert _decoded(without_photo) == [f"http://127.0.0.1:8000/cases/{case.pk}/"]
    assert f"photo {lost.pk} left out" in caplog.text
    # The photo area is blank now: far fewer dark pixels than with the photo.
    assert (without_photo < 128).sum() < (with_photo < 128).sum()

    # Another public photo is drawn instead of the lost one.
    builders.photo(data=photo_bytes("img2.jpg"), case=case, age_in_photo=3)
    text = _pdf_text_and_image(client.get(url).content)[0]
    assert "Photo at age 3" in text
