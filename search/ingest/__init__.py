"""From files on disk to stored chunks: walk, extract, chunk, embed, store.

- `rules.py`: what is never indexed, and why; one rule, judged on the part of a path inside
  the indexed folder, used by the walk, the watcher's event filter and its inotify watches.
- `walk.py`: the files of a folder to read, and what is left out by rule (with the reason).
- `extract.py` and `formats/`: a file's text; `parsing.py` runs the PDF, DOCX, EPUB and HTML
  readers in a worker process with a time and a memory limit.
- `nontext.py`: text that is not text (encoded data, hex dumps, numbers without words): a file
  made of it is skipped, and in any other its long stretches are left out of the passages.
- `chunk.py` and `context.py`: token windows, each under its title and section. The chunker
  counts in the model's tokens with a tokenizer of its own (`Embedder.chunk_tokenizer`):
  a fast tokenizer's settings live on one object, and embedding calls set truncation on theirs.
- `indexer.py`: which files to read again, and what is gone; every file ends up indexed,
  failed, skipped or ignored, and failed or skipped ones are retried when that may help.
  `writing.py` reads, chunks and writes them, one transaction per file; a file is cut at the
  passage limit (and listed so). `report.py`: what a run did.
- `watcher.py` and `inotify.py`: follow changes as they happen, with rescans as a safety net.
"""
