"""Connections to PostgreSQL: psycopg 3, its connection pool and pgvector's types, and the URL
as it may be shown (never with its password).

psycopg, psycopg_pool and pgvector are imported only when a PostgreSQL store is opened: a
Fathom that keeps its index in SQLite needs none of them (they are the `postgres` extra).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from storage.errors import StorageError

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 15
# Connections one Fathom process keeps: indexing, the meaning phase and a page's searches at
# once; a team of ten machines stays far below PostgreSQL's default of 100.
POOL_SIZE = 6


def driver() -> Any:
    """psycopg, psycopg_pool and pgvector's psycopg adapter, or a sentence saying how to get them."""
    try:
        import psycopg
        import psycopg_pool
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise StorageError(
            f"A PostgreSQL index needs psycopg, psycopg-pool and pgvector ({exc.name} is missing): run "
            "`pip install -e '.[postgres]'` in Fathom's folder (or `pip install 'psycopg[binary]' psycopg-pool "
            "pgvector`), or leave out [[database_url]] to keep the index in a SQLite file."
        ) from None
    return SimpleNamespace(psycopg=psycopg, pool=psycopg_pool, register_vector=register_vector)


def is_postgres_url(location: object) -> bool:
    return str(location).lower().startswith(SCHEMES)


def secret_parameter(key: str) -> bool:
    """A URL parameter that holds a password: `password`, `sslpassword`, any `...password`."""
    return key.strip().lower().endswith("password")


def passwords_of(url: str) -> list[str]:
    """The passwords a URL holds, in its user part or as a `?...password=` parameter, so that
    no message shows them."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    found = [userinfo.partition(":")[2]] if ":" in userinfo else []
    found += [value for key, value in parse_qsl(parts.query, keep_blank_values=True) if secret_parameter(key)]
    return [value for value in found if value]


def safe_url(url: str) -> str:
    """The URL without its password (in the user part or as a parameter): what status, the page
    and every message show."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    query = "&".join(
        f"{key}={quote(value, safe='/,:')}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not secret_parameter(key)
    )
    return f"{parts.scheme}://{user + '@' if at and user else ''}{hosts}{parts.path}" + (f"?{query}" if query else "")


def scrub(message: str, url: str) -> str:
    """A driver's message with the URL's passwords taken out, should it ever quote them."""
    for password in sorted(passwords_of(url), key=len, reverse=True):
        message = message.replace(password, "***")
    return message


def connect(url: str) -> Any:
    """One connection in autocommit mode (transactions are explicit), for migrations."""
    db = driver()
    try:
        return db.psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, prepare_threshold=None)
    except db.psycopg.Error as exc:
        raise StorageError(
            f"Cannot connect to the PostgreSQL database {safe_url(url)}: {scrub(str(exc).strip(), url)}"
        ) from None


def pool(url: str, size: int = POOL_SIZE) -> Any:
    """A connection pool whose connections speak pgvector's types (the extension must exist)."""
    db = driver()

    def configure(conn: Any) -> None:
        db.register_vector(conn)

    opened = db.pool.ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        # Statements are not prepared: a new embedding space changes the vector tables' types,
        # and a pooler in transaction mode (PgBouncer) cannot keep prepared statements.
        kwargs={"autocommit": True, "prepare_threshold": None, "connect_timeout": CONNECT_TIMEOUT_S},
        configure=configure,
        name="fathom",
        open=False,
    )
    opened.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    return opened
