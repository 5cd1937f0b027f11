"""A search as the page keeps it beyond one answer: its fields as URL parameters (so a search
can be bookmarked, shared on this computer, and Back goes back), how many results are shown
("Show more"), their order (relevance or date), and which filters are on. No Gradio here."""
from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode

from search.errors import FathomError
from search.query import MODES

PAGE_SIZE = 10  # results a search shows, and how many more "Show more" adds
MAX_RESULTS = 50  # result cards on the page: the most a search shows
DATE_POOL = 50  # sorted by date: the newest among this many best matches
SORTS = ("relevance", "date")
SORT_CHOICES = [("Best match", "relevance"), ("Newest first", "date")]
# URL parameter -> SearchForm field; the URL uses the names people see ("name" for the glob)
URL_FIELDS = {"q": "query", "mode": "mode", "sort": "sort", "folder": "folder", "type": "types",
              "name": "path_glob", "after": "after", "before": "before"}
FILTER_NAMES = {"folder": "folder", "types": "type", "path_glob": "name", "after": "after", "before": "before"}
MAX_PARAM_CHARS = 2000


def form_from_url(params: Mapping[str, str], blank: Any) -> Any:
    """The search a URL asks for (`?q=lamp&mode=keyword`), as a copy of the form `blank`: values
    that are not choices of the page are left at the form's own."""
    values: dict[str, Any] = {}
    for key, name in URL_FIELDS.items():
        value = params.get(key)
        if value is None:
            continue
        value = str(value)[:MAX_PARAM_CHARS]
        if name == "mode" and value not in MODES:
            continue
        if name == "sort" and value not in SORTS:
            continue
        values[name] = value
    return replace(blank, **values)


def url_query(form: Any) -> str:
    """The URL parameters of a search (`q=...&mode=...`), leaving out what is at its default."""
    defaults = {f.name: f.default for f in fields(form)}
    pairs = [(key, getattr(form, name)) for key, name in URL_FIELDS.items()]
    return urlencode([(k, v) for k, v in pairs if v and (k == "q" or v != defaults[URL_FIELDS[k]])])


def active_filters(folder: str, types: str, path_glob: str, after: str, before: str) -> list[str]:
    """The names of the filters that are on, in the order of the panel."""
    values = {"folder": folder, "types": types, "path_glob": path_glob, "after": after, "before": before}
    return [FILTER_NAMES[k] for k, v in values.items() if (v or "").strip()]


def filters_label(on: Sequence[str]) -> str:
    """The filter panel's title, which says what is on while it is closed."""
    if not on:
        return "Filters and options"
    return f"Filters and options · {len(on)} on: {', '.join(on)}"


def check_folder(text: str, indexed: Sequence[Path]) -> str | None:
    """The folder filter as typed (an indexed folder or any folder inside one) as a full path;
    None for all folders. Raises a sentence for a folder the index holds nothing of."""
    raw = (text or "").strip().strip('"').strip("'")
    if not raw:
        return None
    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        raise FathomError(
            f"Folder {raw!r} is not a full path: choose an indexed folder, or type a folder inside "
            "one starting with / or ~ (e.g. ~/Documents/taxes)."
        )
    folder = Path(folder.resolve())
    if not any(folder == root or root in folder.parents for root in indexed):
        raise FathomError(
            f"Folder {raw} is not inside an indexed folder, so no file there is searched: choose "
            "an indexed folder or one inside it (or add it in Library)."
        )
    return str(folder)


def by_date(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first; files without a known time last, in their order of relevance."""
    return sorted(results, key=lambda r: -(r.get("modified") or 0.0))
