"""``/metrics``: what a monitoring system scrapes, in Prometheus' text format.

Two kinds of numbers. Request metrics (counts and durations by view name, method and
status class) are counted by ``RequestMetricsMiddleware`` in each web process; under
gunicorn with several processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder
the processes share, and each scrape adds them up. The portal's own numbers (queues,
match jobs, faces, candidates waiting, notices, imports) are read from Redis and the
database at each scrape, so every web process answers the same.

Only counts, by kinds the code names: never an id, a name, an address or anything
else about one person, and never a label taken from what someone typed.

Nobody sees it without the operator's token (``METRICS_TOKEN``, sent as
``Authorization: Bearer <token>``) or an address in ``METRICS_ALLOWED_NETWORKS``;
with neither configured, and for everyone else, it answers 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from families.models import Notification, PartnerImport, Photo
from matching.models import Candidate, Face, MatchJob, Side
from matching.services import RECONCILE_MAX_ATTEMPTS
from reunion import queueing
from reunion.ratelimits import client_ip

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "reunion_http_requests", "HTTP requests answered, by view, method and status class.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "reunion_http_request_duration_seconds", "Time to answer an HTTP request, by view.",
    ["view"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

#: Buckets of a match job's run time, from its row's start and end.
JOB_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)

#: Candidates a volunteer still has to act on.
WAITING = (Candidate.Status.PENDING, Candidate.Status.NEEDS_INFO,
           Candidate.Status.AWAITING_SECOND_REVIEW)


class RequestMetricsMiddleware:
    """Counts each answered request by its URL's name (never its path: paths hold ids)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        REQUESTS.labels(view, _method(request.method), f"{response.status_code // 100}xx").inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        return response


def _method(method: str | None) -> str:
    known = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    return method if method in known else "other"


def _queues() -> Iterator[GaugeMetricFamily]:
    waiting = GaugeMetricFamily("reunion_queue_jobs", "Jobs waiting in each queue.",
                                labels=["queue"])
    failed = GaugeMetricFamily("reunion_queue_failed_jobs",
                               "Jobs in each queue's failed registry (retries used up).",
                               labels=["queue"])
    for name in settings.WORKER_QUEUES:
        queue = queueing.queue(name)
        waiting.add_metric([name], queue.count)
        failed.add_metric([name], queueing.failed_count(name))
    yield waiting
    yield failed
    workers = GaugeMetricFamily("reunion_workers", "Live workers, by queue they take.",
                                labels=["queue"])
    live = queueing.workers()
    for name in settings.WORKER_QUEUES:
        workers.add_metric([name], sum(name in worker.queue_names() for worker in live))
    yield workers


def _match_jobs() -> Iterator[object]:
    by_state = GaugeMetricFamily(
        "reunion_match_jobs", "Match jobs by kind and status (failed: failing now).",
        labels=["kind", "status"])
    counts = {(row["kind"], row["status"]): row["n"] for row in
              MatchJob.objects.values("kind", "status").annotate(n=Count("pk"))}
    for kind in MatchJob.Kind.values:
        for status in MatchJob.Status.values:
            by_state.add_metric([kind, status], counts.get((kind, status), 0))
    yield by_state
    given_up = GaugeMetricFamily(
        "reunion_match_jobs_given_up",
        "Failed match jobs that reconcile no longer queues again (an admin must look).",
        labels=["kind"])
    rows = dict(MatchJob.objects.filter(
        status=MatchJob.Status.FAILED, attempts__gte=RECONCILE_MAX_ATTEMPTS
    ).values_list("kind").annotate(n=Count("pk")))
    for kind in MatchJob.Kind.values:
        given_up.add_metric([kind], rows.get(kind, 0))
    yield given_up
    yield _job_durations()


def _job_durations() -> HistogramMetricFamily:
    """Run times of the finished match jobs, as a histogram (one SQL pass, per kind)."""
    family = HistogramMetricFamily(
        "reunion_match_job_duration_seconds",
        "Run time of finished match jobs, by kind.", labels=["kind"])
    bucket_sql = ", ".join(
        f"count(*) FILTER (WHERE d <= {bound})" for bound in JOB_BUCKETS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, {bucket_sql}, count(*), coalesce(sum(d), 0) FROM ("  # noqa: S608
            "  SELECT kind, extract(epoch FROM finished_at - started_at) AS d"
            f"  FROM {MatchJob._meta.db_table}"
            "  WHERE status = %s AND started_at IS NOT NULL AND finished_at IS NOT NULL"
            ") AS runs GROUP BY kind",
            [MatchJob.Status.DONE],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    for kind in MatchJob.Kind.values:
        row = rows.get(kind) or (0,) * (len(JOB_BUCKETS) + 1) + (0,)
        buckets = [(str(bound), row[index]) for index, bound in enumerate(JOB_BUCKETS)]
        buckets.append(("+Inf", row[len(JOB_BUCKETS)]))
        family.add_metric([kind], buckets, float(row[-1]))
    return family


def _faces_and_photos() -> Iterator[GaugeMetricFamily]:
    faces = GaugeMetricFamily("reunion_faces_embedded",
                              "Faces with an embedding, by side (case or seeker posting).",
                              labels=["side"])
    counts = dict(Face.objects.filter(embedding__isnull=False).values_list("side")
                  .annotate(n=Count("pk")))
    for side in Side.values:
        faces.add_metric([side], counts.get(side, 0))
    yield faces
    photos = GaugeMetricFamily("reunion_photos", "Photos by face state.", labels=["face_state"])
    counts = dict(Photo.objects.values_list("face_state").annotate(n=Count("pk")))
    for state in Photo.FaceState.values:
        photos.add_metric([state], counts.get(state, 0))
    yield photos


def _candidates() -> Iterator[GaugeMetricFamily]:
    waiting = GaugeMetricFamily("reunion_candidates_waiting",
                                "Candidates waiting for a volunteer, by status.",
                                labels=["status"])
    oldest = GaugeMetricFamily("reunion_candidates_oldest_waiting_seconds",
                               "Age of the oldest candidate waiting, by status (0: none).",
                               labels=["status"])
    rows = {row["status"]: row for row in Candidate.objects.filter(status__in=WAITING)
            .values("status").annotate(n=Count("pk"), first=Min("created_at"))}
    now = timezone.now()
    for status in WAITING:
        row = rows.get(status)
        waiting.add_metric([status], row["n"] if row else 0)
        oldest.add_metric([status], (now - row["first"]).total_seconds() if row else 0)
    yield waiting
    yield oldest


def _notices_and_imports() -> Iterator[GaugeMetricFamily]:
    emails = Notification.objects.aggregate(
        given_up=Count("pk", filter=Q(email_given_up_at__isnull=False, emailed_at__isnull=True)),
        unsent=Count("pk", filter=Q(email_given_up_at__isnull=True, emailed_at__isnull=True)),
    )
    yield GaugeMetricFamily("reunion_notification_emails_given_up",
                            "Notices whose email was given up after its tries.",
                            value=emails["given_up"])
    yield GaugeMetricFamily("reunion_notification_emails_unsent",
                            "Notices whose email is not sent yet (nor given up).",
                            value=emails["unsent"])
    imports = GaugeMetricFamily("reunion_partner_imports", "Partner imports by status.",
                                labels=["status"])
    counts = dict(PartnerImport.objects.values_list("status").annotate(n=Count("pk")))
    for status in PartnerImport.Status.values:
        imports.add_metric([status], counts.get(status, 0))
    yield imports


class PortalCollector(Collector):
    """The portal's numbers, read at each scrape; a part that fails is left out and counted."""

    PARTS = (_queues, _match_jobs, _faces_and_photos, _candidates, _notices_and_imports)

    def collect(self) -> Iterator[object]:
        errors = GaugeMetricFamily("reunion_metrics_errors",
                                   "Parts of this scrape that could not be read.",
                                   labels=["part"])
        for part in self.PARTS:
            try:
                yield from list(part())
                errors.add_metric([part.__name__.strip("_")], 0)
            except Exception as error:  # Redis or the database away: the rest still answers
                logger.warning("metrics: %s failed: %s", part.__name__, error)
                errors.add_metric([part.__name__.strip("_")], 1)
        yield errors


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(PortalCollector())
    return registry


class _ProcessMetrics(Collector):
    """This process's own request metrics (one web process)."""

    def collect(self) -> Iterator[object]:
        for metric in REGISTRY.collect():
            if metric.name.startswith("reunion_"):
                yield metric


def may_read(request: HttpRequest) -> bool:
    """The operator's token, or an address of the allowed networks; nobody else."""
    expected = settings.METRICS_TOKEN
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    if expected and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        return True
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        raise Http404
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
