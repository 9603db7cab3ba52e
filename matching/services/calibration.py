"""Refitting the outcome calibration: how often candidates like one were the person.

The fit itself is ``matching.outcomes``; this stores it, once per face model
version and centring whose labelled candidates changed, with its size and date. Refitted by
``matching.jobs.refit_outcome_calibrations`` after each DNA result, by the workers'
maintenance every ``OUTCOME_REFIT_HOURS`` (decisions accumulate between DNA results),
and by ``manage.py calibrate_outcomes``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from families.audit import audit_record
from families.models import User
from matching import outcomes, queueing, statistics
from matching.models import OutcomeCalibration

#: The cache key whose presence means "refitted lately": shared by every worker.
REFIT_CLOCK_KEY = "matching:outcome-calibration:refit-clock"


def outcome_calibrations_refit(
    *, actor: User | None, model_version: str | None = None,
    centring_version: int | None = None,
) -> list[OutcomeCalibration]:
    """Fits each (face model version, centring) with candidates again, or those of the
    model version and centring given; returns the rows written.

    A version whose labelled data did not change keeps its fit (no new row); one
    with no label ever stays uncalibrated, as a new face model or centring starts:
    distances centred on other means read on another scale, so no fit is carried over.
    """
    versions = [
        version for version in statistics.versions()
        if model_version in (None, version.model_version)
        and centring_version in (None, version.centring_version)
    ]
    written = []
    with transaction.atomic():
        for version in versions:
            key = {"model_version": version.model_version,
                   "centring_version": version.centring_version}
            samples = statistics.labelled_outcomes(**key)
            latest = statistics.calibration_latest(**key)
            digest = outcomes.fingerprint(samples)
            if (latest is None and not samples) or (latest and latest.fingerprint == digest):
                continue
            row = OutcomeCalibration.objects.create(
                **key, labels=len(samples),
                positives=sum(1 for sample in samples if sample.is_person),
                bands=[fit.as_json() for fit in outcomes.fit_bands(samples)],
                fingerprint=digest,
            )
            audit_record(actor=actor, action="outcome_calibration.fitted", obj=row, detail={
                **key, "labels": row.labels, "positives": row.positives,
            })
            written.append(row)
    return written


def outcome_calibrations_schedule_refit() -> None:
    """Queues a refit once the current transaction commits (a DNA result was recorded)."""
    transaction.on_commit(queueing.enqueue_outcome_calibration)


def outcome_calibrations_refit_if_due(*, actor: User | None) -> list[OutcomeCalibration]:
    """Refits if no worker has in the last ``OUTCOME_REFIT_HOURS``; returns the rows written.

    Called from every worker's maintenance (as ``reconcile`` is); the cache (Redis)
    holds the clock, so many workers refit once between them.
    """
    if not cache.add(REFIT_CLOCK_KEY, timezone.now().isoformat(),
                     timeout=settings.OUTCOME_REFIT_HOURS * 3600):
        return []
    try:
        return outcome_calibrations_refit(actor=actor)
    except BaseException:
        cache.delete(REFIT_CLOCK_KEY)  # not refitted after all: the next maintenance tries
        raise
