"""Dialects of Chinese (and the other languages children in China grew up with), as facts.

A family writes "四川话" and a seeker "Sichuanese": the same dialect. Both are stored as one
code (``sichuan``), shown in the reader's language, and compared as codes. Each dialect
belongs to a group (Southwestern Mandarin, Wu, Yue...): two dialects of one group are close
(a child taken from Chengdu to Chongqing keeps a familiar sound), two groups differ.
Text that names no dialect of the list is kept as written (accepted data is never lost) and
compared as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Dialect:
    code: str
    en: str
    zh: str
    group: str
    aliases: tuple[str, ...] = ()


#: Groups, in the reader's language.
GROUPS = {
    "mandarin": _("Mandarin"),
    "northeastern": _("Northeastern Mandarin"),
    "beijing": _("Beijing Mandarin"),
    "jilu": _("Ji–Lu Mandarin"),
    "central_plains": _("Central Plains Mandarin"),
    "lanyin": _("Lan–Yin Mandarin"),
    "southwestern": _("Southwestern Mandarin"),
    "jianghuai": _("Jianghuai Mandarin"),
    "jin": _("Jin"),
    "wu": _("Wu"),
    "hui": _("Hui"),
    "gan": _("Gan"),
    "xiang": _("Xiang"),
    "min": _("Min"),
    "hakka": _("Hakka"),
    "yue": _("Yue"),
    "other": _("Other languages"),
}

DIALECTS: tuple[Dialect, ...] = (
    Dialect("putonghua", "Standard Mandarin (Putonghua)", "普通话", "mandarin",
            ("mandarin", "putonghua", "国语", "官话")),
    Dialect("dongbei", "Northeastern (Dongbei)", "东北话", "northeastern",
            ("northeastern", "dongbei", "黑龙江话", "吉林话", "辽宁话")),
    Dialect("beijing", "Beijing", "北京话", "beijing", ("beijingese", "京腔")),
    Dialect("tianjin", "Tianjin", "天津话", "jilu", ()),
    Dialect("hebei", "Hebei", "河北话", "jilu", ()),
    Dialect("shandong", "Shandong", "山东话", "jilu", ("jiaoliao", "胶辽官话")),
    Dialect("henan", "Henan", "河南话", "central_plains", ("中原官话",)),
    Dialect("shaanxi", "Shaanxi (Guanzhong)", "陕西话", "central_plains",
            ("guanzhong", "关中话", "西安话", "xi'an")),
    Dialect("gansu", "Gansu", "甘肃话", "lanyin", ("兰州话", "lanzhou")),
    Dialect("ningxia", "Ningxia", "宁夏话", "lanyin", ()),
    Dialect("xinjiang", "Xinjiang Mandarin", "新疆话", "lanyin", ()),
    Dialect("sichuan", "Sichuanese", "四川话", "southwestern",
            ("sichuan", "szechuan", "szechuanese", "川话", "成都话", "chengdu", "巴蜀话")),
    Dialect("chongqing", "Chongqing", "重庆话", "southwestern", ()),
    Dialect("yunnan", "Yunnan", "云南话", "southwestern", ("昆明话", "kunming")),
    Dialect("guizhou", "Guizhou", "贵州话", "southwestern", ("贵阳话", "guiyang")),
    Dialect("hubei", "Hubei (Wuhan)", "湖北话", "southwestern", ("wuhan", "武汉话")),
    Dialect("guangxi_mandarin", "Guangxi Mandarin (Guiliu)", "桂柳话", "southwestern",
            ("guiliu", "桂林话", "柳州话")),
    Dialect("jianghuai", "Jianghuai (Nanjing, Hefei, Yangzhou)", "江淮官话", "jianghuai",
            ("nanjing", "南京话", "hefei", "合肥话", "yangzhou", "扬州话", "安徽话", "anhui")),
    Dialect("jin", "Jin (Shanxi)", "晋语", "jin", ("shanxi", "山西话", "太原话", "taiyuan")),
    Dialect("shanghai", "Shanghainese", "上海话", "wu", ("shanghai", "沪语")),
    Dialect("wu", "Wu", "吴语", "wu", ("wu chinese",)),
    Dialect("suzhou", "Suzhou", "苏州话", "wu", ()),
    Dialect("hangzhou", "Hangzhou", "杭州话", "wu", ("zhejiang", "浙江话")),
    Dialect("ningbo", "Ningbo", "宁波话", "wu", ()),
    Dialect("wenzhou", "Wenzhou", "温州话", "wu", ("瓯语",)),
    Dialect("huizhou", "Huizhou (Hui)", "徽州话", "hui", ("徽语", "hui")),
    Dialect("gan", "Gan (Jiangxi)", "赣语", "gan", ("jiangxi", "江西话", "南昌话", "nanchang")),
    Dialect("xiang", "Xiang (Hunanese)", "湘语", "xiang",
            ("hunan", "hunanese", "湖南话", "长沙话", "changsha")),
    Dialect("hokkien", "Hokkien (Minnan)", "闽南话", "min",
            ("minnan", "southern min", "闽南语", "厦门话", "xiamen", "泉州话", "漳州话",
             "台湾话", "taiwanese")),
    Dialect("teochew", "Teochew (Chaoshan)", "潮汕话", "min",
            ("chaoshan", "chaozhou", "潮州话", "汕头话", "shantou")),
    Dialect("fuzhou", "Fuzhou (Eastern Min)", "福州话", "min", ("闽东话", "eastern min")),
    Dialect("hainan", "Hainanese", "海南话", "min", ("hainan", "琼语")),
    Dialect("hakka", "Hakka", "客家话", "hakka", ("客家", "梅县话", "meixian")),
    Dialect("cantonese", "Cantonese", "粤语", "yue",
            ("cantonese", "广东话", "广州话", "guangzhou", "白话", "香港话")),
    Dialect("taishanese", "Taishanese", "台山话", "yue", ("taishan", "四邑话")),
    Dialect("zhuang", "Zhuang", "壮语", "other", ("壮话",)),
    Dialect("uyghur", "Uyghur", "维吾尔语", "other", ("uighur",)),
    Dialect("tibetan", "Tibetan", "藏语", "other", ()),
    Dialect("mongolian", "Mongolian", "蒙古语", "other", ("蒙语",)),
    Dialect("yi", "Yi (Nuosu)", "彝语", "other", ()),
    Dialect("miao", "Hmong (Miao)", "苗语", "other", ("hmong",)),
    Dialect("korean", "Korean (Chaoxian)", "朝鲜语", "other", ()),
)

BY_CODE = {dialect.code: dialect for dialect in DIALECTS}
_SUFFIXES = re.compile(r"(方言|话|语|dialect|language|\s)+$")


def _key(text: str) -> str:
    """The form a name is looked up by: trimmed, case-folded, without "话"/"dialect"."""
    key = text.strip().casefold()
    return _SUFFIXES.sub("", key) or key


_NAMES: dict[str, str] = {}
for _dialect in DIALECTS:
    for _name in (_dialect.code, _dialect.en, _dialect.zh, *_dialect.aliases):
        _NAMES.setdefault(_key(_name), _dialect.code)
        _NAMES.setdefault(_name.strip().casefold(), _dialect.code)


def dialect_code(text: str) -> str | None:
    """The code of the dialect ``text`` names (a code, or a name in either language), or None."""
    if not text or not text.strip():
        return None
    return _NAMES.get(text.strip().casefold()) or _NAMES.get(_key(text))


def dialect_normalise(text: str) -> str:
    """What is stored: the dialect's code when ``text`` names one, else the text as written."""
    return dialect_code(text) or text.strip()


def _in_reader_language(dialect: Dialect) -> str:
    return dialect.zh if (get_language() or "en").startswith("zh") else dialect.en


def dialect_label(value: str) -> str:
    """A stored value in the reader's language: the dialect's name, or the text as written."""
    code = dialect_code(value)
    return _in_reader_language(BY_CODE[code]) if code else value


def dialect_choices() -> list[tuple[str, str]]:
    """(code, "name · 名称") for a form: both names, so a reader of either language finds it."""
    choices = []
    for dialect in DIALECTS:
        first = _in_reader_language(dialect)
        second = dialect.en if first == dialect.zh else dialect.zh
        choices.append((dialect.code, f"{first} · {second}"))
    return choices


def dialects_related(first: str, second: str) -> str | None:
    """``same``, ``group`` (two dialects of one group) or ``different`` when both name a
    dialect of the list; None when either is free text."""
    a, b = dialect_code(first), dialect_code(second)
    if a is None or b is None:
        return None
    if a == b:
        return "same"
    group = BY_CODE[a].group
    return "group" if group == BY_CODE[b].group and group != "other" else "different"


def dialect_group_label(value: str) -> str:
    code = dialect_code(value)
    return str(GROUPS[BY_CODE[code].group]) if code else ""
