"""The engine: the library every edge (the CLI, the page, the MCP server) shares. One store,
models opened when needed.

- core.py: `Engine`: indexing, searching and the status, over one store;
- models.py: where the models run, in words;
- index_recipe.py: how an index is built, and whether the settings fit one built before;
- search_notes.py: a search as a terminal runs it, with notes on what the options could not do;
- status.py: where Fathom stands.
"""
from __future__ import annotations

from search.engine.core import Engine, folder_path
from search.engine.index_recipe import INDEX_RECIPE
from search.engine.search_notes import CPU_RERANK_SECONDS
from search.engine.status import Status

__all__ = ["CPU_RERANK_SECONDS", "INDEX_RECIPE", "Engine", "Status", "folder_path"]
