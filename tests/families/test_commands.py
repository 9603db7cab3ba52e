from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from families.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_make_volunteer_gives_and_takes_the_role(make_user):
    user = make_user(email="helper@example.org")
    assert not user.is_volunteer
    call_command("make_volunteer", "Helper@example.org")
    assert user.is_volunteer
    assert AuditEntry.objects.filter(action="user.volunteer_added", object_id=str(user.pk)).exists()
    call_command("make_volunteer", "helper@example.org", "--remove")
    assert not user.is_volunteer


def test_make_volunteer_names_an_unknown_account():
    with pytest.raises(CommandError, match=r"nobody@example\.org"):
        call_command("make_volunteer", "nobody@example.org")
