"""PDF, DOCX, EPUB and HTML are read in a worker process under a time and a memory limit:
one hostile file fails alone, with the reason, and the rest of the folder is indexed."""
from __future__ import annotations

from pathlib import Path

from conftest import CORPUS, FakeEmbedder, write_corpus
from doc_fixtures import write_notebook
from pdf_fixtures import write_text_pdf
from search.ingest.indexer import Indexer
from search.ingest.parsing import Parser
from search.query import SearchOptions, search
from storage import EmbeddingSpace, Store


def found(store: Store, words: str) -> list[str]:
    return [r.path for r in search(store, words, SearchOptions(mode="keyword", rerank=False))]


def test_a_file_that_hangs_or_eats_memory_fails_alone(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = write_corpus(tmp_path / "docs")
    write_text_pdf(root / "manual.pdf", ["How to clean the espresso machine."])
    write_text_pdf(root / "hangs.pdf", ["A PDF whose objects loop forever."])
    (root / "hogs.html").write_text("<p>A page that unpacks to gigabytes.</p>", encoding="utf-8")
    write_notebook(root / "hogs.ipynb", [("markdown", "# A notebook of 45 MB: a gigabyte to parse")])
    write_text_pdf(root / "later.pdf", ["How to descale the kettle."])
    store = Store(tmp_path / "index.db")
    store.set_embedding_space(EmbeddingSpace(fake_embedder.name, fake_embedder.dimension))
    parser = Parser(seconds=2, seconds_per_mb=0, memory_mb=300, reader="hostile_readers:hostile")
    try:
        report = Indexer(store, fake_embedder, 64, 8, parser=parser).index_folders([root])
    finally:
        parser.close()
    assert dict(report.failed) == {
        str(root / "hangs.pdf"): "took longer than 2 s to read, so Fathom stopped reading it "
        "(a damaged or hostile file?)",
        str(root / "hogs.html"): "needed more than 300 MB of memory to read, so Fathom stopped "
        "reading it (a damaged or hostile file?)",
        str(root / "hogs.ipynb"): "needed more than 300 MB of memory to read, so Fathom stopped "
        "reading it (a damaged or hostile file?)",  # in the worker, not in Fathom's own process
    }
    assert report.added == len(CORPUS) + 2
    assert found(store, "espresso") == [str(root / "manual.pdf")]
    assert found(store, "kettle") == [str(root / "later.pdf")]
    assert sorted(store.stats().failed) == sorted(report.failed)


def test_the_worker_is_reused_and_reads_what_the_process_would(tmp_path: Path) -> None:
    from search.ingest.extract import extract

    page = tmp_path / "page.html"
    page.write_text("<title>Notes</title><p>Sourdough starter</p>", encoding="utf-8")
    pdf = write_text_pdf(tmp_path / "two.pdf", ["first page", "second page"])
    parser = Parser()
    try:
        assert parser.extract(page, 10**6) == extract(page, 10**6)
        first = parser._idle[0].process.pid
        assert parser.extract(pdf, 10**6) == extract(pdf, 10**6)
        assert parser._idle[0].process.pid == first  # one long-lived worker, not one per file
    finally:
        parser.close()
