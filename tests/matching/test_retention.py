"""Retention in one place: each kind of record goes when ``RETENTION_DAYS`` says, by the
worker's upkeep, with what belongs to it, and nothing younger goes with it."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from families import services as family_services
from families.models import AuditEntry, Tip
from matching.models import Candidate, DnaTest, Review
from matching.services import candidate_claim, candidate_review, retention_apply
from reunion.worker import PortalWorker
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def _login_records(age_days: float) -> None:
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        extra = {"failures_since_start": 1} if model is AccessAttempt else {}
        row = model.objects.create(user_agent=f"a browser of {age_days} days",
                                   ip_address="192.0.2.1",
                                   username="someone@example.org", http_accept="*/*",
                                   path_info="/accounts/login/", **extra)
        model.objects.filter(pk=row.pk).update(attempt_time=_days_ago(age_days))


def _tip_of_withdrawn_case(make_user, age_days: float) -> Tip:
    family = make_user()
    case = builders.case(family=family)
    tip = family_services.tip_submit(actor=AnonymousUser(), case=case,
                                     fields={"text": "Seen at the market."},
                                     photo_data=builders.jpeg())
    family_services.case_withdraw(actor=family, case=case)
    type(case).objects.filter(pk=case.pk).update(updated_at=_days_ago(age_days))
    return tip


def _ended_candidate(make_candidate, make_user, age_days: float) -> Candidate:
    """A candidate confirmed (a review, a DNA step), then ended by a withdrawal."""
    candidate = make_candidate()
    volunteer = make_user(volunteer=True)
    candidate_claim(actor=volunteer, candidate=candidate)
    candidate_review(actor=volunteer, candidate=candidate, decision=Review.Decision.CONFIRM,
                     note="The photos and the memories agree.")
    assert DnaTest.objects.filter(candidate=candidate).exists()
    Candidate.objects.filter(pk=candidate.pk).update(status=Candidate.Status.ENDED,
                                                     ended_at=_days_ago(age_days))
    return candidate


def test_each_kind_goes_after_its_time_and_not_before(
    make_user, make_candidate, media_root, redis_queues
):
    days = settings.RETENTION_DAYS
    old_entry = AuditEntry.objects.create(action="case.viewed", object_type="families.case",
                                          object_id="1")
    AuditEntry.objects.filter(pk=old_entry.pk).update(
        created_at=_days_ago(days["audit_log"] + 1))
    _login_records(days["login_records"] + 1)
    _login_records(days["login_records"] - 1)
    old_candidate = _ended_candidate(make_candidate, make_user, days["ended_candidates"] + 1)
    young_candidate = _ended_candidate(make_candidate, make_user, days["ended_candidates"] - 1)
    open_candidate = make_candidate()
    Candidate.objects.filter(pk=open_candidate.pk).update(created_at=_days_ago(5000))
    old_tip = _tip_of_withdrawn_case(make_user, days["withdrawn_case_tips"] + 1)
    young_tip = _tip_of_withdrawn_case(make_user, days["withdrawn_case_tips"] - 1)
    old_tip_photo = media_root / old_tip.photo.name
    assert old_tip_photo.is_file()

    report = retention_apply(actor=None)
    assert report == {"audit_log": 1, "login_records": 3, "ended_candidates": 1,
                      "withdrawn_case_tips": 1}
    assert not AuditEntry.objects.filter(pk=old_entry.pk).exists()
    assert sum(model.objects.count() for model in (AccessLog, AccessFailureLog,
                                                   AccessAttempt)) == 3
    assert not Candidate.objects.filter(pk=old_candidate.pk).exists()
    assert not Review.objects.filter(candidate_id=old_candidate.pk).exists()
    assert not DnaTest.objects.filter(candidate_id=old_candidate.pk).exists()
    assert Candidate.objects.filter(pk__in=[young_candidate.pk, open_candidate.pk]).count() == 2
    assert not Tip.objects.filter(pk=old_tip.pk).exists() and not old_tip_photo.exists()
    assert Tip.objects.filter(pk=young_tip.pk).exists()
    entry = AuditEntry.objects.get(action="retention.applied")
    assert entry.detail["deleted"] == report and entry.actor is None

    assert not any(retention_apply(actor=None).values()), "nothing more to delete"
    assert AuditEntry.objects.filter(action="retention.applied").count() == 1


def test_the_periods_are_the_settings_and_the_worker_upkeep_applies_them(
    settings, make_user, media_root, redis_queues
):
    assert settings.RETENTION_DAYS["partner_import_refusals"] == \
        settings.PARTNER_IMPORT_REFUSALS_KEEP_DAYS
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "withdrawn_case_tips": 10}
    tip = _tip_of_withdrawn_case(make_user, 11)
    worker = PortalWorker([redis_queues["match"]], connection=django_rq.get_connection("match"))
    worker.run_maintenance_tasks()
    assert not Tip.objects.filter(pk=tip.pk).exists()
