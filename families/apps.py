from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamiliesConfig(AppConfig):
    """Accounts, roles, cases, seeker postings, photos, notifications and the audit log."""

    name = "families"
    verbose_name = _("Families and seekers")

    def ready(self) -> None:
        # However a row is deleted (self-service, admin, cascade), its photo files,
        # notices and log-in records go with it.
        from families import signals  # noqa: F401
