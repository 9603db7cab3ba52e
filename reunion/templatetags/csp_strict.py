"""``csp_strict``: the admin pages of django-rq without their inline code.

django-rq's templates carry a few inline ``<script>`` and ``<style>`` elements, ``style``
attributes and ``onclick`` handlers, which the site's Content-Security-Policy refuses
(docs/ARCHITECTURE.md). Our overrides in ``templates/django_rq/`` pass those templates'
blocks through this filter, and what it drops is in ``static/css/django-rq.css`` and
``static/js/django-rq.js`` instead; the rest of each page stays django-rq's own, so an
upgrade changes nothing here.
"""

from __future__ import annotations

import re

from django import template

register = template.Library()

#: A <script> element without a src (its code inline), with its content; a JSON data block
#: (json_script) is data, never run, and stays.
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\s(?:src\s*=|type\s*=\s*[\"']?application/(?:ld\+)?json))[^>]*>.*?</script\s*>",
    re.I | re.S,
)
#: A <style> element with its content.
INLINE_STYLE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.I | re.S)
#: An event handler or style attribute inside a tag (text is escaped: its quotes are
#: entities, so nothing here matches a page's text).
INLINE_ATTRIBUTE = re.compile(r"""\s(?:on[a-z]+|style)\s*=\s*(?:"[^"]*"|'[^']*')""", re.I)


@register.filter(is_safe=True)
def csp_strict(html: str) -> str:
    """``html`` less its inline scripts, style sheets, event handlers and style attributes."""
    for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_ATTRIBUTE):
        html = pattern.sub("", html)
    return html
