"""A real `kill -9` in the middle of indexing, then a restart, leaves a clean index."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import Store
from storage.sqlite import connect

ROOT = Path(__file__).resolve().parent.parent
FILES = 150


def write_files(root: Path) -> None:
    root.mkdir(parents=True)
    for i in range(FILES):
        body = " ".join(f"note{i} talks about subject {i % 13} and item {j}." for j in range(1 + (i % 7) * 12))
        (root / f"note{i:03}.md").write_text(body, encoding="utf-8")


def count(db: Path, what: str) -> int:
    """Files written (the words phase) or vectors stored (the meaning phase) so far."""
    sql = {"files": "SELECT COUNT(*) FROM files", "vectors": "SELECT COUNT(*) FROM chunk_codes"}[what]
    if not db.exists():
        return 0
    try:
        conn = connect(db)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except Exception:  # schema not there yet
        return 0


@pytest.mark.slow
def test_kill_9_at_any_moment_then_restart(tmp_path: Path, minilm_path: str) -> None:
    docs = tmp_path / "docs"
    write_files(docs)
    data = tmp_path / "data"
    db = data / "fathom.db"
    env = {
        **os.environ,
        "FATHOM_DATA_DIR": str(data),
        "FATHOM_EMBEDDING_MODEL": minilm_path,
        "FATHOM_RERANKER_MODEL": "none",
    }
    command = [sys.executable, str(ROOT / "app.py"), "index", str(docs)]
    killed_at = []
    # Kill at the start, early in the words phase, deep into it, and in the meaning phase.
    for what, wait_for in (("files", 0), ("files", 5), ("files", 60), ("vectors", 40)):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while count(db, what) < wait_for and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if wait_for == 0:
            time.sleep(0.5)
        killed_at.append((count(db, "files"), count(db, "vectors")))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    print("killed at (files, vectors)", killed_at)
    files, vectors = killed_at[-1]
    assert files == FILES and 0 < vectors, "the last kill must come in the meaning phase"
    with Store(db) as store:
        assert store.pending_work().chunks > 0, "embedding finished before the last kill: make the corpus larger"

    final = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    with Store(db) as store:
        problems = store.integrity()
        assert problems == {
            "chunks_without_vector": 0,
            "vectors_without_chunk": 0,
            "duplicate_chunks": 0,
            "chunks_without_code": 0,
            "codes_without_chunk": 0,
            "chunks_without_fts": 0,
            "fts_without_chunk": 0,
            "files_without_file_rows": 0,
            "fts_ok": True,
        }
        assert store.pending_work().chunks == 0
        stats = store.stats()
        assert stats.files == stats.indexed == FILES
        conn = store._conn
        assert conn.execute("SELECT COUNT(*) FROM files f WHERE NOT EXISTS "
                            "(SELECT 1 FROM chunks c WHERE c.file_id = f.id)").fetchone()[0] == 0
