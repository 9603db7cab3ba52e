"""``{{ value|dialect }}``: a stored dialect (a code, or text as written) in the reader's
language (``families.dialects``)."""

from __future__ import annotations

from django import template

from families.dialects import dialect_label

register = template.Library()


@register.filter
def dialect(value: str) -> str:
    return dialect_label(value or "")
