"""Everything in Fathom that understands text and models, and the edges that show it.

The edges: cli/ (the command line), page/ (the Gradio page), agents/ (the MCP server); each
words messages in its own way (wording.py). Below them: engine/ (the library they share),
live/ (the live index), query.py with query_syntax.py, filters.py and snippets.py (a search),
ingest/ (from folders to chunks), models/ (embedders and rerankers). Every setting is described
once, in settings_table.py, and resolved in config.py.
"""
