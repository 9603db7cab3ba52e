from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamiliesConfig(AppConfig):
    """Accounts, roles, cases, seeker postings, photos, notifications and the audit log; and
    the partners' wing (``families.partners``), whose models are families' own."""

    name = "families"
    verbose_name = _("Families and seekers")

    def ready(self) -> None:
        # However a row is deleted (self-service, admin, cascade), its photo files,
        # notices and log-in records go with it; a partner import's files too, and a
        # member's account hands its organisations' postings over before it goes. The
        # partners' admin pages too (Django's autodiscovery reads families/admin/ only).
        from families import signals  # noqa: F401
        from families.partners import admin  # noqa: F401
        from families.partners import signals as partner_signals  # noqa: F401
        from families.partners.services.imports import partner_imports_upkeep
        from reunion.worker import register_upkeep

        # Families' part of the worker's upkeep (reunion/worker.py), after reconcile:
        # stalled partner imports queued again, the files of ended ones and their old
        # refused rows deleted.
        register_upkeep("the partner imports' upkeep",
                        lambda grace: partner_imports_upkeep(grace=grace), order=20)
