"""Operations that change families' data, one module per entity.

Each service takes keyword-only arguments, the acting user first, runs in one
transaction, writes its audit entry (``families.audit``) and queues follow-up
work on commit. The names below are the package's API; each lives in:

- ``accounts``: sign-up, address confirmation, profile, address change;
- ``cases``: missing-child cases; ``seeker_postings``: seeker postings;
- ``photos``: uploads, what is said about a photo, its deletion;
- ``deletion``: deleting a case, posting or account for good, orphaned files;
- ``export``: everything held about a person, as a zip;
- ``tips``: leads about a public case, handled by its volunteers.

Partner organisations' postings and imports are the partners' own services
(``families.partners.services``), which build on these.

The audit log and notices live lower, in ``families.audit`` and
``families.notifications``, where matching can use them too.
"""

from families.audit import audit_record
from families.notifications import notification_mark_read, notification_send, subject_line
from families.services.accounts import (
    profile_update,
    user_confirm_email,
    user_confirm_email_change,
    user_send_confirmation,
    user_send_email_change,
    user_sign_up,
)
from families.services.cases import (
    CASE_EDITABLE_FIELDS,
    case_create,
    case_publish,
    case_update,
    case_withdraw,
)
from families.services.deletion import (
    MediaOrphan,
    account_delete,
    case_delete,
    media_orphans_delete,
    seeker_posting_delete,
)
from families.services.export import account_export
from families.services.photos import (
    PHOTO_EDITABLE_FIELDS,
    photo_add,
    photo_delete,
    photo_hide,
    photo_show,
    photo_update,
)
from families.services.seeker_postings import (
    SEEKER_EDITABLE_FIELDS,
    seeker_posting_create,
    seeker_posting_publish,
    seeker_posting_unpublish,
    seeker_posting_update,
    seeker_posting_withdraw,
)
from families.services.tips import TIP_FIELDS, tip_handle, tip_pass_to_family, tip_submit

__all__ = [
    "CASE_EDITABLE_FIELDS",
    "PHOTO_EDITABLE_FIELDS",
    "SEEKER_EDITABLE_FIELDS",
    "TIP_FIELDS",
    "MediaOrphan",
    "account_delete",
    "account_export",
    "audit_record",
    "case_create",
    "case_delete",
    "case_publish",
    "case_update",
    "case_withdraw",
    "media_orphans_delete",
    "notification_mark_read",
    "notification_send",
    "photo_add",
    "photo_delete",
    "photo_hide",
    "photo_show",
    "photo_update",
    "profile_update",
    "seeker_posting_create",
    "seeker_posting_delete",
    "seeker_posting_publish",
    "seeker_posting_unpublish",
    "seeker_posting_update",
    "seeker_posting_withdraw",
    "subject_line",
    "tip_handle",
    "tip_pass_to_family",
    "tip_submit",
    "user_confirm_email",
    "user_confirm_email_change",
    "user_send_confirmation",
    "user_send_email_change",
    "user_sign_up",
]
