"""Places from China's administrative divisions (families/divisions.py, families/places.py):
names in any script resolve to one code; cases, search, the dashboard, the volunteers'
provinces, matching's facts and the partners' import and API go by the code; the data
migration maps the places already written."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from families import divisions, services
from families.forms import CaseForm
from families.models import Division, MissingChildCase, PartnerOrganisation, SeekerPosting, Tip
from families.places import settle
from families.selectors import public_cases, public_seeker_postings, tips_for_volunteer
from matching.selectors.facts import FactRow, Verdict, candidate_facts
from matching.selectors.review import review_queue
from matching.statistics import provinces_ranked
from tests import builders

pytestmark = pytest.mark.django_db


# --- The list ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [
    ("Sichuan", "51"), ("四川", "51"), ("四川省", "51"), ("sichuan", "51"), ("51", "51"),
    ("510000", "51"), ("Shaanxi", "61"), ("陕西", "61"), ("陕西省", "61"), ("Shanxi", "14"),
    ("山西", "14"), ("Xian", "6101"), ("Xi'an", "6101"), ("西安", "6101"), ("西安市", "6101"),
    ("xi an", "6101"), ("吉林", "22"), ("吉林市", "2202"), ("Inner Mongolia", "15"),
    ("内蒙古", "15"), ("凉山彝族自治州", "5134"), ("凉山", "5134"), ("Chongqing", "50"),
    ("台湾", "71"), ("Hong Kong", "81"), ("chengdu", "5101"), ("510107", "510107"),
])
def test_a_name_in_any_script_resolves_to_its_code(text, code):
    assert divisions.resolve(text).code == code


def test_every_division_has_names_in_three_forms_and_a_parent():
    everything = divisions.all_divisions()
    assert len([d for d in everything.values() if d.level == divisions.PROVINCE]) == 34
    assert len(everything) > 3000
    for division in everything.values():
        assert division.name and division.pinyin.isascii() and division.english
        assert division.parent == "" or division.code.startswith(division.parent)
    assert everything["6101"].english == "Xi'an"
    assert everything["110105"].english == "Chaoyang"
    # The table the migration loaded holds the same list.
    assert Division.objects.count() == len(everything)
    assert Division.objects.get(code="510107").parent_id == "5101"


def test_a_name_several_districts_share_is_ambiguous_until_its_province_is_given():
    with pytest.raises(divisions.Ambiguous) as ambiguous:
        divisions.resolve("朝阳区")
    assert {d.code for d in ambiguous.value.choices} == {"110105", "220104"}
    assert divisions.resolve_path("北京 朝阳区").code == "110105"
    assert divisions.resolve_path("四川省成都市武侯区").code == "510107"
    assert divisions.resolve_path("Sichuan, Chengdu").code == "5101"
    assert divisions.resolve_path("Nowhere, Chengdu") is None


def test_labels_in_each_language():
    assert divisions.label("510107", language="zh-hans") == "四川省成都市武侯区"
    assert divisions.label("510107", language="en") == "Wuhou, Chengdu, Sichuan"


# --- Cases and postings keep the code ------------------------------------------------


def test_a_case_keeps_what_was_written_and_the_code_of_its_place(make_user):
    family = make_user()
    written = builders.case(family=family, missing_province="Sichuan", missing_city="成都市",
                            missing_district="Wuhou")
    assert written.missing_place_code == "510107"
    assert (written.missing_province, written.missing_district) == ("Sichuan", "Wuhou")

    by_code = builders.case(family=family, missing_province="510107", missing_city="",
                            missing_district="")
    assert by_code.missing_place_code == "510107"
    assert (by_code.missing_province, by_code.missing_city, by_code.missing_district) == (
        "四川省", "成都市", "武侯区")
    with translation.override("en"):
        assert by_code.missing_place == "Wuhou, Chengdu, Sichuan"
    with translation.override("zh-hans"):
        assert by_code.missing_place == "四川省成都市武侯区"


def test_a_place_outside_china_stays_free_text_with_its_country(make_user):
    case = builders.case(family=make_user(), missing_province="California",
                         missing_city="Los Angeles", missing_district="",
                         missing_country="United States")
    assert case.missing_place_code == ""
    assert case.missing_province == "California"
    with translation.override("en"):
        assert case.missing_place == "Los Angeles, California, United States"


def _case_form(**place):
    data = {
        "given_name": "小梅", "family_name": "李", "sex": "F", "birth_year_min": 1990,
        "birth_year_max": 1990, "missing_date": "1994-06-01", "contact_name": "李华",
        "contact_phone": "13900000000", "missing_province": "", "missing_city": "",
        "missing_district": "", "missing_country": "",
    }
    return CaseForm(data={**data, **place})


def test_the_case_form_takes_a_code_a_chinese_name_or_pinyin():
    for province in ("51", "四川", "sichuan", "四川省 成都市"):
        form = _case_form(missing_province=province)
        assert form.is_valid(), (province, form.errors)


def test_the_case_form_says_which_part_of_the_place_is_not_in_the_list():
    form = _case_form(missing_province="Sichaun")
    assert not form.is_valid()
    assert "Sichaun" in form.errors["missing_province"][0]

    form = _case_form(missing_province="四川", missing_city="Atlantis")
    assert not form.is_valid()
    assert "Atlantis" in form.errors["missing_city"][0]
    assert "missing_province" not in form.errors

    form = _case_form(missing_province="", missing_city="", missing_district="朝阳区")
    assert not form.is_valid()  # the province is required anyway

    settled = settle(province="朝阳区")
    assert "110105" in settled.unknown["missing_province"]

    abroad = _case_form(missing_province="Ontario", missing_country="Canada")
    assert abroad.is_valid(), abroad.errors


def test_the_seeker_form_checks_where_they_grew_up_the_same_way():
    from families.forms import SeekerPostingForm

    data = {"posted_for": "self", "display_name": "Wang Jun", "sex": "M",
            "birth_year_min": 1985, "birth_year_max": 1987, "grew_up_city": "",
            "grew_up_district": "", "grew_up_country": "", "consent_to_matching": "on",
            "contact_phone": "13800000000"}
    assert SeekerPostingForm(data={**data, "grew_up_province": "河北 保定"}).is_valid()
    wrong = SeekerPostingForm(data={**data, "grew_up_province": "Hebie"})
    assert not wrong.is_valid()
    assert "Hebie" in wrong.errors["grew_up_province"][0]
    assert SeekerPostingForm(data={**data, "grew_up_province": ""}).is_valid()  # optional


# --- Search ------------------------------------------------------------------------------


@pytest.fixture
def shaanxi_and_shanxi(make_user):
    family = make_user()
    return {
        "shaanxi_en": builders.case(family=family, given_name="A", missing_province="Shaanxi",
                                    missing_city="", missing_district=""),
        "shaanxi_zh": builders.case(family=family, given_name="B", missing_province="陕西省",
                                    missing_city="宝鸡市", missing_district=""),
        "xian": builders.case(family=family, given_name="C", missing_province="陕西",
                              missing_city="西安市", missing_district="碑林区"),
        "shanxi": builders.case(family=family, given_name="D", missing_province="山西省",
                                missing_city="", missing_district=""),
        "sichuan": builders.case(family=family, given_name="E", missing_province="Sichuan",
                                 missing_city="", missing_district=""),
    }


def _found(place: str) -> set[str]:
    return {case.given_name for case in public_cases(place=place)}


def test_a_province_is_found_by_any_of_its_names(shaanxi_and_shanxi):
    for text in ("陕西", "陕西省", "Shaanxi", "shaanxi", "61"):
        assert _found(text) == {"A", "B", "C"}, text
    assert _found("Shanxi") == {"D"}
    assert _found("山西") == {"D"}
    for text in ("Xian", "Xi'an", "西安", "西安市", "陕西省西安市", "Shaanxi Xi'an"):
        assert _found(text) == {"C"}, text
    assert _found("Beilin") == {"C"}


def test_the_public_case_list_searches_by_place(shaanxi_and_shanxi):
    page = Client().get(reverse("families:case_list"), {"place": "陕西省"})
    assert page.status_code == 200
    cases = shaanxi_and_shanxi
    listed = {case.pk for case in page.context["page"].object_list}
    assert listed == {cases["shaanxi_en"].pk, cases["shaanxi_zh"].pk, cases["xian"].pk}


def test_published_seeker_postings_are_found_by_place_code(make_user):
    posting = builders.seeker_posting(seeker=make_user(), grew_up_province="Henan",
                                      grew_up_city="Zhengzhou")
    services.seeker_posting_publish(actor=posting.owner, posting=posting, photos=[],
                                    show_memories=False)
    assert posting.grew_up_place_code == "4101"
    for text in ("河南", "河南省", "郑州", "zhengzhou"):
        assert list(public_seeker_postings(place=text)) == [posting], text
    assert list(public_seeker_postings(place="Hebei")) == []


# --- The dashboard, the volunteers' provinces, matching's facts --------------------------


def test_the_dashboard_counts_one_sichuan(make_user):
    family = make_user()
    for written in ("Sichuan", "四川", "四川省", "sichuan "):
        builders.case(family=family, missing_province=written, missing_city="",
                      missing_district="")
    builders.case(family=family, missing_province="Shaanxi")
    with translation.override("en"):
        assert provinces_ranked() == [("Sichuan", 4), ("Shaanxi", 1)]
    with translation.override("zh-hans"):
        assert dict(provinces_ranked()) == {"四川省": 4, "陕西省": 1}


def test_a_volunteer_reviews_a_province_whatever_name_either_side_wrote(make_user):
    family = make_user()
    case = builders.case(family=family, missing_province="四川省", missing_city="",
                         missing_district="")
    by_pinyin = make_user(volunteer=True, review_provinces="sichuan")
    by_code = make_user(volunteer=True, review_provinces="51, Hunan")
    elsewhere = make_user(volunteer=True, review_provinces="Shaanxi")
    for volunteer in (by_pinyin, by_code):
        assert volunteer.reviews_province(case.missing_province, case.missing_place_code)
    assert not elsewhere.reviews_province(case.missing_province, case.missing_place_code)

    tip = Tip.objects.create(case=case, text="I saw her in 1995.")
    assert list(tips_for_volunteer(user=by_pinyin)) == [tip]
    assert list(tips_for_volunteer(user=by_code)) == [tip]
    assert list(tips_for_volunteer(user=elsewhere)) == []


def _place_row(rows: list[FactRow]) -> FactRow:
    return next(row for row in rows if str(row.label).startswith("Place"))


def test_matching_facts_compare_the_province_by_code(make_user):
    case = builders.case(family=make_user(), missing_province="四川省", missing_city="",
                         missing_district="")
    same = builders.seeker_posting(seeker=make_user(), grew_up_province="Sichuan")
    other = builders.seeker_posting(seeker=make_user(), grew_up_province="Shanxi")
    with translation.override("en"):
        assert _place_row(candidate_facts(
            builders.candidate(case=case, posting=same))).verdict == Verdict.AGREE
        differs = _place_row(candidate_facts(builders.candidate(case=case, posting=other)))
    assert differs.verdict == Verdict.DIFFERS
    assert differs.seeker_value == "Shanxi"


def test_the_review_queue_filters_by_any_name_of_a_province(make_user):
    case = builders.case(family=make_user(), missing_province="Sichuan", missing_city="",
                         missing_district="")
    candidate = builders.candidate(
        case=case, posting=builders.seeker_posting(seeker=make_user()))
    for region in ("四川", "四川省", "51", "sichuan"):
        assert list(review_queue(region=region)) == [candidate], region
    assert list(review_queue(region="陕西")) == []


# --- Partners: the import and the API accept codes, Chinese names and pinyin -------------


@pytest.fixture
def shelter(make_user) -> PartnerOrganisation:
    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", region="Hebei", matching_basis="Intake records.")
    organisation.members.add(make_user())
    return organisation


def test_the_partner_import_accepts_codes_chinese_names_and_pinyin(shelter, redis_queues):
    from tests.families.test_partner_imports import csv_bytes, run_import

    header = ["reference", "name", "sex", "birth_year", "province", "city", "country"]
    rows = [
        ["P-1", "Xiao Hong", "F", "1986", "陕西", "西安", ""],
        ["P-2", "Li Ming", "M", "1984", "shaanxi", "", ""],
        ["P-3", "Wang Fang", "F", "1990", "610104", "", ""],
        ["P-4", "Zhang Wei", "M", "1988", "Ontario", "Toronto", "Canada"],
    ]
    done = run_import(shelter, csv_bytes(rows, header=header))
    assert done.rows_created == 4, list(done.refusals.values_list("message", flat=True))
    codes = dict(SeekerPosting.objects.filter(organisation=shelter)
                 .values_list("partner_reference", "grew_up_place_code"))
    assert codes == {"P-1": "6101", "P-2": "61", "P-3": "610104", "P-4": ""}
    abroad = SeekerPosting.objects.get(partner_reference="P-4")
    assert (abroad.grew_up_province, abroad.grew_up_country) == ("Ontario", "Canada")


def test_the_api_accepts_codes_chinese_names_and_pinyin(shelter):
    from families.models import PartnerAPIKey

    member = shelter.members.get()
    _key, key = PartnerAPIKey.objects.create_key(name="k", organisation=shelter, member=member)
    client = Client()
    for reference, province, code in (("A-1", "四川省", "51"), ("A-2", "chengdu", "5101"),
                                      ("A-3", "510107", "510107")):
        answer = client.post(
            reverse("api:postings"),
            {"reference": reference, "display_name": "Xiao Hong", "sex": "F",
             "birth_year_min": 1984, "birth_year_max": 1986, "grew_up_province": province},
            content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
        assert answer.status_code == 201, answer.json()
        assert answer.json()["grew_up_place_code"] == code


# --- The migration and the picker's list ------------------------------------------------


def test_the_migration_maps_the_places_already_written(make_user):
    family = make_user()
    written = {
        "Sichuan": "51", "四川": "51", "四川省": "51", "Shaanxi": "61",
        "Atlantis": "", "朝阳区": "",  # not a province; several places share the name
    }
    cases = {text: builders.case(family=family, missing_province=text, missing_city="",
                                 missing_district="") for text in written}
    xian = builders.case(family=family, missing_province="陕西", missing_city="Xi'an",
                         missing_district="")
    abroad = builders.case(family=family, missing_province="Sichuan", missing_city="",
                           missing_district="", missing_country="Canada")
    MissingChildCase.objects.update(missing_place_code="")  # as before the migration

    migration = importlib.import_module("families.migrations.0018_places_mapped")
    migration.map_places(django_apps, None)

    for text, code in written.items():
        cases[text].refresh_from_db()
        assert cases[text].missing_place_code == code, text
        assert cases[text].missing_province == text  # what was written stays
    xian.refresh_from_db()
    abroad.refresh_from_db()
    assert (xian.missing_place_code, abroad.missing_place_code) == ("6101", "")


def test_the_admin_lists_the_places_still_to_be_set(make_user, admin_client):
    family = make_user()
    listed = builders.case(family=family, given_name="Listed", missing_province="Sichuan")
    unlisted = builders.case(family=family, given_name="Unlisted",
                             missing_province="Atlantis", missing_city="",
                             missing_district="")
    page = admin_client.get(reverse("admin:families_missingchildcase_changelist"),
                            {"place_listed": "no"})
    assert page.status_code == 200
    shown = {case.pk for case in page.context["cl"].result_list}
    assert shown == {unlisted.pk}
    page = admin_client.get(reverse("admin:families_missingchildcase_changelist"),
                            {"province": "51"})
    assert {case.pk for case in page.context["cl"].result_list} == {listed.pk}


def test_the_public_list_of_divisions_suggests_and_lists_children():
    client = Client()
    url = reverse("families:place_divisions")
    provinces = client.get(url).json()["divisions"]
    assert len(provinces) == 34
    suggested = client.get(url, {"q": "chengd"}).json()["divisions"]
    assert {"5101", "1308"} <= {d["code"] for d in suggested}  # Chengdu, Chengde
    exact = client.get(url, {"q": "chengdu"}).json()["divisions"]
    assert exact[0]["code"] == "5101"
    assert exact[0]["label"] == "Chengdu, Sichuan"
    assert {d["code"] for d in client.get(url, {"q": "Xian"}).json()["divisions"]} >= {"6101"}
    children = client.get(url, {"parent": "51"}).json()["divisions"]
    assert "5101" in {d["code"] for d in children}
    assert all(d["code"].startswith("51") for d in children)
    with translation.override("zh-hans"):
        zh_url = reverse("families:place_divisions")
    zh = client.get(zh_url, {"q": "5101"}).json()["divisions"]
    assert zh[0]["label"] == "四川省成都市"


def test_the_case_form_carries_the_picker_and_its_script(make_user):
    client = Client()
    client.force_login(make_user(email_confirmed_at=timezone.now()))
    page = client.get(reverse("families:case_create")).content.decode()
    assert 'data-place-picker="province"' in page
    assert reverse("families:place_divisions") in page
    assert "js/place-picker.js" in page
