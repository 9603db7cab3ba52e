"""The review's facts table compares facts, not spellings: a dialect or a province written in
either language is one fact, two dialects of one group are close, names and marks are set
beside each other with what they share, and heights at different ages are shown, not
compared. Free text naming no listed dialect is kept as written and still compared."""

from __future__ import annotations

import pytest
from django.utils import translation

from families.dialects import dialect_code, dialect_label, dialects_related
from families.marks import mark_concepts
from families.models import MissingChildCase, SeekerPosting
from matching.selectors.facts import Verdict, candidate_facts
from tests import builders

pytestmark = pytest.mark.django_db


def _rows(make_candidate, *, case: dict | None = None, posting: dict | None = None) -> dict:
    candidate = make_candidate(**(case or {}), posting_fields=posting or {})
    return {str(row.label): row for row in candidate_facts(candidate)}


def test_dialect_names_in_either_language_are_one_code():
    for text in ("四川话", "Sichuanese", "sichuan dialect", " SICHUAN ", "川话", "sichuan"):
        assert dialect_code(text) == "sichuan"
    assert dialect_code("广东话") == dialect_code("Cantonese") == "cantonese"
    assert dialect_code("the talk of our village") is None
    assert dialects_related("四川话", "Chongqing") == "group"
    assert dialects_related("四川话", "粤语") == "different"
    with translation.override("zh-hans"):
        assert dialect_label("sichuan") == "四川话"
    with translation.override("en"):
        assert dialect_label("sichuan") == "Sichuanese"
        assert dialect_label("the talk of our village") == "the talk of our village"


def test_the_services_store_a_named_dialect_as_its_code(make_user):
    case = builders.case(family=make_user(), dialect="四川话")
    posting = builders.seeker_posting(seeker=make_user(), dialect="Sichuanese")
    free = builders.seeker_posting(seeker=make_user(), dialect="the talk of our village")
    assert MissingChildCase.objects.get(pk=case.pk).dialect == "sichuan"
    assert SeekerPosting.objects.get(pk=posting.pk).dialect == "sichuan"
    assert SeekerPosting.objects.get(pk=free.pk).dialect == "the talk of our village"


def test_sichuanese_and_sichuan_hua_agree(make_candidate):
    row = _rows(make_candidate, case={"dialect": "四川话"},
                posting={"dialect": "Sichuanese"})["Dialect"]
    assert row.verdict == Verdict.AGREE and row.note == ""
    assert row.case_value == row.seeker_value == "Sichuanese"


def test_two_dialects_of_one_group_agree_with_a_note(make_candidate):
    row = _rows(make_candidate, case={"dialect": "四川话"},
                posting={"dialect": "重庆话"})["Dialect"]
    assert row.verdict == Verdict.AGREE and "Southwestern Mandarin" in row.note


def test_two_groups_differ_and_rule_nothing_out(make_candidate):
    row = _rows(make_candidate, case={"dialect": "Cantonese"},
                posting={"dialect": "四川话"})["Dialect"]
    assert row.verdict == Verdict.DIFFERS


def test_a_dialect_missing_on_one_side_is_unknown(make_candidate):
    assert _rows(make_candidate, case={"dialect": "Cantonese"})["Dialect"].verdict == (
        Verdict.UNKNOWN)


def test_free_text_dialects_are_still_compared_as_text(make_candidate):
    row = _rows(make_candidate, case={"dialect": "the Qingshui village talk"},
                posting={"dialect": "Qingshui talk"})["Dialect"]
    assert row.verdict == Verdict.AGREE


def test_a_province_in_either_language_is_one_place(make_candidate):
    row = _rows(make_candidate, case={"missing_province": "陕西省"},
                posting={"grew_up_province": "Shaanxi"})[
        "Place missing / where the seeker grew up"]
    assert row.verdict == Verdict.AGREE
    other = _rows(make_candidate, case={"missing_province": "陕西"},
                  posting={"grew_up_province": "Shanxi"})[
        "Place missing / where the seeker grew up"]
    assert other.verdict == Verdict.DIFFERS  # 陕西 is Shaanxi, not Shanxi (山西)


def test_a_remembered_name_the_family_used_agrees(make_candidate):
    row = _rows(make_candidate, case={"nicknames": "Xiao Ming, 明明"},
                posting={"remembered_names": "明明"})["Names (at home / remembered)"]
    assert row.verdict == Verdict.AGREE and "明明" in row.note
    other = _rows(make_candidate, case={"nicknames": "Xiao Ming"},
                  posting={"remembered_names": "Gouzi"})["Names (at home / remembered)"]
    assert other.verdict == Verdict.DIFFERS


def test_marks_in_two_languages_are_compared_by_what_they_name(make_candidate):
    assert {"birthmark", "left", "arm"} <= mark_concepts("胎记在左臂")
    assert {"birthmark", "left", "arm"} <= mark_concepts("A birthmark on the left arm")
    row = _rows(make_candidate, case={"distinguishing_marks": "胎记在左臂上"},
                posting={"distinguishing_marks": "Birthmark on my left arm"})[
        "Distinguishing marks"]
    assert row.verdict == Verdict.AGREE
    assert "birthmark" in row.note and "arm" in row.note
    other = _rows(make_candidate, case={"distinguishing_marks": "A scar on the chin"},
                  posting={"distinguishing_marks": "A mole on the right hand"})[
        "Distinguishing marks"]
    assert other.verdict == Verdict.DIFFERS
    side_only = _rows(make_candidate, case={"distinguishing_marks": "scar, left knee"},
                      posting={"distinguishing_marks": "mole, left cheek"})[
        "Distinguishing marks"]
    assert side_only.verdict == Verdict.DIFFERS  # a shared side alone proves nothing


def test_heights_are_shown_not_compared(make_candidate):
    row = _rows(make_candidate, case={"height_cm": 85},
                posting={"height_cm": 172})["Height"]
    assert row.verdict == Verdict.SHOWN
    assert "85 cm" in row.case_value and row.seeker_value == "172 cm now"
    assert _rows(make_candidate, case={"height_cm": 85})["Height"].verdict == Verdict.UNKNOWN


def test_the_seeker_form_offers_the_dialect_list_and_keeps_older_text(make_user):
    from families.forms import SeekerPostingForm

    posting = builders.seeker_posting(seeker=make_user(), dialect="the talk of our village")
    form = SeekerPostingForm(instance=posting)
    codes = [code for code, _label in form.fields["dialect"].choices]
    assert "sichuan" in codes and "the talk of our village" in codes
    data = {**builders.POSTING_FIELDS, "posted_for": "self", "dialect": "not a listed code"}
    assert "dialect" in SeekerPostingForm(data=data).errors
    data["dialect"] = "sichuan"
    form = SeekerPostingForm(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["dialect"] == "sichuan"
