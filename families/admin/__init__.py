"""Django admin for accounts, cases, seeker postings, photos, notifications, partners and
the audit log, one module per entity; importing them registers their pages.

Opening a case, a seeker posting or an account in the admin is a view of
private data, so it is audited like any other. Consent, status and publication
are shown and never typed: they change through the services' actions, as in the
portal. Deleting one (its change page or
the bulk action) goes through the same service as the owner's own deletion. The
audit log itself can be read and never changed, not even by a superuser.
"""

from families.admin import (  # noqa: F401  (registration)
    audit,
    cases,
    notifications,
    photos,
    places,
    seekers,
    users,
)
