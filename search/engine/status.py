"""Where Fathom stands, for `status` and the page: the index's counts, the settings, and
where the models run."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search.config import Settings
from storage import IndexStats


@dataclass
class Status:
    stats: IndexStats
    settings: Settings
    device: str  # the device and dtype the models run with, e.g. "cuda bfloat16"
    server: dict[str, Any] | None = None  # the running Fathom that answers searches, if any

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "database": s.path,  # a SQLite file, or a PostgreSQL URL without its password
            "vector_search": s.vector_search,
            "data_dir": str(self.settings.data_dir),
            "schema_version": s.schema_version,
            # files: those with a row (indexed, failed or skipped); with the files ignored by
            # rule they add up to the files on disk, outside the folders never entered
            "folders": [
                {"path": path, "files": files, **s.folder_counts.get(path, {})} for path, files in s.folders
            ],
            "files": s.files,
            "indexed_files": s.indexed,
            "chunks": s.chunks,
            # indexed files whose vectors are still to come (searchable by their words meanwhile)
            "waiting": {"files": s.waiting.files, "chunks": s.waiting.chunks, "tokens": s.waiting.tokens},
            "failed": [{"path": path, "error": error} for path, error in s.failed],
            "skipped": [{"path": path, "error": error} for path, error in s.skipped],
            # indexed up to the passage limit (max_passages): the rest is found by words only
            "cut": [{"path": path, "reason": reason} for path, reason in s.cut],
            "ignored": [{"path": i.path, "reason": i.reason, "folder": i.is_folder} for i in s.ignored],
            "embedding_model": s.space.model if s.space else None,
            "dimension": s.space.dimension if s.space else None,
            "configured_embedding_model": self.settings.embedding_model,
            "reranker_model": self.settings.reranker_model,
            "device": self.device,
            "server": self.server,
            # models on another machine (None: they run here)
            "embedding_url": self.settings.embedding_url,
            "reranker_url": self.settings.reranker_url,
            "query_format": self.query_format,
            "reranker_format": self.reranker_format,
        }

    @property
    def query_format(self) -> str | None:
        """How queries are sent to an embedding server, and why, e.g. `qwen3 (from the
        model's name; ...)`; None for a local model (its config says)."""
        if not self.settings.embedding_url:
            return None
        from search.models.remote import format_words, query_format

        return format_words(*query_format(self.settings.embedding_model, self.settings.query_format), "embedding")

    @property
    def reranker_format(self) -> str | None:
        s = self.settings
        if not s.reranker_url or s.reranker_model is None:
            return None
        from search.models.remote import format_words, rerank_format

        return format_words(*rerank_format(s.reranker_model, s.reranker_format), "reranker")
