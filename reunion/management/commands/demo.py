"""Loads (or with --remove, removes) the sample data and waits for its candidate."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from redis.exceptions import RedisError

from reunion import demo, queueing


class Command(BaseCommand):
    help = (
        "Load sample cases and seeker postings with real photos, wait for the face worker to "
        "match them, and print where a volunteer logs in to review the candidate."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--remove", action="store_true", help="remove the sample data")
        parser.add_argument(
            "--wait", type=int, default=600,
            help="seconds to wait for the candidate (0: load and return at once)",
        )

    def handle(self, *args: object, remove: bool, wait: int, **options: object) -> None:
        if remove:
            removed = demo.sample_remove()
            self.stdout.write(
                f"Removed the sample data: {removed['accounts']} accounts, {removed['cases']} "
                f"cases, {removed['seeker_postings']} seeker postings, {removed['photos']} photos."
            )
            return
        if not settings.DEBUG:
            raise CommandError("Sample data is for a developer's machine: run it with DEBUG=true.")
        try:
            data = demo.sample_load()
        except demo.SamplePhotosMissing as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Loaded the sample data: {len(data.cases)} missing-child cases, "
            f"{len(data.postings)} seeker postings, {len(data.photos)} photos. Every name starts "
            f"with {demo.SAMPLE_MARK!r}; the accounts are at {demo.SAMPLE_DOMAIN}.\n"
            f"{demo.PHOTO_CREDIT}"
        )
        site = settings.SITE_URL.rstrip("/")
        login = (
            f"Log in as a volunteer at {site}{reverse('login')}\n"
            f"  email:    {data.volunteer_email}\n"
            f"  password: {data.volunteer_password}\n"
        )
        if wait <= 0:
            self.stdout.write(login + f"and open {site}{reverse('matching:queue')} once the "
                              "face worker has matched the photos.")
            return
        candidate = self._wait_for_candidate(wait)
        if candidate is None:
            raise CommandError(
                f"No sample candidate after {wait} s. Is the portal running (`make run`, which "
                "starts the face worker)? The data stays; run `make demo` again to reload it.\n"
                + login
            )
        self.stdout.write(self.style.SUCCESS(
            f"Candidate #{candidate.short_reference}: {candidate.case} and "
            f"{candidate.seeker_posting}, "
            f"face distance {candidate.best_distance:.3f}."
        ))
        self.stdout.write(
            login + f"and open {site}{reverse('matching:review', args=[candidate.reference])}\n"
            f"(all candidates: {site}{reverse('matching:queue')}).\n"
            "Remove the sample data with `make demo-remove` (manage.py demo --remove)."
        )

    def _wait_for_candidate(self, wait: int):
        """Polls the database; says once if no face worker is running."""
        if not _worker_running():
            self.stdout.write(
                "No face worker is running yet: start the portal with `make run` (in another "
                "terminal). Waiting for it..."
            )
        else:
            self.stdout.write("Waiting for the face worker to embed and match the photos...")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            candidate = demo.sample_candidates().order_by("best_distance").first()
            if candidate is not None:
                return candidate
            time.sleep(2)
        return None


def _worker_running() -> bool:
    try:
        return bool(queueing.face_workers())
    except RedisError:  # Redis down: the wait that follows says what to do
        return False
