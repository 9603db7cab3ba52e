"""The audit log's one writer: who did or saw what, and when.

Low in the house: both apps record through it, and it imports nothing but the
model, so nothing that records can make an import circle.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from families.models import AuditEntry, User


def audit_record(
    *, actor: User | None, action: str, obj: models.Model, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Writes one audit entry: who (``actor``) did or saw ``action`` on ``obj``."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        detail=detail or {},
    )
