"""What goes with a deleted matching row, wherever the deletion starts.

A candidate is deleted with its case or seeker posting (a cascade), or by an
admin; the notices about it go with it, as ``families.signals`` does for cases,
postings, photos and accounts.
"""

from __future__ import annotations

from django.db.models.signals import post_delete

from families.signals import notifications_about_delete
from matching.models import Candidate

post_delete.connect(
    notifications_about_delete, sender=Candidate,
    dispatch_uid="matching.notifications_about_delete.candidate",
)
