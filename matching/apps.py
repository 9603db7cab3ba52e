from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    """Faces, embeddings, match jobs, candidates, review and DNA tests."""

    name = "matching"
    verbose_name = _("Matching")
