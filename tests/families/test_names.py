"""Names as the family writes them (李小梅; Anna Smith) on every page, list, poster and in the
API, and the public search that finds them across scripts: hanzi, pinyin with or without tones
and spaces, nicknames, typos."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation

from families import names, selectors
from families.forms.cases import CaseForm
from families.models import MissingChildCase, Sex
from families.partners.api.serializers import ConfirmedCaseSerializer
from families.poster import case_poster_pdf
from tests import builders


def test_one_form_of_a_name_for_each_script():
    assert names.full_name("李", "小梅") == "李小梅"
    assert names.full_name(" 欧阳 ", "娜娜") == "欧阳娜娜"
    assert names.full_name("Smith", "Anna") == "Anna Smith"
    assert names.full_name("", "Anna  Maria") == "Anna Maria"
    assert names.full_name("", "小梅") == "小梅"


def test_a_chinese_name_typed_whole_is_split_at_its_family_name():
    assert names.split_chinese_name("李小梅") == ("李", "小梅")
    assert names.split_chinese_name("李 小梅") == ("李", "小梅")
    assert names.split_chinese_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert names.split_chinese_name("欧阳") == ("欧", "阳")
    for whole in ("Anna Smith", "小", "李小梅梅梅", "Lin 小梅"):
        assert names.split_chinese_name(whole) == ("", whole)


def test_search_terms_hold_hanzi_and_plain_pinyin():
    terms = names.search_terms(family="李", given="小梅", others=["梅梅，Little Plum"]).split()
    for word in ("李小梅", "lixiaomei", "xiaomei", "小梅", "梅梅", "meimei", "littleplum"):
        assert word in terms
    assert names.fold_query("Lǐ Xiǎoméi") == ["lixiaomei"]
    assert names.fold_query("xiao3 mei2") == ["xiaomei"]
    assert names.fold_query("李小梅") == ["李小梅", "lixiaomei"]
    assert names.fold_query(" , ") == []


@pytest.mark.django_db
def test_the_zh_form_asks_family_name_then_given_name():
    with translation.override("zh-hans"):
        assert [f.name for f in CaseForm().public_fields()][:2] == ["family_name", "given_name"]
    with translation.override("en"):
        assert [f.name for f in CaseForm().public_fields()][:2] == ["given_name", "family_name"]


@pytest.fixture
def xiaomei(make_user) -> MissingChildCase:
    return builders.case(family=make_user(), family_name="李", given_name="小梅",
                         nicknames="梅梅", sex=Sex.FEMALE, birth_year_min=1988,
                         birth_year_max=1988, missing_date="1992-06-01")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_name_reads_the_same_on_pages_lists_poster_and_api(client, xiaomei, language):
    with translation.override(language):
        detail = reverse("families:case_detail", args=[xiaomei.pk])
        listing = reverse("families:case_list")
        poster = reverse("families:case_poster", args=[xiaomei.pk])
    page = client.get(detail).content.decode()
    assert "<h1>李小梅</h1>" in page
    assert "小梅 李" not in page
    cards = client.get(listing).content.decode()
    assert f'{xiaomei.pk}/">李小梅</a>' in cards
    assert "小梅 李" not in cards
    response = client.get(poster)
    document = pdfium.PdfDocument(response.content)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "李小梅" in text
    assert str(xiaomei) == "李小梅"
    assert ConfirmedCaseSerializer(xiaomei).data["name"] == "李小梅"


@pytest.mark.django_db
def test_a_western_name_reads_given_name_first(make_user, client):
    case = builders.case(family=make_user(), family_name="Smith", given_name="Anna")
    assert str(case) == "Anna Smith"
    assert ConfirmedCaseSerializer(case).data["name"] == "Anna Smith"
    assert "<h1>Anna Smith</h1>" in client.get(case.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_li_xiaomei_is_found_by_hanzi_pinyin_and_nickname(xiaomei, make_user):
    other = builders.case(family=make_user(), family_name="王", given_name="小明",
                          nicknames="明明")
    western = builders.case(family=make_user(), family_name="Smith", given_name="Anna")

    def found(query: str) -> set[int]:
        return {case.pk for case in selectors.public_cases(name=query)}

    for query in ("Xiaomei", "xiao mei", "XIAO MEI", "李小梅", "梅梅", "小梅", "Li Xiaomei",
                  "Xiaomei Li", "Lǐ Xiǎoméi", "xiao3mei2", "meimei", "李 小梅"):
        assert found(query) == {xiaomei.pk}, query
    # Typos are forgiven when nothing is found exactly: a letter wrong (xiaomai is as near
    # Xiaoming, the others' nickname, as it is Xiaomei), or a character of the same sound.
    assert found("xiaomai") == {xiaomei.pk, other.pk, western.pk}
    assert found("lixiaomie") == {xiaomei.pk}
    assert found("李晓梅") == {xiaomei.pk}
    assert found("wang xiaoming") == {other.pk}
    assert found("Anna Smith") == found("smith anna") == {western.pk}
    # Every word apart only when the whole finds no one.
    maria = builders.case(family=make_user(), family_name="Smith", given_name="Anna Maria")
    assert found("Anna Smith") == {western.pk}
    assert found("Maria Smith") == {maria.pk}
    assert found("Smith Maria") == {maria.pk}
    assert found("zhang") == set()
    assert found("li") == {xiaomei.pk}  # not "lin": under five letters nothing is a typo


@pytest.mark.django_db
def test_a_name_changed_is_searched_by_its_new_terms(xiaomei):
    from families import services

    services.case_update(actor=xiaomei.family, case=xiaomei,
                         fields={"given_name": "小兰", "nicknames": ""})
    assert not selectors.public_cases(name="xiaomei").exists()
    assert list(selectors.public_cases(name="xiaolan")) == [xiaomei]


@pytest.mark.django_db
def test_public_seeker_postings_are_found_across_scripts(make_user):
    posting = builders.seeker_posting(seeker=make_user(), display_name="王军")
    posting.published_at = posting.created_at
    posting.save()
    for query in ("王军", "wang jun", "Wángjūn"):
        assert list(selectors.public_seeker_postings(name=query)) == [posting], query


@pytest.mark.django_db
def test_a_reversed_year_range_says_so_instead_of_listing_everything(client, xiaomei):
    response = client.get(reverse("families:case_list"),
                          {"year_missing_from": 1995, "year_missing_to": 1990})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The last year (1990) is before the first (1995)" in page
    assert "Nothing was searched" in page
    assert "李小梅" not in page
    bad = client.get(reverse("families:case_list"), {"year_missing_from": "nineteen"})
    assert "Nothing was searched" in bad.content.decode()
    assert "李小梅" not in bad.content.decode()
    good = client.get(reverse("families:case_list"),
                      {"year_missing_from": 1990, "year_missing_to": 1995})
    assert "李小梅" in good.content.decode()


@pytest.mark.django_db
def test_the_home_page_searches_by_year(client, xiaomei):
    home = client.get(reverse("home")).content.decode()
    assert 'name="year_missing_from"' in home and 'name="year_missing_to"' in home
    assert "李小梅" not in client.get(reverse("families:case_list"),
                                     {"year_missing_from": 1993}).content.decode()


@pytest.mark.django_db
def test_results_sort_by_newest_or_by_date_missing(make_user):
    family = make_user()
    old = builders.case(family=family, given_name="Old", missing_date="1985-01-01")
    recent = builders.case(family=family, given_name="Recent", missing_date="1999-01-01")
    middle = builders.case(family=family, given_name="Middle", missing_date="1990-01-01")

    def order(value: str) -> list[int]:
        return [case.pk for case in selectors.public_cases(order=value)]

    assert order("newest") == [middle.pk, recent.pk, old.pk]
    assert order("missing_recent") == [recent.pk, middle.pk, old.pk]
    assert order("missing_longest") == [old.pk, middle.pk, recent.pk]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_split_whole_chinese_names_and_fill_the_search_terms(make_user):
    executor = MigrationExecutor(connection)
    before = [("families", "0013_found_people_never_public")]
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        Case = apps.get_model("families", "MissingChildCase")
        common = {"family_id": make_user().pk, "sex": "F", "birth_year_min": 1988,
                  "birth_year_max": 1988, "missing_date": "1992-06-01",
                  "missing_province": "四川", "contact_name": "李华", "status": "published"}
        whole = Case.objects.create(given_name="李小梅", family_name="", nicknames="梅梅",
                                    **common)
        parts = Case.objects.create(given_name=" 小兰 ", family_name="王", **common)
        western = Case.objects.create(given_name="Anna", family_name="Smith", **common)
        one_field = Case.objects.create(given_name="Lin Xiaomei", family_name="", **common)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    shown = {case.pk: (case.family_name, case.given_name, str(case))
             for case in MissingChildCase.objects.all()}
    assert shown[whole.pk] == ("李", "小梅", "李小梅")
    assert shown[parts.pk] == ("王", "小兰", "王小兰")
    assert shown[western.pk] == ("Smith", "Anna", "Anna Smith")
    assert shown[one_field.pk] == ("", "Lin Xiaomei", "Lin Xiaomei")
    assert {case.pk for case in selectors.public_cases(name="xiao mei")} == {one_field.pk,
                                                                            whole.pk}
    assert {case.pk for case in selectors.public_cases(name="梅梅")} == {whole.pk}


@pytest.mark.django_db
def test_the_poster_pdf_carries_the_name(xiaomei):
    document = pdfium.PdfDocument(case_poster_pdf(xiaomei))
    try:
        assert "李小梅" in document[0].get_textpage().get_text_range()
    finally:
        document.close()


@pytest.mark.django_db
def test_the_admin_shows_the_name_and_finds_it_by_hanzi_or_pinyin(admin_client, xiaomei,
                                                                  make_user):
    builders.case(family=make_user(), family_name="Smith", given_name="Anna")
    url = reverse("admin:families_missingchildcase_changelist")
    for query in ("李小梅", "Xiaomei", "xiao mei"):
        page = admin_client.get(url, {"q": query}).content.decode()
        assert "李小梅" in page and "Anna Smith" not in page, query
    assert "小梅 李" not in admin_client.get(url).content.decode()
