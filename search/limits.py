"""How much one search may ask for. A query is words a person types or pastes: a page of text
at most. Anything longer (a 1 MB query) would only burn CPU, so it is refused with a sentence
before any work is done, by the page, the CLI and the terminal channel alike."""
from __future__ import annotations

from search.errors import FathomError
from search.wording import mark

MAX_QUERY_CHARS = 10_000


def check_query(query: str) -> None:
    """Refuse a query too long to be one (FathomError, one sentence)."""
    if len(query) > MAX_QUERY_CHARS:
        raise FathomError(
            f"This query has {len(query):,} characters; a query may have at most {MAX_QUERY_CHARS:,}: "
            f"search with its most telling words or sentences, or use {mark('like', 'FILE')} to find files like a file."
        )
