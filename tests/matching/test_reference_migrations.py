"""The migrations that give candidates, notices and tips their opaque references: every
existing row gets one, unique, and an inbox link naming a candidate by id is rewritten."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from families.models import Notification, Tip
from matching.models import Candidate
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("matching", "0009_dna_guidance"), ("families", "0013_found_people_never_public")]


def test_existing_rows_get_references_and_links_name_them(make_user, make_people):
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting)
    other_case, _ = make_people()
    second = builders.candidate(case=other_case, posting=posting)
    tip = Tip.objects.create(case=case, text="Seen in Xi'an.")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        Notice = apps.get_model("families", "Notification")
        common = {"recipient_id": case.family_id, "kind": "candidate_confirmed",
                  "subject": "s", "body": "b"}
        review = Notice.objects.create(
            link=f"/matching/review/{candidate.pk}/", dedupe_key="a", **common)
        match = Notice.objects.create(
            link=f"/zh-hans/matching/matches/{second.pk}/", dedupe_key="b", **common)
        gone = Notice.objects.create(link="/matching/matches/999999/", dedupe_key="c", **common)
        plain = Notice.objects.create(link=f"/cases/{case.pk}/", dedupe_key="d", **common)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    candidate.refresh_from_db()
    second.refresh_from_db()
    references = list(Candidate.objects.values_list("reference", flat=True))
    assert len(set(references)) == 2 and all(isinstance(r, uuid.UUID) for r in references)
    assert Notification.objects.get(pk=review.pk).link == (
        f"/matching/review/{candidate.reference}/")
    assert Notification.objects.get(pk=match.pk).link == (
        f"/zh-hans/matching/matches/{second.reference}/")
    # A link to a candidate that is gone names no number either, and still answers 404.
    gone_link = Notification.objects.get(pk=gone.pk).link
    assert "999999" not in gone_link and gone_link.startswith("/matching/matches/")
    assert Notification.objects.get(pk=plain.pk).link == f"/cases/{case.pk}/"
    notices = list(Notification.objects.values_list("reference", flat=True))
    assert None not in notices and len(set(notices)) == len(notices)
    assert Tip.objects.get(pk=tip.pk).reference is not None
    # New rows get theirs from the default.
    assert builders.candidate(case=other_case, posting=builders.seeker_posting(
        seeker=make_user())).reference not in references
