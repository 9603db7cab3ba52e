"""A candidate's facts side by side: the case's beside the seeker's, each with a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from families.dialects import dialect_group_label, dialect_label, dialects_related
from families.marks import KINDS as MARK_KINDS
from families.marks import mark_concepts, mark_label
from families.models import Sex
from matching.models import Candidate


class Verdict:
    """How one fact of the case compares with the seeker's."""

    AGREE = "agree"
    CONFLICT = "conflict"
    DIFFERS = "differs"  # differs without ruling anything out (a dialect learned later)
    UNKNOWN = "unknown"
    SHOWN = "shown"  # beside each other for the volunteer's eye, not compared (heights)


@dataclass(frozen=True)
class FactRow:
    label: str
    case_value: str
    seeker_value: str
    verdict: str
    note: str = ""


_WORD = re.compile(r"[\w']+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_COMMON = {
    "the", "and", "that", "with", "from", "were", "was", "when", "where", "there", "they",
    "have", "had", "this", "then", "them", "remember", "about", "near",
}


def _keywords(text: str) -> set[str]:
    """Words of four letters or more, and two-character runs of Chinese, for spotting overlaps."""
    words = {w.casefold() for w in _WORD.findall(text) if len(w) >= 4 and not _CJK.fullmatch(w)}
    for run in _CJK.findall(text):
        words |= {run[i:i + 2] for i in range(len(run) - 1)}
    return words - _COMMON


def _dialect_row(case_dialect: str, seeker_dialect: str) -> FactRow:
    """Dialects compared as facts: one code for a dialect named in either language; two
    dialects of one group are close; text naming no listed dialect is compared as text."""
    note = ""
    related = dialects_related(case_dialect, seeker_dialect)
    if not case_dialect or not seeker_dialect:
        verdict = Verdict.UNKNOWN
    elif related == "same":
        verdict = Verdict.AGREE
    elif related == "group":
        verdict = Verdict.AGREE
        note = _("Not the same dialect, but both are %(group)s: close enough to be familiar.") % {
            "group": dialect_group_label(case_dialect)}
    elif related is None and (
        _keywords(case_dialect) & _keywords(seeker_dialect)
        or case_dialect.strip().casefold() == seeker_dialect.strip().casefold()
    ):
        verdict = Verdict.AGREE
    else:
        verdict = Verdict.DIFFERS
        note = _("A child taken young often learned the dialect of the family that raised "
                 "them: a different dialect rules nothing out.")
    return FactRow(_("Dialect"), dialect_label(case_dialect), dialect_label(seeker_dialect),
                   verdict, note)


_NAME_SEPARATORS = re.compile(r"[,，、;；/|]+")


def _names(text: str) -> set[str]:
    return {name.strip().casefold() for name in _NAME_SEPARATORS.split(text) if name.strip()}


def _names_row(case, seeker) -> FactRow:
    """The names the child was called at home beside the names the seeker remembers."""
    case_names = _names(", ".join(n for n in (case.given_name, case.nicknames) if n))
    seeker_names = _names(seeker.remembered_names)
    shown = ", ".join(n for n in (case.given_name, case.nicknames) if n)
    if not case.nicknames and not seeker.remembered_names:
        return FactRow(_("Names (at home / remembered)"), shown, "", Verdict.UNKNOWN)
    if not seeker_names:
        return FactRow(_("Names (at home / remembered)"), shown, "", Verdict.UNKNOWN)
    shared = sorted(
        a for a in case_names for b in seeker_names
        if a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))
    )
    if shared:
        return FactRow(_("Names (at home / remembered)"), shown, seeker.remembered_names,
                       Verdict.AGREE, _("Names in common: %(names)s") % {
                           "names": ", ".join(shared)})
    return FactRow(_("Names (at home / remembered)"), shown, seeker.remembered_names,
                   Verdict.DIFFERS, _("A small child remembers few names: a different one "
                                      "rules nothing out."))


def _marks_row(case_marks: str, seeker_marks: str) -> FactRow:
    """Distinguishing marks compared by what they name, in either language (a birthmark,
    a scar; the left arm), never by spelling."""
    if not case_marks or not seeker_marks:
        return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.UNKNOWN)
    shared = mark_concepts(case_marks) & mark_concepts(seeker_marks)
    words = ", ".join(mark_label(c) for c in sorted(shared))
    if shared & set(MARK_KINDS):
        return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.AGREE,
                       _("Both name: %(words)s. Compare where on the body.") % {"words": words})
    note = _("Both name: %(words)s.") % {"words": words} if shared else ""
    return FactRow(_("Distinguishing marks"), case_marks, seeker_marks, Verdict.DIFFERS, note)


def _height_row(case, seeker) -> FactRow:
    """A child's height then and an adult's height now, beside each other: not compared."""
    case_value = ""
    if case.height_cm:
        case_value = _("%(cm)d cm at about %(age)s years") % {
            "cm": case.height_cm, "age": int(case.age_at(case.missing_date))}
    seeker_value = _("%(cm)d cm now") % {"cm": seeker.height_cm} if seeker.height_cm else ""
    if not case_value or not seeker_value:
        return FactRow(_("Height"), case_value, seeker_value, Verdict.UNKNOWN)
    return FactRow(_("Height"), case_value, seeker_value, Verdict.SHOWN,
                   _("A child's height says little of the adult's: shown, not compared."))


def candidate_facts(candidate: Candidate) -> list[FactRow]:
    """The facts side by side, each marked agree, conflict, differs or unknown."""
    case, seeker = candidate.case, candidate.seeker_posting
    rows = []

    if Sex.UNKNOWN in (case.sex, seeker.sex):
        verdict = Verdict.UNKNOWN
    else:
        verdict = Verdict.AGREE if case.sex == seeker.sex else Verdict.CONFLICT
    rows.append(FactRow(_("Sex"), case.get_sex_display(), seeker.get_sex_display(), verdict))

    overlap = (case.birth_year_min <= seeker.birth_year_max
               and seeker.birth_year_min <= case.birth_year_max)
    rows.append(FactRow(
        _("Born"),
        f"{case.birth_year_min}–{case.birth_year_max}",
        f"{seeker.birth_year_min}–{seeker.birth_year_max}",
        Verdict.AGREE if overlap else Verdict.CONFLICT,
    ))

    case_place = case.missing_place
    seeker_place = seeker.grew_up_place
    case_code, seeker_code = case.missing_place_code, seeker.grew_up_place_code
    if not seeker.grew_up_province:
        verdict, note = Verdict.UNKNOWN, ""
    elif case_code and seeker_code:
        # By code: "Sichuan" and "四川省" are one province.
        verdict = Verdict.AGREE if case_code[:2] == seeker_code[:2] else Verdict.DIFFERS
        note = "" if verdict == Verdict.AGREE else _(
            "Children were often taken far from home: a different province rules nothing out.")
    elif seeker.grew_up_province.strip().casefold() == case.missing_province.strip().casefold():
        verdict, note = Verdict.AGREE, ""
    else:
        verdict = Verdict.DIFFERS
        note = _("Children were often taken far from home: a different province rules nothing out.")
    rows.append(FactRow(_("Place missing / where the seeker grew up"), case_place, seeker_place,
                        verdict, note))

    missing_year = case.missing_date.year
    if seeker.arrived_year is None:
        verdict, note = Verdict.UNKNOWN, ""
    elif seeker.arrived_year < missing_year:
        verdict = Verdict.CONFLICT
        note = _("The seeker came to the family that raised them before the child went missing.")
    elif seeker.arrived_year - missing_year <= 3:
        verdict, note = Verdict.AGREE, ""
    else:
        verdict = Verdict.DIFFERS
        note = _("The seeker arrived several years after the child went missing.")
    rows.append(FactRow(
        _("Date missing / year the seeker came to the family that raised them"),
        case.missing_date.isoformat(), str(seeker.arrived_year or ""), verdict, note,
    ))

    rows.append(_dialect_row(case.dialect, seeker.dialect))
    rows.append(_names_row(case, seeker))
    rows.append(_marks_row(case.distinguishing_marks, seeker.distinguishing_marks))
    rows.append(_height_row(case, seeker))

    shared = sorted(_keywords(case.circumstances) & _keywords(seeker.memories))
    if not case.circumstances or not seeker.memories:
        verdict, note = Verdict.UNKNOWN, ""
    elif shared:
        verdict, note = Verdict.AGREE, _("Words in common: %(words)s") % {
            "words": ", ".join(shared[:12])}
    else:
        verdict, note = Verdict.DIFFERS, ""
    rows.append(FactRow(_("Circumstances / earliest memories"), case.circumstances,
                        seeker.memories, verdict, note))
    return rows
