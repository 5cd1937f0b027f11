"""Numbered schema migrations of the PostgreSQL store, applied in order, each in its own
transaction, and recorded in `fathom_migrations`; a session advisory lock lets one process
migrate while others starting at the same time wait.

A change to the schema is a new function at the end of MIGRATIONS, never an edit of an old one,
and its SQL is written out in it (frozen: never a call into the store's modules). The vector tables are not here: their width is the embedding space's, so the store creates
them when a space is chosen (see writes.py, set_embedding_space). Paths compare byte by byte
(COLLATE "C"), as in SQLite: folder prefixes are ranges, and no locale reorders a '/'.
"""
from __future__ import annotations

from typing import Any, Callable

from storage.errors import StorageError

MIGRATION_LOCK = 0x46A7_0001  # pg_advisory_lock keys of Fathom ("Fa" 7 0 ...)
SPACE_LOCK = 0x46A7_0002


def m001_create_tables(conn: Any) -> None:
    for statement in (
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        "INSERT INTO meta(key, value) VALUES ('generation', '0')",
        """CREATE TABLE folders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            path text COLLATE "C" NOT NULL UNIQUE,
            added_at double precision NOT NULL
        )""",
        """CREATE TABLE files (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            folder_id bigint NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            path text COLLATE "C" NOT NULL UNIQUE,
            size bigint NOT NULL,
            mtime_ns bigint NOT NULL,
            sha256 text,
            status text NOT NULL CHECK (status IN ('indexed', 'failed', 'skipped')),
            error text,
            indexed_at double precision NOT NULL,
            tried text,
            chunker text,
            embedded boolean NOT NULL DEFAULT true
        )""",
        "CREATE INDEX files_folder ON files(folder_id)",
        "CREATE INDEX files_to_embed ON files(mtime_ns) WHERE status = 'indexed' AND NOT embedded",
        # keywords: the tsvector of context + text (words.py); words: its length in words
        """CREATE TABLE chunks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            ordinal integer NOT NULL,
            start integer NOT NULL,
            "end" integer NOT NULL,
            page integer,
            text text NOT NULL,
            context text NOT NULL DEFAULT '',
            tokens integer NOT NULL DEFAULT 0,
            keywords tsvector,
            words integer NOT NULL DEFAULT 0,
            UNIQUE (file_id, ordinal)
        )""",
        "CREATE INDEX chunks_keywords ON chunks USING gin (keywords)",
        # A file as a whole: its name (A), folders (B), title (C) and text (D) in one tsvector.
        """CREATE TABLE file_words (
            file_id bigint PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
            keywords tsvector NOT NULL,
            words integer NOT NULL
        )""",
        "CREATE INDEX file_words_keywords ON file_words USING gin (keywords)",
        """CREATE TABLE ignored (
            folder_id bigint NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            path text COLLATE "C" NOT NULL,
            reason text NOT NULL,
            is_folder boolean NOT NULL,
            PRIMARY KEY (folder_id, path)
        )""",
    ):
        conn.execute(statement)


def m002_file_titles_apart(conn: Any) -> None:
    """A file's name, folders and title (A-C) also in a small tsvector of their own: ranking a
    file reads their letters there, not in the tsvector of its whole text."""
    conn.execute("ALTER TABLE file_words ADD COLUMN titled tsvector NOT NULL DEFAULT ''")
    conn.execute("UPDATE file_words SET titled = ts_filter(keywords, '{a,b,c}')")


def m003_vectors_found_by_text(conn: Any) -> None:
    """A chunk's vector is found by its text: each chunk keeps a key of its context and text
    (sha-256, 16 bytes, of `context NUL text`), and when a chunk with a vector goes, a trigger
    keeps its vector under that key (`loose_vectors`) for a copy, a re-index or a file coming
    back. The vector table may be missing (no embedding space yet): the trigger looks first."""
    conn.execute("ALTER TABLE chunks ADD COLUMN text_key bytea")
    conn.execute(
        "UPDATE chunks SET text_key = substring(sha256(convert_to(context, 'UTF8') || '\\x00'::bytea "
        "|| convert_to(text, 'UTF8')) FROM 1 FOR 16)"
    )
    conn.execute("CREATE INDEX chunks_text_key ON chunks (text_key)")
    conn.execute(
        "CREATE TABLE loose_vectors (text_key bytea PRIMARY KEY, embedding real[] NOT NULL, "
        "loosed_at double precision NOT NULL)"
    )
    conn.execute("CREATE INDEX loose_vectors_age ON loose_vectors (loosed_at)")
    conn.execute(
        """CREATE FUNCTION fathom_keep_loose_vector() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.text_key IS NOT NULL AND to_regclass('chunk_vectors') IS NOT NULL THEN
                INSERT INTO loose_vectors(text_key, embedding, loosed_at)
                SELECT OLD.text_key, v.embedding::real[], extract(epoch FROM clock_timestamp())
                FROM chunk_vectors v WHERE v.chunk_id = OLD.id
                ON CONFLICT (text_key) DO UPDATE SET embedding = excluded.embedding, loosed_at = excluded.loosed_at;
            END IF;
            RETURN OLD;
        END $$"""
    )
    conn.execute(
        "CREATE TRIGGER chunks_keep_loose_vector BEFORE DELETE ON chunks "
        "FOR EACH ROW EXECUTE FUNCTION fathom_keep_loose_vector()"
    )


def m004_vocabulary(conn: Any) -> None:
    """Every word a file was written with (its name, folders, title and text), in byte order:
    where a misspelled query word finds its nearest indexed words (storage/spelling.py).
    Words are added with each file and never taken out: a search counts the files that hold
    them now."""
    conn.execute('CREATE TABLE vocabulary (word text COLLATE "C" PRIMARY KEY)')
    conn.execute(
        "INSERT INTO vocabulary(word) SELECT word FROM ts_stat('SELECT keywords FROM file_words') "
        "ORDER BY 1 ON CONFLICT DO NOTHING"
    )


MIGRATIONS: list[Callable[[Any], None]] = [
    m001_create_tables,
    m002_file_titles_apart,
    m003_vectors_found_by_text,
    m004_vocabulary,
]
SCHEMA_VERSION = len(MIGRATIONS)


def ensure_pgvector(conn: Any, where: str) -> str:
    """The version of pgvector in this database, created when this user may; else a sentence."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if row is not None:
        return row[0]
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:  # psycopg's errors: no privilege, or no pgvector on the server
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        if available is None:
            raise StorageError(
                f"The PostgreSQL server of {where} has no pgvector extension: install pgvector on it "
                "(e.g. the postgresql-16-pgvector package), then run Fathom again."
            ) from None
        raise StorageError(
            f"The database {where} has no pgvector extension and this user may not create it ({exc}): "
            "ask its administrator to run `CREATE EXTENSION vector;` in it, then run Fathom again."
        ) from None
    return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]


def schema_version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('fathom_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    return conn.execute("SELECT COALESCE(MAX(number), 0) FROM fathom_migrations").fetchone()[0]


def migrate(conn: Any, where: str, stop_at: int | None = None) -> str:
    """Bring the database up to SCHEMA_VERSION (refusing one written by a newer Fathom) and
    return pgvector's version. `conn` is in autocommit mode. Tests stop at migration `stop_at`
    to build the database an older Fathom left."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        version = ensure_pgvector(conn, where)
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"The database {where} has schema version {current}, newer than this Fathom knows "
                f"({SCHEMA_VERSION}): upgrade Fathom or use another database."
            )
        for number in range(current, SCHEMA_VERSION if stop_at is None else stop_at):
            with conn.transaction():
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS fathom_migrations "
                    "(number integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                MIGRATIONS[number](conn)
                conn.execute("INSERT INTO fathom_migrations(number) VALUES (%s)", (number + 1,))
        return version
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
