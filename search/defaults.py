"""Defaults that a setting shares with the code below it, defined once: search/settings_table.py
offers them as the settings' defaults, and the readers and the model-server client fall back on them
when called without a setting (tests, benches, other callers)."""
from __future__ import annotations

MB = 1_000_000  # the unit of every size Fathom shows or takes (--max-file-size)
MAX_FILE_MB = 50.0  # larger files are skipped
REMOTE_TIMEOUT_S = 120.0  # seconds for one request to a model server: a big batch on a CPU-only server is slow
REMOTE_REQUESTS = 4  # requests in flight to one model server
# Passages one file may have. 2,000 passages of 256 tokens hold a 1,000-page book (about
# 400,000 words) and cost about 50 minutes of embedding with the default model on 2 CPU cores;
# a file past that is most often a log or a data dump, which would otherwise outweigh the rest
# of its folder. A file that reaches it is indexed up to it and listed as cut.
MAX_PASSAGES = 2_000
RERANK_TOP = 10  # files the reranker reads, unless Settings say otherwise
