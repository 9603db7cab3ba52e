"""Operations that change partner organisations' data: their found-person postings, keyed by
their reference (``postings``), and their bulk imports (``imports``). They build on
families' services, as those do on the audit log and notices.
"""

from families.partners.services.imports import (
    partner_import_enqueue,
    partner_import_run,
    partner_import_start,
    partner_imports_resume_stalled,
    partner_imports_upkeep,
)
from families.partners.services.postings import (
    CREATED,
    PARTNER_POSTING_FIELDS,
    UNCHANGED,
    UPDATED,
    partner_member_check,
    partner_posting_save,
    partner_postings_hand_over,
)

__all__ = [
    "CREATED",
    "PARTNER_POSTING_FIELDS",
    "UNCHANGED",
    "UPDATED",
    "partner_import_enqueue",
    "partner_import_run",
    "partner_import_start",
    "partner_imports_resume_stalled",
    "partner_imports_upkeep",
    "partner_member_check",
    "partner_posting_save",
    "partner_postings_hand_over",
]
