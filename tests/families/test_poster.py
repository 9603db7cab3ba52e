"""The printable poster: the child's name, public facts, the photo and a QR code to the case."""

from __future__ import annotations

import io

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


# --- The number to call, the case number, ages, Chinese lines, the image for phones --------

LI_XIAOMEI = {
    "given_name": "小梅", "family_name": "李", "nicknames": "梅梅", "sex": "F",
    "birth_date": "1988-02-10", "birth_year_min": 1988, "birth_year_max": 1988,
    "missing_date": "1992-06-01", "missing_province": "四川省", "missing_city": "成都市",
    "missing_district": "",
    "circumstances": "在成都火车站附近走失，当时穿红色外套，扎两个小辫子，说四川话，"
                     "左手腕上有一颗小痣，喜欢唱歌，怕狗，会说自己的名字和妈妈的名字。",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


@pytest.mark.parametrize("width", [60, 90, 121, 128, 156, 170, 200, 233])
def test_chinese_lines_never_start_with_closing_punctuation(width):
    from families.poster import CJK_FONT, NO_LINE_END, NO_LINE_START, cjk_lines
    text = ("如果您认出了这个孩子，或者您认为自己可能就是这个孩子，请拨打电话或扫描二维码，"
            "并说出案件编号。每一个可能的匹配都由志愿者核对，并通过DNA检测确认。")
    lines = cjk_lines(text, font=CJK_FONT, size=12, width=width)
    assert "".join(lines) == text  # nothing lost, nothing added
    assert all(line[0] not in NO_LINE_START for line in lines[1:]), lines
    assert all(line[-1] not in NO_LINE_END for line in lines), lines
    assert all("DNA" in line for line in lines if "DN" in line or "NA" in line)  # a word whole


def test_chinese_poster_lines_follow_the_rules(client, make_user, photo_bytes):
    from families.poster import NO_LINE_START
    case = builders.case(family=make_user(), **LI_XIAOMEI)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    with translation.override("zh-hans"):
        response = client.get(reverse("families:case_poster", args=[case.pk]))
    text = _pdf_text_and_image(response.content)[0]
    lines = _lines(text)
    assert any("火车站" in line for line in lines)
    assert [line for line in lines if line[0] in NO_LINE_START] == []


def test_poster_gives_case_number_ages_and_the_hotline(make_user, photo_bytes, settings):
    from families.models import PublicContact
    PublicContact.objects.create(name="Reunion hotline", phone="400-800-1234")
    family = make_user()
    case = builders.case(family=family, **LI_XIAOMEI)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    with translation.override("zh-hans"):
        text = _pdf_text_and_image(case_poster_pdf(case))[0]
    flat = text.replace("\r", "").replace("\n", "")
    assert case.public_number in flat
    assert "400-800-1234" in flat
    assert "4 岁" in flat and "4.3" not in flat  # 4 years 3 months: whole years
    assert "现年" in flat
    assert "139 0000" not in flat  # the private phone stays private


def test_the_family_may_choose_its_own_phone_for_the_poster(make_user):
    from families.models import PublicContact
    PublicContact.objects.create(name="Reunion hotline", phone="400-800-1234")
    case = builders.case(family=make_user(), public_contact="contact_phone")
    text = _pdf_text_and_image(case_poster_pdf(case))[0].replace("\r", "").replace("\n", "")
    assert "+86 139 0000 0000" in text
    assert "400-800-1234" not in text


def test_a_case_without_a_photo_gets_a_placeholder(make_user):
    case = builders.case(family=make_user())
    text, image, pages = _pdf_text_and_image(case_poster_pdf(case))
    assert pages == 1 and "No photo yet" in text
    # The grey placeholder is drawn where the photo would be (left, under the name).
    height, width, _channels = image.shape
    area = image[int(height * 0.25):int(height * 0.45), int(width * 0.06):int(width * 0.3)]
    assert ((area > 170) & (area < 240)).all(axis=2).mean() > 0.5


def test_the_poster_image_for_phones(client, make_user, photo_bytes, settings):
    from PIL import Image

    settings.SITE_URL = "http://127.0.0.1:8000"
    case = builders.case(family=make_user(), **LI_XIAOMEI)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    with translation.override("zh-hans"):
        response = client.get(reverse("families:case_poster_png", args=[case.pk]))
        case_url = reverse("families:case_detail", args=[case.pk])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert case.public_number in response["Content-Disposition"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (1080, 1920)
    assert len(response.content) < 1_500_000
    pixels = np.asarray(image.convert("RGB"))
    assert _decoded(pixels) == [f"http://127.0.0.1:8000{case_url}"]
    # The Chinese heading (寻找走失儿童) is drawn in red ink, not left blank for want of a
    # CJK font (PDFium draws no glyph it has no font for).
    heading = pixels[40:150, 40:1040]
    red = (heading[..., 0] > 120) & (heading[..., 1] < 80) & (heading[..., 2] < 80)
    assert red.sum() > 2000


def test_no_poster_image_for_a_draft_or_a_found_child(client, make_user):
    draft = builders.case(family=make_user(), publish=False)
    assert client.get(reverse("families:case_poster_png", args=[draft.pk])).status_code == 404
