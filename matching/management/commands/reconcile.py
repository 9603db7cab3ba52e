"""``manage.py reconcile``: queue again every piece of accepted work no queue holds.

Run it after Redis lost its data or a worker died. Every face worker also runs
it when it starts and every ``RECONCILE_INTERVAL_SECONDS`` (its RQ maintenance),
so nothing stays stuck while a worker lives. Without workers running, a cron
line does the same: ``*/5 * * * * cd <checkout> && .venv/bin/python manage.py reconcile``.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis.exceptions import RedisError

from matching.services import reconcile_pending


class Command(BaseCommand):
    help = "Queue again the photos, faces and match jobs that are unfinished but in no queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace", type=int, default=None, metavar="SECONDS",
            help="Leave work younger than this alone (default: RECONCILE_GRACE_SECONDS).",
        )

    def handle(self, *args: object, **options: object) -> None:
        grace = options["grace"]
        try:
            report = reconcile_pending(
                actor=None, grace=None if grace is None else timedelta(seconds=grace)
            )
        except RedisError as error:
            raise CommandError(f"Redis is unavailable, nothing was queued: {error}") from error
        if report.get("skipped"):
            self.stdout.write("Another reconcile is running; nothing done.")
            return
        self.stdout.write(
            "Queued again: {requeued} match job(s); scheduled {photos_scheduled} photo(s) and "
            "{faces_scheduled} face(s); notice emails queued again: {emails_requeued}; "
            "still in a queue: {in_queue}; left failed after too many attempts: "
            "{given_up}.".format(**report)
        )
