"""``manage.py rematch``: queue a match job for every searchable face.

After ``reindex`` or a change of the candidate settings. Matching is
idempotent: existing candidates are updated, never duplicated, and no
candidate a volunteer is reviewing disappears.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from matching import services


class Command(BaseCommand):
    help = "Queue matching again for every searchable face."

    def handle(self, *args: object, **options: object) -> None:
        count = services.faces_rematch_all(actor=None)
        self.stdout.write(f"Queued {count} match job(s).")
