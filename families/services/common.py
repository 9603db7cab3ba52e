"""What the services of cases, seeker postings and photos share."""

from __future__ import annotations

from typing import Any

from django.db import models

from families.audit import audit_record
from families.dialects import dialect_normalise
from families.models import CaseStatus, MissingChildCase, SeekerPosting, User

#: Fields that faces copy for filtered search (see matching.models.Face).
FACE_FACT_FIELDS = {"sex", "birth_year_min", "birth_year_max"}


def normalised(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as stored: a dialect named in either language becomes its code
    (``families.dialects``), so 四川话 and "Sichuanese" are one fact."""
    if fields.get("dialect"):
        return {**fields, "dialect": dialect_normalise(fields["dialect"])}
    return fields


def assign_fields(obj: models.Model, fields: dict[str, Any], allowed: set[str]) -> list[str]:
    """Sets the allowed fields that differ; returns the names of those that changed."""
    fields = normalised(fields)
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Fields not allowed here: {sorted(unknown)}")
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def lock_for_update(obj: MissingChildCase | SeekerPosting) -> None:
    """Locks the row and reloads it, so two status changes never interleave."""
    list(type(obj).objects.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True))
    obj.refresh_from_db()


def withdraw(
    *, actor: User, obj: MissingChildCase | SeekerPosting, action: str, reason: str
) -> bool:
    """Sets a case or posting withdrawn (locked, audited); False if it already was."""
    lock_for_update(obj)
    if obj.status == CaseStatus.WITHDRAWN:
        return False
    previous = obj.status
    obj.status = CaseStatus.WITHDRAWN
    obj.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=action, obj=obj,
                 detail={"previous_status": previous, "reason": reason})
    return True
