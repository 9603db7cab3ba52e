"""Database pieces for matching: the pgvector extension, with a clear error."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from pgvector.django import VectorExtension


class CreateVectorExtension(VectorExtension):
    """``CREATE EXTENSION vector``, failing with a message that says what to do."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
            )
            available = cursor.fetchone() is not None
        if not available:
            raise ImproperlyConfigured(
                "The PostgreSQL server Reunion connects to has no pgvector extension. "
                "Install pgvector on it (https://github.com/pgvector/pgvector), use the "
                "pgvector/pgvector Docker image, or unset DATABASE_URL to use the embedded server."
            )
        try:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        except DatabaseError as error:
            raise ImproperlyConfigured(
                f"Could not create the pgvector extension: {error}"
            ) from error
