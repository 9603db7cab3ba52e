"""The mother's journey, on a phone, in Chinese: from the home page to a poster image to share.

A mother looking for her daughter 李小梅 opens the home page, starts to post a case, signs up
on the way, confirms her address from the email and comes back to the case form she started;
she makes a mistake the error summary points her to, posts the case with a photo, publishes
it, sees its page (case number, age now, the number to call) and downloads the poster image
for WeChat. Then anyone finds the case by searching. With ``REUNION_DOCS_SCREENSHOTS=1`` the
case page, the poster image and the search results go to docs/screenshots/.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import zxingcpp
from django.core import mail
from django.urls import reverse
from django.utils import translation
from PIL import Image

from families.models import MissingChildCase, PublicContact, User
from tests.browser.conftest import (
    DOCS_SCREENSHOTS_DIR,
    assert_fits_width,
    axe_check,
    image_loaded,
)

PASSWORD = "灯笼照着河 lanterns 1992"


def test_a_mother_posts_her_daughter_and_shares_the_poster_image(
    new_page, faces_dir, person_photos, screenshot, settings, live_server, redis_queues
):
    settings.SITE_URL = live_server.url
    PublicContact.objects.create(name="志愿者热线", phone="400-800-1234", hours="9:00–21:00")
    page = new_page(locale="zh-CN")

    # From the home page, in Chinese, she starts to post a case: first, an account.
    page.goto("/zh-hans/")
    page.locator("main a[href$='/cases/new/']").click()
    page.wait_for_url(re.compile(r"/zh-hans/accounts/login/\?next="))
    page.locator("main a[href*='/signup/?next=']").click()
    page.wait_for_url(re.compile(r"/zh-hans/signup/\?next="))
    axe_check(page)
    assert "必须填写" in page.locator("main").inner_text()
    assert page.locator("#id_email").get_attribute("type") == "email"
    page.locator("#id_email").fill("li.hua@example.org")
    page.locator("#id_full_name").fill("李华")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/signup/sent/$"))

    # The link in the email confirms her address and leads back, through the log-in, to
    # the case form she started.
    link = re.search(r"https?://\S+/confirm/\S+/", mail.outbox[0].body).group(0)
    page.goto(urlsplit(link).path)
    page.wait_for_url(re.compile(r"/zh-hans/accounts/login/\?next=.*cases"))
    assert User.objects.get(email="li.hua@example.org").email_confirmed_at is not None
    page.locator("#id_username").fill("li.hua@example.org")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/cases/new/$"))
    axe_check(page)

    # The form: what is required is said before she sends it; her contact is filled from
    # her account; the phone opens the phone keypad; no map coordinates are asked.
    main = page.locator("main")
    assert "请至少填写电话或电子邮箱中的一项" in main.inner_text()
    assert page.locator("#id_contact_name").input_value() == "李华"
    assert page.locator("#id_contact_email").input_value() == "li.hua@example.org"
    assert page.locator("#id_contact_phone").get_attribute("type") == "tel"
    assert page.locator("#id_birth_year_min").get_attribute("inputmode") == "numeric"
    assert page.locator("[name=missing_latitude], [name=missing_longitude]").count() == 0
    page.locator("#id_family_name").fill("李")
    page.locator("#id_given_name").fill("小梅")
    page.locator("#id_nicknames").fill("梅梅")
    page.locator("#id_sex").select_option("F")
    page.locator("#id_birth_date").fill("1988-02-10")
    page.locator("#id_missing_province").fill("四川省")
    page.locator("#id_missing_city").fill("成都市")
    page.locator("#id_circumstances").fill("在成都火车站附近走失，当时穿红色外套，扎两个小辫子。")
    page.locator("#id_contact_phone").fill("+86 139 1234 5678")
    # She forgets the date missing: the summary of mistakes takes the focus and its link
    # takes her to the field.
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/cases/new/$"))
    assert page.evaluate("document.activeElement.id") == "form-errors"
    page.locator("#form-errors a[href='#id_missing_date']").click()
    assert page.evaluate("document.activeElement.id") == "id_missing_date"
    assert page.locator("#id_given_name").input_value() == "小梅"  # nothing typed is lost
    axe_check(page)
    page.locator("#id_missing_date").fill("1992-06-01")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/cases/\d+/photos/$"))
    case = MissingChildCase.objects.get(family__email="li.hua@example.org")
    assert (case.family_name, case.given_name, case.contact_email) == (
        "李", "小梅", "li.hua@example.org")

    # A photo, then publish.
    page.locator("#id_image").set_input_files(faces_dir / person_photos(0)[0])
    page.locator("#id_kind").select_option("childhood")
    page.locator("#id_age_in_photo").fill("3")
    page.locator("form[enctype] button[type=submit]").click()
    page.locator("[data-photo-id]").first.wait_for()
    page.locator(f"form[action$='/cases/{case.pk}/publish/'] button").click()
    page.wait_for_url(re.compile(rf"/zh-hans/cases/{case.pk}/$"))

    # The case page says what a search needs: case number, age now, age when missing in
    # whole years, and the hotline to call (her own phone stays private).
    case.refresh_from_db()
    body = page.locator("main").inner_text()
    assert case.public_number in body
    assert "现年 38 岁" in body
    assert "4 岁" in body and "4.3" not in body
    call = page.locator("section.call").inner_text()
    assert "400-800-1234" in call and "139 1234 5678" not in call
    assert image_loaded(page.locator("main img").first)
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "case-page-own")

    # The same page as anyone sees it: her phone and email are nowhere.
    public = new_page(locale="zh-CN")
    public.goto(f"/zh-hans/cases/{case.pk}/")
    body = public.locator("main").inner_text()
    assert case.public_number in body and "400-800-1234" in body
    assert "139 1234 5678" not in body and "li.hua@example.org" not in body
    assert image_loaded(public.locator("main img").first)
    assert_fits_width(public)
    axe_check(public)
    screenshot(public, "case-page", docs_name="case-page-zh-phone")

    # The poster image, sized for a phone, from the link on the page.
    with page.expect_download() as download_info:
        page.locator(f"main a[href$='/cases/{case.pk}/poster.png']").click()
    download = download_info.value
    assert download.suggested_filename == f"reunion-case-{case.public_number}.png"
    data = Path(download.path()).read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1080, 1920)
    with translation.override("zh-hans"):
        case_url = live_server.url + reverse("families:case_detail", args=[case.pk])
    found = [r.text for r in zxingcpp.read_barcodes(np.asarray(image.convert("RGB")))]
    assert found == [case_url]
    if os.environ.get("REUNION_DOCS_SCREENSHOTS"):
        small = image.convert("RGB").resize((540, 960), Image.LANCZOS)
        small.save(DOCS_SCREENSHOTS_DIR / "poster-zh-phone.png", optimize=True)

    # Anyone finds her from the home page.
    page.goto("/zh-hans/")
    page.locator("#home-search-name").fill("小梅")
    page.locator("main form[role=search] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/cases/\?"))
    cards = page.locator(".case-cards")
    cards.locator(f"a[href$='/cases/{case.pk}/']").wait_for()
    assert image_loaded(cards.locator("img").first)
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "search-results", docs_name="search-results-zh-phone")
