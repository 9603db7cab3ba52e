"""People's names as their families write them, and the terms a search finds them by.

A name is kept in two parts, family name and given name, as typed. It is shown in one form
per script, the same on every page, list, poster, notice, the admin and the API: family name
first with no space where the name is written in Chinese (or Japanese or Korean) characters
(李小梅), given name first otherwise (Anna Smith).

The search terms let the public find 李小梅 by hanzi (李小梅), by pinyin with or without tones
and spaces (Xiaomei, xiao mei, Lǐ Xiǎoméi, xiao3mei2) and by nickname (梅梅): every name of a
case, each in hanzi and in plain pinyin, folded to lower case with no tones, spaces or
punctuation, one term a word. A query is folded the same way (``fold_query``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Characters of the scripts written family name first with no space: CJK ideographs
#: (with their extensions and compatibility forms), kana and hangul.
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

#: Two-character Chinese family names, looked for before the one-character ones when a full
#: name was typed in one field (``split_chinese_name``).
_COMPOUNDS = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 "
    "独孤 百里 呼延 轩辕 钟离 闻人 赫连 澹台 申屠 太史 万俟 司空 东郭 公冶 拓跋 完颜"
)
COMPOUND_SURNAMES = frozenset(_COMPOUNDS.split(" "))

#: Separators between names in the nicknames field.
_NAME_SEPARATORS = re.compile(r"[,，、;；/／|]+")


def is_cjk(text: str) -> bool:
    """Whether ``text`` is written (at least in part) in a script written family name first."""
    return bool(_CJK.search(text))


def full_name(family: str, given: str) -> str:
    """The one form a name is shown in: 李小梅 for a Chinese name, Anna Smith otherwise."""
    family, given = " ".join(family.split()), " ".join(given.split())
    if is_cjk(family + given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def split_chinese_name(name: str) -> tuple[str, str]:
    """A Chinese full name typed in one field, as (family name, given name): 李小梅 gives
    (李, 小梅), 欧阳娜娜 (欧阳, 娜娜). Anything else is returned whole as the given name."""
    compact = "".join(name.split())
    if not (2 <= len(compact) <= 4 and all(_HAN.fullmatch(char) for char in compact)):
        return "", name
    family_length = 2 if compact[:2] in COMPOUND_SURNAMES and len(compact) > 2 else 1
    return compact[:family_length], compact[family_length:]


def _strip_marks(text: str) -> str:
    """Lower case without tone marks or other accents (Lǐ → li, ü → u)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """One word of a name as searched: lower case, no tones, spaces, digits or punctuation."""
    return "".join(char for char in _strip_marks(text) if char.isalpha())


def pinyin(text: str) -> str:
    """The plain pinyin of the hanzi in ``text`` (李小梅 → lixiaomei); other letters kept."""
    if not _HAN.search(text):
        return fold(text)
    from pypinyin import Style, lazy_pinyin

    return fold("".join(lazy_pinyin(text, style=Style.NORMAL, errors="default", v_to_u=True)))


def search_terms(*, family: str, given: str, others: Iterable[str] = ()) -> str:
    """The words a search finds a person by, space-separated, without repeats.

    For 李小梅 called 梅梅: 李小梅 小梅 李 梅梅 lixiaomei xiaomei li meimei, and the given
    name before the family name (xiaomeili) for a query typed in the Western order.
    """
    family, given = "".join(family.split()), "".join(given.split())
    names = [family + given, given + family, given, family]
    for other in others:
        names += [part for part in _NAME_SEPARATORS.split(other)]
    words: list[str] = []
    for name in names:
        for word in (fold(name), pinyin(name)):
            if word and word not in words:
                words.append(word)
    return " ".join(words)


def fold_query(query: str) -> list[str]:
    """The forms of a name typed in the search box, as ``search_terms`` holds them: the whole
    query folded into one word (xiao mei → xiaomei), and its pinyin when it has hanzi."""
    whole = fold(query)
    forms = [whole] if whole else []
    if _HAN.search(query):
        sound = pinyin(query)
        if sound and sound not in forms:
            forms.append(sound)
    return forms
