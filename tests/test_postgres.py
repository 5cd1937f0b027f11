"""What only the PostgreSQL store has to prove: BM25 as FTS5 computes it, pgvector's HNSW index
and what happens past its 2,000 dimensions, migrations, repair, backups said to be pg_dump's,
passwords never shown, and several writers (threads, processes) at once without duplicates or
lost rows. The behaviour both backends share is tested on both in test_storage.py,
test_ranking.py and test_cli.py."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import CORPUS, execute, json_lines, run_cli, write_corpus
from storage import ChunkFilter, ChunkRow, EmbeddingSpace, KeywordMatch, StorageError, open_store
from storage.postgres import PostgresStore
from storage.postgres.migrations import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


def vec(*values: float) -> bytes:
    return struct.pack(f"{len(values)}f", *values)


TEXTS = [
    "the heron waits in the reeds; the heron eats fish",
    "a parse_date helper: parseDate turns text into a date, date after date",
    "東京でラーメンを食べた。東京は大きい",
    "fish fish fish and chips",
    "reeds by the river, and a long text about nothing in particular " * 5,
    "the end",
]


def fill(store: object) -> None:
    store.set_embedding_space(EmbeddingSpace("m", 2))
    folder = store.add_folder("/docs")
    for i, text in enumerate(TEXTS):
        half = len(text) // 2
        rows = [ChunkRow(0, 0, half, None, text[:half], vec(1, i), "Notes"),
                ChunkRow(1, half, len(text), None, text[half:], vec(i, 1), "Notes › More")]
        store.write_file(folder.id, f"/docs/{'fish' if i % 2 else 'birds'}/file_{i}.txt", 1, 1, "h", rows,
                         title=f"Title {i} heron" if i == 3 else "")


@pytest.mark.parametrize("query", ["heron", "fish reeds", "parse_date", "date", "東京 ラーメン", "heron fish chips the",
                                   "birds", "title heron", "file_3"])
def test_keyword_scores_are_fts5s_bm25(tmp_path: Path, postgres_url: str, query: str) -> None:
    """The same rows, the same words: the same BM25 scores over chunks, whole files and names."""
    with open_store(tmp_path / "s.db") as sqlite, open_store(postgres_url) as postgres:
        fill(sqlite)
        fill(postgres)
        for name in ("keyword_chunks", "keyword_files", "name_files"):
            table = "chunks" if name == "keyword_chunks" else "files"
            match = sqlite.keyword_match(query, table)
            assert postgres.keyword_match(query, table) == match
            want = getattr(sqlite, name)(match, 20)
            got = getattr(postgres, name)(match, 20)
            assert [i for i, _ in got] == [i for i, _ in want], name  # ids: both count from 1
            assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-6, abs=1e-9), name


def test_common_words_are_left_out_of_a_large_index_as_in_sqlite(tmp_path: Path, postgres_url: str) -> None:
    with open_store(tmp_path / "s.db") as sqlite, open_store(postgres_url) as postgres:
        for store in (sqlite, postgres):
            fill(store)
            store.prune_from_rows = 4
        # every chunk is under "Notes", every file's name says "file" and "txt"
        assert postgres.keyword_match("notes heron chips") == sqlite.keyword_match("notes heron chips") == KeywordMatch(("heron", "chips"))
        assert postgres.keyword_match("file txt heron", "files") == sqlite.keyword_match("file txt heron", "files") == KeywordMatch(("heron",))
        assert postgres.keyword_match("notes file", "chunks") == sqlite.keyword_match("notes file", "chunks") == KeywordMatch(("file",))


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_the_hnsw_index_finds_what_exact_search_finds_and_filters_lose_nothing(postgres_url: str) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 64))
    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore)
        store.set_embedding_space(EmbeddingSpace("m", 64))
        folder = store.add_folder("/n")
        for f in range(40):
            vectors = unit(centres[(f * 25 + np.arange(25)) % 20] + 0.3 * rng.normal(size=(25, 64)))
            store.write_file(folder.id, f"/n/{'a' if f % 2 else 'b'}/{f}.md", 1, 1, "h",
                             [ChunkRow(i, 0, 1, None, "x", v.tobytes()) for i, v in enumerate(vectors)])
        plan = "\n".join(row[0] for row in execute(
            store, "EXPLAIN SELECT chunk_id FROM chunk_vectors ORDER BY embedding <=> %s LIMIT 10",
            (str(list(map(float, centres[0]))),),
        ))
        assert "chunk_vectors_hnsw" in plan
        recalls = []
        for q in range(10):
            query = unit((centres[q] + 0.3 * rng.normal(size=64))[None, :])[0].tobytes()
            exact = store.nearest_chunks_exact(query, 10)
            approximate = store.nearest_chunks_hnsw(query, 10)
            recalls.append(len({c for c, _ in exact} & {c for c, _ in approximate}) / 10)
            assert [d for _, d in approximate] == sorted(d for _, d in approximate)
        assert np.mean(recalls) >= 0.9
        # A filter that passes few chunks leaves the graph walk short: exact search fills it.
        only = ChunkFilter(path_glob="7.md")
        hits = store.nearest_chunks_hnsw(query, 10, only)
        assert len(hits) == 10 and all(store.chunks([c])[c].path == "/n/a/7.md" for c, _ in hits)
        store.exact_below_chunks = 500  # 1,000 chunks: the index answers
        assert store.nearest_chunks(query, 5) == store.nearest_chunks_hnsw(query, 5)
        assert "HNSW" in store.stats().vector_search


def test_past_2000_dimensions_search_is_exact_and_status_says_so(postgres_url: str) -> None:
    rng = np.random.default_rng(1)
    with open_store(postgres_url) as store:
        store.set_embedding_space(EmbeddingSpace("wide", 2048))
        folder = store.add_folder("/n")
        vectors = unit(rng.normal(size=(30, 2048)))
        store.write_file(folder.id, "/n/a.md", 1, 1, "h", [ChunkRow(i, 0, 1, None, "x", v.tobytes()) for i, v in enumerate(vectors)])
        store.exact_below_chunks = 0  # would take the index, if there were one
        (best, distance), *_ = store.nearest_chunks(vectors[7].tobytes(), 3)
        assert store.chunks([best])[best].ordinal == 7 and distance == pytest.approx(0, abs=1e-5)
        assert execute(store, "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'chunk_vectors' AND indexdef LIKE '%%hnsw%%'") == [(0,)]
        assert store.stats().vector_search.startswith("exact, every vector read: pgvector")
        assert "2,000" in store.stats().vector_search


def test_migrations_are_numbered_and_a_newer_database_is_refused(postgres_url: str) -> None:
    opened: list[object] = []
    threads = [threading.Thread(target=lambda: opened.append(open_store(postgres_url))) for _ in range(3)]
    for thread in threads:  # three processes starting at once: one migrates, the others wait
        thread.start()
    for thread in threads:
        thread.join()
    store = opened[0]
    assert all(isinstance(s, PostgresStore) for s in opened)
    assert execute(store, "SELECT number FROM fathom_migrations ORDER BY number") == [(n,) for n in range(1, SCHEMA_VERSION + 1)]
    assert store.stats().schema_version == SCHEMA_VERSION
    execute(store, "INSERT INTO fathom_migrations(number) VALUES (%s)", (SCHEMA_VERSION + 1,))
    for s in opened:
        s.close()
    with pytest.raises(StorageError, match="newer than this Fathom"):
        open_store(postgres_url)


def test_migration_3_keys_old_chunks_by_their_text(postgres_url: str) -> None:
    """A database of schema 2 gets the text keys of its chunks, equal to those new chunks get,
    so an old chunk's text serves a copy of it."""
    from storage.postgres.connection import connect
    from storage.postgres.migrations import migrate
    from storage.text_keys import text_key

    with connect(postgres_url) as conn:
        migrate(conn, postgres_url, stop_at=2)
        (folder,), = conn.execute("INSERT INTO folders(path, added_at) VALUES ('/n', 0) RETURNING id").fetchall()
        (file_id,), = conn.execute(
            "INSERT INTO files(folder_id, path, size, mtime_ns, sha256, status, indexed_at, embedded) "
            "VALUES (%s, '/n/a.md', 1, 1, 'h', 'indexed', 0, false) RETURNING id", (folder,),
        ).fetchall()
        conn.execute('INSERT INTO chunks(file_id, ordinal, start, "end", text, context) '
                     "VALUES (%s, 0, 0, 4, 'wörd', 'T')", (file_id,))
    with open_store(postgres_url) as store:
        assert store.stats().schema_version == SCHEMA_VERSION
        (key,), = execute(store, "SELECT text_key FROM chunks")
        assert bytes(key) == text_key("T", "wörd")
        store.set_embedding_space(EmbeddingSpace("m", 2))
        store.write_vectors([(store.pending_chunks(1)[0], vec(1, 0))])
        store.write_file(store.folders()[0].id, "/n/copy.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, "wörd", context="T")])
        assert store.pending_work().chunks == 0


def test_migration_2_sets_titles_apart_and_ranking_stays(tmp_path: Path, postgres_url: str) -> None:
    """A database of schema 1 gets each file's name, folders and title in a tsvector of their own,
    from the stored one: names rank by them (not by the text), whole files as before, and a
    rename follows."""
    from storage.file_text import name_fields
    from storage.fts import searchable_text
    from storage.postgres.connection import connect
    from storage.postgres.migrations import migrate
    from storage.postgres.words import tsvector

    files = [  # path, title, text
        ("/docs/birds/heron.txt", "Grey heron", "it waits in the reeds"),
        ("/docs/fish/chips.txt", "", "fish and chips, and a heron"),
        ("/docs/fish/file_3.txt", "Title heron", "nothing else"),
    ]
    with connect(postgres_url) as conn:
        migrate(conn, postgres_url, stop_at=1)
        (folder,), = conn.execute("INSERT INTO folders(path, added_at) VALUES ('/docs', 0) RETURNING id").fetchall()
        for path, title, text in files:
            (file_id,), = conn.execute(
                "INSERT INTO files(folder_id, path, size, mtime_ns, sha256, status, indexed_at) "
                "VALUES (%s, %s, 1, 1, 'h', 'indexed', 0) RETURNING id",
                (folder, path),
            ).fetchall()
            name, folders = name_fields(path, "/docs")
            literal, count = tsvector([(name, "A"), (folders, "B"), (searchable_text(title), "C"), (searchable_text(text), "D")])
            conn.execute("INSERT INTO file_words(file_id, keywords, words) VALUES (%s, %s::tsvector, %s)", (file_id, literal, count))
    with open_store(postgres_url) as store:
        assert store.stats().schema_version == SCHEMA_VERSION
        ids = {path: store.file_record(path).id for path, _, _ in files}
        named = lambda query: sorted(i for i, _ in store.name_files(store.keyword_match(query, "files"), 20))
        assert named("heron") == sorted([ids["/docs/birds/heron.txt"], ids["/docs/fish/file_3.txt"]])  # not the text
        assert named("birds") == [ids["/docs/birds/heron.txt"]]  # its folder
        assert named("chips") == [ids["/docs/fish/chips.txt"]]  # its name
        assert [i for i, _ in store.keyword_files(store.keyword_match("reeds", "files"), 20)] == [ids["/docs/birds/heron.txt"]]
        assert len(store.keyword_files(store.keyword_match("heron", "files"), 20)) == 3  # the whole file: the text too
        folder = store.folders()[0]
        store.move_files("/docs/fish/file_3.txt", "/docs/birds/renamed_3.txt", folder.id)
        moved = store.file_record("/docs/birds/renamed_3.txt").id
        assert [i for i, _ in store.name_files(store.keyword_match("renamed", "files"), 5)] == [moved]
        assert moved in [i for i, _ in store.name_files(store.keyword_match("heron", "files"), 5)]  # its title stays
        assert moved not in [i for i, _ in store.name_files(store.keyword_match("file_3", "files"), 5)]


def test_migration_4_keeps_the_words_of_the_files_already_indexed(postgres_url: str) -> None:
    """A database of schema 3 gets the vocabulary misspelled words are matched to, from the
    words of its files."""
    with open_store(postgres_url) as store:
        fill(store)
        execute(store, "DROP TABLE vocabulary")
        execute(store, "DELETE FROM fathom_migrations WHERE number = 4")
    with open_store(postgres_url) as store:
        assert store.stats().schema_version == SCHEMA_VERSION
        assert store.nearest_words(["herno", "brids"]) == {"herno": "heron", "brids": "birds"}


def test_check_repairs_and_backup_names_pg_dump(postgres_url: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(postgres_url) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        for i in range(3):
            store.write_file(folder.id, f"/n/{i}.md", 1, 1, "h", [ChunkRow(0, 0, 4, None, f"word{i}", vec(1, 0))])
        execute(store, "DELETE FROM chunk_vectors WHERE chunk_id = 1")
        execute(store, "UPDATE chunks SET keywords = NULL WHERE id = 2")
        execute(store, "DELETE FROM file_words WHERE file_id = 3")
        assert store.keyword_chunks(KeywordMatch(("word1",)), 10) == [] and store.name_files(KeywordMatch(("2",)), 10) == []
        code, out, err = run_cli(capsys, "status", "--check", "--json", "--database", postgres_url)
        assert code == 0, err
        check = json.loads(out)["check"]
        assert {k: v for k, v in check["problems"].items() if v} == {"chunks_without_vector": 1, "files_without_file_rows": 1,
                                                                     "chunks_without_keywords": 1}
        assert check["repaired"] == {"stray_vectors": 0, "files_to_reembed": 1, "keyword_rows_rebuilt": 1,
                                     "file_rows_rebuilt": 1, "indexes_rebuilt": 0}
        assert all(v is True or v == 0 for v in check["problems_after"].values())
        # the next index run embeds the chunk again; its words were searchable meanwhile
        assert [c.chunk_id for c in store.pending_chunks(10)] == [1] and store.keyword_chunks(KeywordMatch(("word0",)), 10)
        assert store.keyword_chunks(KeywordMatch(("word1",)), 10) and [f for f, _ in store.name_files(KeywordMatch(("2",)), 10)] == [3]

        code, out, err = run_cli(capsys, "backup", str(isolated_env / "copy.dump"), "--database", postgres_url)
        assert code == 1 and "pg_dump --format=custom" in err and "PostgreSQL database" in err


def test_the_password_in_a_url_is_shown_nowhere(postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from search.config import Settings

    # The test server trusts local connections: libpq sends no password, and it is never shown.
    with_password = postgres_url.replace("postgres:@", "postgres:hunter2-s3cret@")
    assert "hunter2" in with_password
    code, out, err = run_cli(capsys, "status", "--database", with_password)
    assert code == 0, err
    assert "hunter2" not in out + err and "Database:  postgresql://postgres@/fathom_test_" in out
    monkeypatch.setenv("FATHOM_DATABASE_URL", with_password)
    code, out, err = run_cli(capsys, "status", "--json")
    assert "hunter2" not in out and json.loads(out)["database"].startswith("postgresql://postgres@/")
    settings = Settings.resolve()
    assert settings.database == with_password and "hunter2" not in settings.database_name
    code, _, err = run_cli(capsys, "status", "--database", "mysql://root:hunter2@db/x")
    assert code == 1 and "--database takes a PostgreSQL URL" in err and "hunter2" not in err


def test_writers_of_the_same_files_at_once_leave_one_row_each(postgres_url: str) -> None:
    """Threads (each its own pool connection, as processes would be) write, move and delete
    the same paths at once: no error, no file twice, no chunk without its file."""
    with open_store(postgres_url) as store:
        store.set_embedding_space(EmbeddingSpace("m", 2))
        folder = store.add_folder("/n")
        errors: list[BaseException] = []

        def writer(seed: int) -> None:
            try:
                for round_ in range(15):
                    for f in range(6):
                        rows = [ChunkRow(i, 0, 1, None, f"w{seed} r{round_} c{i}", vec(1, i)) for i in range(1 + (seed + f) % 3)]
                        store.write_file(folder.id, f"/n/{f}.md", 1, round_, "h", rows)
                    if round_ % 5 == 4:
                        store.delete_files([r.id for r in store.files_under("/n/0.md")])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        paths = [r.path for r in store.files_under("/n")]
        assert sorted(paths) == sorted(set(paths)) and len(paths) >= 5
        assert all(v is True or v == 0 for v in store.integrity().values())
        for record in store.files_under("/n"):  # each file holds the chunks of one write, whole
            texts = [t for (t,) in execute(store, "SELECT text FROM chunks WHERE file_id = %s ORDER BY ordinal", (record.id,))]
            assert len({t.split(" c")[0] for t in texts}) == 1


def _index(database_url: str, model: str, data_dir: Path, *paths: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FATHOM_DATABASE_URL": database_url, "FATHOM_EMBEDDING_MODEL": model,
           "FATHOM_RERANKER_MODEL": "none", "FATHOM_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "app.py", "index", "--json", *map(str, paths)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _many_files(root: Path, n: int, topic: str) -> Path:
    for i in range(n):
        path = root / f"{i % 5}" / f"{topic}_{i}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {topic} {i}\n\nNote {i} about {topic}: " + " ".join(f"w{(i * 7 + j) % 97}" for j in range(60)),
                        encoding="utf-8")
    return root


@pytest.mark.parametrize("layout", ["two folders", "one folder twice"])
def test_two_index_processes_at_once_leave_a_sound_index(
    layout: str, postgres_url: str, minilm_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two machines index into one database at the same time: two folders, or the same folder.
    Every file is there once, with all its chunks and vectors, and search finds both."""
    first = _many_files(tmp_path / "herons", 40, "heron")
    second = _many_files(tmp_path / "otters", 40, "otter") if layout == "two folders" else first
    runs = [_index(postgres_url, minilm_path, tmp_path / "machine-a", first),
            _index(postgres_url, minilm_path, tmp_path / "machine-b", second)]
    outcomes = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outcomes):
        assert run.returncode == 0, err
    folders = {first, second}
    monkeypatch.setenv("FATHOM_DATABASE_URL", postgres_url)
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    code, out, err = run_cli(capsys, "status", "--json", "--check")
    assert code == 0, err
    status = json.loads(out)
    assert all(v is True or v == 0 for v in status["check"]["problems"].values()), status["check"]
    assert status["files"] == status["indexed_files"] == 40 * len(folders)
    assert status["waiting"] == {"files": 0, "chunks": 0, "tokens": 0}
    assert sorted(f["path"] for f in status["folders"]) == sorted(map(str, folders))
    with open_store(postgres_url) as store:
        (chunks, vectors, distinct), = execute(
            store, "SELECT COUNT(*), (SELECT COUNT(*) FROM chunk_vectors), COUNT(DISTINCT (file_id, ordinal)) FROM chunks")
        assert chunks == vectors == distinct >= 40 * len(folders)
    for topic, root in (("heron", first), ("otter", second)):
        code, out, err = run_cli(capsys, "search", f"note about {topic} 17", "--json", "-k", "1")
        assert code == 0, err
        assert json_lines(out)[0]["results"][0]["path"].startswith(str(root))


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://fathom:s3cret@db.example:5433/fathom", "postgresql://fathom@db.example:5433/fathom"),
        ("postgres://fathom@h1:5432,h2/fathom?sslmode=require&password=s3cret",
         "postgres://fathom@h1:5432,h2/fathom?sslmode=require"),
        ("postgresql://:s3cret@db/fathom", "postgresql://db/fathom"),
        ("postgresql:///fathom?host=/run/postgresql", "postgresql:///fathom?host=/run/postgresql"),
        ("postgresql://db/fathom?sslmode=verify-full&sslpassword=s3cret&sslcert=/c.pem&SSLPASSWORD=s3cret",
         "postgresql://db/fathom?sslmode=verify-full&sslcert=/c.pem"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    from storage import database_name
    from storage.postgres.connection import scrub

    assert database_name(url) == shown and "s3cret" not in shown
    assert "s3cret" not in scrub(f"could not connect to {url}", url)


def test_without_the_driver_the_sentence_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fathom` on PyPI is an unrelated package: the sentence says what the README says."""
    import builtins

    from storage import StorageError
    from storage.postgres.connection import driver

    real_import = builtins.__import__

    def without_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "psycopg":
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_psycopg)
    with pytest.raises(StorageError) as error:
        driver()
    message = str(error.value)
    assert "fathom[postgres]" not in message
    assert "pip install -e '.[postgres]'" in message and "psycopg-pool pgvector" in message
