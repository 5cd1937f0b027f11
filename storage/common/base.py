"""The plumbing both stores' mixins may count on: opening as a context manager, the backend's
Dialect, a query, a write transaction, writes run again where the backend says so, and the meta
table (the change counter, the embedding space)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, ContextManager, TypeVar

from storage.dialect import Dialect
from storage.records import EmbeddingSpace

if TYPE_CHECKING:  # typing.Self is Python 3.11's; annotations are never evaluated here
    from typing_extensions import Self

F = TypeVar("F", bound=Callable[..., Any])


def retried(method: F) -> F:
    """A write that the backend may run again (`_retry`): PostgreSQL does, when it aborted the
    write as a deadlock's victim; SQLite's single writer never needs to."""

    @functools.wraps(method)
    def run(self: StoreBase, *args: Any, **kwargs: Any) -> Any:
        return self._retry(lambda: method(self, *args, **kwargs))

    return run  # type: ignore[return-value]


class StoreBase:
    dialect: Dialect
    path: str  # the database as it may be shown

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _retry(self, write: Callable[[], Any]) -> Any:
        return write()

    def _query(self, sql: str, params: Any = ()) -> list[Any]:
        raise NotImplementedError

    def transaction(self) -> ContextManager[Any]:
        raise NotImplementedError

    def _delete_chunks(self, conn: Any, file_ids: list[int]) -> None:
        raise NotImplementedError

    # -- the meta table: the change counter and the embedding space ---------------------------

    def _generation(self) -> int:
        """How many write transactions the index has seen: a change of it is a change of the index."""
        (generation,), = self._query("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'generation'")
        return int(generation)

    def get_meta(self, key: str) -> str | None:
        rows = self._query(f"SELECT value FROM meta WHERE key = {self.dialect.mark}", (key,))
        return rows[0][0] if rows else None

    def embedding_space(self) -> EmbeddingSpace | None:
        return _space(self._query(_SPACE_SQL))

    def _space_in(self, conn: Any) -> EmbeddingSpace | None:
        """The embedding space as this write transaction sees it."""
        return _space(conn.execute(_SPACE_SQL).fetchall())


_SPACE_SQL = (
    "SELECT key, value FROM meta WHERE key IN ('embedding_model', 'embedding_dimension', 'embedding_recipe')"
)


def _space(rows: list[Any]) -> EmbeddingSpace | None:
    meta = dict(rows)
    if "embedding_model" not in meta or "embedding_dimension" not in meta:
        return None
    return EmbeddingSpace(meta["embedding_model"], int(meta["embedding_dimension"]), meta.get("embedding_recipe", ""))
