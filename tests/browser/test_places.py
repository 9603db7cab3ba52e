"""The place picker on a phone: typing a place suggests China's divisions from the public
list (static/js/place-picker.js, no inline code under the site's CSP), and the code picked
is the case's place, written out in Chinese; the zh form reads the same."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from families.models import MissingChildCase
from tests.browser.conftest import assert_fits_width, axe_check, field


def test_a_family_picks_a_district_from_the_suggestions(page, confirmed_user, log_in,
                                                        screenshot):
    family = confirmed_user()
    log_in(page, family)
    page.goto(reverse("families:case_create"))
    province = page.get_by_label(field("Province missing from"))
    province.fill("chengdu")
    # The suggestions come from the public JSON list: Chengdu's code first.
    suggestions = page.locator(f"datalist#{province.get_attribute('list')} option")
    expect(suggestions.first).to_have_attribute("value", "5101")
    expect(suggestions.first).to_have_text(re.compile(r"Chengdu, Sichuan \(5101\)"))
    province.fill("武侯")
    expect(suggestions.first).to_have_attribute("value", "510107")
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "place-picker-suggestions")

    province.fill("510107")
    page.get_by_label(field("Given name")).fill("Lin")
    page.get_by_label(field("Family name")).fill("Chen")
    page.get_by_label(field("Sex")).select_option(label="female")
    page.get_by_label(field("Date of birth")).fill("1986-03-02")
    page.get_by_label(field("Date missing")).fill("1989-04-12")
    page.get_by_label(field("Contact name")).fill("Chen Mei")
    page.get_by_label(field("Contact phone")).fill("+86 29 5555 0101")
    page.get_by_role("button", name="Save as a draft and add photos").click()
    page.wait_for_url(re.compile(r"/cases/\d+/photos/$"))
    case = MissingChildCase.objects.get(family=family)
    assert case.missing_place_code == "510107"
    assert (case.missing_province, case.missing_city, case.missing_district) == (
        "四川省", "成都市", "武侯区")


def test_a_place_not_in_the_list_is_said_in_chinese_and_nothing_is_saved(
        new_page, confirmed_user, log_in):
    page = new_page(locale="zh-CN")
    family = confirmed_user(preferred_language="zh-hans")
    log_in(page, family)
    with translation.override("zh-hans"):
        page.goto(reverse("families:case_create"))
    page.locator('input[name="missing_province"]').fill("四川")
    page.locator('input[name="missing_city"]').fill("亚特兰蒂斯")
    page.locator('input[name="given_name"]').fill("小梅")
    page.locator('input[name="family_name"]').fill("李")
    page.locator('select[name="sex"]').select_option(value="F")
    page.locator('input[name="birth_year_min"]').fill("1990")
    page.locator('input[name="birth_year_max"]').fill("1990")
    page.locator('input[name="missing_date"]').fill("1994-06-01")
    page.locator('input[name="contact_name"]').fill("李华")
    page.locator('input[name="contact_phone"]').fill("13900000000")
    page.get_by_role("button", name="保存为草稿并添加照片").click()
    expect(page.locator("main")).to_contain_text("四川省没有“亚特兰蒂斯”这个地方")
    assert not MissingChildCase.objects.filter(family=family).exists()
