"""The one storage interface: what the rest of Fathom may call on a store, that the SQLite store
has all of it, and which backend `open_store` picks."""
from __future__ import annotations

import inspect
import re
import struct
from pathlib import Path

import pytest

from storage import ChunkRow, EmbeddingSpace, IndexStore, SQLiteStore, StorageError, open_store

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


@pytest.mark.parametrize("name", interface_methods())
def test_the_sqlite_store_has_each_method_of_the_interface_with_its_signature(name: str) -> None:
    wanted = inspect.signature(getattr(IndexStore, name))
    got = inspect.signature(getattr(SQLiteStore, name))
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
    "url", ["postgresql://fathom:s3cret@db.example/fathom", "postgres://localhost/fathom", "PostgreSQL://h/db"]
)
def test_a_postgresql_url_is_refused_for_now_without_echoing_it(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a URL taken for a relative path would become a file here
    with pytest.raises(StorageError, match="cannot use a PostgreSQL database yet") as refused:
        open_store(url)
    assert "s3cret" not in str(refused.value) and "localhost" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []
