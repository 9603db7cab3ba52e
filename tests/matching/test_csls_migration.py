"""Migration 0013: candidates and stored fits recorded before the centring was written down
take the centring current when they were last measured (0 before the first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from matching.models import Candidate, Centring, OutcomeCalibration

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("matching", "0012_moments")]


def test_earlier_candidates_and_fits_take_the_centring_current_when_last_measured(
    make_people,
):
    now = timezone.now()
    people = [make_people() for _ in range(3)]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        OldCandidate = apps.get_model("matching", "Candidate")
        OldCentring = apps.get_model("matching", "Centring")
        OldFit = apps.get_model("matching", "OutcomeCalibration")
        ago = {days: now - timedelta(days=days) for days in (1, 2, 5, 10, 15, 20)}
        first = OldCentring.objects.create(model_version="test", created_at=ago[10])
        second = OldCentring.objects.create(model_version="test", created_at=ago[2])
        OldCentring.objects.create(model_version="another", created_at=ago[20])
        measured = {}
        for (case, posting), (name, days) in zip(
            people, (("plain", 15), ("first", 5), ("second", 1)), strict=True
        ):
            row = OldCandidate.objects.create(case_id=case.pk, seeker_posting_id=posting.pk,
                                              best_distance=0.5, score=0.5, model_version="test")
            OldCandidate.objects.filter(pk=row.pk).update(updated_at=ago[days])
            measured[name] = row.pk
        fits = {
            name: OldFit.objects.create(model_version="test", labels=1, positives=1,
                                        fingerprint=name,
                                        fitted_at=ago[days]).pk
            for name, days in (("plain", 15), ("first", 5))
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    versions = dict(Candidate.objects.values_list("pk", "centring_version"))
    assert versions == {measured["plain"]: 0, measured["first"]: first.pk,
                        measured["second"]: second.pk}
    assert dict(OutcomeCalibration.objects.values_list("pk", "centring_version")) == {
        fits["plain"]: 0, fits["first"]: first.pk}
    assert Centring.objects.count() == 3
