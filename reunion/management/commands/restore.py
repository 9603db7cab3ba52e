"""``manage.py restore ARCHIVE``: the portal's database and media from a backup archive.

Into an empty database and an empty media folder; ``--force`` replaces what they hold.
``--check`` only reads the archive and checks every file against its manifest.
See docs/OPERATIONS.md.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunion import backup
from reunion.management.commands.backup import read_key


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database and media folder (or --check it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--key-file", type=Path, action="append", default=[],
                            help="a key the archive may be encrypted with (repeat for several)")
        parser.add_argument("--check", action="store_true",
                            help="read and check the archive only; change nothing")
        parser.add_argument("--force", action="store_true",
                            help="replace the database and media folder even if not empty")

    def handle(self, *args: object, archive: Path, key_file: list[Path], check: bool,
               force: bool, **options: object) -> None:
        if not archive.is_file():
            raise CommandError(f"{archive} is not a file.")
        keys = [read_key(path) for path in key_file] or None
        try:
            if check:
                manifest = backup.archive_check(archive=archive, keys=keys)
                verb = "Checked"
            else:
                manifest = backup.backup_restore(
                    archive=archive, database=backup.configured_database(),
                    media_root=Path(settings.MEDIA_ROOT), keys=keys, force=force,
                )
                verb = "Restored"
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{verb} {archive} of {manifest['created_at']}: every file matches its manifest; "
            f"{len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows, "
            f"{manifest['media_files']} media files."
        )
