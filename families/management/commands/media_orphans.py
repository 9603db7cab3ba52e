"""Lists files that no row refers to (photos, tips' photos, partners' imports), and with
--delete removes them."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from families.services import media_orphans_delete


class Command(BaseCommand):
    help = (
        "Find files under the media root's photos/, tips/ and partner-imports/ folders that "
        "no row refers to (left by a crash or a failed removal). A dry run lists them; "
        "--delete removes them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true",
                            help="remove the files found (default: only list them)")
        parser.add_argument(
            "--older-than-minutes", type=int, default=60,
            help="leave younger files alone: an upload may still be writing its row (default 60)",
        )

    def handle(
        self, *args: object, delete: bool, older_than_minutes: int, **options: object
    ) -> None:
        if older_than_minutes < 0:
            raise CommandError("--older-than-minutes can't be negative.")
        orphans = media_orphans_delete(
            actor=None, older_than=timedelta(minutes=older_than_minutes), dry_run=not delete,
        )
        for orphan in orphans:
            self.stdout.write(f"{orphan.name}\t{orphan.size}")
        total = sum(orphan.size for orphan in orphans)
        verb = "removed" if delete else "found (dry run: nothing removed; --delete removes them)"
        self.stdout.write(self.style.SUCCESS(
            f"{len(orphans)} orphaned files, {total} bytes, {verb}."
        ))
