"""China's provinces in both languages, so "陕西省", "Shaanxi" and "shaanxi province" are one
place when a volunteer compares a case with a seeker posting."""

from __future__ import annotations

import re

#: (English, Chinese) of each province-level division.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("Beijing", "北京"), ("Tianjin", "天津"), ("Hebei", "河北"), ("Shanxi", "山西"),
    ("Inner Mongolia", "内蒙古"), ("Liaoning", "辽宁"), ("Jilin", "吉林"),
    ("Heilongjiang", "黑龙江"), ("Shanghai", "上海"), ("Jiangsu", "江苏"), ("Zhejiang", "浙江"),
    ("Anhui", "安徽"), ("Fujian", "福建"), ("Jiangxi", "江西"), ("Shandong", "山东"),
    ("Henan", "河南"), ("Hubei", "湖北"), ("Hunan", "湖南"), ("Guangdong", "广东"),
    ("Guangxi", "广西"), ("Hainan", "海南"), ("Chongqing", "重庆"), ("Sichuan", "四川"),
    ("Guizhou", "贵州"), ("Yunnan", "云南"), ("Tibet", "西藏"), ("Shaanxi", "陕西"),
    ("Gansu", "甘肃"), ("Qinghai", "青海"), ("Ningxia", "宁夏"), ("Xinjiang", "新疆"),
    ("Hong Kong", "香港"), ("Macau", "澳门"), ("Taiwan", "台湾"),
)
_SUFFIX = re.compile(r"(省|市|自治区|壮族|回族|维吾尔|特别行政区|\s+province|\s+municipality"
                     r"|\s+autonomous region|\s+sar)+$")
_KEYS = {}
for _en, _zh in PROVINCES:
    _KEYS[_en.casefold()] = _en
    _KEYS[_zh] = _en
_KEYS["xizang"] = "Tibet"
_KEYS["macao"] = "Macau"
_KEYS["nei mongol"] = "Inner Mongolia"


def province_key(text: str) -> str:
    """The province's English name when ``text`` names one, else the text folded."""
    folded = text.strip().casefold()
    return _KEYS.get(folded) or _KEYS.get(_SUFFIX.sub("", folded).strip()) or folded
