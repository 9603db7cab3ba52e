from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    """Faces, embeddings, match jobs, candidates, review and DNA tests."""

    name = "matching"
    verbose_name = _("Matching")

    def ready(self) -> None:
        # However a candidate is deleted (cascade, admin), the notices about it go too.
        from matching import signals  # noqa: F401
