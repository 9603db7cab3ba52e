"""Places as families write them, tied to China's divisions by code.

A case's (or seeker posting's) province, city and district stay as written; when the
place is in China they are read against the divisions (``families.divisions``) and
the most precise division they name is kept as the place's code. Everything that
compares or counts places (matching's facts, the dashboard, the search, the
volunteers' provinces) goes by the code, so "Sichuan", "四川" and "四川省" are one
province. A place outside China has a country and stays free text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from families import divisions
from families.divisions import Ambiguous, Division

#: What a country field may say for China (it is then left empty).
CHINA_NAMES = {"", "china", "cn", "prc", "中国", "中华人民共和国", "peoplesrepublicofchina",
               "mainlandchina", "中国大陆"}


def is_china(country: str) -> bool:
    return divisions.fold(country) in CHINA_NAMES


@dataclass(frozen=True)
class Settled:
    """What a written place comes to: its code ("" if none) and the parts not understood."""

    code: str
    unknown: dict[str, str]


def _one(text: str, within: str, *, path: bool = False) -> Division | None:
    """The division ``text`` names inside ``within``; ``Ambiguous`` as ``resolve``."""
    if path:
        found = divisions.resolve_path(text)
        if found is not None and found.code.startswith(within):
            return found
    return divisions.resolve(text, within=within)


def settle(*, province: str, city: str = "", district: str = "", country: str = "",
           prefix: str = "missing") -> Settled:
    """The code of a place written as province, city and district (largest first).

    The province may be a code (510107, 51), a Chinese name, an English name or pinyin,
    or a whole place ("四川省 成都市"); city and district are looked for inside what
    comes before them, and a part that repeats it (北京市 as the city of 北京) is
    passed over. ``unknown`` maps each field not understood to why (keys
    ``{prefix}_province``...); the code is then that of the parts understood.
    """
    if not is_china(country) or not province.strip():
        return Settled("", {})
    unknown: dict[str, str] = {}
    found: Division | None = None
    for field, text in (("province", province), ("city", city), ("district", district)):
        text = text.strip()
        if not text:
            continue
        within = found.code if found else ""
        if found is not None and any(
                found.code.startswith(d.code) for d in divisions.matches(text)):
            continue  # It repeats what is already known (北京市 as 北京's city).
        try:
            here = _one(text, within, path=field == "province")
        except Ambiguous as ambiguous:
            unknown[f"{prefix}_{field}"] = _(
                "Several places are called “%(text)s” (%(choices)s): please give the one "
                "above it too, or its code."
            ) % {"text": text, "choices": ", ".join(
                f"{divisions.label(d.code)} {d.code}" for d in ambiguous.choices[:5])}
            break
        if here is None:
            if found is None:
                unknown[f"{prefix}_{field}"] = _(
                    "“%(text)s” is not a province of China we know: choose one from the list "
                    "(a code, its Chinese name or pinyin), or give the country if the place "
                    "is outside China."
                ) % {"text": text}
            else:
                unknown[f"{prefix}_{field}"] = _(
                    "We don't know “%(text)s” in %(place)s: choose one from the list, or leave "
                    "it empty."
                ) % {"text": text, "place": divisions.label(found.code, language=_language())}
            break
        found = here
    return Settled(found.code if found else "", unknown)


def _language() -> str:
    return get_language() or "en"


def label(code: str, *, language: str | None = None) -> str:
    """A division's place in the reader's language (四川省成都市; Chengdu, Sichuan)."""
    return divisions.label(code, language=language or _language())


def place_label(*, code: str, province: str, city: str = "", district: str = "",
                country: str = "") -> str:
    """A place as shown: by its code in the reader's language when the code says all that was
    written, else as written (a city not in the list is not left out)."""
    written = [p for p in (province, city, district) if p.strip()]
    if code and divisions.get(code) and len(written) <= len(divisions.ancestry(code)):
        return label(code)
    zh = _language().startswith("zh")
    parts = [province, city, district] if zh else [district, city, province]
    text = ("" if zh else ", ").join(p.strip() for p in parts if p.strip())
    if country and not is_china(country):
        text = f"{text}, {country}" if text else country
    return text


def province_codes_and_names(text: str) -> tuple[set[str], set[str]]:
    """A comma-separated list of provinces as province codes, and as the names written
    (casefolded: a place with no code is compared by its text)."""
    codes: set[str] = set()
    names: set[str] = set()
    for part in text.replace("，", ",").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        names.add(part.casefold())
        try:
            found = divisions.resolve(part)
        except Ambiguous:
            found = None
        if found is not None:
            codes.add(found.province_code)
    return codes, names


def codes_named(text: str) -> list[str]:
    """The codes of every division a searched word (or whole place) names.

    "陕西", "陕西省" and "Shaanxi" give 61, "Shanxi" 14, "Xian" and "Xi'an" 6101;
    "陕西省西安市" 6101. A name several divisions share gives each of them.
    """
    text = text.strip()
    if not text:
        return []
    try:
        whole = divisions.resolve_path(text)
    except Ambiguous:
        whole = None
    if whole is not None and len(divisions.parts(text)) > 1:
        return [whole.code]
    return [d.code for d in divisions.matches(text)]


def in_codes(field: str, codes: list[str]) -> Q:
    """Rows whose ``field`` (a place code) lies in one of ``codes``."""
    q = Q(pk__in=[])
    for code in codes:
        q |= Q(**{f"{field}__startswith": code})
    return q


def place_words(text: str) -> list[str]:
    """A searched place as the words each result must match: the whole text when it names
    a division ("Inner Mongolia", "陕西省 西安市"), else each word."""
    text = text.strip()
    if not text:
        return []
    try:
        named = divisions.resolve_path(text) is not None or bool(divisions.matches(text))
    except Ambiguous:
        named = True
    return [text] if named else text.split()
