"""Folders stay true while Fathom runs (watchdog), and after it was off."""
from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import CORPUS, FakeEmbedder, write_corpus
from search.ingest.indexer import Indexer
from search.ingest.watcher import ChangeQueue, Watcher
from search.query import SearchOptions, search
from storage import EmbeddingSpace, Store

SETTLE = 0.3


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_change_queue_coalesces_and_waits_for_quiet(tmp_path: Path) -> None:
    clock = FakeClock()
    changes = ChangeQueue(settle=1.0, clock=clock)
    path = tmp_path / "a.txt"
    path.write_text("one", encoding="utf-8")
    for _ in range(50):
        changes.touch(str(path))
    assert changes.due() == ([], [])  # too fresh
    clock.now += 1.5
    assert changes.due() == ([], [str(path)])  # once, however many events
    assert changes.due() == ([], [])


def test_change_queue_waits_for_a_file_still_being_written(tmp_path: Path) -> None:
    clock = FakeClock()
    changes = ChangeQueue(settle=1.0, clock=clock)
    path = tmp_path / "download.txt"
    path.write_text("partial", encoding="utf-8")
    changes.touch(str(path))
    path.write_text("partial and more", encoding="utf-8")  # grew without a new event yet
    clock.now += 1.5
    assert changes.due() == ([], [])  # size moved: check again later
    clock.now += 1.5
    assert changes.due() == ([], [str(path)])


@pytest.fixture
def live(tmp_path: Path, fake_embedder: FakeEmbedder):
    root = write_corpus(tmp_path / "docs")
    indexer = new_indexer(tmp_path, fake_embedder)
    store = indexer.store
    indexer.index_folders([root])
    watcher = Watcher(indexer, [root], settle=SETTLE).start()
    yield root, store, fake_embedder, watcher
    watcher.stop()
    store.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    assert check()


def paths(store: Store, query: str) -> list[str]:
    return [r.path for r in search(store, query, SearchOptions(mode="keyword", k=500, rerank=False))]


def test_create_edit_rename_delete_show_up_in_search(live) -> None:
    root, store, embedder, watcher = live
    note = root / "new-note.md"
    note.write_text("Quarterly budget review with the finance team", encoding="utf-8")
    eventually(lambda: str(note) in paths(store, "budget"))

    note.write_text("Quarterly offsite planning in the mountains", encoding="utf-8")
    eventually(lambda: str(note) in paths(store, "offsite") and str(note) not in paths(store, "budget"))
    eventually(watcher.idle)  # its words are searchable before its vectors are in

    calls = len(embedder.calls)
    renamed = root / "offsite.md"
    note.rename(renamed)
    eventually(lambda: paths(store, "offsite") == [str(renamed)])
    eventually(watcher.idle)
    assert len(embedder.calls) == calls, "a rename keeps its embeddings"

    renamed.unlink()
    eventually(lambda: paths(store, "offsite") == [])
    assert not watcher.errors


def test_folder_moves_and_deletes_follow(live) -> None:
    root, store, _, watcher = live
    (root / "code").rename(root / "src")
    eventually(lambda: paths(store, "fibonacci") == [str(root / "src/fibonacci.py")])
    for path in (root / "src").iterdir():
        path.unlink()
    (root / "src").rmdir()
    # the two files and the folder may settle in different batches: wait for all of them
    eventually(lambda: store.stats().files == len(CORPUS) - 2)
    assert paths(store, "fibonacci") == []
    assert not store.files_under(str(root / "src")) and not store.files_under(str(root / "code"))


def test_editor_save_via_rename(live) -> None:
    root, store, _, watcher = live
    target = root / "pets/cat.txt"
    temp = root / "pets/.cat.txt.swp"
    temp.write_text("Our cat now eats dry kibble only", encoding="utf-8")
    os.replace(temp, target)
    eventually(lambda: str(target) in paths(store, "kibble"))
    eventually(lambda: str(target) not in paths(store, "windowsill"))
    assert str(temp) not in paths(store, "kibble")


def test_a_burst_of_files_is_coalesced(live) -> None:
    root, store, embedder, watcher = live
    burst = root / "unzipped"
    burst.mkdir()
    for i in range(200):
        (burst / f"file{i}.txt").write_text(f"archive entry number{i} zebra", encoding="utf-8")
    eventually(lambda: len(paths(store, "zebra")) == 200, timeout=30)
    eventually(watcher.idle)
    assert store.integrity()["chunks_without_vector"] == 0


def test_ignored_places_stay_out(live) -> None:
    root, store, _, watcher = live
    (root / "node_modules/pkg").mkdir(parents=True)
    (root / "node_modules/pkg/readme.md").write_text("giraffe package", encoding="utf-8")
    (root / ".gitignore").write_text("secret/\n*.log\n", encoding="utf-8")
    (root / "secret").mkdir()
    (root / "secret/plan.txt").write_text("giraffe plan", encoding="utf-8")
    (root / "debug.log").write_text("giraffe log", encoding="utf-8")
    (root / "visible.txt").write_text("giraffe visible", encoding="utf-8")
    (root / "new").mkdir()  # a new folder: the root's .gitignore still applies inside it
    (root / "new/trace.log").write_text("giraffe trace", encoding="utf-8")
    eventually(lambda: str(root / "visible.txt") in paths(store, "giraffe"))
    eventually(watcher.idle)
    assert paths(store, "giraffe") == [str(root / "visible.txt")]


@pytest.fixture
def indexed(tmp_path: Path, fake_embedder: FakeEmbedder):
    root = write_corpus(tmp_path / "docs")
    indexer = new_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    yield root, indexer
    indexer.store.close()


def test_a_folder_that_cannot_be_watched_is_polled(indexed, monkeypatch) -> None:
    root, indexer = indexed

    def watch_limit_reached(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    watcher = Watcher(indexer, [root], settle=SETTLE, poll_every=0.5)
    monkeypatch.setattr(watcher._observer, "schedule", watch_limit_reached)
    with watcher:
        assert watcher.folders == [root]
        assert "max_user_watches" in watcher.polled[root]
        (root / "polled.md").write_text("A note about the narwhal", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "narwhal") == [str(root / "polled.md")])

        (root / "pets").rename(root.parent / "moved-away")  # out of the folder: gone
        eventually(lambda: paths(indexer.store, "windowsill") == [])

        away = root.parent / "unplugged"
        root.rename(away)  # the whole folder missing, like an unplugged drive: files stay
        time.sleep(1.5)
        assert paths(indexer.store, "narwhal") == [str(root / "polled.md")]
        assert not watcher.errors


def test_lost_events_are_caught_by_the_rescan(indexed) -> None:
    root, indexer = indexed
    watcher = Watcher(indexer, [root], settle=SETTLE, rescan_every=0.5)
    watcher._handler.changes = ChangeQueue()  # events go nowhere, as if the kernel dropped them
    with watcher:
        (root / "missed.md").write_text("An okapi was seen", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "okapi") == [str(root / "missed.md")])


def test_a_queue_overflow_rescans_at_once(indexed) -> None:
    root, indexer = indexed
    watcher = Watcher(indexer, [root], settle=SETTLE)  # next rescan in half an hour
    watcher._handler.changes = ChangeQueue()
    with watcher:
        (root / "missed.md").write_text("An okapi was seen", encoding="utf-8")
        time.sleep(0.5)
        assert paths(indexer.store, "okapi") == []
        # what watchdog logs when the kernel dropped events
        logging.getLogger("watchdog.observers.inotify").warning(
            "Inotify queue overflowed; reconciling recursive watches below %r", str(root)
        )
        eventually(lambda: paths(indexer.store, "okapi") == [str(root / "missed.md")])


def test_a_new_folder_and_its_files_in_one_update_embed_each_file_once(indexed, fake_embedder) -> None:
    """An unzip reports the folder and every file in it; the folder's scan finds the files too."""
    root, indexer = indexed
    burst = root / "unzipped"
    burst.mkdir()
    files = [burst / f"note{i}.txt" for i in range(5)]
    for i, path in enumerate(files):
        path.write_text(f"short note number {i}", encoding="utf-8")
    fake_embedder.calls.clear()
    report = indexer.update_paths([burst, *files, files[0]])
    assert report.added == 5
    assert sum(fake_embedder.calls) == 5


def inotify_watches(root: Path) -> int:
    """Kernel watches this process holds on folders under `root` (Linux: the inotify fds'
    /proc/self/fdinfo, one line per watch, matched by inode)."""
    inodes = {format(p.stat().st_ino, "x") for p in [root, *root.rglob("*")] if p.is_dir()}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                with open(f"/proc/self/fdinfo/{fd}", encoding="utf-8") as info:
                    for line in info:
                        if line.startswith("inotify wd:"):
                            fields = dict(f.split(":", 1) for f in line.split()[1:] if ":" in f)
                            count += fields.get("ino") in inodes
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc")
def test_no_watches_inside_folders_never_indexed(indexed) -> None:
    root, indexer = indexed
    for top in ("node_modules", ".git", "build", "py311"):
        for i in range(30):
            (root / top / f"pkg{i}" / "lib").mkdir(parents=True)
    (root / "py311" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    wanted = 1 + sum(1 for p in root.rglob("*") if p.is_dir() and not any(
        part in ("node_modules", ".git", "build", "py311") for part in p.relative_to(root).parts
    ))
    with Watcher(indexer, [root], settle=SETTLE) as watcher:
        assert inotify_watches(root) == wanted  # not the 244 folders below those four
        (root / "fresh" / "node_modules" / "dep").mkdir(parents=True)  # a new project appears
        (root / "fresh" / "notes.md").write_text("A note about the quokka", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "quokka") == [str(root / "fresh" / "notes.md")])
        assert inotify_watches(root) == wanted + 1  # "fresh", not its node_modules
        assert not watcher.errors


def new_indexer(tmp_path: Path, embedder: FakeEmbedder) -> Indexer:
    store = Store(tmp_path / "index.db")
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    return Indexer(store, embedder, chunk_tokens=64, overlap_tokens=8)


def test_catching_up_after_being_off(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """What changed while Fathom was not running is found by stat, then hash."""
    root = write_corpus(tmp_path / "docs")
    indexer = new_indexer(tmp_path, fake_embedder)
    store = indexer.store
    indexer.index_folders([root])
    # "Fathom is off": edit, add, delete, and touch without changing.
    (root / "pets/cat.txt").write_text("The cat learned to open doors", encoding="utf-8")
    (root / "new.md").write_text("A brand new walrus note", encoding="utf-8")
    (root / "garden/tomatoes.md").unlink()
    os.utime(root / "health/running.txt", ns=(5, 5))
    report = indexer.index_folders([root])
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert report.unchanged == len(CORPUS) - 2
    assert paths(store, "walrus") == [str(root / "new.md")]


def test_symlink_loops_do_not_hang(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "outside.txt").symlink_to(tmp_path / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("not in the folder", encoding="utf-8")
    report = new_indexer(tmp_path, fake_embedder).index_folders([root])
    assert report.added == len(CORPUS)


def test_overlapping_folders_index_a_file_once(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    indexer = new_indexer(tmp_path, fake_embedder)
    store = indexer.store
    indexer.index_folders([root])
    inner = indexer.index_folders([root / "code"])
    assert inner.added == 0 and inner.unchanged == 2
    again = indexer.index_folders([root, root / "code"])
    assert again.added == again.updated == again.removed == 0
    assert store.stats().files == len(CORPUS)
    assert paths(store, "fibonacci") == [str(root / "code/fibonacci.py")]


def test_a_folder_below_hidden_and_build_folders_is_followed_live(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """The never-indexed rule applies to the part of a path inside the indexed folder: a folder
    a person chose below ~/.config/x/build is watched like any other."""
    root = write_corpus(tmp_path / ".config" / "x" / "build" / "notes")
    indexer = new_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    with Watcher(indexer, [root], settle=SETTLE) as watcher:  # next rescan in half an hour
        note = root / "fresh.md"
        note.write_text("A note about the capybara", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "capybara") == [str(note)], timeout=5)
        note.unlink()
        eventually(lambda: paths(indexer.store, "capybara") == [], timeout=5)
        (root / "build").mkdir()  # inside the folder, a build folder is still left out
        (root / "build" / "out.md").write_text("A capybara in the build output", encoding="utf-8")
        (root / "seen.md").write_text("A capybara that counts", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "capybara") == [str(root / "seen.md")], timeout=5)
        eventually(watcher.idle)
        assert paths(indexer.store, "capybara") == [str(root / "seen.md")]
        assert not watcher.errors


def test_one_rule_for_the_walk_single_paths_and_events(tmp_path: Path) -> None:
    from search.ingest.walk import walk, wanted
    from search.ingest.watcher import noise

    root = tmp_path / ".local" / "share" / "env" / "dist" / "docs"  # never-indexed names above
    kept = ["a.md", "sub/b.txt", "sub/deeper/c"]
    left_out = [".git/d.md", "build/e.md", "sub/node_modules/f.md", "py311/g.md", "sub/.cache/h.md",
                "x.egg-info/i.md"]
    for rel in kept + left_out:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("text", encoding="utf-8")
    (root / "py311" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    walked = {str(p.relative_to(root)) for p in walk(root).files}
    assert walked == set(kept)
    for rel in kept + left_out:
        path = root / rel
        assert wanted(path, root) == (rel in kept), rel
        assert noise(str(path), [root]) == (rel not in kept), rel
        assert noise(str(path.parent), [root], is_dir=True) == (rel not in kept), rel


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_weeks_of_watching_open_no_more_connections_or_files(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """50 updates of one file, each searched from a thread of its own, as the page's request
    threads come and go: the number of open files does not grow with them."""
    import threading

    root = write_corpus(tmp_path / "docs")
    indexer = new_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    note = root / "note.md"
    counts = []
    with Watcher(indexer, [root], settle=0.05) as watcher:
        for i in range(50):
            note.write_text(f"version word{i}", encoding="utf-8")
            found: list[list[str]] = []

            def look(word: str = f"word{i}") -> None:  # a page request, on a fresh thread
                found.append(paths(indexer.store, word))

            deadline = time.monotonic() + 10
            while not (found and found[-1] == [str(note)]) and time.monotonic() < deadline:
                thread = threading.Thread(target=look)
                thread.start()
                thread.join()
                time.sleep(0.02)
            assert found[-1] == [str(note)]
            counts.append(open_files())
        assert not watcher.errors
    # A read connection holds up to 3 files (the database, its -wal and -shm), and the store
    # keeps 4 idle at most: the count is bounded, whatever the number of updates.
    assert max(counts) - counts[0] <= 3 * 4, f"open files grew from {counts[0]} to {max(counts)}"
    assert indexer.store._readers.open_connections <= 4
    indexer.store.close()


def secrets_behind_links(root: Path) -> dict[str, Path]:
    """Files that are never read, each reached by a link with a harmless name inside the folder."""
    (root / ".env").write_text("API_KEY=okapi-env-secret", encoding="utf-8")
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git/config").write_text("[remote] url = okapi-git-secret", encoding="utf-8")
    (root / ".gitignore").write_text("secrets/\n", encoding="utf-8")
    (root / "secrets").mkdir(exist_ok=True)
    (root / "secrets/creds").write_text("okapi-gitignored-secret", encoding="utf-8")
    (root / "server.key").write_text("okapi-key-secret", encoding="utf-8")
    links = {"visible.txt": ".env", "gitconfig.txt": ".git/config", "creds.txt": "secrets/creds", "key.txt": "server.key"}
    for name, target in links.items():
        (root / name).symlink_to(root / target)
    return {name: root / name for name in links}


def test_links_to_files_never_read_are_not_read(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """`ln -s .env visible.txt`: the rules hold for the file a link leads to, in a walk and live."""
    from search.ingest.walk import walk

    root = write_corpus(tmp_path / "docs")
    linked = secrets_behind_links(root)
    (root / "note-link.txt").symlink_to(root / "pets/cat.txt")  # a link to a file that is read: kept
    found = walk(root)
    reasons = {Path(path).name: why for path, why, _ in found.ignored}
    for name in linked:
        assert root / name not in found.files and "a link to a file that is never read" in reasons[name], name
    assert root / "note-link.txt" in found.files
    indexer = new_indexer(tmp_path, fake_embedder)
    indexer.index_folders([root])
    assert paths(indexer.store, "okapi") == []
    with Watcher(indexer, [root], settle=SETTLE) as watcher:
        (root / "later.txt").symlink_to(root / ".env")
        (root / "okapi.txt").write_text("an okapi in the open", encoding="utf-8")
        eventually(lambda: paths(indexer.store, "okapi") == [str(root / "okapi.txt")])
        eventually(watcher.idle)
        assert paths(indexer.store, "okapi") == [str(root / "okapi.txt")]
    indexer.store.close()
