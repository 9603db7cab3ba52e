"""``/metrics``: Prometheus' format, for the operator's token or network only, with the
request metrics and the portal's own numbers, and nothing about any one person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from families.models import Notification
from matching.models import Candidate
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "a-long-random-metrics-token"
#: Every label the endpoint may use: kinds the code names, never a person's.
LABELS = {"view", "method", "status", "queue", "kind", "side", "face_state", "part", "le"}


def _scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            assert set(sample.labels) <= LABELS, sample
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_without_a_token_configured_it_answers_404_to_everyone(
    client, settings, make_user, superuser
):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    client.force_login(superuser)
    assert client.get("/metrics").status_code == 404, "not even an admin"
    client.force_login(make_user(volunteer=True))
    assert client.get("/metrics").status_code == 404


def test_the_token_or_an_allowed_network_opens_it(client, settings, superuser):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404
    client.force_login(superuser)
    assert client.get("/metrics").status_code == 404, "a log-in is not the token"
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404
    # A forwarding header is read only behind configured proxies.
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7",
                      HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 404


def test_the_portal_numbers_and_nothing_about_a_person(
    client, settings, make_user, make_candidate, photo_bytes, redis_queues, run_worker
):
    settings.METRICS_TOKEN = TOKEN
    family = make_user(email="mother.of.lili@example.org", full_name="Wang Xiuying")
    case = builders.case(family=family, given_name="Lili", family_name="Wangxiu")
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=30)

    samples = _scrape(client)
    assert _value(samples, "reunion_queue_jobs", queue="face") == 1
    assert _value(samples, "reunion_photos", face_state="waiting") == 1
    assert _value(samples, "reunion_match_jobs", kind="process_photo", status="queued") == 1
    assert _value(samples, "reunion_faces_embedded", side="case") == 0

    run_worker(("face",))
    candidate = make_candidate()
    Candidate.objects.filter(pk=candidate.pk).update(
        created_at=timezone.now() - timedelta(hours=2))
    Notification.objects.create(recipient=family, kind="test", subject="s", body="b",
                                dedupe_key="metrics-test", email_given_up_at=timezone.now())

    page = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    for private in ("mother.of.lili", "Wang Xiuying", "Lili", "Wangxiu", "PR-1988", "Shaanxi"):
        assert private not in page
    samples = _scrape(client)
    assert _value(samples, "reunion_queue_jobs", queue="face") == 0
    assert _value(samples, "reunion_queue_jobs", queue="match") == 1
    assert _value(samples, "reunion_faces_embedded", side="case") == 1
    assert _value(samples, "reunion_match_jobs", kind="process_photo", status="done") == 1
    assert _value(samples, "reunion_match_job_duration_seconds_count", kind="process_photo") == 1
    assert _value(samples, "reunion_match_job_duration_seconds_sum", kind="process_photo") > 0
    assert _value(samples, "reunion_candidates_waiting", status="pending") == 1
    age = _value(samples, "reunion_candidates_oldest_waiting_seconds", status="pending")
    assert 7200 <= age < 7300
    assert _value(samples, "reunion_notification_emails_given_up") == 1
    assert _value(samples, "reunion_partner_imports", status="running") == 0
    assert all(value == 0 for (name, _labels), value in samples.items()
               if name == "reunion_metrics_errors")
    # The request metrics count answers by URL name, never by path (paths hold ids).
    assert _value(samples, "reunion_http_requests_total",
                  view="metrics", method="GET", status="2xx") >= 2
