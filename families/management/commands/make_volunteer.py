"""Adds an existing account to the volunteer group (or removes it with --remove)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from families.audit import audit_record
from families.models import VOLUNTEER_GROUP, User


class Command(BaseCommand):
    help = "Give an account the volunteer role: it can review candidate matches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--remove", action="store_true", help="take the role away")

    def handle(self, *args: object, email: str, remove: bool, **options: object) -> None:
        try:
            user = User.objects.get(email__iexact=email)
        except User.DoesNotExist as error:
            raise CommandError(f"No account with the email address {email}.") from error
        group, _ = Group.objects.get_or_create(name=VOLUNTEER_GROUP)
        if remove:
            user.groups.remove(group)
            audit_record(actor=None, action="user.volunteer_removed", obj=user)
            self.stdout.write(f"{email} is no longer a volunteer.")
        else:
            user.groups.add(group)
            audit_record(actor=None, action="user.volunteer_added", obj=user)
            self.stdout.write(self.style.SUCCESS(f"{email} is now a volunteer."))
