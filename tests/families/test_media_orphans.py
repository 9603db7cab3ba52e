"""``manage.py media_orphans`` finds files that no row refers to (photos, tips' photos,
partners' imports): a dry run lists them, ``--delete`` removes them; referenced files, young
files and files outside those folders are never touched."""

from __future__ import annotations

import os
import time
from io import StringIO

import pytest
from django.core.management import call_command

from families.models import AuditEntry, Photo
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

TWO_HOURS = 2 * 3600


def _write(media_root, name: str, content: bytes, *, age_seconds: int) -> str:
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return name


def _run(*args: str) -> str:
    out = StringIO()
    call_command("media_orphans", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def files(make_user, photo_bytes, media_root, redis_queues):
    family = make_user()
    case = builders.case(family=family, publish=False)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    referenced = photo.image.name
    then = time.time() - TWO_HOURS
    os.utime(media_root / referenced, (then, then))
    return {
        "referenced": referenced,
        "old": [
            _write(media_root, "photos/cases/0123456789abcdef.jpg", b"x" * 1000,
                   age_seconds=TWO_HOURS),
            _write(media_root, "photos/seekers/fedcba9876543210.jpg", b"y" * 500,
                   age_seconds=TWO_HOURS),
        ],
        "young": _write(media_root, "photos/cases/uploading.jpg", b"z" * 10, age_seconds=60),
        "outside": _write(media_root, "exports/old.zip", b"w" * 10, age_seconds=TWO_HOURS),
    }


def _present(media_root, names) -> bool:
    return all((media_root / name).is_file() for name in names)


def test_a_dry_run_lists_old_orphans_and_removes_nothing(files, media_root):
    out = _run()

    for name in files["old"]:
        assert name in out
    for name in (files["referenced"], files["young"], files["outside"]):
        assert name not in out
    assert "2 orphaned files, 1500 bytes" in out and "dry run" in out
    assert _present(media_root, [*files["old"], files["referenced"], files["young"],
                                 files["outside"]])
    assert not AuditEntry.objects.filter(action="media.orphans_deleted").exists()


def test_delete_removes_old_orphans_only_and_is_audited(files, media_root):
    out = _run("--delete")

    assert "2 orphaned files, 1500 bytes, removed" in out
    assert not any((media_root / name).exists() for name in files["old"])
    assert _present(media_root, [files["referenced"], files["young"], files["outside"]])
    entry = AuditEntry.objects.get(action="media.orphans_deleted")
    assert entry.detail == {"files": 2, "bytes": 1500} and entry.actor is None
    assert Photo.objects.get().image.name == files["referenced"]

    assert "0 orphaned files" in _run("--delete"), "nothing is left to find"


def test_the_grace_period_is_a_choice(files, media_root):
    out = _run("--delete", "--older-than-minutes", "0")

    assert files["young"] in out
    assert not (media_root / files["young"]).exists()
    assert _present(media_root, [files["referenced"], files["outside"]])


def test_a_file_whose_row_is_gone_is_an_orphan(files, media_root):
    """A row deleted without its file (a file removal that failed after commit) is found."""
    Photo.objects.all().update(image="photos/cases/elsewhere.jpg")

    out = _run("--delete")

    assert files["referenced"] in out
    assert not (media_root / files["referenced"]).exists()


def test_tips_and_partner_imports_are_swept_too(files, media_root, make_user):
    from families.models import PartnerImport, PartnerOrganisation, Tip

    case = builders.case(family=make_user())
    shelter = PartnerOrganisation.objects.create(name="Hope", kind="shelter")
    member = make_user()
    kept_tip = _write(media_root, "tips/kept.jpg", b"t" * 10, age_seconds=TWO_HOURS)
    Tip.objects.create(case=case, text="seen", photo=kept_tip)
    kept_import = [_write(media_root, f"partner-imports/kept.{suffix}", b"i" * 10,
                          age_seconds=TWO_HOURS) for suffix in ("csv", "zip")]
    PartnerImport.objects.create(organisation=shelter, uploaded_by=member, csv_name="p.csv",
                                 csv_file=kept_import[0], photos_zip=kept_import[1])
    lost = [_write(media_root, "tips/lost.jpg", b"l" * 100, age_seconds=TWO_HOURS),
            _write(media_root, "partner-imports/lost.csv", b"c" * 200, age_seconds=TWO_HOURS),
            _write(media_root, "partner-imports/lost.zip", b"z" * 300, age_seconds=TWO_HOURS)]

    out = _run("--delete")

    assert "5 orphaned files, 2100 bytes, removed" in out
    assert not any((media_root / name).exists() for name in [*files["old"], *lost])
    assert _present(media_root, [kept_tip, *kept_import, files["referenced"], files["outside"]])
