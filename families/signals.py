"""What goes with a deleted row, wherever the deletion starts.

A photo, case, seeker posting or account can be deleted by its owner, by an
admin on a change page or in a bulk action, or by a cascade from another row.
These receivers run on every one of those paths, so nothing is left behind:

- a deleted photo's file is removed once the deletion commits (a rolled-back
  deletion keeps it);
- notices about a deleted row go with it (``Notification.about_type`` and
  ``about_id``, filled by ``notification_send(about=...)``);
- a deleted account's log-in records go.

A partner import's receivers are the partners' own (``families/partners/signals.py``).

A model with a ``post_delete`` receiver is never deleted by Django's fast path
(a bare SQL ``DELETE`` without signals), so a cascade reaches these too.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from families.models import (
    MissingChildCase,
    Notification,
    Photo,
    SeekerPosting,
    Tip,
    User,
)

logger = logging.getLogger(__name__)


def _delete_file(storage: Storage, name: str) -> None:
    storage.delete(name)
    logger.info("photo file deleted", extra={"file": name})


@receiver(post_delete, sender=Photo, dispatch_uid="families.photo_file_delete")
def photo_file_delete(sender: type[Photo], instance: Photo, using: str, **kwargs: Any) -> None:
    """Removes the photo's file after commit; one that fails to go is left to ``media_orphans``."""
    name = instance.image.name
    if not name:
        return
    storage = instance.image.storage
    transaction.on_commit(lambda: _delete_file(storage, name), using=using, robust=True)


def notifications_about_delete(
    sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any
) -> None:
    """Deletes the notices about a deleted row: what they point to no longer exists."""
    Notification.objects.using(using).filter(
        about_type=instance._meta.label_lower, about_id=str(instance.pk)
    ).delete()


for _model in (MissingChildCase, SeekerPosting, Photo, User):
    post_delete.connect(
        notifications_about_delete, sender=_model,
        dispatch_uid=f"families.notifications_about_delete.{_model._meta.label_lower}",
    )


@receiver(post_delete, sender=User, dispatch_uid="families.account_login_records_delete")
def account_login_records_delete(
    sender: type[User], instance: User, using: str, **kwargs: Any
) -> None:
    """Deletes a deleted account's log-in records (attempts, lock-outs, log-ins)."""
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.using(using).filter(username__iexact=instance.email).delete()


@receiver(post_delete, sender=Tip, dispatch_uid="families.tip_photo_delete")
def tip_photo_delete(sender: type[Tip], instance: Tip, using: str, **kwargs: Any) -> None:
    """Removes a deleted tip's photo after commit, as for a photo."""
    name = instance.photo.name
    if name:
        storage = instance.photo.storage
        transaction.on_commit(lambda: _delete_file(storage, name), using=using, robust=True)
