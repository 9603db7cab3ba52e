"""Accounts, missing-child cases, seeker postings, photos, notifications, audit and tips,
one module each; the partners' models live in their wing (``families.partners.models``).

The words are those of DESIGN.md: a *case* is posted by a family, a *seeker*
posting by an adult (or a volunteer for a found person), and both carry
*photos*. Contact details are private: only the owner, volunteers and admins
read them, and every such read is written to the audit log.

Every model is imported here, the partners' too, so that Django finds them and
``from families.models import X`` works; so are the functions the migrations name
(``families.models.photo_upload_to``...).
"""

from families.models.accounts import VOLUNTEER_GROUP, User, UserManager
from families.models.audit import AuditEntry
from families.models.cases import (
    MATCHABLE_STATUSES,
    PUBLIC_NUMBER_ALPHABET,
    CaseStatus,
    MissingChildCase,
    PublicContact,
    PublicContactChoice,
    Sex,
    new_public_number,
)
from families.models.notifications import Notification
from families.models.photos import Photo, photo_upload_to
from families.models.places import CHINA, Division
from families.models.seekers import SeekerPosting, partner_reference_validator
from families.models.tips import Tip, tip_photo_upload_to
from families.partners.models import (
    PartnerAPIKey,
    PartnerImport,
    PartnerImportRefusal,
    PartnerOrganisation,
    partner_import_upload_to,
)

__all__ = [
    "CHINA",
    "MATCHABLE_STATUSES",
    "PUBLIC_NUMBER_ALPHABET",
    "VOLUNTEER_GROUP",
    "AuditEntry",
    "CaseStatus",
    "Division",
    "MissingChildCase",
    "Notification",
    "PartnerAPIKey",
    "PartnerImport",
    "PartnerImportRefusal",
    "PartnerOrganisation",
    "Photo",
    "PublicContact",
    "PublicContactChoice",
    "SeekerPosting",
    "Sex",
    "Tip",
    "User",
    "UserManager",
    "new_public_number",
    "partner_import_upload_to",
    "partner_reference_validator",
    "photo_upload_to",
    "tip_photo_upload_to",
]
