"""Partners' bulk imports: a CSV of found people with a zip (or folder) of their photos.

``partner_import_start`` refuses a file it can't read (nothing is stored) and
otherwise keeps the files and queues the import. ``partner_import_run`` takes
the rows in order, each in its own transaction together with the import's
counters, so a crash or a killed worker loses at most the row in hand and the
next run resumes there. A row is all or nothing: its posting and its photos, or
a refusal that says which column is wrong and why. The partner's reference is
the key, so the same file imported twice changes nothing the second time.
Photos go through the uploads' checks and the face pipeline, on the bulk queue.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from families.audit import audit_record
from families.models import PartnerImport, PartnerImportRefusal, PartnerOrganisation, User
from families.notifications import notification_send
from families.partners import csv_reading
from families.partners.services.postings import (
    CREATED,
    UNCHANGED,
    UPDATED,
    partner_member_check,
    partner_posting_save,
)
from families.services.photos import photo_add
from families.uploads import normalise_photo
from reunion import queueing

logger = logging.getLogger(__name__)

_COUNTER = {CREATED: "rows_created", UPDATED: "rows_updated", UNCHANGED: "rows_unchanged"}


def partner_import_start(
    *,
    actor: User,
    organisation: PartnerOrganisation,
    csv_data: bytes,
    csv_name: str,
    photos_zip: File | None = None,
    photo_folder: Path | None = None,
    queue: bool = True,
) -> PartnerImport:
    """Checks the files, stores them and queues the import; ``ValidationError`` if refused.

    ``photos_zip`` is an uploaded zip; ``photo_folder`` a folder on the server
    (``manage.py partner_import``, which may run the import itself: ``queue=False``).
    Nothing is stored when a file is refused.
    """
    partner_member_check(actor, organisation)
    table = csv_reading.read_table(csv_data)
    if photos_zip is not None:
        if photos_zip.size > settings.PARTNER_IMPORT_ZIP_MAX_BYTES:
            raise ValidationError(_("The zip archive is larger than %(gb).1f GB.") % {
                "gb": settings.PARTNER_IMPORT_ZIP_MAX_BYTES / 2**30})
        csv_reading.check_zip(photos_zip)
    names_photos = any(row.get("photos") for row in table.rows)
    if names_photos and photos_zip is None and photo_folder is None:
        raise ValidationError(_("The CSV names photos: upload the zip of those photos with it."))
    with transaction.atomic():
        partner_import = PartnerImport(
            organisation=organisation, uploaded_by=actor, csv_name=csv_name[:255],
            csv_sha256=hashlib.sha256(csv_data).hexdigest(), rows_total=len(table.rows),
            csv_header=table.header,
            photos_zip_name=(photos_zip.name or "")[:255] if photos_zip else "",
            photo_folder=str(photo_folder.resolve()) if photo_folder else "",
        )
        partner_import.csv_file.save("import.csv", ContentFile(csv_data), save=False)
        try:
            if photos_zip is not None:
                photos_zip.seek(0)
                partner_import.photos_zip.save("photos.zip", photos_zip, save=False)
            partner_import.save()
            audit_record(actor=actor, action="partner_import.started", obj=partner_import,
                         detail={"organisation": organisation.pk, "rows": len(table.rows),
                                 "csv_sha256": partner_import.csv_sha256})
        except Exception:
            _delete_files(partner_import)
            raise
        if queue:
            transaction.on_commit(lambda: partner_import_enqueue(partner_import.pk))
    return partner_import


def partner_import_enqueue(partner_import_id: int) -> str | None:
    """Queues the import's next slice of rows; with Redis away, the worker's upkeep does later."""
    partner_import = PartnerImport.objects.filter(pk=partner_import_id).first()
    if partner_import is None:
        return None  # deleted meanwhile
    try:
        return queueing.enqueue(
            settings.IMPORT_QUEUE, "families.partners.jobs.run_partner_import", partner_import_id,
            job_id=_job_id(partner_import),
            timeout=settings.PARTNER_IMPORT_SLICE_SECONDS * 10 + 60,
        )
    except RedisError as error:
        logger.warning("import %s left for the worker's upkeep: %s", partner_import_id, error)
        return None


def _job_id(partner_import: PartnerImport) -> str:
    # One job id per slice: the slice that follows is a new job, a rerun is the same one.
    return f"partner-import-{partner_import.pk}-{partner_import.rows_processed}"


def partner_import_run(
    *, partner_import_id: int, max_seconds: float | None = None
) -> PartnerImport | None:
    """Imports the rows not yet taken, for about ``max_seconds`` (all of them if ``None``).

    Each row commits with the counters; two runs at once take turns row by row
    (the import's row is locked while a row goes in), so no row goes in twice.
    ``None`` when the import was deleted (by an admin) before or while it ran.
    """
    partner_import = PartnerImport.objects.select_related("organisation", "uploaded_by").filter(
        pk=partner_import_id).first()
    if partner_import is None:
        logger.info("import %s was deleted: nothing to do", partner_import_id)
        return None
    if partner_import.is_finished:
        return partner_import
    actor = partner_import.uploaded_by
    try:
        if actor is None:
            raise PermissionDenied
        partner_member_check(actor, partner_import.organisation)
        with partner_import.csv_file.open("rb") as stream:
            table = csv_reading.read_table(stream.read())
    except (PermissionDenied, ValidationError, OSError) as error:
        return _fail(partner_import, _why_it_stopped(error))
    PartnerImport.objects.filter(pk=partner_import.pk, started_at__isnull=True).update(
        started_at=timezone.now())
    PartnerImport.objects.filter(pk=partner_import.pk).update(
        status=PartnerImport.Status.RUNNING, heartbeat_at=timezone.now())
    first_line = _first_lines(table)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        # Refusals are written in the member's language, as they read the import's page.
        with _photo_source(partner_import) as photos, translation.override(
            actor.preferred_language or "en"
        ):
            # At least one row per run, however short the time: every run moves on.
            while _import_next_row(partner_import.pk, actor, table, first_line, photos):
                if deadline is not None and time.monotonic() >= deadline:
                    break
    except PermissionDenied as error:  # the member left the organisation meanwhile
        return _fail(partner_import, _why_it_stopped(error))
    partner_import = PartnerImport.objects.filter(pk=partner_import_id).first()
    if partner_import is not None and partner_import.rows_processed >= partner_import.rows_total:
        _finish(partner_import)
    return partner_import


def _why_it_stopped(error: Exception) -> str:
    if isinstance(error, PermissionDenied):
        return _("The member who uploaded it is no longer an active member of the organisation.")
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return _("The uploaded files can no longer be read.")


def _photo_source(partner_import: PartnerImport) -> csv_reading.PhotoSource:
    if partner_import.photos_zip:
        return csv_reading.PhotoSource(zip_path=partner_import.photos_zip.path)
    return csv_reading.PhotoSource(folder=partner_import.photo_folder or None)


def _first_lines(table: csv_reading.Table) -> dict[str, int]:
    """Each reference's first line: a later row with the same reference is refused."""
    first: dict[str, int] = {}
    for index, cells in enumerate(table.rows):
        first.setdefault(cells.get("reference", ""), table.line_of(index))
    return first


def _import_next_row(
    partner_import_id: int, actor: User, table: csv_reading.Table, first_line: dict[str, int],
    photos: csv_reading.PhotoSource,
) -> bool:
    """Takes the next row in (or refuses it) with the counters; ``False`` when none is left."""
    with transaction.atomic():
        partner_import = PartnerImport.objects.select_for_update().select_related(
            "organisation").filter(pk=partner_import_id).first()
        if partner_import is None or partner_import.is_finished:
            return False  # deleted or stopped meanwhile
        index = partner_import.rows_processed
        if index >= len(table.rows):
            return False
        cells = table.rows[index]
        line = table.line_of(index)
        counter, photos_added, problems = _import_row(
            partner_import, actor, cells, line, first_line, photos)
        if problems:
            PartnerImportRefusal.objects.update_or_create(
                partner_import=partner_import, line=line,
                defaults={"column": "; ".join(dict.fromkeys(
                              table.column_named(c) for c, _m in problems if c)),
                          "message": " ".join(message for _c, message in problems),
                          "cells": cells},
            )
            counter = "rows_refused"
        PartnerImport.objects.filter(pk=partner_import.pk).update(
            rows_processed=F("rows_processed") + 1, heartbeat_at=timezone.now(),
            photos_added=F("photos_added") + photos_added, **{counter: F(counter) + 1},
        )
    return True


def _import_row(
    partner_import: PartnerImport, actor: User, cells: dict[str, str], line: int,
    first_line: dict[str, int], photos: csv_reading.PhotoSource,
) -> tuple[str, int, list[tuple[str, str]]]:
    """One row: (the counter it adds to, photos added, problems). Nothing stays if refused."""
    row = csv_reading.read_row(cells)
    if first_line.get(row.reference, line) != line:
        row.problems.append(("reference", _("This reference is already on line %(line)d.")
                             % {"line": first_line[row.reference]}))
    images = []
    for name in row.photo_names:
        try:
            images.append(normalise_photo(photos.read(name)))
        except ValidationError as error:
            row.problems.append(("photos", f"{name}: {' '.join(error.messages)}"))
    if row.problems:
        return "", 0, row.problems
    try:
        with transaction.atomic():
            posting, outcome = partner_posting_save(
                actor=actor, organisation=partner_import.organisation,
                reference=row.reference, fields=row.fields, via="import",
            )
            # The import keeps the people it brought, for the organisation's list.
            partner_import.postings.add(posting)
            held = set(posting.photos.values_list("sha256", flat=True))
            added = 0
            for image in images:
                if image.sha256 in held:
                    continue  # imported before: the same photo is not added twice
                photo_add(actor=actor, data=image, seeker_posting=posting,
                          partner_import=partner_import, **row.photo_facts)
                held.add(image.sha256)
                added += 1
    except ValidationError as error:
        return "", 0, _problems_of(error)
    except (DatabaseError, PermissionDenied):
        raise  # the database is away, or the member left: not this row's fault
    except Exception:
        # A row that breaks something is refused, not retried for ever; the log has why.
        logger.exception("import %s: line %d failed", partner_import.pk, line)
        return "", 0, [("", _("This row could not be imported because of an error on "
                              "Reunion's side; it was logged. Try it again later."))]
    if added and outcome == UNCHANGED:
        outcome = UPDATED
    return _COUNTER[outcome], added, []


def _problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """A model's refusal, by the CSV's column names."""
    if not hasattr(error, "error_dict"):
        return [("", " ".join(error.messages))]
    columns = {"partner_reference": "reference", "__all__": ""}
    return [(columns.get(name, name), " ".join(messages))
            for name, messages in error.message_dict.items()]


def _finish(partner_import: PartnerImport) -> None:
    with transaction.atomic():
        updated = PartnerImport.objects.filter(
            pk=partner_import.pk, status__in=[PartnerImport.Status.QUEUED,
                                              PartnerImport.Status.RUNNING],
        ).update(status=PartnerImport.Status.DONE, finished_at=timezone.now())
        if not updated:
            return
        partner_import.refresh_from_db()
        audit_record(actor=partner_import.uploaded_by, action="partner_import.done",
                     obj=partner_import, detail=_counts(partner_import))
        _notify(partner_import)
        transaction.on_commit(lambda: _delete_files(partner_import))


def _fail(partner_import: PartnerImport, why: str) -> PartnerImport:
    with transaction.atomic():
        PartnerImport.objects.filter(pk=partner_import.pk).update(
            status=PartnerImport.Status.FAILED, finished_at=timezone.now(), error=why)
        partner_import.refresh_from_db()
        audit_record(actor=None, action="partner_import.stopped", obj=partner_import,
                     detail={"why": why, **_counts(partner_import)})
        _notify(partner_import)
        # A stopped import is never taken up again: its files go as a finished one's do.
        transaction.on_commit(lambda: _delete_files(partner_import))
    return partner_import


def _counts(partner_import: PartnerImport) -> dict[str, int]:
    return {name: getattr(partner_import, name) for name in (
        "rows_total", "rows_processed", "rows_created", "rows_updated", "rows_unchanged",
        "rows_refused", "photos_added")}


def _notify(partner_import: PartnerImport) -> None:
    if partner_import.uploaded_by is None:
        return
    if partner_import.status == PartnerImport.Status.DONE:
        subject = _("Your import of %(name)s is done") % {"name": partner_import.csv_name}
        body = _("%(done)d of %(total)d rows went in; %(refused)d were refused. "
                 "The import's page lists the refused rows to fix.") % {
            "done": partner_import.rows_processed - partner_import.rows_refused,
            "total": partner_import.rows_total, "refused": partner_import.rows_refused}
    else:
        subject = _("Your import of %(name)s stopped") % {"name": partner_import.csv_name}
        body = partner_import.error
    notification_send(
        recipient=partner_import.uploaded_by, kind="partner_import", subject=subject,
        body=body, about=partner_import, dedupe_key=f"partner-import-{partner_import.pk}",
        link=reverse("partners:partner_import_detail", args=[partner_import.pk]),
    )


def _delete_files(partner_import: PartnerImport) -> None:
    """The uploaded files hold personal data: they go once they are no longer needed."""
    for file in (partner_import.csv_file, partner_import.photos_zip):
        if file:
            file.delete(save=False)
    if partner_import.pk:
        PartnerImport.objects.filter(pk=partner_import.pk).update(csv_file="", photos_zip="")


def partner_imports_resume_stalled(*, grace: timedelta | None = None) -> int:
    """Queues again every unfinished import no queue holds (Redis emptied, a worker killed).

    Run by the worker's upkeep. An import that moved within ``grace`` is left alone.
    """
    grace = timedelta(seconds=settings.RECONCILE_GRACE_SECONDS) if grace is None else grace
    connection = queueing.connection(settings.IMPORT_QUEUE)
    resumed = 0
    stalled = PartnerImport.objects.filter(
        status__in=[PartnerImport.Status.QUEUED, PartnerImport.Status.RUNNING],
        created_at__lt=timezone.now() - grace,
    ).exclude(heartbeat_at__gte=timezone.now() - grace)
    for partner_import in stalled.order_by("pk"):
        if queueing.job_alive(connection, _job_id(partner_import)):
            continue
        queueing.job_delete(connection, _job_id(partner_import))  # a dead leftover
        if partner_import_enqueue(partner_import.pk):
            audit_record(actor=None, action="partner_import.resumed", obj=partner_import,
                         detail={"rows_processed": partner_import.rows_processed})
            resumed += 1
    return resumed


def partner_import_files_expire(*, grace: timedelta | None = None) -> int:
    """Deletes the uploaded files of every import that ended ``grace`` ago and still has them.

    An import's files go as it ends (done or stopped); a deletion lost to a crash
    between the end and its commit is caught here by the worker's upkeep, with the
    grace given to everything else it finds. Returns how many imports lost files.
    """
    grace = timedelta(seconds=settings.RECONCILE_GRACE_SECONDS) if grace is None else grace
    ended = PartnerImport.objects.filter(
        status__in=[PartnerImport.Status.DONE, PartnerImport.Status.FAILED],
        finished_at__lt=timezone.now() - grace,
    ).exclude(csv_file="", photos_zip="")
    expired = 0
    for partner_import in ended.order_by("pk"):
        _delete_files(partner_import)
        expired += 1
    return expired


def partner_import_refusals_expire() -> int:
    """Deletes the refused rows of imports ended ``PARTNER_IMPORT_REFUSALS_KEEP_DAYS`` ago.

    They hold found people's details sent for an import, kept for the members to fix
    and send again; the import keeps its counts and says when they went. Run by the
    worker's upkeep. Returns how many imports lost their refused rows.
    """
    ended_before = timezone.now() - timedelta(days=settings.PARTNER_IMPORT_REFUSALS_KEEP_DAYS)
    expired = 0
    for partner_import in PartnerImport.objects.filter(
        finished_at__lt=ended_before, refusals_deleted_at__isnull=True
    ).order_by("pk"):
        with transaction.atomic():
            deleted, _by_model = partner_import.refusals.all().delete()
            PartnerImport.objects.filter(pk=partner_import.pk).update(
                refusals_deleted_at=timezone.now())
            audit_record(actor=None, action="partner_import.refusals_deleted",
                         obj=partner_import, detail={"rows": deleted})
        expired += 1
    return expired


def partner_imports_upkeep(*, grace: timedelta | None = None) -> dict[str, int]:
    """What the worker's upkeep does for imports: resume the stalled, delete the files of
    the ended, expire old refusals."""
    return {"resumed": partner_imports_resume_stalled(grace=grace),
            "files_deleted": partner_import_files_expire(),
            "refusals_expired": partner_import_refusals_expire()}
