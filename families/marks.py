"""Words of distinguishing marks in both languages, so "胎记 on the left arm" and "birthmark,
左臂" are seen to name the same things (a volunteer still reads both texts)."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

#: concept: (label, English words, Chinese words). English words match whole words (a
#: plural "s" too); Chinese words match anywhere in the text.
MARK_WORDS: dict[str, tuple[object, tuple[str, ...], tuple[str, ...]]] = {
    "birthmark": (_("birthmark"), ("birthmark", "birth mark"), ("胎记", "胎痣")),
    "mole": (_("mole"), ("mole",), ("痣",)),
    "scar": (_("scar"), ("scar",), ("疤", "伤痕")),
    "burn": (_("burn"), ("burn",), ("烫伤", "烧伤")),
    "tattoo": (_("tattoo"), ("tattoo",), ("纹身", "刺青")),
    "dimple": (_("dimple"), ("dimple",), ("酒窝",)),
    "left": (_("left"), ("left",), ("左",)),
    "right": (_("right"), ("right",), ("右",)),
    "face": (_("face"), ("face", "cheek"), ("脸", "面部", "脸颊")),
    "forehead": (_("forehead"), ("forehead", "brow"), ("额头", "额")),
    "eye": (_("eye"), ("eye", "eyebrow"), ("眼", "眉")),
    "ear": (_("ear"), ("ear",), ("耳",)),
    "nose": (_("nose"), ("nose",), ("鼻",)),
    "lip": (_("lip or mouth"), ("lip", "mouth"), ("嘴", "唇")),
    "neck": (_("neck"), ("neck",), ("脖", "颈")),
    "head": (_("head"), ("head", "scalp"), ("头顶", "头皮", "头上", "后脑")),
    "chest": (_("chest"), ("chest",), ("胸",)),
    "back": (_("back"), ("back",), ("后背", "背部", "背上")),
    "belly": (_("belly"), ("belly", "stomach", "abdomen"), ("肚", "腹")),
    "arm": (_("arm"), ("arm", "elbow", "shoulder"), ("胳膊", "臂", "手臂", "肩", "肘")),
    "hand": (_("hand or finger"), ("hand", "finger", "thumb", "wrist"),
             ("手指", "手掌", "手腕", "手背", "手心", "指头", "腕")),
    "leg": (_("leg"), ("leg", "knee", "thigh", "ankle"), ("腿", "膝", "脚踝")),
    "foot": (_("foot or toe"), ("foot", "feet", "toe"),
             ("脚背", "脚底", "脚掌", "脚趾", "脚上", "足", "趾")),
    "buttock": (_("buttock"), ("buttock", "bottom"), ("屁股", "臀")),
}
#: The concepts that say what a mark is (a shared side or body part alone proves little).
KINDS = ("birthmark", "mole", "scar", "burn", "tattoo", "dimple")


def mark_concepts(text: str) -> set[str]:
    """The concepts ``text`` names, in either language."""
    folded = text.casefold()
    found = set()
    for concept, (_label, english, chinese) in MARK_WORDS.items():
        if any(word in text for word in chinese) or any(
            re.search(rf"\b{re.escape(word)}s?\b", folded) for word in english
        ):
            found.add(concept)
    return found


def mark_label(concept: str) -> str:
    return str(MARK_WORDS[concept][0])
