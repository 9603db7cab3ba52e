"""Journeys of the public: search, a case page, the poster, and the Chinese pages.

Journey 5: an anonymous visitor searches, opens a case and downloads its poster.
Journey 6: switching to Chinese shows the same pages translated.
"""

from __future__ import annotations

import re

import pypdfium2
import pytest
from django.urls import reverse

from tests.browser.conftest import assert_fits_width, axe_check, image_loaded, tab_to

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def two_public_cases(confirmed_user, published_case, person_photos, redis_queues):
    """Two published cases with a photo each, posted through the services."""
    family = confirmed_user(full_name="Chen Mei")
    lin = published_case(family=family, photos=(person_photos(0)[0],))
    wei = published_case(
        family=family, photos=(person_photos(1)[0],), given_name="Wei", family_name="Zhang",
        nicknames="", sex="M", missing_province="Sichuan", missing_city="Chengdu",
        contact_phone="+86 28 5555 0199",
    )
    return lin, wei


def test_anonymous_visitor_searches_opens_a_case_and_downloads_its_poster(
    page, two_public_cases, screenshot, tmp_path
):
    lin, _wei = two_public_cases
    page.goto(reverse("home"))
    axe_check(page)

    # Search from the home page, by keyboard.
    search = page.get_by_label("Search missing children by name or nickname")
    search.focus()
    page.keyboard.type("Lin")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/cases/\?"))
    results = page.locator(".case-cards")
    assert results.get_by_role("link", name="Lin Chen").is_visible()
    assert results.get_by_role("link", name="Wei Zhang").count() == 0
    assert image_loaded(results.locator("img").first)
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "search-results")

    # The search form filters by place as well.
    page.get_by_label("Name or nickname").fill("")
    page.get_by_label("Place (province, city or district)").fill("Sichuan")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator(".case-cards")
    results.get_by_role("link", name="Wei Zhang").wait_for()
    assert results.get_by_role("link", name="Lin Chen").count() == 0

    page.get_by_label("Place (province, city or district)").fill("")
    page.get_by_label("Name or nickname").fill("Xiao Lin")
    page.get_by_role("button", name="Search", exact=True).click()
    page.locator(".case-cards").get_by_role("link", name="Lin Chen").click()

    # The case page: public facts and photos, never the family's contacts.
    page.wait_for_url(re.compile(rf"/cases/{lin.pk}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Lin Chen"
    body = page.locator("main").inner_text()
    assert "Shaanxi" in body and "railway station" in body
    assert lin.contact_phone not in body and "Chen Mei" not in body
    assert image_loaded(page.locator("main img").first)
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "case-page", docs_name="case-page")

    # The poster: the link opens a PDF in the browser's viewer (ready to print or
    # save); the same file, downloaded with the visitor's browser context, names the child.
    poster_link = page.get_by_role("button", name="Print the poster (PDF)")
    tab_to(page, poster_link)
    with page.expect_response(re.compile(r"/poster\.pdf$")) as response_info:
        page.keyboard.press("Enter")
    response = response_info.value
    assert response.ok and response.headers["content-type"] == "application/pdf"
    download = page.context.request.get(response.url)
    assert download.ok
    poster = tmp_path / "poster.pdf"
    poster.write_bytes(download.body())
    assert poster.read_bytes().startswith(b"%PDF")
    document = pypdfium2.PdfDocument(str(poster))
    text = document[0].get_textpage().get_text_range()
    assert "Lin" in text and "Chen" in text
    assert lin.contact_phone not in text
    document.close()


def untranslated(page, allowed: tuple[str, ...] = ()) -> list[str]:
    """Texts of the interface (headings, labels, choices, buttons, links, messages) that
    show no Chinese at all; ``allowed`` are data, such as a child's name."""
    texts = page.evaluate(
        """() => [...document.querySelectorAll(
            'main h1, main h2, main h3, label, legend, button, nav a, main a, main option, '
            + 'th[scope=col], caption, .messages li, footer p, .skip-link')]
            .map(el => el.innerText.trim()).filter(Boolean)"""
    )
    missing = [
        text for text in texts
        if re.search("[A-Za-z]", text) and not HAN.search(text)
        and not any(text == value or value in text for value in allowed)
    ]
    if missing:
        print(f"Untranslated on {page.url}: {missing}")
    return missing


def test_switching_to_chinese_shows_the_same_pages_translated(
    page, two_public_cases, confirmed_user, log_in, screenshot
):
    lin, _ = two_public_cases
    page.goto(reverse("families:case_detail", args=[lin.pk]))

    page.get_by_role("button", name=re.compile("简体中文")).click()

    # The same case, in Chinese.
    page.wait_for_url(re.compile(rf"/zh-hans/cases/{lin.pk}/$"))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).inner_text() == "Lin Chen"
    assert untranslated(page, allowed=("Lin Chen", "English", "PDF")) == []
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "case-page-zh-hans")

    # The home page, in Chinese.
    page.locator("header .brand").click()
    page.wait_for_url(re.compile(r"/zh-hans/$"))
    assert untranslated(page, allowed=("English",)) == []
    axe_check(page)

    # Search, in Chinese: the choice of language stays with the visitor.
    page.locator("nav.site-nav a").first.click()
    page.wait_for_url(re.compile(r"/zh-hans/cases/"))
    assert HAN.search(page.get_by_role("heading", level=1).inner_text())
    assert untranslated(page, allowed=("Lin Chen", "Wei Zhang", "English")) == []
    axe_check(page)
    screenshot(page, "search-zh-hans")

    # A family's own page, in Chinese.
    log_in(page, lin.family)
    page.reload()
    page.locator("nav.site-nav a[href$='/me/']").click()
    page.wait_for_url(re.compile(r"/zh-hans/me/$"))
    assert untranslated(page, allowed=("Lin Chen", "Wei Zhang", "English")) == []
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "dashboard-zh-hans")

    # And back to English.
    page.get_by_role("button", name=re.compile("English")).click()
    page.wait_for_url(re.compile(r"^(?!.*zh-hans).*/me/$"))
    assert page.locator("html").get_attribute("lang") == "en"
