"""The frame every page shares (templates/base.html, templates/_nav.html, the CSS)."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.browser.conftest import assert_fits_width, axe_check, axe_violations

NARROWEST = {"width": 320, "height": 640}


def test_home_page_is_readable_on_the_narrowest_phone(new_page, screenshot):
    page = new_page(viewport=NARROWEST)
    page.goto(reverse("home"))

    assert page.locator("link[href*='vendor/pico']").count() == 1
    stylesheet = page.request.get(page.locator("link[href*='vendor/pico']").get_attribute("href"))
    assert stylesheet.ok and "Pico CSS" in stylesheet.text()
    # The framework is applied: Pico sets the page font through its variables.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in font
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "home-320px")


def test_every_page_fits_the_narrowest_phone(
    new_page, confirmed_user, published_case, person_photos, log_in, redis_queues, screenshot
):
    """Public pages, then a family's own pages, at 320 px: no sideways scrolling, no axe faults."""
    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family, photos=(person_photos(0)[0],))
    photo = case.photos.get()
    page = new_page(viewport=NARROWEST)
    public = [
        reverse("home"), reverse("families:case_list"),
        reverse("families:case_detail", args=[case.pk]), reverse("families:signup"),
        reverse("login"), reverse("password_reset"),
    ]
    own = [
        reverse("families:dashboard"), reverse("families:case_create"),
        reverse("families:case_edit", args=[case.pk]),
        reverse("families:case_photos", args=[case.pk]),
        reverse("families:photo_edit", args=[photo.pk]),
        reverse("families:seeker_create"), reverse("families:profile"),
        reverse("families:inbox"),
    ]
    for index, path in enumerate(public + own):
        if index == len(public):
            log_in(page, family)
        response = page.goto(path)
        assert response.ok, (path, response.status)
        assert_fits_width(page)
        axe_check(page)
        screenshot(page, f"{index:02d}{path}")


def test_skip_link_and_keyboard_focus(page):
    page.goto(reverse("home"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    # The focus ring is drawn and thick enough to see.
    outline = skip.evaluate("el => getComputedStyle(el).outlineWidth")
    assert float(outline.removesuffix("px")) >= 2
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_language_switch_translates_the_frame_and_keeps_the_page(page, screenshot):
    page.goto(reverse("home"))
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("button", name=re.compile("简体中文")).click()

    page.wait_for_url(re.compile(r"/zh-hans/"))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"PingFang SC"'), font
    # Switching back is offered in the other language.
    assert page.get_by_role("button", name=re.compile("English")).is_visible()
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "home-zh-hans")


def test_tap_targets_in_the_header_are_large(page):
    page.goto(reverse("home"))

    targets = page.locator("header a, header button")
    assert targets.count() >= 2
    for index in range(targets.count()):
        box = targets.nth(index).bounding_box()
        assert box["height"] >= 44, (targets.nth(index).inner_text(), box)


def test_dark_scheme_keeps_contrast(
    new_page, confirmed_user, published_case, person_photos, log_in, redis_queues, screenshot
):
    """Phones set to a dark scheme get Pico's dark colours; contrast must hold there too."""
    family = confirmed_user(full_name="Chen Mei")
    case = published_case(family=family, photos=(person_photos(0)[0],))
    page = new_page()
    page.emulate_media(color_scheme="dark")
    page.goto(reverse("home"))
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    axe_check(page)
    page.goto(reverse("families:case_list"))
    axe_check(page)
    page.goto(reverse("families:case_detail", args=[case.pk]))
    axe_check(page)
    screenshot(page, "case-page-dark")
    log_in(page, family)
    page.goto(reverse("families:case_photos", args=[case.pk]))
    axe_check(page)
    screenshot(page, "photos-dark")


def test_the_served_pico_is_the_one_package_json_pins():
    """static/vendor/pico is a verbatim copy of the npm package, licence included."""
    import json

    from tests.browser.conftest import BASE_DIR

    vendored = BASE_DIR / "static" / "vendor" / "pico"
    pinned = json.loads((BASE_DIR / "package.json").read_text())["dependencies"]["@picocss/pico"]
    assert f"Pico CSS ✨ v{pinned} " in (vendored / "pico.blue.min.css").read_text()
    assert "MIT" in (vendored / "LICENSE.md").read_text()
    package = BASE_DIR / "node_modules" / "@picocss" / "pico"
    if package.is_dir():
        copied = (package / "css" / "pico.blue.min.css").read_bytes()
        assert (vendored / "pico.blue.min.css").read_bytes() == copied


def test_axe_check_catches_a_field_without_label_and_an_image_without_alt(page):
    """The accessibility check itself: it must fail on the faults it is there to find."""
    page.goto(reverse("home"))
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend',
                '<input type="text" name="unlabelled"><img src="data:," width="10" height="10">');
        }"""
    )

    found = {violation["id"] for violation in axe_violations(page)}
    assert {"label", "image-alt"} <= found
