"""The plumbing both stores' mixins may count on: opening as a context manager, the backend's
Dialect, a query, a write transaction, and writes run again where the backend says so."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, ContextManager, TypeVar

from storage.dialect import Dialect

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
