from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    """Faces, embeddings, match jobs, candidates, review and DNA tests."""

    name = "matching"
    verbose_name = _("Matching")

    def ready(self) -> None:
        # However a candidate is deleted (cascade, admin), the notices about it go too.
        from django.conf import settings

        from matching import faces, signals  # noqa: F401
        from matching.faces.deepface_engine import missing_weight_files
        from matching.services import (
            centring_update,
            csls_update,
            outcome_calibrations_refit_if_due,
            reconcile_pending,
            retention_apply,
        )
        from reunion.health import register_check
        from reunion.worker import register_at_start, register_upkeep

        # Matching's part of the worker (reunion/worker.py runs it): a worker that takes a
        # face queue loads the model before its first job; its upkeep queues accepted work
        # no queue holds again first, then applies the retention periods (RETENTION_DAYS)
        # and refits the outcome calibration when due (OUTCOME_REFIT_HOURS).
        face_queues = {settings.FACE_QUEUE, settings.FACE_BULK_QUEUE}
        register_at_start("the face model", lambda queue_names: (
            faces.get_engine() if face_queues & set(queue_names) else None))
        register_upkeep("reconcile", lambda grace: reconcile_pending(actor=None, grace=grace),
                        order=10)
        register_upkeep("the retention periods", lambda grace: retention_apply(actor=None),
                        order=30)
        register_upkeep("the outcome calibration's refit",
                        lambda grace: outcome_calibrations_refit_if_due(actor=None), order=40)
        # A new centring when an age group first holds enough people or has doubled, then
        # a slice of re-centring (matching/services/centring.py).
        register_upkeep("the centring", lambda grace: centring_update(actor=None), order=50)
        # Each face's hubness r (CSLS) where it is missing or of an older centring
        # (matching/services/csls.py), after the re-centring that makes it stale.
        register_upkeep("the hubness r", lambda grace: csls_update(actor=None), order=60)

        def model_files() -> dict[str, object]:
            missing = missing_weight_files()
            return {"ok": not missing, "missing": missing}

        # /healthz: the face model's files are where the worker loads them from.
        register_check("model_files", model_files)
