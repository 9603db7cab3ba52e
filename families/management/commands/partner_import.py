"""Imports a folder of found people for a partner: a CSV and the photos it names.

The folder's CSV (or ``--csv``) is read as the upload page reads it; the photos
are found in the folder and its subfolders by the names the CSV gives. The
import runs here, printing its progress, unless ``--queue`` hands it to the
workers. Run again on the same folder, an unfinished import of the same file
resumes where it stopped; a finished one is imported again, which changes
nothing that has not changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from families.models import PartnerImport, PartnerOrganisation, User
from families.partners import csv_reading
from families.partners.services import (
    partner_import_enqueue,
    partner_import_run,
    partner_import_start,
)


class Command(BaseCommand):
    help = "Import a partner's folder of found people (a CSV and their photos)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--organisation", required=True, help="the organisation's name")
        parser.add_argument("--member", required=True,
                            help="the email address of the member the postings belong to")
        parser.add_argument("--csv", type=Path, help="the CSV file (default: the folder's one)")
        parser.add_argument("--queue", action="store_true",
                            help="hand the import to the workers instead of running it here")
        parser.add_argument("--refused", type=Path,
                            help="write the refused rows to this CSV file, to fix")

    def handle(self, *args: object, folder: Path, organisation: str, member: str,
               csv: Path | None, queue: bool, refused: Path | None, **options: object) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        csv_path = csv or self._the_csv(folder)
        partner = PartnerOrganisation.objects.filter(name=organisation).first()
        if partner is None:
            raise CommandError(f"No partner organisation is named {organisation!r}.")
        user = User.objects.filter(email__iexact=member).first()
        if user is None:
            raise CommandError(f"No account with the email address {member}.")
        data = csv_path.read_bytes()
        partner_import = self._unfinished(partner, data, folder)
        if partner_import is not None:
            done, total = partner_import.rows_processed, partner_import.rows_total
            self.stdout.write(f"Resuming import #{partner_import.pk} at row {done + 1} of {total}.")
        else:
            try:
                partner_import = partner_import_start(
                    actor=user, organisation=partner, csv_data=data, csv_name=csv_path.name,
                    photo_folder=folder, queue=queue,
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            except PermissionDenied as error:
                raise CommandError(f"{member} is not an active member of {organisation}.") \
                    from error
            self.stdout.write(f"Import #{partner_import.pk}: {partner_import.rows_total} rows.")
        if queue:
            partner_import_enqueue(partner_import.pk)
            self.stdout.write("Handed to the workers; its page shows the progress.")
            return
        while not partner_import.is_finished:
            partner_import = partner_import_run(partner_import_id=partner_import.pk,
                                                max_seconds=5)
            if partner_import is None:
                raise CommandError("The import was deleted while it ran.")
            self.stdout.write(
                f"  {partner_import.rows_processed}/{partner_import.rows_total} rows read: "
                f"{partner_import.rows_created} new, {partner_import.rows_updated} updated, "
                f"{partner_import.rows_unchanged} unchanged, {partner_import.rows_refused} "
                f"refused; {partner_import.photos_added} photos added")
        self._report(partner_import, refused)

    def _the_csv(self, folder: Path) -> Path:
        found = sorted(folder.glob("*.csv"))
        if len(found) != 1:
            raise CommandError(f"{folder} holds {len(found)} CSV files; name one with --csv.")
        return found[0]

    def _unfinished(self, partner: PartnerOrganisation, data: bytes,
                    folder: Path) -> PartnerImport | None:
        return PartnerImport.objects.filter(
            organisation=partner, csv_sha256=hashlib.sha256(data).hexdigest(),
            photo_folder=str(folder.resolve()),
            status__in=[PartnerImport.Status.QUEUED, PartnerImport.Status.RUNNING],
        ).first()

    def _report(self, partner_import: PartnerImport, refused: Path | None) -> None:
        if partner_import.status == PartnerImport.Status.FAILED:
            raise CommandError(f"The import stopped: {partner_import.error}")
        for refusal in partner_import.refusals.all()[:20]:
            self.stdout.write(f"  line {refusal.line} ({refusal.column}): {refusal.message}")
        if refused is not None and partner_import.rows_refused:
            refused.write_text("".join(csv_reading.refused_rows_csv(
                partner_import.csv_header, partner_import.refusals.iterator())),
                encoding="utf-8")
            self.stdout.write(f"The refused rows are in {refused}.")
        self.stdout.write(self.style.SUCCESS(
            f"Done: {partner_import.rows_processed - partner_import.rows_refused} rows in, "
            f"{partner_import.rows_refused} refused. The workers embed the photos."))
