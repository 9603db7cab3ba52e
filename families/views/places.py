"""The public list of China's divisions, as JSON for the place picker (static/js/place-picker.js).

Public and the same for everyone: the divisions are a published standard, nothing about
a case or a person. ``q`` gives the divisions a typed text names or starts with, ``parent``
a division's children (the provinces without it).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from families import divisions

#: At most this many suggestions for a typed text.
SUGGESTIONS = 20


def _row(division: divisions.Division, language: str) -> dict[str, object]:
    return {
        "code": division.code, "name": division.name, "english": division.english,
        "pinyin": division.pinyin, "level": division.level,
        "label": divisions.label(division.code, language=language),
    }


@require_GET
@cache_control(public=True, max_age=3600)
def place_divisions(request: HttpRequest) -> JsonResponse:
    """The divisions asked for, largest first, each with its place written out."""
    language = get_language() or "en"
    text = request.GET.get("q", "").strip()[:50]
    parent = request.GET.get("parent", "").strip()[:6]
    everything = divisions.all_divisions().values()
    if text:
        found = divisions.starting_with(text)[:SUGGESTIONS]
    elif parent:
        found = [d for d in everything if d.parent == parent]
    else:
        found = [d for d in everything if d.level == divisions.PROVINCE]
    return JsonResponse({"divisions": [_row(d, language) for d in found]})
