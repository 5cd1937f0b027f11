"""The one storage interface: what the rest of Fathom may call on a store, that both stores
(SQLite and PostgreSQL) have all of it, and which backend `open_store` picks."""
from __future__ import annotations

import inspect
import re
import struct
from pathlib import Path

import pytest

from storage import ChunkRow, EmbeddingSpace, IndexStore, SQLiteStore, StorageError, open_store
from storage.postgres import PostgresStore

STORES = [SQLiteStore, PostgresStore]

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|PRAGMA|CREATE (TABLE|INDEX|VIRTUAL TABLE))\b|\bUPDATE \w+ SET\b")


def interface_methods() -> list[str]:
    return sorted(
        name
        for name, value in vars(IndexStore).items()
        if inspect.isfunction(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
    )


def fathom_outside_storage() -> list[Path]:
    """The code above storage/: the CLI and the search package (the benches may poke SQLite)."""
    return [ROOT / "app.py", *sorted((ROOT / "search").rglob("*.py"))]


def test_the_interface_lists_the_calls_of_indexing_search_and_status() -> None:
    names = interface_methods()
    for name in ("write_file", "nearest_chunks", "keyword_match", "passages", "integrity", "backup", "stats"):
        assert name in names


@pytest.mark.parametrize("store_class", STORES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", interface_methods())
def test_each_store_has_each_method_of_the_interface_with_its_signature(name: str, store_class: type) -> None:
    wanted = inspect.signature(getattr(IndexStore, name))
    got = inspect.signature(getattr(store_class, name))
    assert got.return_annotation == wanted.return_annotation
    params = list(got.parameters.values())
    assert len(params) >= len(wanted.parameters)
    for have, want in zip(params, wanted.parameters.values()):
        assert (have.name, have.kind, have.default, have.annotation) == (
            want.name, want.kind, want.default, want.annotation
        )
    for extra in params[len(wanted.parameters) :]:  # more is fine, if callers need not pass it
        assert extra.default is not inspect.Parameter.empty or extra.kind in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
        )


def test_a_sqlite_store_is_an_index_store(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        assert isinstance(store, IndexStore)


def test_open_store_opens_a_postgresql_url_as_a_postgres_store(postgres_url: str) -> None:
    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore) and isinstance(store, IndexStore)
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/notes")
        store.write_file(folder.id, "/notes/a.md", 1, 1, "h", [ChunkRow(0, 0, 5, None, "hello", struct.pack("2f", 1, 0))])
    with open_store(postgres_url) as again:
        assert [f.path for f in again.folders()] == ["/notes"] and again.stats().chunks == 1


def test_search_and_the_cli_call_nothing_on_a_store_but_the_interface() -> None:
    called: dict[str, str] = {}
    for path in fathom_outside_storage():
        for name in re.findall(r"\bstore\.([A-Za-z_]\w*)", path.read_text(encoding="utf-8")):
            called.setdefault(name, path.name)
    assert called, "the pattern finds the store's callers"
    assert {name: where for name, where in called.items() if name not in interface_methods()} == {}


def test_sql_and_the_sqlite_store_stay_inside_storage() -> None:
    for path in fathom_outside_storage():
        text = path.read_text(encoding="utf-8")
        assert not SQL.search(text), f"SQL in {path}"
        assert not re.search(r"\b(SQLiteStore|Store)\(|storage\.sqlite", text), f"{path} builds a store without open_store"


def test_open_store_keeps_a_path_in_a_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "data" / "index.db"
    with open_store(db) as store:
        assert isinstance(store, SQLiteStore)
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/notes")
        store.write_file(folder.id, "/notes/a.md", 1, 1, "h", [ChunkRow(0, 0, 5, None, "hello", struct.pack("2f", 1, 0))])
    with open_store(str(db)) as again:
        assert [f.path for f in again.folders()] == ["/notes"]
        assert again.stats().chunks == 1


@pytest.mark.parametrize(
    "url", ["postgresql://fathom:s3cret@127.0.0.1:1/fathom", "postgres://fathom@127.0.0.1:1/fathom?password=s3cret",
            "PostgreSQL://fathom:s3cret@127.0.0.1:1/db"]
)
def test_a_postgresql_url_is_never_a_file_and_its_password_is_never_echoed(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a URL taken for a relative path would become a file here
    with pytest.raises(StorageError, match="Cannot connect to the PostgreSQL database") as refused:
        open_store(url)  # nothing listens on port 1
    assert "s3cret" not in str(refused.value) and "127.0.0.1:1" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_without_psycopg_a_postgresql_url_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as if it were not installed
    with pytest.raises(StorageError, match=r"pip install -e '\.\[postgres\]'") as refused:
        open_store("postgresql://fathom:s3cret@db.example/fathom")
    assert "s3cret" not in str(refused.value)
    assert "fathom[postgres]" not in str(refused.value)  # PyPI's `fathom` is another project
