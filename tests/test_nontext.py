"""Text that is not text (encoded data, hex dumps, minified bundles, numbers without words) is
left out of the index with a reason, a blob inside a note is left out of its passages, and no
file outgrows the passage limit unnoticed; prose in any script, code, CSV and Markdown are kept."""
from __future__ import annotations

import base64
import json
import random
import time
import uuid
from pathlib import Path

import pytest

from conftest import FakeEmbedder, WordTokenizer, execute, json_lines, run_cli
from search.config import DEFAULT_MAX_PASSAGES, Settings
from search.errors import FathomError
from search.ingest.chunk import chunk_text
from search.ingest.indexer import MAX_PASSAGES, Indexer
from search.ingest.nontext import find_non_text
from search.page import render_library
from search.live import LibraryView
from search.query import SearchOptions, search
from search.wording import TERMINAL, worded
from storage import EmbeddingSpace, open_store

REPO = Path(__file__).resolve().parents[1]
PROSE = {
    "en": "The lighthouse keeper wrote in his diary every evening about the ships and the weather. ",
    "zh": "灯塔看守人每天晚上都在日记里写下经过的船只和天气的变化，他已经在岛上住了二十三年。",
    "ja": "灯台守は毎晩、通り過ぎる船と天気について日記を書いていました。島に住んで二十三年になります。",
    "ru": "Смотритель маяка каждый вечер писал в дневнике о кораблях и погоде на острове. ",
    "ar": "كان حارس المنارة يكتب كل مساء في مذكراته عن السفن والطقس في الجزيرة. ",
}


def _random(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def base64_log(lines: int = 400) -> str:
    """What a service writes when it logs each frame it sends, base64-encoded."""
    rng = random.Random(1)
    return "".join(
        f"2026-11-02 10:15:{i % 60:02d} DEBUG frame={base64.b64encode(rng.randbytes(600)).decode()}\n"
        for i in range(lines)
    )


def base64_file(size: int = 60_000) -> str:
    encoded = base64.b64encode(_random(2, size)).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"


def hex_dump(size: int = 8192) -> str:
    """`xxd` output: offset, eight groups of four hex digits, the bytes as ASCII."""
    data = _random(3, size)
    lines = []
    for offset in range(0, size, 16):
        row = data[offset : offset + 16]
        groups = " ".join(row[i : i + 2].hex() for i in range(0, 16, 2))
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset:08x}: {groups}  {ascii_}")
    return "\n".join(lines) + "\n"


def uuid_list(count: int = 3000) -> str:
    rng = random.Random(4)
    return "\n".join(str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)) + "\n"


def numbers_csv(rows: int) -> str:
    rng = random.Random(5)
    header = "station,temperature,humidity,pressure,wind,rain,sun,visibility\n"
    return header + "".join(
        ",".join(f"{rng.uniform(0, 1000):.3f}" for _ in range(8)) + "\n" for _ in range(rows)
    )


def note_with_image() -> str:
    image = base64.b64encode(_random(6, 30_000)).decode()
    return (
        "# Trip to the lighthouse\n\nWe walked along the cliffs to the old lighthouse and the keeper "
        "showed us his logbook.\n\n"
        f"![the lighthouse](data:image/png;base64,{image})\n\n"
        "On the way back we stopped at the bakery for cardamom buns.\n"
    )


# -- what is found, in the text itself ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        (base64_log(), "base64"),
        (base64_file(), "base64"),
        (hex_dump(), "hex dump"),
        (uuid_list(), "hex strings"),
        (numbers_csv(30_000), "numbers or symbols without words"),  # 1.7 MB of numbers
    ],
    ids=["base64-log", "base64-file", "hex-dump", "uuid-list", "numeric-dump"],
)
def test_text_that_is_not_text_is_refused_with_what_it_is(text: str, words: str) -> None:
    refusal = find_non_text(text).refusal
    assert refusal is not None and words in refusal and "not words to search" in refusal


@pytest.mark.parametrize(
    "text",
    [
        *(line * 3000 for line in PROSE.values()),
        (REPO / "README.md").read_text(encoding="utf-8"),
        (REPO / "search" / "ingest" / "indexer.py").read_text(encoding="utf-8"),
        (REPO / "storage" / "sqlite" / "writes.py").read_text(encoding="utf-8"),
        # Rust, and names full of digits and case changes that look random but are words
        "fn main() {\n    let parsed: Vec<u8> = decode_utf16le_bom(&bytes)?;\n}\n" * 500,
        ",\n".join(f'("cuD3D{i}ResourceGetMappedArray", "hipD3D{i}ResourceGetMappedArray")' for i in range(800)),
        numbers_csv(10_000),  # 570 KB of numbers: a table a person may well search
        "x=1;y=2;z=x+y;console.log(z);function f(a,b){return a*b}\n" * 400,  # terse code, short lines
        "sha256 3243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c8 lighthouse.tar\n" * 5,
    ],
    ids=["en", "zh", "ja", "ru", "ar", "markdown", "python", "python-sql", "rust", "identifiers", "csv",
         "terse-js", "a-few-hashes"],
)
def test_prose_code_and_tables_are_never_refused(text: str) -> None:
    found = find_non_text(text)
    assert found.refusal is None
    assert found.left_out == []


def test_a_blob_inside_a_note_is_left_out_of_its_passages_not_its_words() -> None:
    text = note_with_image()
    found = find_non_text(text)
    assert found.refusal is None
    (start, end), = found.left_out
    assert text[start:end].startswith("iVBO") is False  # random bytes, not a PNG: any base64
    assert "lighthouse" not in text[start:end] and "cardamom" not in text[start:end]
    chunks = chunk_text(text, WordTokenizer(), 64, 8, left_out=found.left_out)
    joined = " ".join(c.text for c in chunks)
    assert "lighthouse" in joined and "cardamom buns" in joined
    assert all(len(c.text) < 400 for c in chunks)  # no passage of base64
    assert all(c.text == text[c.start : c.end] for c in chunks)  # offsets still exact


def test_left_out_spans_and_page_breaks_are_both_kept() -> None:
    pages = ["Page one tells of the harbour and its boats. " * 20, "Page two tells of the lighthouse. " * 20]
    blob = base64.b64encode(_random(8, 3_000)).decode()
    text = pages[0] + blob + " " + pages[1]
    start = len(pages[0])
    left_out = [(start, start + len(blob))]
    chunks = chunk_text(text, WordTokenizer(), 32, 4, breaks=[start + len(blob) + 1], left_out=left_out)
    assert chunks and all(c.end <= start or c.start >= start + len(blob) for c in chunks)
    assert not any(c.start < start + len(blob) + 1 < c.end for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert "harbour" in joined and "lighthouse" in joined
    assert len(chunk_text(text, WordTokenizer(), 32, 4, left_out=left_out, limit=3)) == 3


def test_finding_it_is_one_quick_pass_over_4_mb() -> None:
    """A 4 MB base64 log and 4 MB of prose, each in well under a second (about 0.1-0.4 s here)."""
    log = base64.b64encode(_random(7, 3_000_000)).decode()
    log = "\n".join(log[i : i + 76] for i in range(0, len(log), 76))
    prose = (PROSE["en"] * 60_000)[:4_000_000]
    for text in (log, prose):
        started = time.perf_counter()
        find_non_text(text)
        assert time.perf_counter() - started < 2.0


# -- through the indexer ---------------------------------------------------------------------------


def _indexer(tmp_path: Path, embedder: FakeEmbedder, database: Path | str | None = None, **kwargs: object) -> Indexer:
    store = open_store(database or tmp_path / "index.db")
    store.set_embedding_space(EmbeddingSpace(embedder.name, embedder.dimension))
    return Indexer(store, embedder, chunk_tokens=64, overlap_tokens=8, **kwargs)  # type: ignore[arg-type]


def _chunk_texts(indexer: Indexer, path: Path) -> list[str]:
    return [row[0] for row in execute(
        indexer.store,
        "SELECT c.text FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = %s ORDER BY c.ordinal",
        (str(path),),
    )]


def test_the_indexer_lists_what_is_not_text_and_keeps_the_rest(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    root = tmp_path / "docs"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "frames.log").write_text(base64_log(), encoding="utf-8")
    (root / "logs" / "core.hex").write_text(hex_dump(), encoding="utf-8")
    (root / "logs" / "ids.txt").write_text(uuid_list(), encoding="utf-8")
    # a bundle on one line, and a megabyte of JSON on one line
    (root / "vendor.js").write_text("var a=function(b){return b+1};" * 400, encoding="utf-8")
    (root / "export.json").write_text(
        json.dumps([{"id": i, "v": [i * 0.5] * 20} for i in range(12_000)]), encoding="utf-8"
    )
    kept = {
        "note.md": note_with_image(),
        "notes/zh.md": PROSE["zh"] * 20,
        "notes/ru.txt": PROSE["ru"] * 20,
        "notes/ar.txt": PROSE["ar"] * 20,
        "weather.csv": numbers_csv(300),
        "indexer.py": (REPO / "search" / "ingest" / "indexer.py").read_text(encoding="utf-8"),
        "README.md": (REPO / "README.md").read_text(encoding="utf-8"),
    }
    for rel, text in kept.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")

    indexer = _indexer(tmp_path, fake_embedder)
    report = indexer.index_folders([root])

    skipped = dict(report.skipped)
    assert "base64" in skipped[str(root / "logs" / "frames.log")]
    assert "hex dump" in skipped[str(root / "logs" / "core.hex")]
    assert "hex strings" in skipped[str(root / "logs" / "ids.txt")]
    assert "minified bundle" in skipped[str(root / "vendor.js")]
    assert "minified JSON" in skipped[str(root / "export.json")]
    assert len(skipped) == 5 and report.failed == []
    assert dict(indexer.store.stats().skipped) == skipped  # what `status` and the page list
    assert report.added == len(kept)
    for rel in kept:
        assert _chunk_texts(indexer, root / rel), rel
    note = " ".join(_chunk_texts(indexer, root / "note.md"))
    assert "keeper" in note and "cardamom" in note and "base64," in note
    assert max(len(t) for t in _chunk_texts(indexer, root / "note.md")) < 400  # no passage of base64


def test_a_file_over_the_passage_limit_is_cut_and_listed(
    tmp_path: Path, fake_embedder: FakeEmbedder, database: Path | str
) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    long = root / "diary.txt"
    long.write_text("".join(f"Day {i}: the keeper trimmed the wick and logged the weather.\n\n" for i in range(200))
                    + "The last page names the albatross.\n", encoding="utf-8")
    (root / "short.txt").write_text("A short note about the fog horn.", encoding="utf-8")

    strict = _indexer(tmp_path, fake_embedder, database, max_passages=5)
    report = strict.index_folders([root])
    (path, reason), = report.cut
    assert path == str(long)
    assert reason.startswith("cut at 5 passages (the first ") and "(raise the limit with --max-passages)" in worded(reason, TERMINAL)
    assert len(_chunk_texts(strict, long)) == 5
    assert strict.store.stats().cut == [(str(long), reason)]
    assert strict.store.stats().indexed == 2  # indexed, up to the limit
    assert strict.index_folders([root]).cut == []  # unchanged, same limit: not read again
    # past the cut, the file is still found by its words
    assert "albatross" not in " ".join(_chunk_texts(strict, long))
    found = search(strict.store, "albatross", SearchOptions(k=5, rerank=False), fake_embedder)
    assert found[0].path == str(long)

    raised = Indexer(strict.store, fake_embedder, chunk_tokens=64, overlap_tokens=8, max_passages=MAX_PASSAGES)
    again = raised.index_folders([root])
    assert (again.updated, again.cut) == (1, [])
    assert len(_chunk_texts(raised, long)) > 5
    assert "albatross" in _chunk_texts(raised, long)[-1]
    assert raised.store.stats().cut == []


def test_the_page_lists_cut_files_among_those_not_indexed() -> None:
    library = LibraryView(
        folders=[], busy=False, progress=None, running=[], notice=None, error=None, last_run=None,
        last_change=None, watch_error=None, indexed_files=1, chunks=2000,
        cut=[("/docs/huge.log", "cut at 2,000 passages (the first 12% of its text)")],
    )
    html = render_library.problems(library)
    assert "fathom-state-cut" in html and "huge.log" in html and "cut at 2,000 passages" in html
    assert render_library.problems_label(library) == "Files not indexed (1)"


# -- the setting ----------------------------------------------------------------------------------


def test_the_passage_limit_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_PASSAGES == DEFAULT_MAX_PASSAGES == 2_000
    assert Settings.resolve().max_passages == 2_000
    monkeypatch.setenv("FATHOM_MAX_PASSAGES", "300")
    assert Settings.resolve().max_passages == 300
    assert Settings.resolve(max_passages=40).max_passages == 40
    monkeypatch.setenv("FATHOM_MAX_PASSAGES", "many")
    with pytest.raises(FathomError, match="FATHOM_MAX_PASSAGES must be a number, found 'many'"):
        Settings.resolve()


def _long_corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "diary.txt").write_text(
        "".join(f"Day {i}: the keeper trimmed the wick and logged the weather at the lighthouse.\n\n"
                for i in range(400)), encoding="utf-8")
    (root / "fog.txt").write_text("A short note about the fog horn.", encoding="utf-8")
    return root


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_cli_cuts_at_max_passages_and_status_says_so(
    tmp_path: Path, minilm_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("FATHOM_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("FATHOM_RERANKER_MODEL", "none")
    root = _long_corpus(tmp_path / "docs")
    if how == "option":
        args = ["index", str(root), "--max-passages", "3", "--json"]
    else:
        monkeypatch.setenv("FATHOM_MAX_PASSAGES", "3")
        args = ["index", str(root), "--json"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    report = json_lines(out)[-1]
    assert [path for path, _ in report["cut"]] == [str(root / "diary.txt")]

    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    (cut,) = status["cut"]
    assert cut["path"] == str(root / "diary.txt") and cut["reason"].startswith("cut at 3 passages")
    assert status["chunks"] == 4 and status["indexed_files"] == 2
    code, out, _ = run_cli(capsys, "status")
    assert "Cut files (indexed up to the passage limit):" in out
    assert f"{root / 'diary.txt'}: cut at 3 passages" in out


def test_a_bad_max_passages_is_refused_in_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(capsys, "status", "--max-passages", "0")
    assert "--max-passages: expected a number above 0, found 0" in capsys.readouterr().err
