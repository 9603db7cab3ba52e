"""What goes with a deleted partner import (its uploaded files, the notices about it), and
what a deleted account hands over (its organisations' postings, to another member).

Connected by ``FamiliesConfig.ready`` (families/apps.py), as families' own receivers are.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from families.models import User
from families.partners.models import PartnerImport
from families.partners.services.postings import partner_postings_hand_over
from families.services.deletion import account_deleting
from families.signals import notifications_about_delete

post_delete.connect(
    notifications_about_delete, sender=PartnerImport,
    dispatch_uid=f"families.notifications_about_delete.{PartnerImport._meta.label_lower}",
)


@receiver(post_delete, sender=PartnerImport, dispatch_uid="families.partner_import_files_delete")
def partner_import_files_delete(
    sender: type[PartnerImport], instance: PartnerImport, using: str, **kwargs: Any
) -> None:
    """Removes a deleted import's uploaded CSV and zip (if still kept) after commit."""
    for file in (instance.csv_file, instance.photos_zip):
        if file.name:
            storage, name = file.storage, file.name
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name),
                                  using=using, robust=True)


@receiver(account_deleting, dispatch_uid="families.partners.postings_hand_over")
def account_postings_hand_over(
    sender: type[User], actor: User | None, user: User, **kwargs: Any
) -> None:
    """A member's account goes: the organisations' postings it owns go to another member
    first (``ValidationError``, nothing deleted, when an organisation has none)."""
    partner_postings_hand_over(actor=actor, from_user=user)
