"""``manage.py backup`` / ``restore``: one archive, encrypted with the operator's key, checked
file by file, restored only into an empty database and media folder unless told."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from families.models import MissingChildCase, Photo
from reunion import backup
from tests import builders
from tests.reunion.fresh_postgres import fresh_postgres

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(make_user, media_root, redis_queues):
    """A case with a photo: rows in the database and a file in the media folder."""
    case = builders.case(family=make_user())
    photo = builders.photo(data=builders.jpeg(), case=case)
    return case, photo


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "backup.key"
    call_command("backup", "--generate-key", stdout=(out := _Out()))
    path.write_text(out.text)
    return path


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_an_encrypted_archive_holds_everything_and_only_its_key_opens_it(
    portal, key_file, tmp_path, media_root
):
    _case, photo = portal
    archive = tmp_path / "portal.backup"
    call_command("backup", str(archive), "--key-file", str(key_file), stdout=_Out())
    assert archive.stat().st_mode & 0o777 == 0o600
    raw = archive.read_bytes()
    assert raw.startswith(backup.ENCRYPTED_MAGIC)
    assert b"Ming" not in raw and (media_root / photo.image.name).read_bytes()[:200] not in raw

    manifest = backup.archive_check(archive=archive, keys=[key_file.read_text()])
    assert manifest["tables"]["families_missingchildcase"] == MissingChildCase.objects.count()
    assert manifest["tables"]["families_photo"] == Photo.objects.count() == 1
    photo_hash = hashlib.sha256((media_root / photo.image.name).read_bytes()).hexdigest()
    assert manifest["files"]["media/" + photo.image.name] == photo_hash
    assert manifest["media_files"] == 1
    assert manifest["versions"]["pgvector"] and manifest["versions"]["postgresql"]
    assert manifest["versions"]["migrations"]["families"]

    with pytest.raises(CommandError, match="encrypted: give the key"):
        call_command("restore", str(archive), "--check", stdout=_Out())
    other = tmp_path / "other.key"
    other.write_text(backup.generate_key())
    with pytest.raises(CommandError, match="can't be decrypted"):
        call_command("restore", str(archive), "--check", "--key-file", str(other), stdout=_Out())
    # The operator's old and new key, during a rotation: either opens it.
    call_command("restore", str(archive), "--check", "--key-file", str(other),
                 "--key-file", str(key_file), stdout=_Out())
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(archive), stdout=_Out())


def test_an_altered_or_cut_archive_is_refused(portal, key_file, tmp_path):
    archive = tmp_path / "portal.backup"
    call_command("backup", str(archive), "--key-file", str(key_file), stdout=_Out())
    raw = archive.read_bytes()
    keys = [key_file.read_text()]

    altered = tmp_path / "altered.backup"
    middle = len(raw) // 2
    altered.write_bytes(raw[:middle] + bytes([raw[middle] ^ 1]) + raw[middle + 1:])
    with pytest.raises(backup.BackupError, match="altered"):
        backup.archive_check(archive=altered, keys=keys)
    cut = tmp_path / "cut.backup"
    cut.write_bytes(raw[: len(raw) - 10])
    with pytest.raises(backup.BackupError):
        backup.archive_check(archive=cut, keys=keys)


def test_a_plain_archive_whose_file_changed_is_refused(portal, tmp_path):
    archive = tmp_path / "plain.backup"
    manifest = backup.backup_create(archive=archive, database=backup.configured_database(),
                                    media_root=Path(portal[1].image.storage.location))
    assert manifest["encrypted"] is False
    # Rewrite the archive with one photo's bytes changed, the manifest left as it was.
    changed = tmp_path / "changed.backup"
    with tarfile.open(archive) as source, tarfile.open(changed, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            target.addfile(member, io.BytesIO(data))
    with pytest.raises(backup.BackupError, match="differ from its manifest"):
        backup.archive_check(archive=changed)
    with tarfile.open(archive) as source:
        assert json.loads(source.extractfile("manifest.json").read()) == manifest


def test_restore_refuses_a_database_or_media_folder_that_is_not_empty(
    portal, key_file, tmp_path, media_root
):
    archive = tmp_path / "portal.backup"
    call_command("backup", str(archive), "--key-file", str(key_file), stdout=_Out())
    cases = MissingChildCase.objects.count()
    files = sorted(media_root.rglob("*"))
    # The portal's own database and media: refused, nothing changed.
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(archive), "--key-file", str(key_file), stdout=_Out())
    assert MissingChildCase.objects.count() == cases and sorted(media_root.rglob("*")) == files

    with fresh_postgres() as (database, _data_dir):
        keys = [key_file.read_text()]
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "someone.jpg").write_bytes(b"x")
        with pytest.raises(backup.BackupError, match=r"media folder .* is not empty"):
            backup.backup_restore(archive=archive, database=database,
                                  media_root=tmp_path / "full", keys=keys)
        assert backup.table_counts(database) == {}, "the database was left alone"

        manifest = backup.backup_restore(archive=archive, database=database,
                                         media_root=tmp_path / "restored", keys=keys)
        assert backup.table_counts(database) == manifest["tables"]
        with pytest.raises(backup.BackupError, match="database 'restored' is not empty"):
            backup.backup_restore(archive=archive, database=database,
                                  media_root=tmp_path / "empty", keys=keys)
        # Told to, it replaces both.
        again = backup.backup_restore(archive=archive, database=database,
                                      media_root=tmp_path / "full", keys=keys, force=True)
        assert backup.table_counts(database) == again["tables"]
        assert not (tmp_path / "full" / "someone.jpg").exists()
        assert (tmp_path / "full" / portal[1].image.name).is_file()
