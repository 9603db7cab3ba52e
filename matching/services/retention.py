"""Retention: each kind of record is kept as long as ``RETENTION_DAYS`` says, then deleted.

Run by the worker's upkeep (``reunion/worker.py``, registered in ``matching.apps``);
docs/PRIVACY.md lists the kinds and their defaults. Deletions go through the ORM so
that what goes with a row (a tip's photo, a candidate's reviews and DNA step) goes with
it; one audit entry says how many of each kind went, never whose. The refused rows of
partner imports follow the same setting (``partner_import_refusals``) and are deleted by
the imports' upkeep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from families.models import AuditEntry, CaseStatus, Tip, User
from matching.models import Candidate

logger = logging.getLogger(__name__)


def retention_apply(*, actor: User | None = None) -> dict[str, int]:
    """Deletes what has outlived its time; returns how many records of each kind went.

    - ``audit_log``: audit entries older than that;
    - ``login_records``: django-axes' log-ins, failed attempts and lock-out counters;
    - ``ended_candidates``: candidates ended (consent, posting or case withdrawn) that long
      ago, with their reviews and DNA steps;
    - ``withdrawn_case_tips``: the tips (and their photos) of cases withdrawn that long ago
      (counted from the case's last change, its withdrawal).
    """
    days = settings.RETENTION_DAYS
    now = timezone.now()

    def before(kind: str):
        return now - timedelta(days=days[kind])

    report: dict[str, int] = {}
    with transaction.atomic():
        report["audit_log"] = AuditEntry.objects.filter(
            created_at__lt=before("audit_log")).delete()[0]
        login_before = before("login_records")
        report["login_records"] = sum(
            model.objects.filter(attempt_time__lt=login_before).delete()[0]
            for model in (AccessLog, AccessFailureLog, AccessAttempt)
        )
        ended = Candidate.objects.filter(status=Candidate.Status.ENDED,
                                         ended_at__lt=before("ended_candidates"))
        report["ended_candidates"] = ended.count()
        ended.delete()
        tips = Tip.objects.filter(case__status=CaseStatus.WITHDRAWN,
                                  case__updated_at__lt=before("withdrawn_case_tips"))
        report["withdrawn_case_tips"] = tips.count()
        tips.delete()
        if any(report.values()):  # about many kinds of rows: no one object to name
            AuditEntry.objects.create(
                actor=actor if actor is not None and actor.is_authenticated else None,
                action="retention.applied", object_type="retention", object_id="",
                detail={"deleted": report, "days": dict(days)},
            )
    if any(report.values()):
        logger.info("retention: deleted %s", report)
    return report
