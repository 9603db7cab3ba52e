"""Deleting a case, a seeker posting or an account for good, and sweeping orphaned files.

Deleting removes the rows (photos, estimates, faces with their embeddings, match
jobs and candidates go with them through their foreign keys) and, once the
transaction commits, the photo files; notices about removed rows and a removed
account's log-in records go too. Files, notices and log-in records are removed by
the receivers of ``families.signals`` and ``matching.signals``, so an admin's
deletion or a cascade does the same. The audit entry stays, and says only what
was removed, never who the person was. Queued jobs for removed rows find nothing
and stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.core.files.storage import Storage
from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone

from families.audit import audit_record
from families.models import (
    AuditEntry,
    MissingChildCase,
    PartnerImport,
    Photo,
    SeekerPosting,
    Tip,
    User,
)
from families.selectors import deletable_by
from families.services.common import lock_for_update
from matching.models import Face


def _removal_counts(photos: models.QuerySet) -> dict[str, int]:
    faces = Face.objects.filter(photo__in=photos)
    return {
        "photos": photos.count(),
        "faces": faces.count(),
        "embeddings": faces.filter(embedding__isnull=False).count(),
    }


def case_delete(*, actor: User, case: MissingChildCase) -> dict[str, int]:
    """Deletes a case for good: its photos and their files, faces, embeddings, candidates.

    Only the family that posted it or an admin may. Returns what was removed.
    """
    if not deletable_by(user=actor, owner_id=case.family_id):
        raise PermissionDenied("Only the case's family or an admin may delete it.")
    return _delete_with_photos(
        actor=actor, obj=case, photos=Photo.objects.filter(case=case), action="case.deleted"
    )


def seeker_posting_delete(*, actor: User, posting: SeekerPosting) -> dict[str, int]:
    """Deletes a seeker posting for good, as ``case_delete`` does a case."""
    if not deletable_by(user=actor, owner_id=posting.owner_id):
        raise PermissionDenied("Only the posting's owner or an admin may delete it.")
    return _delete_with_photos(
        actor=actor, obj=posting, photos=Photo.objects.filter(seeker_posting=posting),
        action="seeker_posting.deleted",
    )


def _delete_with_photos(
    *, actor: User, obj: MissingChildCase | SeekerPosting, photos: models.QuerySet, action: str
) -> dict[str, int]:
    """Deletes a case or posting with its photos (files after commit), audited with counts."""
    with transaction.atomic():
        lock_for_update(obj)
        removed = {**_removal_counts(photos), "candidates": obj.candidates.count()}
        audit_record(actor=actor, action=action, obj=obj, detail=removed)
        obj.delete()
    return removed


#: Sent in ``account_delete``'s transaction before anything of the account goes, with
#: ``actor`` (``None``: the person themself) and ``user``. What the account holds for others
#: is handed over here: a partner organisation's postings go to another member
#: (``families/partners/signals.py``); a receiver's ``ValidationError`` stops the deletion.
account_deleting = Signal()


def account_delete(*, actor: User, user: User) -> dict[str, int]:
    """Deletes an account and everything posted from it; the person's own request or an admin's.

    Cases, seeker postings, photos (files too), faces, embeddings, notifications
    and log-in records go; the audit log keeps entries with the actor blanked.
    A partner organisation's postings are not the member's: they go to another
    member first (``account_deleting``; ``ValidationError``, nothing deleted, when there is
    none).
    """
    if not deletable_by(user=actor, owner_id=user.pk):
        raise PermissionDenied("Only the account's owner or an admin may delete it.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        account_deleting.send(sender=User, actor=actor if actor.pk != user.pk else None,
                              user=user)
        # Photos a volunteer added to someone else's case stay with that case.
        photos = Photo.objects.filter(
            models.Q(case__family=user) | models.Q(seeker_posting__owner=user)
        )
        removed = {
            **_removal_counts(photos),
            "cases": user.cases.count(),
            "seeker_postings": user.seeker_postings.count(),
            "notifications": user.notifications.count(),
        }
        audit_record(
            actor=actor if actor.pk != user.pk else None, action="account.deleted", obj=user,
            detail={**removed, "by": "self" if actor.pk == user.pk else "admin"},
        )
        # Cases and postings cascade to their photos; the signals take files and log-in records.
        user.delete()
    return removed


#: Where photo files live under the media root.
PHOTO_MEDIA_FOLDER = "photos"
#: Each folder the orphan sweep looks in, with the file fields that refer to its files;
#: it looks nowhere else.
MEDIA_FOLDERS: dict[str, tuple[tuple[type[models.Model], str], ...]] = {
    PHOTO_MEDIA_FOLDER: ((Photo, "image"),),
    "tips": ((Tip, "photo"),),
    "partner-imports": ((PartnerImport, "csv_file"), (PartnerImport, "photos_zip")),
}


class MediaOrphan(NamedTuple):
    """A file that no row refers to."""

    name: str
    size: int


def _photo_file_names(storage: Storage, folder: str) -> Iterator[str]:
    if not storage.exists(folder):
        return
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}"
    for sub in sorted(folders):
        yield from _photo_file_names(storage, f"{folder}/{sub}")


def _referred(folder: str, names: list[str]) -> set[str]:
    """Which of ``names`` (files of ``folder``) a row refers to."""
    referred: set[str] = set()
    for model, field in MEDIA_FOLDERS[folder]:
        referred |= set(model._default_manager.filter(**{f"{field}__in": names})
                        .values_list(field, flat=True))
    return referred


def media_orphans_delete(
    *, actor: User | None, older_than: timedelta, dry_run: bool = True
) -> list[MediaOrphan]:
    """Finds files no row refers to and, unless ``dry_run``, deletes them.

    It looks in the folders of ``MEDIA_FOLDERS``: photos, tips' photos and partners'
    uploaded imports. A file whose deletion failed after commit, or one left by a
    crash, is found here. A file younger than ``older_than`` is never touched: its
    upload may still be writing its row. Returns the orphans found (deleted unless
    dry run).
    """
    storage = Photo._meta.get_field("image").storage
    cutoff = timezone.now() - older_than
    found: dict[str, list[MediaOrphan]] = {}
    for folder in MEDIA_FOLDERS:
        names = list(_photo_file_names(storage, folder))
        for start in range(0, len(names), 500):
            batch = names[start:start + 500]
            referred = _referred(folder, batch)
            for name in batch:
                if name in referred or storage.get_modified_time(name) > cutoff:
                    continue
                found.setdefault(folder, []).append(
                    MediaOrphan(name=name, size=storage.size(name)))
    orphans = [orphan for folder_orphans in found.values() for orphan in folder_orphans]
    if dry_run or not orphans:
        return orphans
    with transaction.atomic():
        orphans = []
        for folder, folder_orphans in found.items():
            # The rows are checked again just before the files go: nothing referred to goes.
            referred = _referred(folder, [orphan.name for orphan in folder_orphans])
            orphans += [orphan for orphan in folder_orphans if orphan.name not in referred]
        for orphan in orphans:
            storage.delete(orphan.name)
        AuditEntry.objects.create(
            actor=actor if actor is not None and actor.is_authenticated else None,
            action="media.orphans_deleted", object_type="families.photo", object_id="",
            detail={"files": len(orphans), "bytes": sum(o.size for o in orphans)},
        )
    return orphans
