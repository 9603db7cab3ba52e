"""RQ entry point of a partner's bulk import: one slice of rows, then the next slice queued."""

from __future__ import annotations

from django.conf import settings

from families.partners.services.imports import partner_import_enqueue, partner_import_run


def run_partner_import(partner_import_id: int) -> None:
    """Imports a slice of the import's rows, then queues the next slice until none is left.

    Slices keep each job short, so the worker turns to other queues between them and
    a killed worker loses one slice's row in hand (``families.partners.services.imports``).
    """
    partner_import = partner_import_run(
        partner_import_id=partner_import_id,
        max_seconds=settings.PARTNER_IMPORT_SLICE_SECONDS,
    )
    if partner_import is not None and not partner_import.is_finished:
        partner_import_enqueue(partner_import.pk)
