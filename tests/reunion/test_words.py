"""One Chinese word for each thing across the site (DESIGN.md, "Words"): 您, never 你; a case is
案件 (家寻宝贝 where the site names the kind), a seeker posting 宝贝寻家登记 (登记 for short), a
found person 被找到的人; the English words stay as they are."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PO = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

#: Words that name the same thing as the site's word, or the informal "you".
FORBIDDEN = {
    "你": "您",
    "案例": "案件",
    "寻亲登记": "宝贝寻家登记: 寻亲 reads as the mother's too",
    "寻亲案": "家寻宝贝案件",
    "被寻获者": "被找到的人",
    "被找到人员": "被找到的人",
    "被找到者": "被找到的人",
}


def _entries() -> list[tuple[str, str]]:
    """(msgid, every msgstr joined) of each entry of the catalogue."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        strs = re.findall(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and strs:
            entries.append(("".join(re.findall(r'"(.*)"', msgid.group(1))),
                            "".join("".join(re.findall(r'"(.*)"', s)) for s in strs)))
    return entries


def test_no_forbidden_word_in_the_chinese_catalogue():
    found = [(word, msgid) for msgid, text in _entries() for word in FORBIDDEN if word in text]
    assert found == [], [f"{word} (say {FORBIDDEN[word]}) in {msgid!r}" for word, msgid in found]


def test_no_forbidden_word_in_templates_or_code():
    """Chinese written straight into a template or the code follows the same words."""
    offenders = []
    for folder in ("templates", "families", "matching", "reunion"):
        for path in (BASE_DIR / folder).rglob("*"):
            if path.suffix not in (".html", ".txt", ".py") or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [(str(path.relative_to(BASE_DIR)), word)
                          for word in FORBIDDEN if word in text]
    assert offenders == []


def test_each_thing_has_its_one_word():
    catalogue = dict(_entries())
    assert catalogue["missing-child case"] == "家寻宝贝案件"
    assert catalogue["seeker posting"] == "宝贝寻家登记"
    assert catalogue["My cases"] == "我的案件"
    assert catalogue["My seeker postings"] == "我的宝贝寻家登记"
    assert catalogue["My child is missing: post a case"].startswith("家寻宝贝")
    assert catalogue["I think I was taken as a child: post myself"].startswith("宝贝寻家")
    # Every msgid that speaks of a case says 案件; of a found person, 被找到的人.
    wrong = []
    for msgid, text in catalogue.items():
        msgid = re.sub(r"%\(\w+\)s", "", msgid)
        if re.search(r"\b[Cc]ases?\b", msgid) and "案件" not in text:
            wrong.append((msgid, text))
        if re.search(r"\bfound (person|people)\b", msgid) and "被找到的人" not in text:
            wrong.append((msgid, text))
    assert wrong == []


def test_english_words_unchanged():
    """The English side of the catalogue keeps the words of DESIGN.md."""
    msgids = {msgid for msgid, _text in _entries()}
    assert {"missing-child case", "seeker posting", "My cases", "Post"} <= msgids
