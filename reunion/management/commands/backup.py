"""``manage.py backup ARCHIVE``: the database, the media and a manifest in one archive.

See docs/OPERATIONS.md (the runbook). The archive holds children's photos and the faces'
embeddings: encrypt it (``--key-file``) wherever it leaves the machine.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunion import backup


class Command(BaseCommand):
    help = "Write one archive of the database (pg_dump), the media files and a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", nargs="?", type=Path,
                            help="the archive to write (it must not exist yet)")
        parser.add_argument("--key-file", type=Path,
                            help="encrypt with the key in this file (see --generate-key)")
        parser.add_argument("--generate-key", action="store_true",
                            help="print a new key to keep in a file, and do nothing else")

    def handle(self, *args: object, archive: Path | None, key_file: Path | None,
               generate_key: bool, **options: object) -> None:
        if generate_key:
            self.stdout.write(backup.generate_key())
            return
        if archive is None:
            raise CommandError("Name the archive to write, e.g. reunion-2026-12-02.backup.")
        key = read_key(key_file) if key_file else None
        try:
            manifest = backup.backup_create(
                archive=archive, database=backup.configured_database(),
                media_root=Path(settings.MEDIA_ROOT), key=key,
            )
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Wrote {archive}: {len(manifest['tables'])} tables, "
            f"{sum(manifest['tables'].values())} rows, {manifest['media_files']} media files "
            f"({manifest['media_bytes']} bytes), "
            f"{'encrypted' if manifest['encrypted'] else 'NOT encrypted'}."
        )


def read_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        raise CommandError(f"The key file can't be read: {error}") from error
